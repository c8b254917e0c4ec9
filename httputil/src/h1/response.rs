//! Response heads: [`parse_response_head`] into a reusable [`ResponseHead`], for a client.

use std::mem::MaybeUninit;

use crate::error::{HTTPInputError, Result};
use crate::h1::{Limits, Version};
use crate::headers::{HTTPHeaders, push_latin1};

/// A parsed response head: version, status code, reason phrase and headers.
///
/// Reusable as [`RequestHead`](crate::h1::RequestHead) is: parse every response of a connection
/// into the same value and its strings keep their capacity.
#[derive(Debug, Clone, Default)]
pub struct ResponseHead {
    /// The response's HTTP version.
    version: Version,
    /// The status code, three digits.
    code: u16,
    /// The reason phrase, Latin-1 decoded; may be empty.
    reason: String,
    /// The header fields, names as received, values Latin-1 decoded.
    headers: HTTPHeaders,
}

impl ResponseHead {
    /// An empty head to parse into.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The HTTP version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status code.
    #[must_use]
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The reason phrase (`OK`), possibly empty.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The header fields.
    #[must_use]
    pub fn headers(&self) -> &HTTPHeaders {
        &self.headers
    }

    /// The header fields, mutably (e.g. to `std::mem::take` them).
    pub fn headers_mut(&mut self) -> &mut HTTPHeaders {
        &mut self.headers
    }

    /// The reason phrase, taken out (the head keeps an empty one).
    pub fn take_reason(&mut self) -> String {
        std::mem::take(&mut self.reason)
    }
}

/// Header slots on the stack for the first attempt; a response with more header fields is
/// parsed again with slots on the heap (the client bounds a head by size, not by count).
const STACK_HEADERS: usize = 100;

/// Parses a response head from the start of `buf` into `head`, with httparse as the server's
/// request heads are.
///
/// Returns `Ok(Some(n))` when the head is complete (`n` bytes consumed, the body starts at
/// `buf[n..]`) and `Ok(None)` when `buf` holds only part of one: read more and call again with
/// the longer buffer. Empty lines before the status line are skipped (RFC 9112 §2.2); lines may
/// end in CRLF or a bare LF, as Tornado accepts.
///
/// Two leniencies of Tornado's client that httparse alone does not have: the reason phrase may
/// hold obs-text (bytes 0x80 and up, kept Latin-1 decoded where httparse would drop the whole
/// phrase), and the number of header fields is bounded only by `max_header_size`, not by
/// `max_headers`. One strictness it keeps: the status code is followed by a space, even when the
/// reason is empty (`HTTP/1.1 200 \r\n`), as Tornado's `parse_response_start_line` requires.
///
/// # Examples
///
/// ```
/// use typhoon_httputil::h1::{Limits, ResponseHead, Version, parse_response_head};
///
/// let mut head = ResponseHead::new();
/// let buf = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
/// assert_eq!(parse_response_head(&buf[..20], &Limits::default(), &mut head)?, None);
/// let n = parse_response_head(buf, &Limits::default(), &mut head)?.unwrap();
/// assert_eq!(&buf[n..], b"no");
/// assert_eq!((head.version(), head.code(), head.reason()), (Version::Http11, 404, "Not Found"));
/// assert_eq!(head.headers().get("content-length"), Some("2"));
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
///
/// # Errors
///
/// - [`HTTPInputError::MalformedResponseLine`] unless the status line is `HTTP/1.x SP 3DIGIT SP
///   [reason]` with a reason of visible characters, SP, HTAB and obs-text;
/// - [`HTTPInputError::UnsupportedVersion`] for a well-formed version other than 1.0 or 1.1;
/// - [`HTTPInputError::MalformedHeader`] for a bad header name or value byte, a space before the
///   colon, obs-fold, or a bare CR;
/// - [`HTTPInputError::HeaderTooLarge`] past `max_header_size` bytes, complete or not.
pub fn parse_response_head(
    buf: &[u8],
    limits: &Limits,
    head: &mut ResponseHead,
) -> Result<Option<usize>> {
    let line_start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let mut stack = [MaybeUninit::<httparse::Header<'_>>::uninit(); STACK_HEADERS];
    match parse_into(buf, line_start, limits, head, &mut stack) {
        Err(HTTPInputError::TooManyHeaders) => {
            // A header line is at least `a:` and a LF: a third of the head bounds the count.
            let mut heap =
                vec![MaybeUninit::uninit(); buf.len().min(limits.max_header_size) / 3 + 1];
            match parse_into(buf, line_start, limits, head, &mut heap) {
                // More lines than fit in `max_header_size`.
                Err(HTTPInputError::TooManyHeaders) => Err(HTTPInputError::HeaderTooLarge),
                other => other,
            }
        }
        other => other,
    }
}

fn parse_into<'b>(
    buf: &'b [u8],
    line_start: usize,
    limits: &Limits,
    head: &mut ResponseHead,
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<Option<usize>> {
    let mut res = httparse::Response::new(&mut []);
    let consumed = match httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut res, buf, slots)
    {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > limits.max_header_size => {
            return Err(HTTPInputError::HeaderTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HTTPInputError::TooManyHeaders),
        Err(_) => return Err(classify_error(&buf[line_start..])),
    };
    if consumed > limits.max_header_size {
        return Err(HTTPInputError::HeaderTooLarge);
    }
    let (Some(minor), Some(code)) = (res.version, res.code) else {
        // httparse sets both before it reports a complete head.
        return Err(HTTPInputError::MalformedResponseLine);
    };
    // `HTTP/1.1 200` then the line end: Tornado wants the space before the (empty) reason.
    let line = &buf[line_start..];
    if line.get(12) != Some(&b' ') {
        return Err(HTTPInputError::MalformedResponseLine);
    }
    head.version = if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    head.code = code;
    head.reason.clear();
    let line_end = memchr::memchr(b'\n', line).unwrap_or(line.len());
    let reason = &line[13..line_end];
    push_latin1(
        &mut head.reason,
        reason.strip_suffix(b"\r").unwrap_or(reason),
    );
    head.headers.clear();
    for h in res.headers.iter() {
        head.headers.push_wire(h.name, h.value);
    }
    Ok(Some(consumed))
}

/// Turns an httparse error into ours by looking at the status line: if it is itself malformed
/// (or has an unsupported version) that is the error, otherwise a header line is to blame.
fn classify_error(line: &[u8]) -> HTTPInputError {
    let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
    let line = line[..end].strip_suffix(b"\r").unwrap_or(&line[..end]);
    let version = line.get(..8).unwrap_or(line);
    let version_form = matches!(version, [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit());
    let code_form = line.get(8) == Some(&b' ')
        && line
            .get(9..12)
            .is_some_and(|c| c.iter().all(u8::is_ascii_digit))
        && line.get(12) == Some(&b' ')
        && line[13..]
            .iter()
            .all(|&b| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80);
    if !version_form || !code_form {
        return HTTPInputError::MalformedResponseLine;
    }
    if !version.starts_with(b"HTTP/1.") || !matches!(version[7], b'0' | b'1') {
        return HTTPInputError::UnsupportedVersion;
    }
    HTTPInputError::MalformedHeader
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<(ResponseHead, Option<usize>)> {
        let mut head = ResponseHead::new();
        let n = parse_response_head(buf, &Limits::default(), &mut head)?;
        Ok((head, n))
    }

    #[test]
    fn heads() {
        let wire = b"\r\nHTTP/1.0 404 Not Found\r\nX-A: 1\nX-A: 2\r\n\r\nbody";
        let (h, n) = parse(wire).unwrap();
        assert_eq!(n, Some(wire.len() - 4));
        assert_eq!(
            (h.version(), h.code(), h.reason()),
            (Version::Http10, 404, "Not Found")
        );
        assert_eq!(h.headers().get_list("x-a").collect::<Vec<_>>(), ["1", "2"]);
        let (h, _) = parse(b"HTTP/1.1 204 \r\n\r\n").unwrap();
        assert_eq!((h.code(), h.reason()), (204, ""));
        let (h, _) = parse(b"HTTP/1.1 200 \xe9t\xe9\r\nX: \xff\r\n\r\n").unwrap();
        assert_eq!(
            (h.reason(), h.headers().get("x")),
            ("\u{e9}t\u{e9}", Some("\u{ff}"))
        );
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nX: 1\r\n"),
            Ok((_, None))
        ));
    }

    #[test]
    fn bad_heads() {
        for (bad, want) in [
            (
                &b"HTTP/1.1 2OO OK\r\n\r\n"[..],
                HTTPInputError::MalformedResponseLine,
            ),
            (b"ICY 200 OK\r\n\r\n", HTTPInputError::MalformedResponseLine),
            (
                b"HTTP/1.1 200\r\n\r\n",
                HTTPInputError::MalformedResponseLine,
            ),
            (
                b"HTTP/1.1 20 OK\r\n\r\n",
                HTTPInputError::MalformedResponseLine,
            ),
            (
                b"HTTP/1.1 200 O\rK\r\n\r\n",
                HTTPInputError::MalformedResponseLine,
            ),
            (
                b"HTTP/2.0 200 OK\r\n\r\n",
                HTTPInputError::UnsupportedVersion,
            ),
            (
                b"HTTP/1.1 200 OK\r\nX : 1\r\n\r\n",
                HTTPInputError::MalformedHeader,
            ),
            (
                b"HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n",
                HTTPInputError::MalformedHeader,
            ),
            (
                b"HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
                HTTPInputError::MalformedHeader,
            ),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                HTTPInputError::MalformedHeader,
            ),
        ] {
            let got = parse(bad).map(|_| ()).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&got),
                std::mem::discriminant(&want),
                "{:?}: {got:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn many_headers_bounded_by_size_only() {
        let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..500 {
            wire.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        wire.extend_from_slice(b"\r\n");
        let (h, n) = parse(&wire).unwrap();
        assert_eq!((h.headers().len(), n), (500, Some(wire.len())));
        let limits = Limits {
            max_header_size: 1000,
            ..Limits::default()
        };
        let got = parse_response_head(&wire, &limits, &mut ResponseHead::new());
        assert!(
            matches!(got, Err(HTTPInputError::HeaderTooLarge)),
            "{got:?}"
        );
        assert!(matches!(
            parse_response_head(&wire[..2000], &limits, &mut ResponseHead::new()),
            Err(HTTPInputError::HeaderTooLarge)
        ));
    }
}
