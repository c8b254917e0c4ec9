//! Tornado's `tornado.platform` and `tornado.wsgi` for Typhoon: the Rust ecosystem's tokio-only
//! libraries (sqlx, tokio-postgres, reqwest, the async redis client, the AWS SDK) used from
//! Typhoon handlers, and tower services (an axum `Router`) hosted as routes.
//!
//! The crate sits beside typhoon-web, on top of the stack: the bridge (feature `tokio`) needs
//! only a running Typhoon loop, and the hosting (feature `tower`) is a typhoon-web
//! `RequestHandler`. Nothing below it depends on tokio or on the `http` crate.
//!
//! Typhoon's loop stays the runtime. A [`TokioBridge`] runs a tokio runtime on side threads,
//! and a handler awaits a bridged call like any other future: [`run_on_tokio`] on the
//! process's default bridge, or [`TokioBridge::spawn`] on one of your own (its worker count
//! chosen, or a runtime you already have). Dropping the awaiting future cancels the call, and a
//! panic comes back as [`BridgeError::Panicked`]. Results that come as a stream go through
//! [`TokioBridge::stream`], a bounded channel, so a slow handler pushes back on the producer.
//!
//! A call costs one wake each way between the two threads (`bench/platform.sh` measures it
//! against the same call on a tokio runtime, and the figures are in `bench/RESULTS.md`). Create
//! tokio resources, such as connection pools, inside bridged futures. A resource registers with
//! the runtime that is current when it is made, and only the bridge's runtime drives it.
//!
//! With the `tower` feature, the other direction: a tower `Service` (an axum `Router`, a
//! `tower-http` service) answers a route's requests on Typhoon's loop ([`tower::route_service`],
//! Tornado's `FallbackHandler` and `WSGIContainer`), with streamed bodies both ways, and the
//! `http` crate's types convert to and from Typhoon's at the edges (see the [`tower`] module).
//!
//! # Examples
//!
//! A Typhoon handler awaiting a tokio-only future (here, tokio's timer):
//!
//! ```
//! use std::time::Duration;
//! use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
//!
//! struct Slow;
//! impl RequestHandler for Slow {
//!     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
//!         let waited = typhoon_platform::run_on_tokio(async {
//!             tokio::time::sleep(Duration::from_millis(5)).await;
//!             "waited on tokio's timer"
//!         })
//!         .await
//!         .map_err(|error| HTTPError::with_source(500, error))?;
//!         cx.write(waited);
//!         Ok(())
//!     }
//! }
//!
//! typhoon_testing::run_test(async {
//!     let server =
//!         typhoon_testing::AsyncHTTPTestServer::new(Application::new(vec![route("/", || Slow)]));
//!     let response = server.fetch("/").await?;
//!     assert_eq!(response.body, b"waited on tokio's timer");
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! An axum router under `/api` beside a Typhoon handler, over one keep-alive connection
//! (feature `tower`); the axum handler's tokio timer goes through the bridge:
//!
//! ```
//! # #[cfg(all(feature = "tower", feature = "tokio"))] {
//! use std::time::Duration;
//! use axum::routing::get;
//! use typhoon_platform::tower::route_service;
//! use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
//!
//! struct Home;
//! impl RequestHandler for Home {
//!     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
//!         cx.write("from Typhoon");
//!         Ok(())
//!     }
//! }
//!
//! async fn slow() -> String {
//!     // tokio's timer would panic on Typhoon's loop: it is made and awaited on the bridge,
//!     // inside an `async` block (`run_on_tokio(tokio::time::sleep(..))` would make it here).
//!     let nap = async { tokio::time::sleep(Duration::from_millis(2)).await };
//!     match typhoon_platform::run_on_tokio(nap).await {
//!         Ok(()) => "from axum, after a tokio sleep".to_owned(),
//!         Err(error) => format!("bridge failed: {error}"),
//!     }
//! }
//!
//! let api = axum::Router::new().route("/api/slow", get(slow));
//! let app = Application::new(vec![route("/", || Home), route_service("/api/.*", api)]);
//! typhoon_testing::run_test(async {
//!     let server = typhoon_testing::AsyncHTTPTestServer::new(app);
//!     assert_eq!(server.fetch("/").await?.body, b"from Typhoon");
//!     assert_eq!(server.fetch("/api/slow").await?.body, b"from axum, after a tokio sleep");
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Default | Description |
//! | --- | --- | --- |
//! | `tokio` | yes | The tokio bridge: [`TokioBridge`], [`run_on_tokio`], [`TokioStream`]; tokio with the `rt-multi-thread`, `sync`, `net` and `time` features, inside the bridge only |
//! | `tower` | no | [`tower::TowerHandler`] and [`tower::route_service`] (a tower `Service` as a route), the `http` conversions; `http`, `http-body`, `tower-service`, `bytes` and typhoon-web, no tokio; with `tokio` also [`tower::TokioContext`] |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "tokio")]
mod tokio_bridge;

#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

#[cfg(feature = "tokio")]
pub use tokio_bridge::{
    BridgeError, StreamClosed, TokioBridge, TokioSender, TokioStream, TokioTask, run_on_tokio,
};
