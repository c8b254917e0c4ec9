//! Shared helpers of the tower tests: a native handler, the axum router they host, and raw
//! HTTP over one connection.

#![allow(dead_code)] // each test binary uses some of them

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use axum::routing::{get, post};
use bytes::Bytes;
use typhoon_iostream::IOStream;
use typhoon_platform::tower::ConnectionInfo;
use typhoon_testing::{AsyncHTTPTestServer, read_response};
use typhoon_web::{Context, HTTPError, RequestHandler};

/// A native Typhoon handler.
pub(crate) struct Home;
impl RequestHandler for Home {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("native");
        Ok(())
    }
}

/// The axum side: a greeting, an echo that streams the request body back as it reads it, a
/// buffered byte count, the URI and client address the service saw, and a tokio timer through
/// the bridge.
pub(crate) fn axum_api() -> axum::Router {
    axum::Router::new()
        .route("/api/hello", get(|| async { "axum" }))
        .route(
            "/api/echo",
            post(|body: axum::body::Body| async move { body }),
        )
        .route(
            "/api/count",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/api/whoami",
            get(
                |uri: axum::http::Uri, axum::Extension(info): axum::Extension<ConnectionInfo>| async move {
                    format!("{uri} {} {}", info.remote_ip, info.protocol)
                },
            ),
        )
        .route(
            "/api/tokio",
            get(|| async {
                match typhoon_platform::run_on_tokio(async {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    "slept on tokio"
                })
                .await
                {
                    Ok(text) => text.to_owned(),
                    Err(error) => format!("bridge failed: {error}"),
                }
            }),
        )
        .route(
            "/api/tokio-unbridged",
            get(|| async {
                // No runtime on Typhoon's loop: this panics, and the handler answers 500.
                tokio::time::sleep(Duration::from_millis(1)).await;
                "unreachable"
            }),
        )
}

pub(crate) fn addr_of(server: &AsyncHTTPTestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port()))
}

/// Sends `request` on `stream` and reads one response.
pub(crate) async fn exchange(stream: &IOStream, request: &str) -> typhoon_testing::RawResponse {
    stream.write(request.as_bytes()).await.expect("write");
    read_response(stream, request.starts_with("HEAD ")).await
}

/// Writes `body` on `stream` from a task of its own (the server echoes as it reads, so the
/// test reads while it writes).
pub(crate) fn write_in_background(stream: &Rc<IOStream>, head: String, body: Vec<u8>) {
    let stream = Rc::clone(stream);
    typhoon_ioloop::spawn(async move {
        stream.write(head.as_bytes()).await.expect("head");
        for piece in body.chunks(100_000) {
            stream.write(piece).await.expect("body");
        }
    })
    .detach();
}

/// Lets the loop turn `n` times (its I/O polled in each), for a test that checks that
/// something did *not* run away: no sleeping, a bounded count of loop iterations.
pub(crate) async fn turn_loop(n: usize) {
    for _ in 0..n {
        typhoon_ioloop::yield_now().await;
    }
}
