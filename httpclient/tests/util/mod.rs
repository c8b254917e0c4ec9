//! Helpers shared by the httpclient integration tests.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerRequest, ResponseWriter};

/// Starts a Typhoon `HTTPServer` on 127.0.0.1:0 on the current loop; returns it and its base
/// URL (`http://127.0.0.1:PORT`).
pub fn serve<F, Fut>(handler: F) -> (HTTPServer, String)
where
    F: Fn(HTTPServerRequest, ResponseWriter) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let server = HTTPServer::new(handler);
    let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
    (server, format!("http://127.0.0.1:{port}"))
}

/// A raw TCP server on a thread: for each connection, reads the request head (up to the empty
/// line, bounded by 5 s), then runs `reply` on the socket. Returns the base URL.
pub fn raw_server(reply: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let reply = Arc::new(reply);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let reply = Arc::clone(&reply);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                read_head(&mut stream);
                reply(&mut stream);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Reads one request head off `stream` (byte by byte: test traffic is tiny).
pub fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// Writes `bytes` and closes the connection.
pub fn reply_and_close(bytes: &'static [u8]) -> impl Fn(&mut TcpStream) + Send + Sync + 'static {
    move |stream| {
        let _ = stream.write_all(bytes);
    }
}

/// Holds the connection open, answering nothing, until the client closes it (bounded by 20 s).
pub fn never_answer(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
}

/// gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}
