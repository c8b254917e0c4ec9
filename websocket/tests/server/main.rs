//! The server side over real loopback sockets, with Tornado's names from `websocket_test.py`
//! where Tornado has the test: the handshake's answers (`handshake.rs`), the session
//! (`session.rs`) and broadcasting (`broadcast.rs`). The peer is a small raw client on the
//! protocol core, so that each test also controls the bytes on the wire (an unmasked frame, a
//! ping in the middle of a message).

mod broadcast;
mod handshake;
mod session;

use std::net::SocketAddr;

use typhoon_httpserver::HTTPServer;
use typhoon_iostream::IOStream;
use typhoon_testing::connect;
use typhoon_web::Application;
use typhoon_websocket::{CloseFrame, DEFAULT_MAX_MESSAGE_SIZE, Decoder, Encoder, Event, Role};

/// Serves `app` on a free loopback port.
fn serve(app: Application) -> (HTTPServer, SocketAddr) {
    let server = app.into_server();
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr)
}

/// The handshake request for `path`, with `extra` header lines (each ending in CRLF).
fn handshake_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// A test client speaking the protocol core over a raw stream.
struct RawClient {
    /// The connection.
    stream: IOStream,
    /// Frames out, masked.
    encoder: Encoder,
    /// Frames in.
    decoder: Decoder,
    /// The response head of the handshake.
    head: String,
}

impl RawClient {
    /// Sends `request` and reads the response head; `None` if the server did not switch.
    async fn open(addr: SocketAddr, request: &str) -> Result<Self, String> {
        let stream = connect(addr).await;
        stream.write(request.as_bytes()).await.expect("write");
        let head = stream
            .read_until(b"\r\n\r\n", Some(64 * 1024))
            .await
            .expect("response head");
        let head = String::from_utf8(head).expect("ASCII head");
        if !head.starts_with("HTTP/1.1 101 ") {
            return Err(head);
        }
        Ok(Self {
            stream,
            encoder: Encoder::new(Role::Client),
            decoder: Decoder::new(Role::Client, DEFAULT_MAX_MESSAGE_SIZE),
            head,
        })
    }

    /// A handshake on `path` that must succeed.
    async fn connect(addr: SocketAddr, path: &str) -> Self {
        match Self::open(addr, &handshake_request(path, "")).await {
            Ok(client) => client,
            Err(head) => panic!("no 101: {head}"),
        }
    }

    /// Sends raw bytes.
    async fn send_raw(&self, bytes: &[u8]) {
        self.stream.write(bytes).await.expect("write");
    }

    /// Sends a text message.
    async fn send_text(&mut self, text: &str) {
        let mut out = Vec::new();
        self.encoder.encode_text(&mut out, text);
        self.send_raw(&out).await;
    }

    /// Sends a ping.
    async fn send_ping(&mut self, data: &[u8]) {
        let mut out = Vec::new();
        self.encoder.encode_ping(&mut out, data).expect("ping");
        self.send_raw(&out).await;
    }

    /// Sends a close frame.
    async fn send_close(&mut self, close: Option<(u16, &str)>) {
        let mut out = Vec::new();
        self.encoder.encode_close(&mut out, close).expect("close");
        self.send_raw(&out).await;
    }

    /// The next event, or `None` when the server closed the TCP connection.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let decoded = {
                let buffer = self.stream.read_buffer();
                self.decoder
                    .decode(&buffer)
                    .expect("valid frames from the server")
            };
            self.stream.consume(decoded.0);
            if let Some(event) = decoded.1 {
                return Some(event);
            }
            if decoded.0 == 0 && !matches!(self.stream.fill_buffer().await, Ok(n) if n > 0) {
                return None;
            }
        }
    }

    /// The next message's text, skipping pings and pongs.
    async fn text(&mut self) -> String {
        loop {
            match self.next().await {
                Some(Event::Message(typhoon_websocket::Message::Text(text))) => return text,
                Some(Event::Ping(_) | Event::Pong(_)) => {}
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// The server's close frame (skipping other events), then the end of the connection.
    async fn close_frame(&mut self) -> Option<CloseFrame> {
        loop {
            match self.next().await {
                Some(Event::Close(close)) => {
                    assert_eq!(
                        self.next().await,
                        None,
                        "the server closes TCP after its close"
                    );
                    return close;
                }
                Some(_) => {}
                None => panic!("the connection ended without a close frame"),
            }
        }
    }
}
