//! Helpers shared by the web integration tests: the raw-HTTP helpers of `typhoon-testing`, and
//! serving an `Application` on a free port.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use typhoon_ioloop::timeout;
pub use typhoon_testing::{
    RawResponse as Response, capture_logs, connect, raw_request as raw, read_response, status_of,
};

/// Every test is bounded by this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `future` on a fresh loop, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    typhoon_testing::run_test_with_timeout(TEST_TIMEOUT, future)
}

/// Serves `app` on 127.0.0.1:0 on the current loop.
pub fn serve(app: typhoon_web::Application) -> (typhoon_httpserver::HTTPServer, SocketAddr) {
    let server = app.into_server();
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr)
}

/// Sends one request on a new connection and reads the response.
pub async fn fetch(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let stream = connect(addr).await;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write(&bytes).await.expect("write");
    timeout(
        Duration::from_secs(10),
        read_response(&stream, method == "HEAD"),
    )
    .await
    .expect("response in time")
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> Response {
    fetch(addr, "GET", path, &[], b"").await
}
