//! [`HTTPResponse`]: what a fetch returns.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use typhoon_httputil::HTTPHeaders;

/// A complete response (Tornado's `HTTPResponse`).
///
/// With [`raise_error(false)`](crate::HTTPRequest::raise_error), non-2xx responses come back as
/// values: [`error`](Self::error) says what [`rethrow`](Self::rethrow) would raise (both are
/// defined beside [`HTTPClientError`](crate::HTTPClientError), which carries the response).
#[derive(Debug)]
#[non_exhaustive]
pub struct HTTPResponse {
    /// The status code.
    pub code: u16,
    /// The reason phrase as the server sent it.
    pub reason: String,
    /// The response headers, in order, duplicates kept.
    pub headers: HTTPHeaders,
    /// The body (inflated if it was gzip and `decompress_response` is on); empty when a
    /// `streaming_callback` took it.
    pub body: Vec<u8>,
    /// The URL the request was first made to.
    pub request_url: String,
    /// The URL that gave this response, after redirects (without credentials).
    pub effective_url: String,
    /// When the fetch started.
    pub start_time: Instant,
    /// From the start of the fetch to the end of the body, redirects and queueing included.
    pub request_time: Duration,
}

impl HTTPResponse {
    /// The body as text (UTF-8, invalid sequences replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}
