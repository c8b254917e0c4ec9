//! Request and response start lines (Tornado's `RequestStartLine`, `ResponseStartLine`).

use crate::error::{HTTPInputError, Result};
use crate::headers::is_token;

/// The first line of a request: `method SP target SP version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStartLine {
    /// The method, e.g. `GET`; any token (an unknown method is the application's 405).
    pub method: String,
    /// The request target as sent (Tornado calls it `path`): origin-form `/a?b`, absolute-form,
    /// authority-form or `*`.
    pub path: String,
    /// The version, `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
}

/// The first line of a response: `version SP code SP reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseStartLine {
    /// The version, e.g. `HTTP/1.1`.
    pub version: String,
    /// The three-digit status code.
    pub code: u16,
    /// The reason phrase, possibly empty.
    pub reason: String,
}

/// `HTTP/` DIGIT `.` DIGIT.
fn is_http_version(v: &str) -> bool {
    matches!(v.as_bytes(), [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit())
}

/// A request-target as Tornado's ABNF approximates it: one or more visible ASCII or non-ASCII
/// characters (no controls, no whitespace).
fn is_request_target(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| ('\x21'..='\x7e').contains(&c) || !c.is_ascii())
}

/// Parses an HTTP/1.x request line, as Tornado's `parse_request_start_line`.
///
/// ```
/// use typhoon_httputil::parse_request_start_line;
/// let l = parse_request_start_line("GET /foo HTTP/1.1")?;
/// assert_eq!((l.method.as_str(), l.path.as_str(), l.version.as_str()), ("GET", "/foo", "HTTP/1.1"));
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
///
/// # Errors
///
/// [`HTTPInputError::MalformedRequestLine`] unless the line is exactly `token SP target SP
/// HTTP/d.d`; [`HTTPInputError::UnsupportedVersion`] for a well-formed version that is not 1.x.
pub fn parse_request_start_line(line: &str) -> Result<RequestStartLine> {
    let mut parts = line.splitn(3, ' ');
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(HTTPInputError::MalformedRequestLine);
    };
    if !is_token(method.as_bytes()) || !is_request_target(path) || !is_http_version(version) {
        return Err(HTTPInputError::MalformedRequestLine);
    }
    if !version.starts_with("HTTP/1") {
        return Err(HTTPInputError::UnsupportedVersion);
    }
    Ok(RequestStartLine {
        method: method.to_owned(),
        path: path.to_owned(),
        version: version.to_owned(),
    })
}

/// Parses an HTTP/1.x status line, as Tornado's `parse_response_start_line`.
///
/// ```
/// use typhoon_httputil::parse_response_start_line;
/// let l = parse_response_start_line("HTTP/1.1 200 OK")?;
/// assert_eq!((l.version.as_str(), l.code, l.reason.as_str()), ("HTTP/1.1", 200, "OK"));
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
///
/// # Errors
///
/// [`HTTPInputError::MalformedResponseLine`] unless the line is `HTTP/d.d SP 3DIGIT SP
/// [reason]` with a reason of visible characters, SP and HTAB;
/// [`HTTPInputError::UnsupportedVersion`] for a version that is not 1.x.
pub fn parse_response_start_line(line: &str) -> Result<ResponseStartLine> {
    let bad = HTTPInputError::MalformedResponseLine;
    let (version, rest) = line.split_once(' ').ok_or(bad.clone())?;
    let (code, reason) = rest.split_once(' ').ok_or(bad.clone())?;
    let reason_ok = reason
        .chars()
        .all(|c| c == ' ' || c == '\t' || ('\x21'..='\x7e').contains(&c) || !c.is_ascii());
    if !is_http_version(version)
        || code.len() != 3
        || !code.bytes().all(|b| b.is_ascii_digit())
        || !reason_ok
    {
        return Err(bad);
    }
    if !version.starts_with("HTTP/1") {
        return Err(HTTPInputError::UnsupportedVersion);
    }
    Ok(ResponseStartLine {
        version: version.to_owned(),
        code: code.parse().map_err(|_| bad)?,
        reason: reason.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert!(parse_request_start_line("GET / HTTP/1.0").is_ok());
        for bad in [
            "asdf",
            "GET /",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 ",
            "FOO,BAR / HTTP/1.1",
            "GET / http/1.1",
            "GET /\x7f HTTP/1.1",
            "GET / HTTP/11",
        ] {
            assert!(
                matches!(
                    parse_request_start_line(bad),
                    Err(HTTPInputError::MalformedRequestLine)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_request_start_line("GET / HTTP/2.0"),
            Err(HTTPInputError::UnsupportedVersion)
        ));
    }

    #[test]
    fn response_lines() {
        let l = parse_response_start_line("HTTP/1.1 404 Not Found").unwrap();
        assert_eq!((l.code, l.reason.as_str()), (404, "Not Found"));
        assert_eq!(
            parse_response_start_line("HTTP/1.0 204 ").unwrap().reason,
            ""
        );
        assert!(parse_response_start_line("HTTP/1.1 200").is_err());
        assert!(parse_response_start_line("HTTP/1.1 20 OK").is_err());
        assert!(parse_response_start_line("HTTP/1.1 200 O\rK").is_err());
        assert!(matches!(
            parse_response_start_line("HTTP/2.0 200 OK"),
            Err(HTTPInputError::UnsupportedVersion)
        ));
    }
}
