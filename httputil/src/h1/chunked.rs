//! The incremental chunked-body decoder, [`ChunkedDecoder`] (RFC 9112 §7.1).

use crate::error::{HTTPInputError, Result};
use crate::h1::Limits;
use crate::headers::is_tchar;

/// One step of [`ChunkedDecoder::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Body bytes: a slice of the input, never empty, never copied.
    Data(&'a [u8]),
    /// All of the input was framing and has been consumed: read more and call again.
    NeedMore,
    /// The body is complete (last chunk and trailer section read); the bytes after `consumed`
    /// belong to the next request.
    Done,
}

/// Where the decoder is in the chunked grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In the hex chunk size (`digits` counts the digits so far).
    Size,
    /// After the size, in BWS before `;`.
    SizeWs,
    /// In chunk extensions, up to CR.
    Ext,
    /// After the chunk-size line's CR.
    SizeLf,
    /// In chunk data (`remaining` bytes to go).
    Data,
    /// After chunk data: expecting CR.
    DataCr,
    /// After chunk data and CR: expecting LF.
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// In a trailer field's name (a token, RFC 9110 §5.1).
    TrailerName,
    /// In a trailer field's value, after the colon.
    TrailerLine,
    /// After CR in a trailer field line.
    TrailerLf,
    /// After CR of the final empty line.
    EndLf,
    /// Finished.
    Done,
}

/// An incremental decoder for `Transfer-Encoding: chunked` bodies.
///
/// Feed it the bytes after the head in any split, down to one byte at a time; each call to
/// [`decode`](Self::decode) consumes framing and returns at most one [`Chunk::Data`] slice
/// borrowed from the input. Chunk extensions (`5;name=value`) and trailer fields are accepted and
/// ignored (RFC 9112 §7.1.1, §7.1.2; Tornado rejects them). Strict where proxies disagree: the
/// size is plain hex without sign or `0x`, every line ends in CRLF (a bare LF is an error).
///
/// # Examples
///
/// ```
/// use typhoon_httputil::h1::{Chunk, ChunkedDecoder, Limits};
///
/// let mut decoder = ChunkedDecoder::new(&Limits::default());
/// let mut input: &[u8] = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
/// let mut body = Vec::new();
/// loop {
///     let (consumed, chunk) = decoder.decode(input)?;
///     input = &input[consumed..];
///     match chunk {
///         Chunk::Data(data) => body.extend_from_slice(data),
///         Chunk::NeedMore => unreachable!("the whole body is here"),
///         Chunk::Done => break,
///     }
/// }
/// assert_eq!(body, b"Wikipedia");
/// assert_eq!(input, b"NEXT");
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    /// Position in the grammar.
    state: State,
    /// The chunk size being read, then the data bytes left in the current chunk.
    remaining: u64,
    /// Hex digits read in the current size.
    digits: u32,
    /// Bytes of the current chunk-size line (bounded by `max_chunk_line_len`).
    line_len: usize,
    /// Extension bytes over the whole body (bounded by `max_chunk_extensions_size`).
    ext_total: usize,
    /// Trailer section bytes (bounded by `max_trailer_size`).
    trailer_len: usize,
    /// Data bytes declared so far (bounded by `max_body_size`).
    body_len: u64,
    /// The error, once one happened: every later call returns it again.
    failed: Option<HTTPInputError>,
    max_body_size: u64,
    max_line: usize,
    max_ext: usize,
    max_trailer: usize,
}

/// Bytes allowed in an extension or trailer line: VCHAR, obs-text, SP and HTAB.
fn is_line_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

impl ChunkedDecoder {
    /// A decoder at the start of a body, bounded by `limits` (`max_body_size`,
    /// `max_chunk_line_len`, `max_chunk_extensions_size`, `max_trailer_size`).
    #[must_use]
    pub fn new(limits: &Limits) -> Self {
        Self::at_start(
            limits.max_body_size,
            limits.max_chunk_line_len,
            limits.max_chunk_extensions_size,
            limits.max_trailer_size,
        )
    }

    /// A decoder at the start of a body, with these limits.
    fn at_start(max_body_size: u64, max_line: usize, max_ext: usize, max_trailer: usize) -> Self {
        Self {
            state: State::Size,
            remaining: 0,
            digits: 0,
            line_len: 0,
            ext_total: 0,
            trailer_len: 0,
            body_len: 0,
            failed: None,
            max_body_size,
            max_line,
            max_ext,
            max_trailer,
        }
    }

    /// Lowers (or raises) `max_body_size` for this body, as a handler may in Tornado.
    pub fn set_max_body_size(&mut self, max_body_size: u64) {
        self.max_body_size = max_body_size;
    }

    /// Returns the decoder to the start of a body, keeping its limits.
    pub fn reset(&mut self) {
        *self = Self::at_start(
            self.max_body_size,
            self.max_line,
            self.max_ext,
            self.max_trailer,
        );
    }

    /// Whether the whole body, trailers included, has been decoded.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The body bytes declared by the chunk sizes read so far.
    #[must_use]
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Decodes from `input`: returns how many bytes were consumed and what they were.
    ///
    /// `Chunk::NeedMore` consumes all of `input`; `Chunk::Data(d)` ends the consumed bytes with
    /// `d`; `Chunk::Done` stops right after the final CRLF. After `Done`, calls return `(0,
    /// Done)`.
    ///
    /// # Errors
    ///
    /// [`HTTPInputError::InvalidChunkSize`] for a size that is not hex or overflows 64 bits, or a
    /// malformed size line; [`HTTPInputError::ChunkLineTooLong`] for a size line or the body's
    /// extensions over their limits; [`HTTPInputError::InvalidChunkTerminator`] for data not
    /// followed by CRLF; [`HTTPInputError::BodyTooLarge`] when the sizes add up past
    /// `max_body_size` (before the chunk's data is read); [`HTTPInputError::MalformedTrailer`] and
    /// [`HTTPInputError::TrailerTooLarge`] for the trailer section. After an error the decoder
    /// returns the same error forever: the connection must close.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Chunk<'a>)> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.step(input) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn step<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Chunk<'a>)> {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Data {
                let available = input.len() - i;
                let n = usize::try_from(self.remaining).map_or(available, |r| r.min(available));
                self.remaining -= n as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                return Ok((i + n, Chunk::Data(&input[i..i + n])));
            }
            let b = input[i];
            i += 1;
            match self.state {
                State::Size => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        // The digit is ASCII hex: to_digit cannot fail.
                        let d = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                        if self.remaining > (u64::MAX >> 4) {
                            return Err(HTTPInputError::InvalidChunkSize);
                        }
                        self.remaining = (self.remaining << 4) | d;
                        self.digits += 1;
                        self.count_line()?;
                    }
                    b' ' | b'\t' if self.digits > 0 => {
                        self.state = State::SizeWs;
                        self.count_line()?;
                    }
                    b';' if self.digits > 0 => {
                        self.state = State::Ext;
                        self.count_line()?;
                    }
                    b'\r' if self.digits > 0 => self.state = State::SizeLf,
                    _ => return Err(HTTPInputError::InvalidChunkSize),
                },
                State::SizeWs => match b {
                    b' ' | b'\t' => self.count_line()?,
                    b';' => {
                        self.state = State::Ext;
                        self.count_line()?;
                    }
                    _ => return Err(HTTPInputError::InvalidChunkSize),
                },
                State::Ext => match b {
                    b'\r' => self.state = State::SizeLf,
                    _ if is_line_byte(b) => {
                        self.count_line()?;
                        self.ext_total += 1;
                        if self.ext_total > self.max_ext {
                            return Err(HTTPInputError::ChunkLineTooLong);
                        }
                    }
                    _ => return Err(HTTPInputError::InvalidChunkSize),
                },
                State::SizeLf => {
                    if b != b'\n' {
                        return Err(HTTPInputError::InvalidChunkSize);
                    }
                    self.line_len = 0;
                    self.digits = 0;
                    if self.remaining == 0 {
                        self.state = State::TrailerStart;
                    } else {
                        self.body_len = self
                            .body_len
                            .checked_add(self.remaining)
                            .filter(|&total| total <= self.max_body_size)
                            .ok_or(HTTPInputError::BodyTooLarge)?;
                        self.state = State::Data;
                    }
                }
                State::DataCr if b == b'\r' => self.state = State::DataLf,
                State::DataLf if b == b'\n' => self.state = State::Size,
                State::DataCr | State::DataLf => {
                    return Err(HTTPInputError::InvalidChunkTerminator);
                }
                State::TrailerStart | State::TrailerName | State::TrailerLine => {
                    self.trailer_len += 1;
                    if self.trailer_len > self.max_trailer {
                        return Err(HTTPInputError::TrailerTooLarge);
                    }
                    // A trailer line is a field line, as in the head (RFC 9112 §7.1.2): a
                    // token name, a colon, a value; anything else is a framing error.
                    self.state = match (self.state, b) {
                        (State::TrailerStart, b'\r') => State::EndLf,
                        (State::TrailerStart | State::TrailerName, _) if is_tchar(b) => {
                            State::TrailerName
                        }
                        (State::TrailerName, b':') => State::TrailerLine,
                        (State::TrailerLine, b'\r') => State::TrailerLf,
                        (State::TrailerLine, _) if is_line_byte(b) => State::TrailerLine,
                        _ => return Err(HTTPInputError::MalformedTrailer),
                    };
                }
                State::TrailerLf if b == b'\n' => self.state = State::TrailerStart,
                State::EndLf if b == b'\n' => {
                    self.state = State::Done;
                    return Ok((i, Chunk::Done));
                }
                State::TrailerLf | State::EndLf => return Err(HTTPInputError::MalformedTrailer),
                State::Done => return Ok((i - 1, Chunk::Done)),
                State::Data => unreachable!("handled above"),
            }
        }
        if self.state == State::Done {
            return Ok((i, Chunk::Done));
        }
        Ok((i, Chunk::NeedMore))
    }

    fn count_line(&mut self) -> Result<()> {
        self.line_len += 1;
        if self.line_len > self.max_line {
            return Err(HTTPInputError::ChunkLineTooLong);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns the body and the bytes left over.
    fn decode_split(input: &[u8], step: usize) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut d = ChunkedDecoder::new(&Limits::default());
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for (k, piece) in input.chunks(step).enumerate() {
            pending.extend_from_slice(piece);
            let mut buf = &pending[..];
            loop {
                let (n, chunk) = d.decode(buf)?;
                buf = &buf[n..];
                match chunk {
                    Chunk::Data(data) => body.extend_from_slice(data),
                    Chunk::NeedMore => break,
                    Chunk::Done => {
                        let mut rest = buf.to_vec();
                        rest.extend_from_slice(&input[((k + 1) * step).min(input.len())..]);
                        return Ok((body, rest));
                    }
                }
            }
            pending = buf.to_vec();
        }
        Err(HTTPInputError::InvalidChunkTerminator)
    }

    #[test]
    fn every_split_gives_the_same_body() {
        let input = b"4\r\nWiki\r\n5 ;a=\"b;c\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX: y\r\n\r\nrest";
        for step in 1..input.len() {
            let (body, rest) = decode_split(input, step).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.", "step {step}");
            assert_eq!(rest, b"rest");
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        for bad in [
            &b"1_a\r\n"[..],
            b"0x2\r\nok\r\n0\r\n\r\n",
            b"+2\r\nok\r\n0\r\n\r\n",
            b"-2\r\n",
            b"\r\n",
            b" 2\r\n",
            b"2 \r\nok\r\n",
            b"2\nok\r\n",
            b"2\r\r\n",
            b"10000000000000000\r\n",
            b";x\r\n",
        ] {
            assert!(
                matches!(decode_split(bad, 64), Err(HTTPInputError::InvalidChunkSize)),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(matches!(
            decode_split(b"ffffffffffffffff\r\n", 64),
            Err(HTTPInputError::BodyTooLarge)
        ));
    }

    #[test]
    fn rejects_bad_terminators_and_trailers() {
        assert!(matches!(
            decode_split(b"3\r\nfooXX0\r\n\r\n", 64),
            Err(HTTPInputError::InvalidChunkTerminator)
        ));
        assert!(matches!(
            decode_split(b"0\r\nX: y\n\r\n", 64),
            Err(HTTPInputError::MalformedTrailer)
        ));
        assert!(matches!(
            decode_split(b"0\r\n\n", 64),
            Err(HTTPInputError::MalformedTrailer)
        ));
        let mut big = b"0\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', 20_000));
        assert!(matches!(
            decode_split(&big, 4096),
            Err(HTTPInputError::TrailerTooLarge)
        ));
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_body_size: 10,
            max_chunk_line_len: 8,
            max_chunk_extensions_size: 10,
            ..Limits::default()
        };
        let run = |input: &[u8]| {
            let mut d = ChunkedDecoder::new(&limits);
            let mut buf = input;
            loop {
                let (n, c) = d.decode(buf)?;
                buf = &buf[n..];
                match c {
                    Chunk::Done => return Ok::<_, HTTPInputError>(true),
                    Chunk::NeedMore => return Ok(false),
                    Chunk::Data(_) => {}
                }
            }
        };
        assert!(run(b"5\r\naaaaa\r\n5\r\naaaaa\r\n0\r\n\r\n").unwrap());
        assert!(matches!(
            run(b"5\r\naaaaa\r\n6\r\n"),
            Err(HTTPInputError::BodyTooLarge)
        ));
        assert!(matches!(
            run(b"1;abcdefgh\r\n"),
            Err(HTTPInputError::ChunkLineTooLong)
        ));
        assert!(matches!(
            run(b"1;abcd\r\na\r\n1;abcd\r\na\r\n1;abcd\r\n"),
            Err(HTTPInputError::ChunkLineTooLong)
        ));
    }

    #[test]
    fn error_is_sticky_and_done_is_idempotent() {
        let mut d = ChunkedDecoder::new(&Limits::default());
        assert!(d.decode(b"z").is_err());
        assert!(matches!(
            d.decode(b"0\r\n\r\n"),
            Err(HTTPInputError::InvalidChunkSize)
        ));
        d.reset();
        assert_eq!(d.decode(b"0\r\n\r\nGET").unwrap(), (5, Chunk::Done));
        assert!(d.is_done());
        assert_eq!(d.decode(b"GET").unwrap(), (0, Chunk::Done));
    }
}
