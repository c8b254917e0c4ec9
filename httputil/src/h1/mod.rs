//! HTTP/1.1 wire format, sans IO: request and response heads, body framing and the chunked
//! decoder.
//!
//! Each piece is a pure function or state machine over `&[u8]`; the connection layer feeds it the
//! bytes it has read and acts on the answer. The order for a server connection:
//!
//! 1. [`parse_request_head`] on the read buffer until it returns `Some(n)` (or an error: answer
//!    [`HTTPInputError::status`](crate::HTTPInputError::status) and close);
//! 2. [`request_framing`] on the head: no body, `Content-Length(n)` or chunked, whether the
//!    connection stays open, whether to send `100 Continue`;
//! 3. for a chunked body, a [`ChunkedDecoder`] fed from `buf[n..]` and later reads.
//!
//! A client reads its responses with [`parse_response_head`], then frames the body itself (the
//! rules differ: HEAD, 204 and 304, read-to-close).
//!
//! Every limit is in [`Limits`], with the defaults of the server's `HTTP-LIMITS` policy.

mod chunked;
mod framing;
mod head;
mod limits;
mod response;

pub use chunked::{Chunk, ChunkedDecoder};
pub use framing::{BodyKind, RequestFraming, request_framing};
pub use head::{RequestHead, Version, parse_request_head};
pub use limits::Limits;
pub use response::{ResponseHead, parse_response_head};
