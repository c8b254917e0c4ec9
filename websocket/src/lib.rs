//! The sans-IO WebSocket protocol core of Typhoon: RFC 6455 framing and RFC 7692
//! permessage-deflate, bytes in and events out.
//!
//! This crate is the bottom of Typhoon's WebSocket stack, the counterpart of the frame engine
//! in Tornado's `tornado/websocket.py` (`WebSocketProtocol13`) without its I/O: it depends on no
//! other Typhoon crate, does no I/O and knows no event loop. A [`Decoder`] takes the bytes a
//! connection received and returns [`Event`]s; an [`Encoder`] turns messages and control frames
//! into bytes to send. The server's `WebSocketHandler` and the client's `websocket_connect`
//! (layers on `typhoon-iostream`, `typhoon-httpserver` and `typhoon-web`) drive them, handle
//! the opening handshake with [`handshake`] and [`deflate`]'s negotiation, and decide what to
//! answer (a pong to a ping, a close to a close, a close with
//! [`ProtocolError::close_code`] on an error).
//!
//! What the decoder enforces beyond Tornado (RFC 6455 §5–7, RFC 7692 §6): masking by role,
//! RSV bits, the size limit before reading a payload and after inflation, UTF-8 validated as it
//! arrives (fail fast), close codes and reasons, and control frames between the fragments of a
//! compressed message.
//!
//! # Examples
//!
//! A client's message, decoded by a server, with permessage-deflate negotiated:
//!
//! ```
//! use typhoon_websocket::deflate::{DeflateOptions, client_accept, client_offer, server_negotiate};
//! use typhoon_websocket::{DEFAULT_MAX_MESSAGE_SIZE, Decoder, Encoder, Event, Message, Role};
//!
//! // The handshake's Sec-WebSocket-Extensions, both ways.
//! let options = DeflateOptions::default();
//! let offer = client_offer(&options);
//! let (server_params, response) = server_negotiate(&[offer.as_str()], &options).unwrap();
//! let client_params = client_accept(&response, &options).unwrap();
//!
//! let mut client = Encoder::new(Role::Client);
//! client.set_deflater(client_params.codec(Role::Client, options.compression_level).0);
//! let mut server = Decoder::new(Role::Server, DEFAULT_MAX_MESSAGE_SIZE);
//! server.set_inflater(server_params.codec(Role::Server, options.compression_level).1);
//!
//! let mut wire = Vec::new();
//! client.encode_text(&mut wire, "hello, hello, hello");
//! client.encode_ping(&mut wire, b"are you there").unwrap();
//!
//! // What arrived (the I/O layer's read buffer); decode until nothing is consumed.
//! let mut events = Vec::new();
//! let mut input = &wire[..];
//! loop {
//!     let (used, event) = server.decode(input)?;
//!     input = &input[used..];
//!     match event {
//!         Some(event) => events.push(event),
//!         None if used == 0 => break,
//!         None => {}
//!     }
//! }
//! assert_eq!(
//!     events,
//!     [
//!         Event::Message(Message::Text("hello, hello, hello".into())),
//!         Event::Ping(b"are you there".to_vec()),
//!     ]
//! );
//! # Ok::<(), typhoon_websocket::ProtocolError>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Default | Description |
//! | --- | --- | --- |
//! | `deflate` | yes | permessage-deflate (RFC 7692): the [`deflate`] module, [`Decoder::set_inflater`] and [`Encoder::set_deflater`], with flate2's pure-Rust zlib (`zlib-rs`), which supports windows of 9..=15 bits |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod close;
mod decoder;
#[cfg(feature = "deflate")]
pub mod deflate;
mod encoder;
mod error;
mod frame;
pub mod handshake;
mod mask;
mod message;
mod utf8;

pub use decoder::{DEFAULT_MAX_MESSAGE_SIZE, Decoder};
pub use encoder::{Encoder, MAX_CLOSE_REASON_LEN};
pub use error::{ProtocolError, Result};
pub use frame::{MAX_HEADER_LEN, OpCode, Role, encode_header};
pub use mask::{apply_mask, websocket_mask};
pub use message::{CloseFrame, Event, Message};
