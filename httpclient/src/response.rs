//! [`HTTPResponse`]: what a fetch returns.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use typhoon_httputil::HTTPHeaders;

use crate::error::{HTTPClientError, Result};

/// A complete response (Tornado's `HTTPResponse`).
///
/// With [`raise_error(false)`](crate::HTTPRequest::raise_error), non-2xx responses come back as
/// values with [`error`](Self::error) set; [`rethrow`](Self::rethrow) turns them back into
/// errors.
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
    /// [`HTTPClientError::Http`] (without its `response`) for a status outside 200–299.
    pub error: Option<HTTPClientError>,
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

    /// Tornado's `rethrow`: the response back if it has no error, else the error (carrying the
    /// response).
    ///
    /// # Errors
    ///
    /// [`HTTPClientError::Http`] for a non-2xx response.
    pub fn rethrow(mut self) -> Result<Self> {
        match self.error.take() {
            None => Ok(self),
            Some(HTTPClientError::Http { code, reason, .. }) => {
                let reason_copy = reason.clone();
                self.error = Some(HTTPClientError::Http {
                    code,
                    reason,
                    response: None,
                });
                Err(HTTPClientError::Http {
                    code,
                    reason: reason_copy,
                    response: Some(Box::new(self)),
                })
            }
            Some(other) => Err(other),
        }
    }
}
