//! Raw HTTP/1 over loopback: send exact bytes, read exact responses (Tornado's
//! `HTTPServerRawTest`).

use std::net::SocketAddr;
use std::time::Duration;

use typhoon_ioloop::timeout;
use typhoon_iostream::{IOStream, TCPClient};

/// Connects to `addr` (loopback).
///
/// # Panics
///
/// If the connection fails.
pub async fn connect(addr: SocketAddr) -> IOStream {
    TCPClient::new()
        .connect(&addr.ip().to_string(), addr.port())
        .await
        .expect("connect")
}

/// Sends `bytes` on a new connection and returns everything the server sends until it closes.
///
/// # Panics
///
/// If the server keeps the connection open for 10 s.
pub async fn raw_request(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let stream = connect(addr).await;
    stream.write(bytes).await.expect("write");
    timeout(Duration::from_secs(10), stream.read_until_close())
        .await
        .expect("server did not close the connection")
        .unwrap_or_default()
}

/// Sends `bytes` on a new connection, ends the client's side of it (`shutdown(SHUT_WR)`), and
/// returns everything the server sends until it closes: what a server answers to input that
/// stops, an incomplete head included.
///
/// # Panics
///
/// If the connection fails, or the server keeps it open for 10 s.
pub async fn raw_request_and_end(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let stream = connect(addr).await;
    stream.write(bytes).await.expect("write");
    stream.shutdown_write().expect("shutdown");
    timeout(Duration::from_secs(10), stream.read_until_close())
        .await
        .expect("server did not close the connection")
        .unwrap_or_default()
}

/// A response read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header's value (first match, case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value a `Set-Cookie` header gives cookie `name` (the part before the first `;`).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers("Set-Cookie").into_iter().find_map(|c| {
            let first = c.split(';').next()?.to_owned();
            let (n, v) = first.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }

    /// Every value of a header, in order.
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
}

/// Reads one response: `Content-Length`, chunked or close-delimited body; none for a HEAD
/// request (`head_request`), 1xx, 204 and 304.
///
/// # Panics
///
/// On a malformed response (this is for tests).
pub async fn read_response(stream: &IOStream, head_request: bool) -> RawResponse {
    let head = stream
        .read_until(b"\r\n\r\n", Some(64 * 1024))
        .await
        .expect("response head");
    let head = String::from_utf8(head).expect("utf8 head");
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut response = RawResponse {
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
            let digits = std::str::from_utf8(&line[..line.len() - 2]).expect("utf8");
            let size = usize::from_str_radix(digits, 16).expect("hex");
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
