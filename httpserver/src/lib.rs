//! Typhoon's HTTP layer: Tornado's `httputil` and a strict, allocation-conscious HTTP/1.1 parser.
//!
//! This crate sits above `typhoon-iostream` and `typhoon-ioloop` and below `typhoon-httpclient`
//! and `typhoon-web`. What is here so far is the sans-IO half: pure functions and state machines
//! over `&[u8]` and `&str` that never touch a socket or an event loop, so they are tested and
//! fuzzed from byte slices and do not yet depend on iostream or ioloop. The connection
//! (`HTTP1Connection`) and `HTTPServer` will drive them from an `IOStream`.
//!
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
//! The crate has no optional features yet; `gzip` (request decompression) and `tls` arrive with
//! the connection layer.
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | *(none)* | everything in this crate is always available | — |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
pub mod h1;
pub mod httputil;

pub use error::{HttpInputError, Result};
