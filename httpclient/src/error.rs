//! The crate's one error type, [`HTTPClientError`].

use std::fmt;

use typhoon_httputil::HTTPInputError;
use typhoon_iostream::StreamError;

use crate::response::HTTPResponse;

/// Which deadline passed, for [`HTTPClientError::Timeout`] (Tornado's "Timeout while
/// connecting", "Timeout during request", "Timeout in request queue").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Waiting for one of the `max_clients` slots (bounded by the smaller of the connect and
    /// request timeouts, as Tornado).
    Queue,
    /// Resolving, connecting and the TLS handshake (`connect_timeout`).
    Connect,
    /// Sending the request and reading the whole response (`request_timeout`, counted from the
    /// moment the request left the queue).
    Request,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Queue => "in request queue",
            TimeoutPhase::Connect => "while connecting",
            TimeoutPhase::Request => "during request",
        })
    }
}

/// Everything a fetch can fail with (Tornado's `HTTPClientError`, `HTTPTimeoutError` and
/// `HTTPStreamClosedError`, and the `ValueError`s of a bad request).
///
/// [`HTTPClientError::code`] gives Tornado's code: the status for [`Http`](Self::Http), 599 for
/// every failure that produced no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HTTPClientError {
    /// The server answered with a status outside 200–299 (and `raise_error` is on), or a redirect
    /// could not be followed (`follow_redirects` off counts as success only with
    /// `raise_error(false)`; past `max_redirects` the last 3xx is reported here).
    #[error("HTTP {code}: {reason}")]
    Http {
        /// The status code.
        code: u16,
        /// The reason phrase the server sent (or the standard one).
        reason: String,
        /// The response itself; `None` from [`HTTPResponse::error`], which is called on the
        /// response.
        response: Option<Box<HTTPResponse>>,
    },
    /// A deadline passed (Tornado's 599 `HTTPTimeoutError`).
    #[error("timeout {0}")]
    Timeout(TimeoutPhase),
    /// The URL could not be parsed, or has no host.
    #[error("invalid URL: {url}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
    },
    /// The scheme is neither `http` nor `https` (or `https` without the `tls` feature).
    #[error("unsupported URL scheme: {scheme}")]
    UnsupportedScheme {
        /// The scheme as given.
        scheme: String,
    },
    /// The request is inconsistent: a body where the method takes none (or none where it needs
    /// one), a nonstandard method without `allow_nonstandard_methods`, an invalid header.
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Resolving or connecting failed (refused, unreachable, unknown host, TLS handshake).
    #[error("could not connect")]
    Connect {
        /// The stream's error.
        #[source]
        source: StreamError,
    },
    /// The connection failed or closed while the request was sent or the response read, before
    /// the response was complete (Tornado's `HTTPStreamClosedError`).
    #[error("connection closed")]
    ConnectionClosed {
        /// The stream's error, if the connection failed rather than closed cleanly.
        #[source]
        source: Option<StreamError>,
    },
    /// The response breaks HTTP/1.1: a bad status line or header, invalid chunked framing,
    /// conflicting lengths.
    #[error("malformed response")]
    InvalidResponse {
        /// What the parser refused.
        #[source]
        source: HTTPInputError,
    },
    /// The connection closed before the body announced by `Content-Length` or chunked framing
    /// was complete (a lying `Content-Length`, a truncated chunked body).
    #[error("connection closed after {received} body bytes, before the end of the body")]
    IncompleteBody {
        /// Body bytes received.
        received: u64,
        /// The declared length (`None` for a chunked body).
        expected: Option<u64>,
    },
    /// The response head is larger than `max_header_size`.
    #[error("response header section larger than {limit} bytes")]
    HeaderTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The response body (as received, or once decompressed) is larger than `max_body_size`.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
    /// More informational (1xx) responses than the client skips before the real one, or a
    /// `101 Switching Protocols` the client did not ask for.
    #[error("unexpected informational response {code}")]
    UnexpectedInformational {
        /// The last 1xx code.
        code: u16,
    },
    /// A `Content-Encoding: gzip` body that does not inflate.
    #[error("could not decompress the response body")]
    Decompress {
        /// The inflater's error.
        #[source]
        source: std::io::Error,
    },
    /// The request body producer failed.
    #[error("request body producer failed")]
    BodyProducer {
        /// Its error.
        #[source]
        source: Box<dyn std::error::Error + 'static>,
    },
    /// TLS set-up failed: the CA file could not be read or holds no valid certificate.
    #[error("tls configuration error")]
    TlsConfig {
        /// The loader's error.
        #[source]
        source: StreamError,
    },
    /// The blocking [`HTTPClient`](crate::HTTPClient) was called while an `IOLoop` runs on this
    /// thread: it would block that loop (Tornado refuses the same way).
    #[error("the blocking HTTPClient cannot run inside a running IOLoop")]
    LoopRunning,
}

impl HTTPClientError {
    /// Tornado's `code`: the HTTP status for [`Http`](Self::Http), 599 otherwise (no response).
    pub fn code(&self) -> u16 {
        match self {
            HTTPClientError::Http { code, .. } => *code,
            _ => 599,
        }
    }

    /// The response of an [`Http`](Self::Http) error, if it carries one.
    pub fn response(&self) -> Option<&HTTPResponse> {
        match self {
            HTTPClientError::Http { response, .. } => response.as_deref(),
            _ => None,
        }
    }

    /// Whether this is a [`Timeout`](Self::Timeout).
    pub fn is_timeout(&self) -> bool {
        matches!(self, HTTPClientError::Timeout(_))
    }

    pub(crate) fn closed(source: StreamError) -> Self {
        match source {
            StreamError::Closed { source: None } => {
                HTTPClientError::ConnectionClosed { source: None }
            }
            other => HTTPClientError::ConnectionClosed {
                source: Some(other),
            },
        }
    }
}

/// `Result` with [`HTTPClientError`] as the default error.
pub type Result<T, E = HTTPClientError> = std::result::Result<T, E>;

/// Tornado's `HTTPResponse.error` and `rethrow`, here beside the error they build (the error
/// carries the response, so the response's module stays below this one).
impl HTTPResponse {
    /// [`HTTPClientError::Http`] (without its `response`) for a status outside 200–299, as
    /// Tornado's `error` attribute; `None` for a 2xx response.
    #[must_use]
    pub fn error(&self) -> Option<HTTPClientError> {
        (!self.is_success()).then(|| HTTPClientError::Http {
            code: self.code,
            reason: self.reason.clone(),
            response: None,
        })
    }

    /// Tornado's `rethrow`: the response back if its status is 2xx, else
    /// [`HTTPClientError::Http`] carrying the response.
    ///
    /// # Errors
    ///
    /// [`HTTPClientError::Http`] for a non-2xx response.
    pub fn rethrow(self) -> Result<Self> {
        if self.is_success() {
            return Ok(self);
        }
        Err(HTTPClientError::Http {
            code: self.code,
            reason: self.reason.clone(),
            response: Some(Box::new(self)),
        })
    }
}
