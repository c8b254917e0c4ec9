//! Test support for Typhoon (the start of Tornado's `tornado.testing`): async tests bounded by a
//! timeout, log capture on Typhoon's `tracing` targets, and raw HTTP/1 over loopback.
//!
//! It sits on `typhoon-ioloop` and `typhoon-iostream` only, so every crate above them (the
//! HTTP server, the client, the web framework) uses it from its integration tests without a
//! dependency cycle in the libraries themselves. With the `web` feature it adds Tornado's
//! `AsyncHTTPTestCase`: [`AsyncHTTPTestServer`] serves an `Application` on a free loopback port
//! (over HTTP or HTTPS) and fetches from it through `typhoon-httpclient`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use typhoon_iostream::TCPServer;
//! use typhoon_testing::{capture_logs, raw_request, run_test_with_timeout};
//!
//! let (reply, log) = capture_logs(|| {
//!     run_test_with_timeout(Duration::from_secs(10), async {
//!         let server = TCPServer::new(|stream, _peer| async move {
//!             tracing::info!(target: "typhoon::general", "answering");
//!             let _ = stream.read_until(b"\r\n\r\n", Some(1024)).await;
//!             let _ = stream.write(b"HTTP/1.1 204 No Content\r\n\r\n").await;
//!         });
//!         let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
//!         raw_request(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await
//!     })
//! });
//! assert!(reply.starts_with(b"HTTP/1.1 204"));
//! assert!(log.contains("answering"));
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `tls` | [`tls`]: the embedded test CA and `localhost` certificate, with rustls configurations for them | No |
//! | `web` | `AsyncHTTPTestServer` and `bind_unused_port` (pulls in typhoon-web and typhoon-httpclient, and enables `tls`) | No |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod http;
mod logs;
mod process;
#[cfg(feature = "web")]
#[cfg_attr(docsrs, doc(cfg(feature = "web")))]
mod server;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

use std::future::Future;
use std::time::Duration;

use typhoon_ioloop::IOLoop;

pub use http::{RawResponse, connect, raw_request, raw_request_and_end, read_response, status_of};
pub use logs::{LogBuffer, capture_logs, expect_log, expect_no_log};
pub use process::{open_fds, rss_kib};
#[cfg(feature = "web")]
pub use server::{AsyncHTTPTestServer, bind_unused_port};

/// How long an async test may run when `ASYNC_TEST_TIMEOUT` is unset: 30 s.
///
/// Tornado's default is 5 s; ours is longer because the suites run debug builds on shared
/// two-core machines (CI, several agents at once), where a loaded machine can stall a loopback
/// test for seconds without anything being wrong. A test that needs the bound itself (a guard
/// timer that stops a loop) uses [`async_test_timeout`], which honours the environment.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The bound of [`run_test`]: `ASYNC_TEST_TIMEOUT` seconds from the environment (as Tornado),
/// else [`DEFAULT_TIMEOUT`].
pub fn async_test_timeout() -> Duration {
    std::env::var("ASYNC_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, |s| {
            Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)
        })
}

/// Runs `future` on a fresh loop, bounded by [`async_test_timeout`].
///
/// # Panics
///
/// If the future takes longer (the message names the timeout), or if it panics.
pub fn run_test<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    run_test_with_timeout(async_test_timeout(), future)
}

/// Runs `future` on a fresh loop, bounded by `timeout`.
///
/// # Panics
///
/// If the future takes longer than `timeout` (the message says so), or if it panics.
pub fn run_test_with_timeout<F>(timeout: Duration, future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    match IOLoop::new().run_sync_timeout(timeout, future) {
        Ok(output) => output,
        Err(error) => panic!("async test did not finish within {timeout:?}: {error}"),
    }
}

/// Compile-time check that `T` is `Send` (mio's `tests/util` idiom).
pub fn assert_send<T: Send>() {}

/// Compile-time check that `T` is `Sync`.
pub fn assert_sync<T: Sync>() {}
