//! [`Limits`]: what a peer may send, each bound with its default.

/// Limits on what a peer may send, each with a default that answers with the right status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest request head (request line, headers and the empty line), in bytes; past it,
    /// 431. Default 64 KiB, Tornado's `max_header_size`.
    pub max_header_size: usize,
    /// The most header fields; past it, 431. Default 100, as hyper and h2o.
    pub max_headers: usize,
    /// The longest request target, in bytes; past it, 414. Default 16 KiB (RFC 9112 §3 asks for
    /// at least 8000).
    pub max_uri_len: usize,
    /// The largest body, declared by `Content-Length` or counted over chunks; past it, 413.
    /// Default 100 MiB, Tornado's `max_body_size`.
    pub max_body_size: u64,
    /// The longest chunk-size line (size and extensions, without CRLF); past it, 400. Default
    /// 4 KiB.
    pub max_chunk_line_len: usize,
    /// The most chunk-extension bytes over one body, so a body of tiny chunks with long
    /// extensions cannot stream forever without counting against `max_body_size`; past it, 400.
    /// Default 16 KiB, as hyper.
    pub max_chunk_extensions_size: usize,
    /// The largest trailer section after the last chunk; past it, 431. Default 16 KiB.
    pub max_trailer_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_size: 64 * 1024,
            max_headers: 100,
            max_uri_len: 16 * 1024,
            max_body_size: 100 * 1024 * 1024,
            max_chunk_line_len: 4 * 1024,
            max_chunk_extensions_size: 16 * 1024,
            max_trailer_size: 16 * 1024,
        }
    }
}
