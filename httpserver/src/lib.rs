//! Typhoon's HTTP/1.1 server: Tornado's `httputil`, `http1connection` and `httpserver`, strict
//! with hostile input and allocation-conscious.
//!
//! This crate sits above `typhoon-iostream` (connections are `IOStream`s accepted by a
//! `TCPServer`) and `typhoon-ioloop`, and below `typhoon-httpclient` and `typhoon-web`. It has two
//! halves. The sans-IO half is pure functions and state machines over `&[u8]` that never touch a
//! socket, tested and fuzzed from byte slices. The connection half drives them from a stream:
//!
//! - [`HTTPServer`]: serves requests to a handler `Fn(HTTPServerRequest, ResponseWriter)`, with
//!   keep-alive, pipelining (responses batched into one write), `Expect: 100-continue`, HEAD,
//!   every limit and timeout of [`HTTPServerOptions`], `xheaders`, TLS, gzip request bodies,
//!   streamed request bodies ([`BodyReader`]), graceful [`shutdown`](HTTPServer::shutdown), n
//!   loops on one port ([`start_loops`]), and Tornado's access log on `typhoon::access`.
//! - [`process`]: Tornado's pre-fork model (`fork_processes`, `task_id`), by re-execution.
//! - [`httputil`]: [`HTTPHeaders`](httputil::HTTPHeaders), request and response start lines, form
//!   bodies (urlencoded and multipart, with Tornado 6.6's limits), query strings, cookies,
//!   `url_concat`, HTTP dates, `split_host_and_port` and the reason-phrase table.
//! - [`h1`]: [`parse_request_head`](h1::parse_request_head) on top of `httparse`, the body
//!   framing rules ([`request_framing`](h1::request_framing)) and the incremental
//!   [`ChunkedDecoder`](h1::ChunkedDecoder), with every limit of `shared/HTTP-LIMITS.md` in
//!   [`h1::Limits`].
//! - [`HttpInputError`]: everything a peer can get wrong, each with the status to answer
//!   ([`HttpInputError::status`]).
//!
//! # Examples
//!
//! Parse a request that arrives in two reads, then decode its chunked body:
//!
//! ```
//! use typhoon_httpserver::h1::{
//!     BodyKind, Chunk, ChunkedDecoder, Limits, RequestHead, parse_request_head, request_framing,
//! };
//!
//! let limits = Limits::default();
//! let mut head = RequestHead::new(); // one per connection, reused for every request
//! let wire = b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n\
//!              5\r\nhello\r\n0\r\n\r\n";
//!
//! // The first read ends inside the headers: the parser asks for more.
//! assert_eq!(parse_request_head(&wire[..30], &limits, &mut head)?, None);
//! let n = parse_request_head(wire, &limits, &mut head)?.expect("complete head");
//! assert_eq!((head.method(), head.path()), ("POST", "/upload"));
//!
//! let framing = request_framing(&head, limits.max_body_size)?;
//! assert_eq!(framing.body, BodyKind::Chunked);
//! assert!(framing.keep_alive);
//!
//! let mut decoder = ChunkedDecoder::new(&limits);
//! let mut rest = &wire[n..];
//! let mut body = Vec::new();
//! loop {
//!     let (used, chunk) = decoder.decode(rest)?;
//!     rest = &rest[used..];
//!     match chunk {
//!         Chunk::Data(data) => body.extend_from_slice(data),
//!         Chunk::NeedMore => break, // a connection would read more here
//!         Chunk::Done => break,
//!     }
//! }
//! assert_eq!(body, b"hello");
//! # Ok::<(), typhoon_httpserver::HttpInputError>(())
//! ```
//!
//! A malformed request maps to the status to answer before closing:
//!
//! ```
//! use typhoon_httpserver::h1::{Limits, RequestHead, parse_request_head};
//!
//! let err = parse_request_head(b"GET / HTTP/1.1\r\n\r\n", &Limits::default(), &mut RequestHead::new())
//!     .unwrap_err();
//! assert_eq!(err.status(), 400); // HTTP/1.1 without Host
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

mod body;
mod connection;
mod error;
pub mod h1;
pub mod httputil;
#[cfg(feature = "gzip")]
mod inflate;
pub mod process;
mod request;
mod response;
mod server;

pub use body::BodyReader;
pub use error::{HttpInputError, Result};
pub use request::HTTPServerRequest;
pub use response::ResponseWriter;
pub use server::{
    HTTPLoops, HTTPServer, HTTPServerOptions, HandlerFuture, StreamBodyPredicate, start_loops,
};
