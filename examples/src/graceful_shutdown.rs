//! Graceful shutdown of a web application: on a stop trigger (SIGTERM or SIGINT in the
//! example) the server stops accepting, closes idle keep-alive connections, lets requests in
//! flight finish within a grace period, then the program exits.
//!
//! The trigger is any future ([`serve_until`]), so the example's `main` passes "a signal
//! arrived" and the tests pass an event they set themselves: both drive the same code.

use std::future::Future;
use std::time::Duration;

use typhoon_httpserver::HTTPServer;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// How long requests in flight may take to finish once shutdown begins, by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// How long `/slow` takes by default.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(5);

/// `GET /`: `Hello, world`.
#[derive(Debug)]
pub struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world\n");
        Ok(())
    }
}

/// `GET /slow`: sends `started`, waits, then sends `finished`: a request that is in flight
/// when shutdown begins. The first line is flushed at once, so a client knows the request is
/// being served (and `curl -N` shows it).
#[derive(Debug)]
pub struct SlowHandler {
    /// How long to take.
    pub delay: Duration,
}

impl RequestHandler for SlowHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.set_header("Content-Type", "text/plain; charset=UTF-8")?;
        cx.write("started\n");
        cx.flush().await?;
        typhoon_ioloop::sleep(self.delay).await;
        cx.write(format!("finished after {:?}\n", self.delay));
        Ok(())
    }
}

/// The `graceful_shutdown` example's application; `/slow` takes `slow`.
pub fn make_app(slow: Duration) -> Application {
    Application::new(vec![
        route("/", || MainHandler),
        route("/slow", move || SlowHandler { delay: slow }),
    ])
}

/// Serves with `server` (already listening) until `stop` completes, then shuts it down
/// gracefully: no new connections, idle ones closed at once, requests in flight given up to
/// `grace` to finish (their connections close after the response). Returns how many
/// connections were still open when the grace period ended and had to be cut.
///
/// The server stops accepting in the same step as `stop` completes, before anything else
/// runs on the loop.
///
/// # Cancel safety
///
/// Dropping it before `stop` completes leaves the server serving; after, the server stays in
/// draining mode (see [`HTTPServer::shutdown`]).
pub async fn serve_until(
    server: &HTTPServer,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> usize {
    stop.await;
    tracing::info!(target: "typhoon::general", connections = server.connection_count(), ?grace, "shutting down");
    server.shutdown(grace).await
}
