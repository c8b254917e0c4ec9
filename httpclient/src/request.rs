//! [`HTTPRequest`]: everything one fetch needs, built with Tornado's keyword arguments as
//! methods.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use typhoon_httputil::{HTTPHeaders, format_timestamp};

use crate::body::{BodyWriter, HeaderCallback, StreamingCallback};
use crate::error::{HTTPClientError, Result};

/// The future a [`body_producer`](HTTPRequest::body_producer) returns.
pub type BodyFuture = Pin<Box<dyn Future<Output = Result<()>>>>;

/// A request body producer: called with a [`BodyWriter`] each time the body is sent (again after
/// a 307/308 redirect), it writes the body in pieces.
pub(crate) type BodyProducer = Rc<dyn Fn(BodyWriter) -> BodyFuture>;

/// The request body.
#[derive(Clone)]
pub(crate) enum Body {
    /// All of it, sent with `Content-Length`.
    Bytes(Rc<[u8]>),
    /// Written piece by piece: with the caller's `Content-Length` if it set one, else chunked.
    Producer(BodyProducer),
}

/// The methods Tornado's client accepts without
/// [`allow_nonstandard_methods`](HTTPRequest::allow_nonstandard_methods).
pub(crate) const SUPPORTED_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"];

/// One HTTP request: a URL and Tornado's `HTTPRequest` keyword arguments as builder methods.
///
/// A URL string converts into a `GET` request with the defaults below, so
/// `client.fetch("http://example.com/")` works as in Tornado.
///
/// | Setting | Default |
/// |---|---|
/// | [`method`](Self::method) | `GET` |
/// | [`connect_timeout`](Self::connect_timeout), [`request_timeout`](Self::request_timeout) | 20 s each |
/// | [`follow_redirects`](Self::follow_redirects), [`max_redirects`](Self::max_redirects) | on, 5 |
/// | [`user_agent`](Self::user_agent) | `Typhoon/<version>` |
/// | `decompress_response` (feature `gzip`) | on |
/// | [`validate_cert`](Self::validate_cert) | on |
/// | [`raise_error`](Self::raise_error) | on |
/// | [`max_header_size`](Self::max_header_size), [`max_body_size`](Self::max_body_size) | the client's ([`ClientOptions`](crate::ClientOptions)) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_httpclient::HTTPRequest;
///
/// let request = HTTPRequest::new("http://127.0.0.1:8888/upload")
///     .method("POST")
///     .header("Content-Type", "application/json")
///     .body(r#"{"name": "typhoon"}"#)
///     .basic_auth("user", "secret")
///     .request_timeout(Duration::from_secs(5));
/// // Tornado's attributes are fields; the builder methods of the same names set them.
/// assert_eq!((request.method.as_str(), request.url.as_str()), ("POST", "http://127.0.0.1:8888/upload"));
/// ```
pub struct HTTPRequest {
    /// The absolute `http` or `https` URL (Tornado's `url` attribute).
    pub url: String,
    /// The method, as sent (Tornado's `method`).
    pub method: String,
    /// Headers set by the caller (Tornado's `headers`; the client adds `Host`, `User-Agent`,
    /// `Accept-Encoding`, `Authorization`, `Content-Length` or `Transfer-Encoding` unless set
    /// here).
    pub headers: HTTPHeaders,
    /// `None`: no body (distinct from an empty one, as Tornado's `body=None` and `body=b""`).
    pub(crate) body: Option<Body>,
    /// Basic-auth user name and password.
    pub(crate) auth: Option<(String, String)>,
    /// Bound on resolving, connecting and the TLS handshake (Tornado's `connect_timeout`; set
    /// with [`connect_timeout`](Self::connect_timeout)).
    pub connect_timeout: Duration,
    /// Bound on the whole exchange, connect included (Tornado's `request_timeout`; set with
    /// [`request_timeout`](Self::request_timeout)).
    pub request_timeout: Duration,
    /// Whether 3xx answers with a `Location` are followed.
    pub(crate) follow_redirects: bool,
    /// How many redirects may still be followed.
    pub(crate) max_redirects: usize,
    /// The `User-Agent` header, unless the headers set one.
    pub(crate) user_agent: Option<String>,
    /// Ask for gzip and inflate it.
    pub(crate) decompress_response: bool,
    /// Receives the body in pieces instead of [`HTTPResponse::body`](crate::HTTPResponse::body).
    pub(crate) streaming_callback: Option<Box<StreamingCallback>>,
    /// Receives the status line and each header line as they arrive.
    pub(crate) header_callback: Option<Box<HeaderCallback>>,
    /// Overrides the client's `max_header_size`.
    pub(crate) max_header_size: Option<usize>,
    /// Overrides the client's `max_body_size`.
    pub(crate) max_body_size: Option<u64>,
    /// Skip the method and body-presence checks.
    pub(crate) allow_nonstandard_methods: bool,
    /// Check the server's certificate and name (Tornado's `validate_cert`; off only in tests;
    /// set with [`validate_cert`](Self::validate_cert)).
    pub validate_cert: bool,
    /// A PEM file of CA certificates to trust instead of the webpki roots (Tornado's
    /// `ca_certs`; set with [`ca_certs`](Self::ca_certs)).
    pub ca_certs: Option<PathBuf>,
    /// Return non-2xx responses as errors.
    pub(crate) raise_error: bool,
    /// An invalid header given to a builder method, reported by `fetch`.
    pub(crate) invalid: Option<&'static str>,
}

impl HTTPRequest {
    /// A `GET` request for `url`, with the defaults in the table above.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            method: "GET".to_owned(),
            headers: HTTPHeaders::new(),
            body: None,
            auth: None,
            connect_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(20),
            follow_redirects: true,
            max_redirects: 5,
            user_agent: None,
            decompress_response: cfg!(feature = "gzip"),
            streaming_callback: None,
            header_callback: None,
            max_header_size: None,
            max_body_size: None,
            allow_nonstandard_methods: false,
            validate_cert: true,
            ca_certs: None,
            raise_error: true,
            invalid: None,
        }
    }

    /// Sets the method (`GET`, `POST`, ...; others need
    /// [`allow_nonstandard_methods`](Self::allow_nonstandard_methods)).
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// Adds a header line (an invalid name or value makes `fetch` fail with
    /// [`HTTPClientError::InvalidRequest`]).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if self.headers.add(name, value).is_err() {
            self.invalid = Some("invalid header name or value");
        }
        self
    }

    /// Replaces all the headers.
    #[must_use]
    pub fn headers(mut self, headers: HTTPHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// Sets `If-Modified-Since` (Tornado's `if_modified_since`).
    #[must_use]
    pub fn if_modified_since(mut self, time: SystemTime) -> Self {
        let _ = self
            .headers
            .set("If-Modified-Since", &format_timestamp(time));
        self
    }

    /// Sets the body, sent with `Content-Length`. For `POST` without a `Content-Type`, the client
    /// sends `application/x-www-form-urlencoded`, as Tornado.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(Body::Bytes(body.into().into()));
        self
    }

    /// Streams the body from `producer` (Tornado's `body_producer`): it is called with a
    /// [`BodyWriter`] and writes the body in pieces, each sent as it is written (flow control:
    /// a write returns once the bytes reached the kernel). Without a `Content-Length` header the
    /// body is sent chunked. It is called again if a 307 or 308 redirect is followed.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_httpclient::{BodyWriter, HTTPRequest};
    ///
    /// let request = HTTPRequest::new("http://127.0.0.1:8888/upload")
    ///     .method("PUT")
    ///     .body_producer(|writer: BodyWriter| async move {
    ///         for part in [&b"first "[..], b"second"] {
    ///             writer.write(part).await?;
    ///         }
    ///         Ok(())
    ///     });
    /// # drop(request);
    /// ```
    #[must_use]
    pub fn body_producer<F, Fut>(mut self, producer: F) -> Self
    where
        F: Fn(BodyWriter) -> Fut + 'static,
        Fut: Future<Output = Result<()>> + 'static,
    {
        self.body = Some(Body::Producer(Rc::new(move |writer| {
            Box::pin(producer(writer)) as BodyFuture
        })));
        self
    }

    /// Sends `Authorization: Basic` with these credentials (Tornado's `auth_username`,
    /// `auth_password`; `auth_mode="digest"` is not supported). Credentials in the URL
    /// (`http://user:pw@host/`) do the same. They are dropped when a redirect leaves the host.
    #[must_use]
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some((username.into(), password.into()));
        self
    }

    /// Bounds resolving, connecting and the TLS handshake (default 20 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Bounds the whole exchange of each request, connect included (default 20 s), as
    /// Tornado's `request_timeout`.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Whether to follow redirects (default on). A 303, or a 301/302 answering a `POST`, is
    /// followed with a bodiless `GET`, as browsers and Tornado do; 307 and 308 resend the
    /// method and body.
    #[must_use]
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// The most redirects followed (default 5); the next 3xx is returned as the response (an
    /// [`HTTPClientError::Http`] with `raise_error`).
    #[must_use]
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Sets the `User-Agent` (default `Typhoon/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Whether to send `Accept-Encoding: gzip` and inflate a gzip response (default on). An
    /// inflated response loses its `Content-Encoding` header, which moves to
    /// `X-Consumed-Content-Encoding`, as in Tornado.
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    #[must_use]
    pub fn decompress_response(mut self, decompress: bool) -> Self {
        self.decompress_response = decompress;
        self
    }

    /// Delivers the body in pieces to `callback` as it arrives (decompressed if
    /// `decompress_response`); [`HTTPResponse::body`](crate::HTTPResponse::body) stays empty.
    /// The bodies of redirects that are followed are not delivered.
    #[must_use]
    pub fn streaming_callback(mut self, callback: impl FnMut(&[u8]) + 'static) -> Self {
        self.streaming_callback = Some(Box::new(callback));
        self
    }

    /// Calls `callback` with the status line, then each header line (without line ending), then
    /// an empty line, as they arrive; not for redirects that are followed, nor for 1xx
    /// responses.
    #[must_use]
    pub fn header_callback(mut self, callback: impl FnMut(&str) + 'static) -> Self {
        self.header_callback = Some(Box::new(callback));
        self
    }

    /// The largest response head accepted, overriding the client's
    /// [`ClientOptions::max_header_size`](crate::ClientOptions::max_header_size).
    #[must_use]
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = Some(bytes);
        self
    }

    /// The largest response body accepted (as received, and once inflated), overriding the
    /// client's [`ClientOptions::max_body_size`](crate::ClientOptions::max_body_size).
    #[must_use]
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = Some(bytes);
        self
    }

    /// Allows any method token and a body (or none) with any method (default off: only
    /// `GET HEAD POST DELETE PATCH PUT OPTIONS`, a body exactly for `POST PATCH PUT`).
    #[must_use]
    pub fn allow_nonstandard_methods(mut self, allow: bool) -> Self {
        self.allow_nonstandard_methods = allow;
        self
    }

    /// Whether to check the server's certificate and name (default on).
    ///
    /// **Unsafe for anything but tests**: with `false`, any server (or anyone between) can
    /// impersonate the host; the connection is encrypted to whoever answered.
    #[must_use]
    pub fn validate_cert(mut self, validate: bool) -> Self {
        self.validate_cert = validate;
        self
    }

    /// Trusts the CA certificates in this PEM file instead of the webpki (Mozilla) roots.
    #[must_use]
    pub fn ca_certs(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certs = Some(path.into());
        self
    }

    /// Whether a non-2xx response is an [`HTTPClientError::Http`] (default on, Tornado's
    /// `raise_error`). With `false` it is returned as an [`HTTPResponse`](crate::HTTPResponse)
    /// with [`error`](crate::HTTPResponse::error) set; failures without a response stay errors.
    #[must_use]
    pub fn raise_error(mut self, raise: bool) -> Self {
        self.raise_error = raise;
        self
    }

    /// Tornado's checks before anything is sent.
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(reason) = self.invalid {
            return Err(HTTPClientError::InvalidRequest { reason });
        }
        let method = self.method.as_bytes();
        if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
            return Err(HTTPClientError::InvalidRequest {
                reason: "the method is not a token",
            });
        }
        if self
            .user_agent
            .as_ref()
            .is_some_and(|ua| ua.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f))
        {
            return Err(HTTPClientError::InvalidRequest {
                reason: "the user agent holds control characters",
            });
        }
        if self.allow_nonstandard_methods {
            return Ok(());
        }
        if !SUPPORTED_METHODS.contains(&self.method.as_str()) {
            return Err(HTTPClientError::InvalidRequest {
                reason: "unknown method (see allow_nonstandard_methods)",
            });
        }
        let body_expected = matches!(self.method.as_str(), "POST" | "PATCH" | "PUT");
        match (body_expected, self.body.is_some()) {
            (true, false) => Err(HTTPClientError::InvalidRequest {
                reason: "the method needs a body (see allow_nonstandard_methods)",
            }),
            (false, true) => Err(HTTPClientError::InvalidRequest {
                reason: "the method takes no body (see allow_nonstandard_methods)",
            }),
            _ => Ok(()),
        }
    }
}

/// Bytes allowed in a token (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl From<&str> for HTTPRequest {
    fn from(url: &str) -> Self {
        HTTPRequest::new(url)
    }
}

impl From<String> for HTTPRequest {
    fn from(url: String) -> Self {
        HTTPRequest::new(url)
    }
}

impl From<&String> for HTTPRequest {
    fn from(url: &String) -> Self {
        HTTPRequest::new(url.as_str())
    }
}

impl fmt::Debug for HTTPRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field(
                "body",
                &match &self.body {
                    None => "none".to_owned(),
                    Some(Body::Bytes(bytes)) => format!("{} bytes", bytes.len()),
                    Some(Body::Producer(_)) => "producer".to_owned(),
                },
            )
            .field("follow_redirects", &self.follow_redirects)
            .field("max_redirects", &self.max_redirects)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("validate_cert", &self.validate_cert)
            .field("raise_error", &self.raise_error)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tornado_body_rules() {
        assert!(HTTPRequest::new("http://h/").validate().is_ok());
        let no_body_post = HTTPRequest::new("http://h/").method("POST");
        assert!(matches!(
            no_body_post.validate(),
            Err(HTTPClientError::InvalidRequest { .. })
        ));
        assert!(
            HTTPRequest::new("http://h/")
                .method("POST")
                .body("")
                .validate()
                .is_ok()
        );
        let get_with_body = HTTPRequest::new("http://h/").body("x");
        assert!(get_with_body.validate().is_err());
        assert!(
            HTTPRequest::new("http://h/")
                .method("PROPFIND")
                .validate()
                .is_err()
        );
        assert!(
            HTTPRequest::new("http://h/")
                .method("PROPFIND")
                .body("x")
                .allow_nonstandard_methods(true)
                .validate()
                .is_ok()
        );
        assert!(
            HTTPRequest::new("http://h/")
                .method("G T")
                .validate()
                .is_err()
        );
        assert!(
            HTTPRequest::new("http://h/")
                .header("X", "a\r\nb")
                .validate()
                .is_err()
        );
    }
}
