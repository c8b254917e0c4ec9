//! `prepare` changing a request's body limit (Tornado's
//! `self.request.connection.set_max_body_size` under `@stream_request_body`).

use typhoon_httpserver::HTTPServerOptions;
use typhoon_web::{Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{self, fetch, run, serve};

/// A streaming handler whose `prepare` sets the limit to `limit` (if any); answers the
/// number of bytes it received.
struct Stream {
    limit: Option<u64>,
    bytes: usize,
}
impl RequestHandler for Stream {
    const STREAM_REQUEST_BODY: bool = true;
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if let Some(limit) = self.limit {
            cx.set_max_body_size(limit);
        }
        Ok(())
    }
    async fn data_received(&mut self, _cx: &mut Context, chunk: Vec<u8>) -> Result<(), HTTPError> {
        self.bytes += chunk.len();
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write(format!("{} bytes", self.bytes));
        Ok(())
    }
}

/// A buffered handler whose `prepare` raises the limit too late: its body was read first.
struct Buffered;
impl RequestHandler for Buffered {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.set_max_body_size(1000);
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write(format!("{} bytes", cx.request().body.len()));
        Ok(())
    }
}

/// An application limiting bodies to 10 bytes, the server's own limit included.
fn small_app() -> typhoon_web::Application {
    let mut server = HTTPServerOptions::default();
    server.limits.max_body_size = 10;
    app_with(
        vec![
            route("/raise", || Stream {
                limit: Some(100),
                bytes: 0,
            }),
            route("/lower", || Stream {
                limit: Some(4),
                bytes: 0,
            }),
            route("/default", || Stream {
                limit: None,
                bytes: 0,
            }),
            route("/buffered", || Buffered),
        ],
        Settings {
            max_body_size: 10,
            server,
            ..Settings::default()
        },
    )
}

/// Sends a chunked POST of `body` to `path` (one chunk) and returns the response.
async fn post_chunked(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> util::Response {
    let stream = util::connect(addr).await;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    stream.write(&request).await.expect("write");
    util::read_response(&stream, false).await
}

#[test]
fn prepare_raises_the_limit_of_a_streamed_body() {
    run(async {
        let (_server, addr) = serve(small_app());
        let body = [b'x'; 50];
        let r = fetch(addr, "POST", "/raise", &[], &body).await;
        assert_eq!((r.status, r.text().as_str()), (200, "50 bytes"));
        let r = post_chunked(addr, "/raise", &body).await;
        assert_eq!((r.status, r.text().as_str()), (200, "50 bytes"));
        // Without the raise, the application's 10 bytes hold.
        assert_eq!(
            fetch(addr, "POST", "/default", &[], &body).await.status,
            413
        );
        assert_eq!(post_chunked(addr, "/default", &body).await.status, 413);
        // And past the raised limit, 413 again.
        let big = [b'x'; 150];
        assert_eq!(fetch(addr, "POST", "/raise", &[], &big).await.status, 413);
        assert_eq!(post_chunked(addr, "/raise", &big).await.status, 413);
    });
}

#[test]
fn prepare_lowers_the_limit_of_a_streamed_body() {
    run(async {
        let (_server, addr) = serve(small_app());
        let body = b"12345678";
        assert_eq!(fetch(addr, "POST", "/default", &[], body).await.status, 200);
        assert_eq!(fetch(addr, "POST", "/lower", &[], body).await.status, 413);
        assert_eq!(post_chunked(addr, "/lower", body).await.status, 413);
        let r = fetch(addr, "POST", "/lower", &[], b"1234").await;
        assert_eq!((r.status, r.text().as_str()), (200, "4 bytes"));
    });
}

#[test]
fn set_max_body_size_does_not_apply_to_buffered_bodies() {
    // Tornado's rule: only a streamed body is read after `prepare`.
    run(async {
        let (_server, addr) = serve(small_app());
        let r = fetch(addr, "POST", "/buffered", &[], b"0123456789").await;
        assert_eq!((r.status, r.text().as_str()), (200, "10 bytes"));
        let r = fetch(addr, "POST", "/buffered", &[], &[b'x'; 50]).await;
        assert_eq!(r.status, 413);
    });
}
