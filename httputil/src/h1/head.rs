//! Request heads: [`parse_request_head`] into a reusable [`RequestHead`].

use std::mem::MaybeUninit;

use crate::error::{HTTPInputError, Result};
use crate::h1::Limits;
use crate::headers::{HTTPHeaders, is_token};
use crate::start_line::RequestStartLine;

/// The HTTP version of a request this crate accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Version {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    #[default]
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http10 => "HTTP/1.0",
            Self::Http11 => "HTTP/1.1",
        }
    }
}

/// A parsed request head: method, target, version and headers.
///
/// # Why owned and reusable
///
/// The parser copies the head out of the read buffer into this structure rather than handing out
/// ranges into the buffer. The copy is one `memcpy` of the head (a few hundred bytes, a few
/// nanoseconds; see the `parse` bench), and it buys what the connection needs: the read buffer
/// can be compacted, refilled and read for the body while the handler holds the head, with no
/// lifetime tying the two, and the headers are a ready [`HTTPHeaders`] for the application.
/// Allocation is avoided by reuse instead: keep one `RequestHead` per connection and parse every
/// request into it; its strings keep their capacity, so after the first request parsing
/// allocates nothing. Take the headers out with [`std::mem::take`] on
/// [`headers_mut`](Self::headers_mut) when a request must outlive the next parse.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    /// The method token, as sent (methods are case-sensitive).
    method: String,
    /// The request target as sent, in any of the four RFC 9112 §3.2 forms.
    target: String,
    /// Where the path starts in `target` (0 unless absolute-form), as the parser found it.
    path_start: usize,
    /// Where the path ends in `target`: at `?`, or the end. An empty `path_start..path_end`
    /// is an absolute-form target without a path, which means `/`.
    path_end: usize,
    /// The request's HTTP version.
    version: Version,
    /// The header fields, names as received, values Latin-1 decoded.
    headers: HTTPHeaders,
}

impl RequestHead {
    /// An empty head to parse into.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The method, e.g. `GET`.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target exactly as sent (Tornado's `uri`).
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path to route on, without the query: the whole target up to `?` for origin-form
    /// (`/a?b` gives `/a`); for absolute-form (`http://host/a?b`, RFC 9112 §3.2.2) the part
    /// after the authority up to `?`, and `/` when the target has no path (`http://host` or
    /// `http://host?q`); for authority-form (`CONNECT h:443`) and asterisk-form (`OPTIONS *`)
    /// the target itself.
    #[must_use]
    pub fn path(&self) -> &str {
        match &self.target[self.path_start..self.path_end] {
            "" => "/",
            p => p,
        }
    }

    /// The byte range of the path in [`target`](Self::target), as the parser found it: empty
    /// for an absolute-form target without a path (which [`path`](Self::path) reports as `/`).
    /// Code that slices the target uses this range, never an offset of its own.
    #[must_use]
    pub fn path_range(&self) -> std::ops::Range<usize> {
        self.path_start..self.path_end
    }

    /// The query string after `?`, without it; empty when there is none.
    #[must_use]
    pub fn query(&self) -> &str {
        self.target.get(self.path_end + 1..).unwrap_or("")
    }

    /// The HTTP version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
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

    /// The request line as Tornado's [`RequestStartLine`] (allocates three strings).
    #[must_use]
    pub fn to_start_line(&self) -> RequestStartLine {
        RequestStartLine {
            method: self.method.clone(),
            path: self.target.clone(),
            version: self.version.as_str().to_owned(),
        }
    }

    fn clear(&mut self) {
        self.method.clear();
        self.target.clear();
        self.path_start = 0;
        self.path_end = 0;
        self.headers.clear();
    }
}

/// Header slots on the stack: the default `max_headers`. A larger limit uses the heap.
const STACK_HEADERS: usize = 100;

/// The HTTP/2 connection preface's request line.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Parses a request head from the start of `buf` into `head`.
///
/// Returns `Ok(Some(n))` when the head is complete: the head is in `head` and `n` bytes of `buf`
/// were consumed (the body or the next pipelined request starts at `buf[n..]`). Returns
/// `Ok(None)` when `buf` holds only part of a head: read more and call again with the longer
/// buffer. Empty lines before the request line are skipped (RFC 9112 §2.2); lines may end in CRLF
/// or a bare LF, as Tornado accepts.
///
/// # Examples
///
/// ```
/// use typhoon_httputil::h1::{Limits, RequestHead, Version, parse_request_head};
///
/// let mut head = RequestHead::new();
/// let buf = b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\nnext";
/// assert_eq!(parse_request_head(&buf[..20], &Limits::default(), &mut head)?, None);
/// let n = parse_request_head(buf, &Limits::default(), &mut head)?.unwrap();
/// assert_eq!(&buf[n..], b"next");
/// assert_eq!((head.method(), head.path(), head.version()), ("GET", "/index.html", Version::Http11));
/// assert_eq!(head.query(), "x=1");
/// assert_eq!(head.headers().get("host"), Some("example.com"));
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
///
/// # Errors
///
/// - [`HTTPInputError::MalformedRequestLine`] for a request line that is not `token SP target SP
///   HTTP/1.x` (one space each, no control bytes, a UTF-8 target);
/// - [`HTTPInputError::InvalidRequestTarget`] for a target whose form the method does not allow
///   (RFC 9112 §3.2: `host:port` only for `CONNECT`, `*` only for `OPTIONS`);
/// - [`HTTPInputError::MalformedHeader`] for a bad header name or value byte, a space before the
///   colon, obs-fold, or a bare CR;
/// - [`HTTPInputError::MissingHost`], [`HTTPInputError::MultipleHost`] and
///   [`HTTPInputError::InvalidHost`] for the `Host` rules of RFC 9112 §3.2 and Tornado;
/// - [`HTTPInputError::UriTooLong`] (414) when the target exceeds `max_uri_len`, even before the
///   request line is complete;
/// - [`HTTPInputError::HeaderTooLarge`] and [`HTTPInputError::TooManyHeaders`] (431) past
///   `max_header_size` bytes (complete or not) or `max_headers` fields;
/// - [`HTTPInputError::UnsupportedVersion`] (505) for a well-formed version other than 1.0/1.1,
///   and [`HTTPInputError::Http2Preface`] for `PRI * HTTP/2.0`.
pub fn parse_request_head(
    buf: &[u8],
    limits: &Limits,
    head: &mut RequestHead,
) -> Result<Option<usize>> {
    let line_start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    if buf[line_start..].starts_with(H2_PREFACE) {
        return Err(HTTPInputError::Http2Preface);
    }
    let mut stack = [MaybeUninit::<httparse::Header<'_>>::uninit(); STACK_HEADERS];
    let mut heap;
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if limits.max_headers <= STACK_HEADERS {
        &mut stack[..limits.max_headers]
    } else {
        heap = vec![MaybeUninit::uninit(); limits.max_headers];
        &mut heap
    };
    let mut req = httparse::Request::new(&mut []);
    let consumed = match req.parse_with_uninit_headers(buf, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return check_partial(buf, line_start, req.path, limits).map(|()| None);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HTTPInputError::TooManyHeaders),
        Err(e) => return Err(classify_error(&e, &buf[line_start..])),
    };
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        // httparse sets all three before it reports a complete head.
        return Err(HTTPInputError::MalformedRequestLine);
    };
    if target.len() > limits.max_uri_len {
        return Err(HTTPInputError::UriTooLong);
    }
    if consumed > limits.max_header_size {
        return Err(HTTPInputError::HeaderTooLarge);
    }
    let version = match minor {
        0 => Version::Http10,
        _ => Version::Http11,
    };
    let path = request_target_path(method, target)?;
    head.clear();
    head.method.push_str(method);
    head.target.push_str(target);
    head.path_start = path.start;
    head.path_end = path.end;
    head.version = version;
    // Validate the head as text once (almost every head is ASCII) and slice values out of it,
    // rather than checking each value; a head with obs-text bytes takes the Latin-1 path.
    let text = Some(&buf[..consumed])
        .filter(|b| b.is_ascii())
        .and_then(|b| std::str::from_utf8(b).ok());
    let base = buf.as_ptr() as usize;
    let mut hosts = 0u32;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if hosts > 1 {
                return Err(HTTPInputError::MultipleHost);
            }
            check_host(h.value)?;
        }
        let offset = (h.value.as_ptr() as usize).wrapping_sub(base);
        match text.and_then(|t| t.get(offset..offset + h.value.len())) {
            Some(value) => head.headers.push(h.name, value),
            None => head.headers.push_wire(h.name, h.value),
        }
    }
    if hosts == 0 && version == Version::Http11 {
        return Err(HTTPInputError::MissingHost);
    }
    Ok(Some(consumed))
}

/// Limits that can be decided on a partial head: a target already longer than allowed (414) or a
/// buffer past `max_header_size` (431, or 414 if the request line itself is the culprit).
fn check_partial(
    buf: &[u8],
    line_start: usize,
    parsed_target: Option<&str>,
    limits: &Limits,
) -> Result<()> {
    if parsed_target.is_some_and(|t| t.len() > limits.max_uri_len) {
        return Err(HTTPInputError::UriTooLong);
    }
    let line_incomplete = parsed_target.is_none();
    if line_incomplete {
        // The target so far: after the method and its space, up to the next space.
        let line = &buf[line_start..];
        if let Some(sp) = memchr::memchr(b' ', line) {
            let rest = &line[sp + 1..];
            let end = memchr::memchr2(b' ', b'\n', rest).unwrap_or(rest.len());
            if end > limits.max_uri_len {
                return Err(HTTPInputError::UriTooLong);
            }
        }
    }
    if buf.len() > limits.max_header_size {
        return Err(HTTPInputError::HeaderTooLarge);
    }
    Ok(())
}

/// Turns an httparse error into ours by looking at the request line: if it is itself malformed
/// (or has an unsupported version) that is the error, otherwise a header line is to blame.
fn classify_error(e: &httparse::Error, line: &[u8]) -> HTTPInputError {
    let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
    let line = &line[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return HTTPInputError::MalformedRequestLine;
    };
    let target_ok = !target.is_empty()
        && std::str::from_utf8(target).is_ok()
        && target.iter().all(|&b| b > b' ' && b != 0x7f);
    let version_form = matches!(version, [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit());
    if !is_token(method) || !target_ok || !version_form {
        return HTTPInputError::MalformedRequestLine;
    }
    if version != b"HTTP/1.0" && version != b"HTTP/1.1" {
        return HTTPInputError::UnsupportedVersion;
    }
    match e {
        httparse::Error::TooManyHeaders => HTTPInputError::TooManyHeaders,
        _ => HTTPInputError::MalformedHeader,
    }
}

/// Tornado's `_ABNF.host` (RFC 3986 reg-name, IP literals and port, loosely): unreserved,
/// sub-delims except the comma, `[`, `]`, `:` and `%XX`. A comma means merged Host headers.
fn check_host(value: &[u8]) -> Result<()> {
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b',' => return Err(HTTPInputError::MultipleHost),
            b'%' => {
                let hex = value.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Err(HTTPInputError::InvalidHost);
                }
                i += 2;
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {}
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b';' | b'=' => {}
            b'[' | b']' | b':' => {}
            _ => return Err(HTTPInputError::InvalidHost),
        }
        i += 1;
    }
    Ok(())
}

/// Checks the request target's form against the method (RFC 9112 §3.2) and returns the byte
/// range of its path (without the query).
///
/// - origin-form (`/path?query`) and absolute-form (`scheme://authority/path?query`) are allowed
///   for every method; an absolute-form target without a path gives an empty range (`/`);
/// - authority-form (`host:port`) only for `CONNECT`, and the range is the whole target;
/// - asterisk-form (`*`) only for `OPTIONS`, and the range is the whole target.
///
/// Anything else (`GET !`, `GET *`, `GET a:80`, `GET http://`) is
/// [`HTTPInputError::InvalidRequestTarget`].
fn request_target_path(method: &str, target: &str) -> Result<std::ops::Range<usize>> {
    let b = target.as_bytes();
    let query_at = |from: usize| memchr::memchr(b'?', &b[from..]).map_or(b.len(), |i| from + i);
    match b.first() {
        Some(b'/') => return Ok(0..query_at(0)),
        Some(b'*') if b.len() == 1 => {
            return if method == "OPTIONS" {
                Ok(0..1)
            } else {
                Err(HTTPInputError::InvalidRequestTarget)
            };
        }
        _ => {}
    }
    if let Some(authority) = absolute_form_authority(b) {
        let path_start =
            memchr::memchr2(b'/', b'?', &b[authority..]).map_or(b.len(), |i| authority + i);
        if path_start == authority {
            // `http://` or `http:///x`: no host.
            return Err(HTTPInputError::InvalidRequestTarget);
        }
        let path_end = if b.get(path_start) == Some(&b'?') {
            path_start
        } else {
            query_at(path_start)
        };
        return Ok(path_start..path_end);
    }
    if method == "CONNECT" && is_authority_form(b) {
        return Ok(0..b.len());
    }
    Err(HTTPInputError::InvalidRequestTarget)
}

/// Where the authority starts in an absolute-form target (`scheme "://" ...`, RFC 3986 scheme
/// syntax), or `None` if it is not one.
fn absolute_form_authority(b: &[u8]) -> Option<usize> {
    let colon = memchr::memchr(b':', b)?;
    let scheme = &b[..colon];
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    (scheme_ok && b[colon..].starts_with(b"://")).then_some(colon + 3)
}

/// Authority-form (`host:port`, RFC 9112 §3.2.3): a host without `/`, `?`, `#` or userinfo,
/// a colon and decimal port digits.
fn is_authority_form(b: &[u8]) -> bool {
    let Some(colon) = memchr::memrchr(b':', b) else {
        return false;
    };
    let (host, port) = (&b[..colon], &b[colon + 1..]);
    !host.is_empty()
        && !host.iter().any(|c| matches!(c, b'/' | b'?' | b'#' | b'@'))
        && std::str::from_utf8(port)
            .is_ok_and(|p| p.bytes().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Option<usize>> {
        parse_request_head(buf, &Limits::default(), &mut RequestHead::new())
    }

    #[test]
    fn absolute_form_paths() {
        let mut head = RequestHead::new();
        for (method, target, path, query) in [
            ("GET", "/a?b", "/a", "b"),
            ("GET", "http://h/a?b", "/a", "b"),
            ("GET", "http://h", "/", ""),
            ("OPTIONS", "http://example.com", "/", ""),
            ("GET", "https://h:8443?q", "/", "q"),
            ("GET", "http://a\u{20ac}", "/", ""),
            ("GET", "http://a\u{20ac}/x\u{20ac}?y", "/x\u{20ac}", "y"),
            ("OPTIONS", "*", "*", ""),
            ("CONNECT", "h:443", "h:443", ""),
        ] {
            let req = format!("{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n");
            parse_request_head(req.as_bytes(), &Limits::default(), &mut head).unwrap();
            assert_eq!((head.path(), head.query()), (path, query), "{target}");
            assert_eq!(head.target(), target);
            let range = head.path_range();
            assert!(head.target().get(range).is_some(), "{target}");
        }
    }

    #[test]
    fn request_target_forms() {
        for (method, target) in [
            ("GET", "!"),
            ("GET", "*"),
            ("POST", "*"),
            ("GET", "a:80"),
            ("OPTIONS", "a:80"),
            ("GET", "http://"),
            ("GET", "http:///x"),
            ("CONNECT", "*"),
            ("CONNECT", "h"),
            ("CONNECT", "h:"),
            ("CONNECT", "u@h:80"),
            ("CONNECT", "h:65536"),
            ("CONNECT", "h:+80"),
            ("OPTIONS", "**"),
        ] {
            let req = format!("{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n");
            assert!(
                matches!(
                    parse(req.as_bytes()),
                    Err(HTTPInputError::InvalidRequestTarget)
                ),
                "{method} {target}"
            );
        }
    }

    #[test]
    fn partial_then_complete() {
        let req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for i in 0..req.len() {
            assert_eq!(parse(&req[..i]).unwrap(), None, "{i}");
        }
        assert_eq!(parse(req).unwrap(), Some(req.len()));
    }

    #[test]
    fn reuse_keeps_no_stale_state() {
        let mut head = RequestHead::new();
        let l = Limits::default();
        parse_request_head(
            b"POST http://x/y HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n",
            &l,
            &mut head,
        )
        .unwrap();
        parse_request_head(b"GET /z HTTP/1.0\r\n\r\n", &l, &mut head).unwrap();
        assert_eq!((head.method(), head.path()), ("GET", "/z"));
        assert_eq!(head.version(), Version::Http10);
        assert!(head.headers().is_empty());
    }

    #[test]
    fn values_ascii_and_latin1() {
        let mut head = RequestHead::new();
        let l = Limits::default();
        parse_request_head(
            b"GET / HTTP/1.0\r\nA: x y\r\nB:\r\nC: caf\xe9\r\n\r\n",
            &l,
            &mut head,
        )
        .unwrap();
        let all: Vec<_> = head.headers().iter().collect();
        assert_eq!(all, [("A", "x y"), ("B", ""), ("C", "caf\u{e9}")]);
        parse_request_head(b"GET / HTTP/1.0\r\nA:  x\t\r\nB: \r\n\r\n", &l, &mut head).unwrap();
        let all: Vec<_> = head.headers().iter().collect();
        assert_eq!(all, [("A", "x"), ("B", "")]);
    }

    #[test]
    fn host_rules() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").is_ok());
        assert!(parse(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").is_ok());
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"),
            Err(HTTPInputError::InvalidHost)
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
            Err(HTTPInputError::MultipleHost)
        ));
    }

    #[test]
    fn max_headers_above_stack() {
        let limits = Limits {
            max_headers: 150,
            ..Limits::default()
        };
        let mut req = b"GET / HTTP/1.0\r\n".to_vec();
        for i in 0..120 {
            req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        let mut head = RequestHead::new();
        assert!(
            parse_request_head(&req, &limits, &mut head)
                .unwrap()
                .is_some()
        );
        assert_eq!(head.headers().len(), 120);
        assert!(matches!(parse(&req), Err(HTTPInputError::TooManyHeaders)));
    }
}
