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
//!   A service that is tokio through and through (tower's `timeout` layer, tower-http's
//!   `TimeoutLayer`, handlers full of tokio calls) goes in a [`TokioContext`] instead: its
//!   polls on Typhoon's loop enter the bridge's runtime context, so tokio calls work where they
//!   are, at a cross-thread wake per tokio event (features `tower` and `tokio`).
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
mod error;
mod handler;
#[cfg(feature = "tokio")]
mod tokio_context;

pub use body::RequestBody;
pub use convert::{
    ConnectionInfo, ContextExt, headers_from_http, headers_to_http, method_to_http,
    request_to_http, status_to_http, version_to_http,
};
pub use error::{BoxError, TowerError};
pub use handler::{TowerHandler, route_service};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio_context::{TokioContext, TokioContextBody, TokioContextFuture};
