//! Hosting a tower `Service` inside Typhoon (feature `tower`): Tornado's `FallbackHandler` and
//! `WSGIContainer` for the tower ecosystem, and conversions to and from the `http` crate's
//! types.
//!
//! - [`route_service`] mounts a service (an axum `Router`, a `tower-http` service, a
//!   `tower::service_fn`) on a route pattern; [`TowerHandler`] is the handler behind it, also
//!   usable as the application's `default_handler` (Tornado's `(r".*", FallbackHandler)`).
//! - The service's future is polled on Typhoon's loop, in the request's future: it need not be
//!   `Send`, and a service that never touches tokio (axum's `Router` without its `tokio`
//!   feature, which this crate's tests and the `tower_api` example use) needs nothing else.
//! - A service that calls tokio (`tokio::time`, `tokio::spawn`, `tokio::fs`, a tokio-based
//!   database driver; tower's `timeout`, `limit` and `buffer` layers; tower-http's
//!   `TimeoutLayer` and `ServeDir`) would panic on Typhoon's loop ("there is no reactor
//!   running"). Its tokio calls go through the bridge (feature `tokio`): inside the handler,
//!   await [`run_on_tokio`](crate::run_on_tokio)`(async { .. })` with the tokio code in the
//!   `async` block, so that its futures are made on the runtime too (`run_on_tokio(tokio::time::sleep(d))`
//!   makes the `Sleep` on Typhoon's loop, and panics). axum handlers' futures are `Send`, as the
//!   bridge needs. Create tokio resources (pools, clients) inside bridged futures as well. A
//!   panic is caught by the handler lifecycle and answered with a 500, and the server goes on.
//!   Layers that are tokio all the way down (tower's `timeout`, tower-http's `ServeDir`) cannot
//!   be bridged piecewise: use Typhoon's own request timeout and `StaticFileHandler` instead.
//! - [`headers_to_http`], [`headers_from_http`], [`request_to_http`], [`method_to_http`],
//!   [`status_to_http`], [`version_to_http`] and the [`ContextExt`] trait
//!   (`cx.set_status_code(StatusCode::CREATED)`, `cx.set_response_head(&parts)`) convert at the
//!   edges. They are free functions and an extension trait because of the orphan rule, and
//!   they live here so that typhoon-web need not depend on `http`.
//!
//! What is not here: upgrades (`hyper::upgrade`, axum's `WebSocketUpgrade`, which needs
//! `tokio::spawn` and hyper's connection; use Typhoon's WebSocket handler), HTTP/2 (tonic), and
//! response trailers (dropped).

mod body;
mod convert;
mod handler;

pub use body::RequestBody;
pub use convert::{
    ContextExt, headers_from_http, headers_to_http, method_to_http, request_to_http,
    status_to_http, version_to_http,
};
pub use handler::{TowerHandler, route_service};

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
    /// chunks): the error frame that ends the service's [`RequestBody`].
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
    /// out): the service's [`RequestBody`] ends with this rather than looking complete.
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
