//! Helpers shared by the httpserver integration tests.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use typhoon_ioloop::{IOLoop, timeout};
use typhoon_iostream::{IOStream, TCPClient};

/// Every test is bounded by this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `future` on a fresh loop, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    IOLoop::new()
        .run_sync_timeout(TEST_TIMEOUT, future)
        .expect("test timed out")
}

pub async fn connect(addr: SocketAddr) -> IOStream {
    TCPClient::new()
        .connect("127.0.0.1", addr.port())
        .await
        .expect("connect")
}

/// Sends `bytes` on a new connection and returns everything the server sends until it closes
/// (bounded by 10 s).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let stream = connect(addr).await;
    stream.write(bytes).await.expect("write");
    timeout(Duration::from_secs(10), stream.read_until_close())
        .await
        .expect("server did not close the connection")
        .unwrap_or_default()
}

/// A parsed response: status, headers block, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Reads one response (Content-Length or chunked body; none for HEAD when `head` is set).
pub async fn read_response(stream: &IOStream, head_request: bool) -> Response {
    let head = stream
        .read_until(b"\r\n\r\n", Some(64 * 1024))
        .await
        .expect("response head");
    let head = String::from_utf8(head).expect("utf8 head");
    let status: u16 = head[9..12].parse().expect("status");
    let mut response = Response {
        status,
        head,
        body: Vec::new(),
    };
    if head_request || status == 204 || status == 304 || (100..200).contains(&status) {
        return response;
    }
    if let Some(length) = response.header("Content-Length") {
        let length: usize = length.parse().expect("length");
        response.body = stream.read_bytes(length, false).await.expect("body");
    } else if response
        .header("Transfer-Encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let line = stream
                .read_until(b"\r\n", Some(1024))
                .await
                .expect("chunk size");
            let size = usize::from_str_radix(
                std::str::from_utf8(&line[..line.len() - 2]).expect("utf8"),
                16,
            )
            .expect("hex");
            let mut chunk = stream.read_bytes(size + 2, false).await.expect("chunk");
            chunk.truncate(size);
            if size == 0 {
                break;
            }
            response.body.extend_from_slice(&chunk);
        }
    } else {
        response.body = stream
            .read_until_close()
            .await
            .expect("close-delimited body");
    }
    response
}

/// The status of the first response in `bytes`.
pub fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes.get(9..12)?).ok()?;
    text.parse().ok()
}

/// A buffer that collects formatted log lines.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a subscriber on this thread that records every event, and returns the log.
pub fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_target(true)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, buffer.contents())
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

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Every value of a header.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
            .collect()
    }

    /// `name=value` pairs of the `Set-Cookie` headers (the part before the first `;`).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers("Set-Cookie").into_iter().find_map(|c| {
            let first = c.split(';').next()?.to_owned();
            let (n, v) = first.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }
}
