//! Typhoon's HTTP/1.1 server: Tornado's `httpserver` and the server half of its
//! `http1connection`, strict with hostile input and allocation-conscious.
//!
//! This crate sits above `typhoon-httputil` (headers, the sans-IO request-head parser, body
//! framing, the chunked decoder and [`HTTPInputError`](typhoon_httputil::HTTPInputError), shared
//! with the client), `typhoon-iostream` (connections are `IOStream`s accepted by a `TCPServer`)
//! and `typhoon-ioloop`, and below `typhoon-web`. It drives the parser from a stream:
//!
//! - [`HTTPServer`]: serves requests to a handler `Fn(HTTPServerRequest, ResponseWriter)`, with
//!   keep-alive, pipelining (responses batched into one write), `Expect: 100-continue`, HEAD,
//!   every limit and timeout of [`HTTPServerOptions`], `xheaders`, TLS, gzip request bodies,
//!   streamed request bodies ([`BodyReader`]), graceful [`shutdown`](HTTPServer::shutdown), n
//!   loops on one port (a factory of `HTTPServer`s given to
//!   [`typhoon_iostream::start_loops`]), and Tornado's access log on `typhoon::access`
//!   (`200 GET / (127.0.0.1) 0.42ms`), or the application's own [`LogFunction`].
//! - [`HTTPServerRequest`] and [`ResponseWriter`]: one request and its answer.
//!
//! # Examples
//!
//! Serve one request over a real socket, then stop:
//!
//! ```
//! use std::io::{Read, Write};
//! use typhoon_httpserver::HTTPServer;
//! use typhoon_ioloop::IOLoop;
//!
//! let ioloop = IOLoop::new();
//! ioloop.make_current();
//! let server = HTTPServer::new(|request, mut response| async move {
//!     response.set_header("Content-Type", "text/plain").unwrap();
//!     response.write(format!("Hello, {}", request.path()).as_bytes());
//! });
//! let addr = server.listen(0, Some("127.0.0.1"))?[0];
//! // The blocking client runs on the loop's executor pool; the loop serves meanwhile.
//! let client = ioloop.run_in_executor(move || {
//!     let mut socket = std::net::TcpStream::connect(addr).unwrap();
//!     socket.write_all(b"GET /world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
//!     let mut answer = String::new();
//!     socket.read_to_string(&mut answer).unwrap();
//!     answer
//! });
//! let answer = ioloop.run_sync(client).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(answer.ends_with("\r\n\r\nHello, /world"));
//! # IOLoop::clear_current();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `tls` | HTTPS through rustls (`HTTPServerOptions::tls`) | No |
//! | `gzip` | `decompress_request` for gzip request bodies (flate2, pure Rust) | No |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access_log;
mod body;
mod connection;
mod draining;
#[cfg(feature = "gzip")]
mod inflate;
mod options;
mod request;
mod response;
mod server;
mod shared;
mod upgrade;

pub use access_log::{AccessRecord, LogFunction};
pub use body::BodyReader;
pub use options::{HTTPServerOptions, HandlerFuture, StreamBodyPredicate};
pub use request::HTTPServerRequest;
pub use response::ResponseWriter;
pub use server::HTTPServer;
pub use upgrade::{UpgradeError, Upgraded};
