//! [`TowerError`], what goes wrong hosting a service or converting a type, and [`BoxError`].

/// A boxed error from a service or a body, as tower and hyper carry them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong hosting a service or converting a type (feature `tower`).
///
/// The conversion variants carry the `http` crate's own errors (a foreign type in our API:
/// acceptable while Typhoon is unpublished, as STYLE.md says).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TowerError {
    /// The hosted service returned an error (answered with a 500).
    #[error("the tower service failed")]
    Service {
        /// The service's error.
        #[source]
        source: BoxError,
    },
    /// The service's response body failed part-way (a 500 if nothing was sent yet, else the
    /// connection closes).
    #[error("the response body failed")]
    ResponseBody {
        /// The body's error.
        #[source]
        source: BoxError,
    },
    /// Reading the request body from the client failed (cut short, timed out, malformed
    /// chunks): the error frame that ends the service's [`RequestBody`](super::RequestBody).
    #[error("reading the request body failed")]
    RequestBody {
        /// The server's error.
        #[source]
        source: typhoon_httputil::HTTPInputError,
    },
    /// The request body went past the request's body limit (the client gets a 413).
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit (`Context::max_body_size`).
        limit: u64,
    },
    /// The request ended before its body did (the client went away, or the request timed
    /// out): the service's [`RequestBody`](super::RequestBody) ends with this rather than looking complete.
    #[error("the request was abandoned before its body ended")]
    Abandoned,
    /// A method `http` refuses.
    #[error("invalid method")]
    InvalidMethod {
        /// `http`'s error.
        #[source]
        source: http::method::InvalidMethod,
    },
    /// A request target `http` refuses.
    #[error("invalid URI")]
    InvalidUri {
        /// `http`'s error.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// A status outside 100..=999.
    #[error("invalid status code")]
    InvalidStatus {
        /// `http`'s error.
        #[source]
        source: http::status::InvalidStatusCode,
    },
    /// A header name `http` refuses.
    #[error("invalid header name")]
    InvalidHeaderName {
        /// `http`'s error.
        #[source]
        source: http::header::InvalidHeaderName,
    },
    /// A header value `http` refuses.
    #[error("invalid value for header {name:?}")]
    InvalidHeaderValue {
        /// The header's name.
        name: String,
        /// `http`'s error.
        #[source]
        source: http::header::InvalidHeaderValue,
    },
    /// A header line [`HTTPHeaders`](typhoon_httputil::HTTPHeaders) refuses.
    #[error("invalid header")]
    Header {
        /// Typhoon's error.
        #[source]
        source: typhoon_httputil::HTTPInputError,
    },
}
