//! Body framing, keep-alive and `Expect: 100-continue`: [`request_framing`].

use crate::error::{HTTPInputError, Result};
use crate::h1::{RequestHead, Version};
use crate::headers::{is_token, trim_ows};

/// How a request's body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No `Content-Length` and no `Transfer-Encoding`: the request has no body.
    Empty,
    /// `Content-Length: n` (possibly 0): read exactly `n` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: decode with a [`ChunkedDecoder`](crate::h1::ChunkedDecoder).
    Chunked,
}

/// What a request head says about its body and its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestFraming {
    /// How the body is delimited.
    pub body: BodyKind,
    /// Whether the connection may serve another request after this one, by HTTP/1.1's default
    /// (open unless `Connection: close`) or HTTP/1.0's (closed unless `Connection: keep-alive`,
    /// and then only with a known body length or a GET/HEAD, as Tornado's `_can_keep_alive`).
    pub keep_alive: bool,
    /// Whether an HTTP/1.1 client sent `Expect: 100-continue` and waits for `100 Continue` before
    /// sending the body (RFC 9110 §10.1.1: ignored in HTTP/1.0).
    pub expect_continue: bool,
}

/// Decides the body framing, keep-alive and `Expect: 100-continue` of a parsed request, in one
/// pass over its headers.
///
/// ```
/// use typhoon_httputil::h1::{BodyKind, Limits, RequestHead, parse_request_head, request_framing};
///
/// let mut head = RequestHead::new();
/// let req = b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
/// parse_request_head(req, &Limits::default(), &mut head)?;
/// let framing = request_framing(&head, Limits::default().max_body_size)?;
/// assert_eq!(framing.body, BodyKind::Length(5));
/// assert!(framing.keep_alive && framing.expect_continue);
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
///
/// # Errors
///
/// - [`HTTPInputError::InvalidContentLength`] (400): a `Content-Length` element that is not plain
///   digits (no sign, no underscore, no other whitespace than SP/HTAB around list commas);
/// - [`HTTPInputError::ConflictingContentLength`] (400): several values that differ (identical
///   ones, as a proxy may duplicate, are accepted);
/// - [`HTTPInputError::BodyTooLarge`] (413): a `Content-Length` over `max_body_size`, before any
///   body byte is read;
/// - [`HTTPInputError::TransferEncodingWithContentLength`] and
///   [`HTTPInputError::TransferEncodingInHttp10`] (400);
/// - [`HTTPInputError::InvalidTransferEncoding`] (400): `chunked` not last or repeated, or a value
///   that is not a list of tokens;
/// - [`HTTPInputError::UnsupportedTransferEncoding`] (501): any other coding, alone or before the
///   final `chunked` (Tornado answers 400; RFC 9112 §6.1 asks for 501 for a coding the server
///   does not implement).
pub fn request_framing(head: &RequestHead, max_body_size: u64) -> Result<RequestFraming> {
    let mut content_length: Option<&str> = None;
    let mut has_te = false;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    for (name, value) in head.headers() {
        match name.len() {
            14 if name.eq_ignore_ascii_case("content-length") => {
                for element in value.split(',') {
                    let element = trim_ows(element);
                    if element.is_empty() || !element.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(HTTPInputError::InvalidContentLength);
                    }
                    match content_length {
                        Some(first) if first != element => {
                            return Err(HTTPInputError::ConflictingContentLength);
                        }
                        _ => content_length = Some(element),
                    }
                }
            }
            17 if name.eq_ignore_ascii_case("transfer-encoding") => has_te = true,
            10 if name.eq_ignore_ascii_case("connection") => {
                // Byte-wise: this runs for nearly every request.
                for token in value.as_bytes().split(|&b| b == b',') {
                    let token = trim_ows_bytes(token);
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            6 if name.eq_ignore_ascii_case("expect") => {
                expect_continue |= trim_ows(value).eq_ignore_ascii_case("100-continue");
            }
            _ => {}
        }
    }
    let version = head.version();
    let body = if has_te {
        if content_length.is_some() {
            return Err(HTTPInputError::TransferEncodingWithContentLength);
        }
        if version == Version::Http10 {
            return Err(HTTPInputError::TransferEncodingInHttp10);
        }
        check_transfer_encoding(head)?;
        BodyKind::Chunked
    } else if let Some(digits) = content_length {
        // Plain digits that overflow u64 are certainly over the limit.
        let n: u64 = digits.parse().map_err(|_| HTTPInputError::BodyTooLarge)?;
        if n > max_body_size {
            return Err(HTTPInputError::BodyTooLarge);
        }
        BodyKind::Length(n)
    } else {
        BodyKind::Empty
    };
    let keep_alive = match version {
        Version::Http11 => !close,
        Version::Http10 => {
            keep_alive_token
                && !close
                && (body != BodyKind::Empty || matches!(head.method(), "GET" | "HEAD"))
        }
    };
    Ok(RequestFraming {
        body,
        keep_alive,
        expect_continue: expect_continue && version == Version::Http11,
    })
}

/// Strips SP and HTAB from both ends of a byte string.
fn trim_ows_bytes(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Accepts exactly one `chunked` coding over all `Transfer-Encoding` lines.
fn check_transfer_encoding(head: &RequestHead) -> Result<()> {
    let mut codings = 0usize;
    let mut chunked = 0usize;
    let mut last_is_chunked = false;
    for value in head.headers().get_list("transfer-encoding") {
        for coding in value.split(',').map(trim_ows) {
            if !is_token(coding.as_bytes()) {
                return Err(HTTPInputError::InvalidTransferEncoding);
            }
            codings += 1;
            last_is_chunked = coding.eq_ignore_ascii_case("chunked");
            chunked += usize::from(last_is_chunked);
        }
    }
    match (codings, chunked, last_is_chunked) {
        (1, 1, true) => Ok(()),
        // Only codings this server does not decode (`gzip` alone, or before `chunked`): 501.
        (_, 0, _) | (_, 1, true) => Err(HTTPInputError::UnsupportedTransferEncoding),
        _ => Err(HTTPInputError::InvalidTransferEncoding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::{Limits, parse_request_head};

    fn framing(req: &str) -> Result<RequestFraming> {
        let mut head = RequestHead::new();
        parse_request_head(req.as_bytes(), &Limits::default(), &mut head)?;
        request_framing(&head, 1000)
    }

    #[test]
    fn bodies() {
        let f = framing("GET / HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!(f.body, BodyKind::Empty);
        let f = framing(
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\ncontent-length: 5\r\n\r\n",
        );
        assert_eq!(f.unwrap().body, BodyKind::Length(5));
        let f = framing("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert_eq!(f.unwrap().body, BodyKind::Chunked);
        assert!(matches!(
            framing("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n"),
            Err(HTTPInputError::BodyTooLarge)
        ));
        assert!(matches!(
            framing(
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"
            ),
            Err(HTTPInputError::BodyTooLarge)
        ));
        assert!(matches!(
            framing("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Err(HTTPInputError::UnsupportedTransferEncoding)
        ));
        assert!(matches!(
            framing("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Err(HTTPInputError::UnsupportedTransferEncoding)
        ));
        assert!(matches!(
            framing("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Err(HTTPInputError::InvalidTransferEncoding)
        ));
        assert!(matches!(
            framing("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n"),
            Err(HTTPInputError::InvalidTransferEncoding)
        ));
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |r: &str| framing(r).unwrap().keep_alive;
        assert!(ka("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(!ka(
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n"
        ));
        assert!(!ka(
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n"
        ));
        assert!(!ka("GET / HTTP/1.0\r\n\r\n"));
        assert!(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        assert!(!ka("POST / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        assert!(ka(
            "POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        ));
    }

    #[test]
    fn expect_continue_only_in_http11() {
        let ec = |r: &str| framing(r).unwrap().expect_continue;
        assert!(ec(
            "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n"
        ));
        assert!(!ec("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"));
        assert!(!ec("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"));
    }
}
