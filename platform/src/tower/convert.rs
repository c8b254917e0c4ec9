//! Conversions between Typhoon's HTTP types and the `http` crate's (feature `tower`): headers,
//! methods, statuses, versions, a request's head, and a response's head onto a [`Context`].
//!
//! Free functions and one extension trait rather than `From` impls: the orphan rule forbids
//! `impl From<&HTTPHeaders> for http::HeaderMap` outside both crates, and the conversions can
//! fail (an `http::Method` is stricter than the token Typhoon accepts, say).
//!
//! Header values: [`HTTPHeaders`] holds text, and the parser reads bytes above 0x7F as Latin-1
//! (one `char` each, as Python's `latin1` decoding in Tornado). The conversions keep that rule
//! both ways, so a header read off the wire round-trips to the same bytes; a value with a
//! `char` above U+00FF (one an application set) goes to `http` as its UTF-8 bytes.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use typhoon_httpserver::HTTPServerRequest;
use typhoon_httputil::HTTPHeaders;
use typhoon_httputil::h1::Version;
use typhoon_web::Context;

use super::error::TowerError;

/// Copies `headers` into an `http::HeaderMap`, every field line in order (duplicates kept).
///
/// # Errors
///
/// [`TowerError::InvalidHeaderName`] or [`TowerError::InvalidHeaderValue`] for a line `http`
/// refuses (its rules are close to Typhoon's; both refuse control characters).
///
/// # Examples
///
/// ```
/// use typhoon_httputil::HTTPHeaders;
///
/// let mut headers = HTTPHeaders::new();
/// headers.add("Set-Cookie", "a=1")?;
/// headers.add("set-cookie", "b=2")?;
/// let map = typhoon_platform::tower::headers_to_http(&headers)?;
/// let values: Vec<_> = map.get_all("set-cookie").iter().collect();
/// assert_eq!(values, ["a=1", "b=2"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn headers_to_http(headers: &HTTPHeaders) -> Result<HeaderMap, TowerError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|source| TowerError::InvalidHeaderName { source })?;
        let header_value = HeaderValue::from_bytes(&latin1_bytes(value)).map_err(|source| {
            TowerError::InvalidHeaderValue {
                name: name.to_owned(),
                source,
            }
        })?;
        map.append(header_name, header_value);
    }
    Ok(map)
}

/// Copies an `http::HeaderMap` into [`HTTPHeaders`], every value in order. Names come out
/// lowercase, as `http` stores them (lookups in `HTTPHeaders` ignore case).
///
/// # Errors
///
/// [`TowerError::Header`] for a value `HTTPHeaders` refuses (one that starts or ends with a
/// space, which `http` allows).
///
/// # Examples
///
/// ```
/// use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
///
/// let mut map = HeaderMap::new();
/// map.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
/// let headers = typhoon_platform::tower::headers_from_http(&map)?;
/// assert_eq!(headers.get("Content-Type"), Some("text/plain"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn headers_from_http(map: &HeaderMap) -> Result<HTTPHeaders, TowerError> {
    let mut headers = HTTPHeaders::with_capacity(map.len(), 0);
    for (name, value) in map {
        headers
            .add(name.as_str(), &latin1_text(value.as_bytes()))
            .map_err(|source| TowerError::Header { source })?;
    }
    Ok(headers)
}

/// The `http::Method` of a method as Typhoon has it (`request.method`, case as sent).
///
/// # Errors
///
/// [`TowerError::InvalidMethod`] for one that is not a token.
pub fn method_to_http(method: &str) -> Result<http::Method, TowerError> {
    http::Method::from_bytes(method.as_bytes())
        .map_err(|source| TowerError::InvalidMethod { source })
}

/// The `http::StatusCode` of a status as Typhoon has it ([`Context::get_status`]).
///
/// # Errors
///
/// [`TowerError::InvalidStatus`] outside 100..=999.
pub fn status_to_http(status: u16) -> Result<http::StatusCode, TowerError> {
    http::StatusCode::from_u16(status).map_err(|source| TowerError::InvalidStatus { source })
}

/// The `http::Version` of a Typhoon request's version.
pub fn version_to_http(version: Version) -> http::Version {
    match version {
        Version::Http10 => http::Version::HTTP_10,
        Version::Http11 => http::Version::HTTP_11,
    }
}

/// The head of `request` as an `http::Request<()>`: method, URI as the client sent it (path and
/// query, or the absolute form; the few bytes `http` refuses there, such as a raw `"`,
/// percent-encoded), version, headers, and a [`ConnectionInfo`] extension with the
/// client's address and protocol (Typhoon's `remote_ip` and `protocol`, after `xheaders`). The
/// body is not copied: a buffered one is `request.body`, and a hosted service gets the streamed
/// one as a [`RequestBody`](super::RequestBody). Use [`http::Request::map`] to attach one.
///
/// # Errors
///
/// [`TowerError::InvalidMethod`], [`TowerError::InvalidUri`], or a header error as
/// [`headers_to_http`].
pub fn request_to_http(request: &HTTPServerRequest) -> Result<http::Request<()>, TowerError> {
    let uri = uri_to_http(&request.uri)?;
    let mut out = http::Request::new(());
    *out.method_mut() = method_to_http(&request.method)?;
    *out.uri_mut() = uri;
    *out.version_mut() = version_to_http(request.version);
    *out.headers_mut() = headers_to_http(&request.headers)?;
    out.extensions_mut().insert(ConnectionInfo {
        remote_ip: request.remote_ip.to_string(),
        protocol: request.protocol,
    });
    Ok(out)
}

/// A request target as an `http::Uri`. `http` refuses a few bytes that Typhoon's parser (as
/// browsers and most servers) lets through, such as `"` in a query: those are
/// percent-encoded (`%22`), as a browser would have sent them, and the rest is kept as sent.
///
/// # Errors
///
/// [`TowerError::InvalidUri`] for a target `http` refuses even then.
fn uri_to_http(target: &str) -> Result<http::Uri, TowerError> {
    match target.parse::<http::Uri>() {
        Ok(uri) => Ok(uri),
        Err(first) => {
            let mut escaped = String::with_capacity(target.len() + 8);
            for byte in target.bytes() {
                if byte.is_ascii_graphic() && !matches!(byte, b'"' | b'<' | b'>' | b'\\' | b'`') {
                    escaped.push(char::from(byte));
                } else {
                    escaped.push_str(&format!("%{byte:02X}"));
                }
            }
            escaped
                .parse()
                .map_err(|_| TowerError::InvalidUri { source: first })
        }
    }
}

/// The client's connection, as Typhoon saw it: an extension of every request a hosted service
/// gets (`request.extensions().get::<ConnectionInfo>()`, or axum's
/// `Extension<ConnectionInfo>`), in place of the `ConnectInfo` that `axum::serve` would add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The client's IP (Typhoon's `remote_ip`: from `X-Real-Ip`/`X-Forwarded-For` with
    /// `xheaders`), or `"unix"` on a Unix socket.
    pub remote_ip: String,
    /// `"http"` or `"https"` (from `X-Scheme`/`X-Forwarded-Proto` with `xheaders`).
    pub protocol: &'static str,
}

/// What [`ContextExt::set_response_head`] leaves to the server: the framing headers (the
/// server frames the body itself, by `Content-Length`, chunked or close) and the
/// connection-level ones (RFC 9110 §7.6.1), which describe a hop, not the response.
const HOP_BY_HOP: [HeaderName; 5] = [
    http::header::CONNECTION,
    http::header::TRANSFER_ENCODING,
    http::header::UPGRADE,
    http::header::TE,
    http::header::TRAILER,
];

/// The `http` crate's types on a handler's [`Context`] (an extension trait: `Context` is
/// typhoon-web's, which does not depend on `http`).
///
/// # Examples
///
/// ```
/// use http::StatusCode;
/// use typhoon_platform::tower::ContextExt;
/// use typhoon_web::{Context, HTTPError, RequestHandler};
///
/// struct Teapot;
/// impl RequestHandler for Teapot {
///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         cx.set_status_code(StatusCode::IM_A_TEAPOT);
///         cx.write("short and stout");
///         Ok(())
///     }
/// }
/// ```
pub trait ContextExt {
    /// Sets the response's status from an `http::StatusCode` ([`Context::set_status`]; its
    /// canonical reason phrase, or `Unknown`).
    fn set_status_code(&mut self, status: http::StatusCode);

    /// The request's method as an `http::Method`.
    ///
    /// # Errors
    ///
    /// [`TowerError::InvalidMethod`] for one that is not a token (the server accepts only
    /// tokens, so this does not happen for a parsed request).
    fn http_method(&self) -> Result<http::Method, TowerError>;

    /// Applies an `http` response head: its status, and its headers in place of the default
    /// ones (no default `Content-Type` unless the head has one; `Server` and `Date` stay the
    /// server's unless it has them). Framing and connection headers (`Transfer-Encoding`,
    /// `Connection`, `Upgrade`, `TE`, `Trailer`) are left out: the server frames the body
    /// itself. A `Content-Length` is kept, and the body written must match it.
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidHeader`](typhoon_web::WebError::InvalidHeader) for a value Typhoon
    /// refuses (one that starts or ends with a space), as [`Context::add_header`]; the headers
    /// before it are set.
    fn set_response_head(&mut self, head: &http::response::Parts) -> typhoon_web::Result<()>;
}

impl ContextExt for Context {
    fn set_status_code(&mut self, status: http::StatusCode) {
        self.set_status(status.as_u16());
    }

    fn http_method(&self) -> Result<http::Method, TowerError> {
        method_to_http(&self.request().method)
    }

    fn set_response_head(&mut self, head: &http::response::Parts) -> typhoon_web::Result<()> {
        self.set_status_code(head.status);
        self.clear_header("Content-Type");
        for (name, value) in &head.headers {
            if HOP_BY_HOP.contains(name) {
                continue;
            }
            self.add_header(name.as_str(), latin1_text(value.as_bytes()))?;
        }
        Ok(())
    }
}

/// A header value's bytes: Latin-1 when every `char` fits in a byte, else UTF-8.
fn latin1_bytes(value: &str) -> std::borrow::Cow<'_, [u8]> {
    if value.is_ascii() {
        return value.as_bytes().into();
    }
    value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .map_or_else(|| value.as_bytes().into(), Into::into)
}

/// A header value's text: ASCII as is, other bytes as Latin-1 (the parser's rule).
fn latin1_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => text.into(),
        _ => bytes
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_in_order_with_duplicates() {
        let mut headers = HTTPHeaders::new();
        headers.add("X-A", "1").expect("valid");
        headers.add("Set-Cookie", "a=1").expect("valid");
        headers.add("set-cookie", "b=2").expect("valid");
        let map = headers_to_http(&headers).expect("converts");
        assert_eq!(map.len(), 3);
        let back = headers_from_http(&map).expect("converts");
        assert_eq!(
            back.get_list("Set-Cookie").collect::<Vec<_>>(),
            ["a=1", "b=2"]
        );
        assert_eq!(back.get("x-a"), Some("1"));
    }

    #[test]
    fn latin1_bytes_round_trip() {
        let map = {
            let mut map = HeaderMap::new();
            map.insert(
                "x-name",
                HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is allowed"),
            );
            map
        };
        let headers = headers_from_http(&map).expect("converts");
        assert_eq!(headers.get("X-Name"), Some("caf\u{e9}"));
        let again = headers_to_http(&headers).expect("converts");
        assert_eq!(again["x-name"].as_bytes(), b"caf\xe9");
    }

    #[test]
    fn a_value_http_refuses_is_an_error() {
        let mut map = HeaderMap::new();
        map.insert("x-padded", HeaderValue::from_static(" padded "));
        let error = headers_from_http(&map).expect_err("Typhoon refuses padded values");
        assert!(matches!(error, TowerError::Header { .. }), "{error:?}");
    }

    #[test]
    fn targets_http_refuses_are_percent_encoded() {
        assert_eq!(
            uri_to_http("/a?q=\"x\"<y>").expect("escaped").to_string(),
            "/a?q=%22x%22%3Cy%3E"
        );
        assert_eq!(
            uri_to_http("/a|b?c=d").expect("as sent").to_string(),
            "/a|b?c=d"
        );
        assert_eq!(
            uri_to_http("http://host/p?x").expect("absolute").path(),
            "/p"
        );
        assert!(matches!(
            uri_to_http("http://[::1/"),
            Err(TowerError::InvalidUri { .. })
        ));
    }

    #[test]
    fn methods_statuses_and_versions() {
        assert_eq!(
            method_to_http("PROPFIND").expect("token").as_str(),
            "PROPFIND"
        );
        assert!(matches!(
            method_to_http("BAD METHOD"),
            Err(TowerError::InvalidMethod { .. })
        ));
        assert_eq!(
            status_to_http(418).expect("valid"),
            http::StatusCode::IM_A_TEAPOT
        );
        assert!(matches!(
            status_to_http(1000),
            Err(TowerError::InvalidStatus { .. })
        ));
        assert_eq!(version_to_http(Version::Http10), http::Version::HTTP_10);
        assert_eq!(version_to_http(Version::Http11), http::Version::HTTP_11);
    }
}
