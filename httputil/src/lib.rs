//! The HTTP/1.1 that Typhoon's server and client share: Tornado's `tornado.httputil` and the
//! wire half of its `http1connection`, sans IO.
//!
//! This crate sits below `typhoon-httpserver` and `typhoon-httpclient` and above the `escape`
//! leaf (query strings and percent-decoding are Tornado's `escape` functions). It never touches a
//! socket: everything here is a pure function, value or state machine over strings and bytes,
//! tested and fuzzed from byte slices, which the connection layers feed with what they read.
//!
//! - [`HTTPHeaders`], request and response start lines, form bodies (urlencoded and multipart,
//!   with Tornado 6.6's limits), cookies, [`url_concat`], HTTP dates, [`split_host_and_port`] and
//!   the reason-phrase table.
//! - [`h1`]: [`parse_request_head`](h1::parse_request_head) on top of `httparse`, the body
//!   framing rules ([`request_framing`](h1::request_framing)), the incremental
//!   [`ChunkedDecoder`](h1::ChunkedDecoder), and every limit on what a peer may send
//!   ([`h1::Limits`], with the defaults of the server's `HTTP-LIMITS` policy).
//! - [`HTTPInputError`]: everything a peer can get wrong, each with the status to answer
//!   ([`HTTPInputError::status`]).
//!
//! # Examples
//!
//! Parse a request that arrives in two reads, then decode its chunked body:
//!
//! ```
//! use typhoon_httputil::h1::{
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
//! # Ok::<(), typhoon_httputil::HTTPInputError>(())
//! ```
//!
//! A malformed request maps to the status to answer before closing:
//!
//! ```
//! use typhoon_httputil::h1::{Limits, RequestHead, parse_request_head};
//!
//! let err = parse_request_head(b"GET / HTTP/1.1\r\n\r\n", &Limits::default(), &mut RequestHead::new())
//!     .unwrap_err();
//! assert_eq!(err.status(), 400); // HTTP/1.1 without Host
//! ```
//!
//! Headers and form bodies, as Tornado's `httputil` has them:
//!
//! ```
//! use typhoon_httputil::{Arguments, Files, ParseBodyConfig, parse_body_arguments};
//!
//! let (mut arguments, mut files) = (Arguments::new(), Files::new());
//! let form = "application/x-www-form-urlencoded";
//! let config = ParseBodyConfig::default();
//! parse_body_arguments(form, b"a=1&b=%41&a=2", None, &mut arguments, &mut files, &config)?;
//! assert_eq!(arguments["a"], [b"1".to_vec(), b"2".to_vec()]);
//! assert_eq!(arguments["b"], [b"A".to_vec()]);
//! # Ok::<(), typhoon_httputil::HTTPInputError>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | (none) | everything is always built: the crate has no optional dependency | |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cookie;
mod date;
mod error;
mod form;
pub mod h1;
mod headers;
mod start_line;
mod status;
mod url;

pub use cookie::parse_cookie;
pub use date::{format_timestamp, parse_http_date, write_timestamp};
pub use error::{HTTPInputError, Result};
pub use form::{
    Arguments, Files, HTTPFile, ParseBodyConfig, ParseMultipartConfig, ParseUrlEncodedConfig,
    parse_body_arguments, parse_multipart_form_data, parse_query_arguments,
};
pub use headers::{GetList, HTTPHeaders, Iter};
pub use start_line::{
    RequestStartLine, ResponseStartLine, parse_request_start_line, parse_response_start_line,
};
pub use status::reason_phrase;
pub use url::{split_host_and_port, url_concat};
