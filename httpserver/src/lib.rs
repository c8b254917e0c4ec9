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
//! ```
//! use typhoon_httpserver::httputil::HTTPHeaders;
//! let h = HTTPHeaders::parse("Host: example.com\r\n")?;
//! assert_eq!(h.get("host"), Some("example.com"));
//! # Ok::<(), typhoon_httpserver::HttpInputError>(())
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
pub mod httputil;

pub use error::{HttpInputError, Result};
