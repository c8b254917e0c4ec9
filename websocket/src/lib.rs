//! Typhoon's WebSockets: Tornado's `WebSocketHandler` (feature `server`) and `websocket_connect`
//! (feature `client`), on a sans-IO protocol core (RFC 6455 framing and RFC 7692
//! permessage-deflate, bytes in and events out).
//!
//! The core of this crate is the bottom of Typhoon's WebSocket stack, the counterpart of the
//! frame engine in Tornado's `tornado/websocket.py` (`WebSocketProtocol13`) without its I/O: it
//! depends on no other Typhoon crate, does no I/O and knows no event loop. A [`Decoder`] takes
//! the bytes a connection received and returns [`Event`]s; an [`Encoder`] turns messages and
//! control frames into bytes to send. Above it, behind features, sit the two ends, which share
//! one I/O engine (`WebSocketConnection`, on `typhoon-iostream` and `typhoon-ioloop`): the
//! server's `WebSocketHandler` (feature `server`, on `typhoon-httpserver` and `typhoon-web`)
//! and the client's `websocket_connect` (feature `client`, on `typhoon-iostream`'s
//! `TCPClient`). They handle the opening handshake with [`handshake`] and [`deflate`]'s
//! negotiation, and decide what to answer (a pong to a ping, a close to a close, a close with
//! [`ProtocolError::close_code`] on an error).
//!
//! What the decoder enforces beyond Tornado (RFC 6455 §5–7, RFC 7692 §6): masking by role,
//! RSV bits, the size limit before reading a payload and after inflation, UTF-8 validated as it
//! arrives (fail fast), close codes and reasons, and control frames between the fragments of a
//! compressed message.
//!
//! # Examples
//!
//! A client's text message and ping, decoded by a server from bytes that arrive in pieces:
//!
//! ```
//! use typhoon_websocket::{DEFAULT_MAX_MESSAGE_SIZE, Decoder, Encoder, Event, Message, Role};
//!
//! let mut client = Encoder::new(Role::Client);
//! let mut server = Decoder::new(Role::Server, DEFAULT_MAX_MESSAGE_SIZE);
//!
//! let mut wire = Vec::new();
//! client.encode_text(&mut wire, "hello");
//! client.encode_ping(&mut wire, b"are you there").unwrap();
//!
//! // What the I/O layer reads, 3 bytes at a time: decode until nothing more is consumed, drop
//! // what was consumed, keep the rest for the next read.
//! let mut events = Vec::new();
//! let mut pending = Vec::new();
//! for read in wire.chunks(3) {
//!     pending.extend_from_slice(read);
//!     loop {
//!         let (used, event) = server.decode(&pending)?;
//!         pending.drain(..used);
//!         match event {
//!             Some(event) => events.push(event),
//!             None if used == 0 => break,
//!             None => {}
//!         }
//!     }
//! }
//! assert_eq!(
//!     events,
//!     [
//!         Event::Message(Message::Text("hello".into())),
//!         Event::Ping(b"are you there".to_vec()),
//!     ]
//! );
//! # Ok::<(), typhoon_websocket::ProtocolError>(())
//! ```
//!
//! The client (feature `client`) talking to an echo server (feature `server`), both on one
//! loop over 127.0.0.1, as Tornado's `websocket_connect`:
//!
//! ```
//! # #[cfg(all(feature = "client", feature = "server"))] {
//! use typhoon_web::{Application, HTTPError};
//! use typhoon_websocket::{Message, WebSocket, WebSocketHandler, websocket_connect, websocket_route};
//!
//! struct Echo;
//!
//! impl WebSocketHandler for Echo {
//!     async fn on_message(&mut self, ws: &mut WebSocket<'_>, message: Message) -> Result<(), HTTPError> {
//!         let _ = ws.write_message(message).await;
//!         Ok(())
//!     }
//! }
//!
//! typhoon_testing::run_test(async {
//!     let server = typhoon_testing::AsyncHTTPTestServer::new(Application::new(vec![
//!         websocket_route("/echo", || Echo),
//!     ]));
//!     let client = websocket_connect(format!("ws://127.0.0.1:{}/echo", server.port())).await?;
//!     client.write_message("hello").await?;
//!     assert_eq!(client.read_message().await, Some(Message::Text("hello".into())));
//!     client.close(Some(1000), Some("bye"))?;
//!     assert_eq!(client.read_message().await, None); // the server echoed the close
//!     assert_eq!(client.close_code(), Some(1000));
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With permessage-deflate, the handshake's negotiation gives each side a
//! [`Deflater`](deflate::Deflater) for its encoder and an [`Inflater`](deflate::Inflater) for its
//! decoder: see the [`deflate`] module.
//!
//! Beyond Tornado, on the server:
//! - **Broadcast:** a `PreparedMessage` is framed once, and compressed once per deflate setting
//!   for the connections without context takeover (the default). `send_prepared` sends it to
//!   many connections from one task with no task or wait per connection (a full socket gets
//!   the rest in the background). A chat's fan-out then costs what the kernel's sends cost.
//! - **Idle memory:** after the handshake the session runs as a task of its own
//!   (`typhoon_web::RequestHandler::into_detached`), and a waiting connection gives its buffers
//!   to the thread's pools, so an idle connection holds only its handler, its request context
//!   and the connection's state (about 4 KiB: `bench/RESULTS.md`).
//! - **Graceful shutdown:** `HTTPServer::shutdown` sends every open WebSocket a close 1001
//!   ("going away"), and waits for the peers' answers within its grace.
//!
//! # Feature flags
//!
//! | Name | Default | Description |
//! | --- | --- | --- |
//! | `deflate` | yes | permessage-deflate (RFC 7692): the [`deflate`] module, [`Decoder::set_inflater`] and [`Encoder::set_deflater`], with flate2's pure-Rust zlib (`zlib-rs`), which supports windows of 9..=15 bits |
//! | `server` | yes | The server side on `typhoon-web`: `WebSocketHandler`, `websocket_route`, and the shared `WebSocketConnection` |
//! | `client` | yes | The client: `websocket_connect`, `websocket_connect_with`, `WebSocketClientConnection` (on `typhoon-iostream`'s `TCPClient`; a request may be a `typhoon_httpclient::HTTPRequest`), and the shared `WebSocketConnection` |
//! | `tls` | no | `wss://` URLs for the client: TLS through `typhoon-iostream` (rustls), configured as `typhoon-httpclient` does (the webpki roots, the request's `ca_certs`, or no verification with `validate_cert` off), or with the request's own `tls_config`; implies `client` |
//! | `json` | no | `write_json` on connections (serde_json) |

#![forbid(unsafe_code)]
// Without `deflate` the docs still name its items; the links resolve in every real doc build.
#![cfg_attr(not(feature = "deflate"), allow(rustdoc::broken_intra_doc_links))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
mod client;
pub mod close;
#[cfg(any(feature = "server", feature = "client"))]
mod connection;
mod decoder;
#[cfg(feature = "deflate")]
pub mod deflate;
mod encoder;
mod error;
mod frame;
pub mod handshake;
mod mask;
mod message;
#[cfg(feature = "server")]
mod server;
mod utf8;

#[cfg(feature = "client")]
pub use client::{
    ControlHook, WebSocketClientConnection, WebSocketClientOptions, WebSocketConnectError,
    WebSocketRequest, websocket_connect, websocket_connect_with,
};
#[cfg(any(feature = "server", feature = "client"))]
pub use connection::{CLOSE_TIMEOUT, PreparedMessage, WebSocketConnection, WebSocketError};
pub use decoder::{DEFAULT_MAX_MESSAGE_SIZE, Decoder};
pub use encoder::{Encoder, MAX_CLOSE_REASON_LEN};
pub use error::{ProtocolError, Result};
pub use frame::{MAX_HEADER_LEN, OpCode, Role, encode_header};
pub use mask::{apply_mask, websocket_mask};
pub use message::{CloseFrame, Event, Message};
#[cfg(feature = "server")]
pub use server::{WebSocket, WebSocketHandler, check_trusted_origin, websocket_route};
