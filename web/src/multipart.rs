//! Streaming `multipart/form-data` parsing: parts go to a [`PartSink`] as the body arrives,
//! never whole in memory (tornadoweb/tornado#2582).

use std::fmt;

use memchr::memmem;
use typhoon_httputil::HTTPHeaders;

use crate::error::HTTPError;

/// The most bytes a part's header block may take.
const MAX_PART_HEADER: usize = 16 * 1024;

/// The head of one part.
#[derive(Debug)]
pub struct PartInfo {
    /// The part's headers.
    pub headers: HTTPHeaders,
    /// `name` from `Content-Disposition: form-data`.
    pub name: String,
    /// `filename`, for file uploads.
    pub filename: Option<String>,
    /// `Content-Type` (default `application/unknown`, as Tornado).
    pub content_type: String,
}

/// Receives the parts of a streamed multipart body, piece by piece.
pub trait PartSink {
    /// A part begins.
    ///
    /// # Errors
    ///
    /// An error stops parsing and answers the request.
    fn begin_part(&mut self, part: &PartInfo) -> Result<(), HTTPError>;

    /// The next bytes of the current part's body.
    ///
    /// # Errors
    ///
    /// As [`begin_part`](Self::begin_part).
    fn part_data(&mut self, data: &[u8]) -> Result<(), HTTPError>;

    /// The current part is complete.
    ///
    /// # Errors
    ///
    /// As [`begin_part`](Self::begin_part).
    fn end_part(&mut self) -> Result<(), HTTPError>;
}

/// Where the parser is.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Before the first boundary.
    Preamble,
    /// After a boundary: `\r\n` (a part follows) or `--` (the end).
    AfterBoundary,
    /// In a part's header block.
    Headers,
    /// In a part's body.
    Body,
    /// After the closing boundary.
    End,
}

/// An incremental `multipart/form-data` parser for bodies streamed with
/// [`RequestHandler::STREAM_REQUEST_BODY`](crate::RequestHandler::STREAM_REQUEST_BODY): feed it
/// each chunk from `data_received`; it keeps at most a boundary's length of a part's body
/// between chunks.
///
/// # Examples
///
/// ```
/// use typhoon_web::HTTPError;
/// use typhoon_web::multipart::{MultipartStreamer, PartInfo, PartSink};
///
/// #[derive(Default)]
/// struct Sizes(Vec<(String, usize)>);
/// impl PartSink for Sizes {
///     fn begin_part(&mut self, part: &PartInfo) -> Result<(), HTTPError> {
///         self.0.push((part.name.clone(), 0));
///         Ok(())
///     }
///     fn part_data(&mut self, data: &[u8]) -> Result<(), HTTPError> {
///         if let Some(last) = self.0.last_mut() { last.1 += data.len(); }
///         Ok(())
///     }
///     fn end_part(&mut self) -> Result<(), HTTPError> { Ok(()) }
/// }
///
/// let mut parser = MultipartStreamer::from_content_type("multipart/form-data; boundary=xyz")?;
/// let body = b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--xyz--\r\n";
/// let mut sink = Sizes::default();
/// for piece in body.chunks(3) {
///     parser.feed(piece, &mut sink)?;
/// }
/// parser.finish()?;
/// assert_eq!(sink.0, [("a".to_string(), 5)]);
/// # Ok::<(), HTTPError>(())
/// ```
pub struct MultipartStreamer {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    /// Bytes not yet consumed.
    buffer: Vec<u8>,
    /// Parser state.
    state: State,
}

impl MultipartStreamer {
    /// A parser for the boundary in `content_type`.
    ///
    /// # Errors
    ///
    /// 400 if it is not `multipart/form-data` with a boundary.
    pub fn from_content_type(content_type: &str) -> Result<Self, HTTPError> {
        let bad = || HTTPError::with_log_message(400, "not multipart/form-data with a boundary");
        let mut fields = content_type.split(';');
        if !fields
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/form-data"))
        {
            return Err(bad());
        }
        let boundary = fields
            .filter_map(|f| f.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
            .map(|(_, v)| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 70)
            .ok_or_else(bad)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Ok(Self {
            delimiter,
            // The first boundary has no CRLF before it: pretend it had.
            buffer: b"\r\n".to_vec(),
            state: State::Preamble,
        })
    }

    /// How many bytes are held between calls (at most about a boundary's length in a part's
    /// body, or a part's header block).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Parses `chunk`, calling `sink` for what is complete.
    ///
    /// # Errors
    ///
    /// 400 for malformed input; the sink's errors.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut impl PartSink) -> Result<(), HTTPError> {
        self.buffer.extend_from_slice(chunk);
        let malformed = |what: &str| {
            HTTPError::with_log_message(400, format!("malformed multipart body: {what}"))
        };
        loop {
            match self.state {
                State::Preamble => match memmem::find(&self.buffer, &self.delimiter) {
                    Some(at) => {
                        self.buffer.drain(..at + self.delimiter.len());
                        self.state = State::AfterBoundary;
                    }
                    None => {
                        let keep = self.delimiter.len().min(self.buffer.len());
                        self.buffer.drain(..self.buffer.len() - keep);
                        return Ok(());
                    }
                },
                State::AfterBoundary => {
                    if self.buffer.len() < 2 {
                        return Ok(());
                    }
                    if self.buffer.starts_with(b"--") {
                        self.state = State::End;
                        self.buffer.clear();
                        return Ok(());
                    }
                    // Transport padding (spaces/tabs) may follow a boundary.
                    let Some(eol) = memmem::find(&self.buffer, b"\r\n") else {
                        if self.buffer.len() > 256 {
                            return Err(malformed("boundary line"));
                        }
                        return Ok(());
                    };
                    if self.buffer[..eol].iter().any(|&c| c != b' ' && c != b'\t') {
                        return Err(malformed("boundary line"));
                    }
                    self.buffer.drain(..eol + 2);
                    self.state = State::Headers;
                }
                State::Headers => {
                    let end = if self.buffer.starts_with(b"\r\n") {
                        Some(0)
                    } else {
                        memmem::find(&self.buffer, b"\r\n\r\n").map(|at| at + 2)
                    };
                    let Some(end) = end else {
                        if self.buffer.len() > MAX_PART_HEADER {
                            return Err(malformed("part headers too long"));
                        }
                        return Ok(());
                    };
                    let text = std::str::from_utf8(&self.buffer[..end])
                        .map_err(|_| malformed("part headers are not UTF-8"))?;
                    let headers =
                        HTTPHeaders::parse(text).map_err(|_| malformed("part headers"))?;
                    let part =
                        part_info(headers).ok_or_else(|| malformed("Content-Disposition"))?;
                    self.buffer.drain(..end + 2);
                    sink.begin_part(&part)?;
                    self.state = State::Body;
                }
                State::Body => match memmem::find(&self.buffer, &self.delimiter) {
                    Some(at) => {
                        if at > 0 {
                            sink.part_data(&self.buffer[..at])?;
                        }
                        sink.end_part()?;
                        self.buffer.drain(..at + self.delimiter.len());
                        self.state = State::AfterBoundary;
                    }
                    None => {
                        let keep = (self.delimiter.len() - 1).min(self.buffer.len());
                        let emit = self.buffer.len() - keep;
                        if emit > 0 {
                            sink.part_data(&self.buffer[..emit])?;
                            self.buffer.drain(..emit);
                        }
                        return Ok(());
                    }
                },
                State::End => {
                    self.buffer.clear();
                    return Ok(());
                }
            }
        }
    }

    /// Checks that the body ended with the closing boundary.
    ///
    /// # Errors
    ///
    /// 400 for a truncated body.
    pub fn finish(&self) -> Result<(), HTTPError> {
        if self.state == State::End {
            Ok(())
        } else {
            Err(HTTPError::with_log_message(
                400,
                "multipart body ended early",
            ))
        }
    }
}

/// `name`, `filename` and `Content-Type` of a part.
fn part_info(headers: HTTPHeaders) -> Option<PartInfo> {
    let disposition = headers.get("Content-Disposition")?;
    let mut fields = disposition.split(';');
    if !fields.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    let mut name = None;
    let mut filename = None;
    for field in fields {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value)
            .replace("\\\"", "\"")
            .replace("\\\\", "\\");
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    let content_type = headers
        .get("Content-Type")
        .unwrap_or("application/unknown")
        .to_owned();
    Some(PartInfo {
        name: name?,
        filename,
        content_type,
        headers,
    })
}

impl fmt::Debug for MultipartStreamer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartStreamer")
            .field("state", &self.state)
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(String, Option<String>, Vec<u8>)>, usize);
    impl PartSink for Collect {
        fn begin_part(&mut self, part: &PartInfo) -> Result<(), HTTPError> {
            self.0
                .push((part.name.clone(), part.filename.clone(), Vec::new()));
            Ok(())
        }
        fn part_data(&mut self, data: &[u8]) -> Result<(), HTTPError> {
            if let Some(last) = self.0.last_mut() {
                last.2.extend_from_slice(data);
            }
            Ok(())
        }
        fn end_part(&mut self) -> Result<(), HTTPError> {
            self.1 += 1;
            Ok(())
        }
    }

    const BODY: &[u8] = b"preamble\r\n--b0undary\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\n--b0und\r\nline2\r\n--b0undary--\r\nepilogue";

    #[test]
    fn every_split() {
        for size in 1..BODY.len() {
            let mut parser =
                MultipartStreamer::from_content_type("multipart/form-data; boundary=\"b0undary\"")
                    .unwrap();
            let mut sink = Collect::default();
            for piece in BODY.chunks(size) {
                parser.feed(piece, &mut sink).unwrap();
                assert!(parser.buffered() <= size + MAX_PART_HEADER);
            }
            parser.finish().unwrap();
            assert_eq!(sink.1, 2);
            assert_eq!(sink.0[0], ("field".into(), None, b"value".to_vec()));
            assert_eq!(
                sink.0[1],
                (
                    "file".into(),
                    Some("a \"q\".txt".into()),
                    b"line1\r\n--b0und\r\nline2".to_vec()
                )
            );
        }
    }

    #[test]
    fn truncated_and_malformed() {
        let mut parser =
            MultipartStreamer::from_content_type("multipart/form-data; boundary=b0undary").unwrap();
        let mut sink = Collect::default();
        parser.feed(&BODY[..60], &mut sink).unwrap();
        assert_eq!(parser.finish().unwrap_err().status(), 400);
        assert!(MultipartStreamer::from_content_type("text/plain").is_err());
        let mut parser =
            MultipartStreamer::from_content_type("multipart/form-data; boundary=x").unwrap();
        let err = parser
            .feed(b"--x\r\nNo-Disposition: 1\r\n\r\n", &mut sink)
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
