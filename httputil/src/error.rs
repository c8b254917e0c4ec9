//! The crate's one error type, [`HTTPInputError`].

/// A message, or a part of one, that the peer sent and that Typhoon refuses.
///
/// Mirrors Tornado's `HTTPInputError`, split into variants so that the connection can answer each
/// with the precise status ([`HTTPInputError::status`]) and tests can match on the cause. Every
/// variant means "answer with [`status`](HTTPInputError::status), then close": after a framing
/// error the rest of the connection's bytes cannot be trusted.
///
/// Clone is cheap: the causes that come from outside (a stream error, a decoder's error) are
/// shared through an `Arc`, so a body reader can hand the same failure to every later call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HTTPInputError {
    /// The request line is not `method SP request-target SP HTTP-version`.
    #[error("malformed HTTP request line")]
    MalformedRequestLine,
    /// A request target whose form the method does not allow (RFC 9112 §3.2): authority-form
    /// (`host:port`) other than for `CONNECT`, asterisk-form (`*`) other than for `OPTIONS`, an
    /// absolute-form target without a host, or a target of no form at all (`GET !`).
    #[error("invalid request target")]
    InvalidRequestTarget,
    /// The response status line is not `HTTP-version SP status-code SP [reason-phrase]`.
    #[error("malformed HTTP response status line")]
    MalformedResponseLine,
    /// A header line is malformed: no colon, an invalid name or value byte, a bare CR, or a line
    /// that starts with whitespace (obs-fold, rejected as Tornado 6.6 does).
    #[error("malformed header line")]
    MalformedHeader,
    /// A header name is not an RFC 9110 token.
    #[error("invalid header name")]
    InvalidHeaderName,
    /// A header value holds a control character, or starts or ends with whitespace.
    #[error("invalid header value")]
    InvalidHeaderValue,
    /// An HTTP/1.1 request without a `Host` header (RFC 9112 §3.2).
    #[error("missing Host header")]
    MissingHost,
    /// More than one `Host` field line, or one whose value holds a comma (a proxy may have merged
    /// several): RFC 9112 §3.2 requires 400.
    #[error("multiple Host headers")]
    MultipleHost,
    /// A `Host` value that is not `host [":" port]` as Tornado's ABNF has it.
    #[error("invalid Host header")]
    InvalidHost,
    /// The request head (request line and header section) is larger than `max_header_size`.
    #[error("request header section too large")]
    HeaderTooLarge,
    /// More header fields than `max_headers`.
    #[error("too many header fields")]
    TooManyHeaders,
    /// The request target is longer than `max_uri_len`.
    #[error("request target too long")]
    UriTooLong,
    /// A well-formed HTTP version other than 1.0 or 1.1.
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// The HTTP/2 connection preface (`PRI * HTTP/2.0`): the peer speaks HTTP/2 with prior
    /// knowledge, which an HTTP/1 connection cannot serve.
    #[error("HTTP/2 connection preface on an HTTP/1 connection")]
    Http2Preface,
    /// `Content-Length` is not plain decimal digits, or a list of them.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Several `Content-Length` values that differ.
    #[error("multiple unequal Content-Lengths")]
    ConflictingContentLength,
    /// Both `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.1, a smuggling vector).
    #[error("message with both Transfer-Encoding and Content-Length")]
    TransferEncodingWithContentLength,
    /// `Transfer-Encoding` in an HTTP/1.0 request (RFC 9112 §6.1).
    #[error("Transfer-Encoding in an HTTP/1.0 request")]
    TransferEncodingInHttp10,
    /// A `Transfer-Encoding` whose final coding is not `chunked`, that repeats `chunked`, or that
    /// is not a list of tokens: the body length cannot be determined (RFC 9112 §6.3).
    #[error("invalid Transfer-Encoding")]
    InvalidTransferEncoding,
    /// A `Transfer-Encoding` with a coding other than `chunked` before the final `chunked`.
    #[error("unsupported Transfer-Encoding")]
    UnsupportedTransferEncoding,
    /// The body is larger than `max_body_size`, by its `Content-Length` or by counting chunks.
    #[error("request body too large")]
    BodyTooLarge,
    /// A chunk-size line that is not hex digits, optionally followed by extensions, then CRLF;
    /// or a size that overflows 64 bits.
    #[error("invalid chunk size")]
    InvalidChunkSize,
    /// A chunk-size line longer than the limit, or too many extension bytes in one body.
    #[error("chunk-size line or extensions too long")]
    ChunkLineTooLong,
    /// Chunk data not followed by CRLF.
    #[error("improperly terminated chunk")]
    InvalidChunkTerminator,
    /// A malformed trailer line after the last chunk.
    #[error("malformed chunked trailer")]
    MalformedTrailer,
    /// A trailer section larger than its limit.
    #[error("chunked trailer section too large")]
    TrailerTooLarge,
    /// A `Content-Encoding` on a form body, which Tornado refuses to parse.
    #[error("unsupported Content-Encoding on a form body")]
    UnsupportedContentEncoding,
    /// More urlencoded fields than the configured maximum (Tornado's "Max number of fields
    /// exceeded").
    #[error("max number of fields exceeded")]
    TooManyFields,
    /// A `multipart/form-data` body that Tornado's parser rejects; the reason says where.
    #[error("invalid multipart/form-data: {0}")]
    InvalidMultipart(&'static str),
    /// More multipart parts than `max_parts`.
    #[error("multipart/form-data has too many parts")]
    TooManyParts,
    /// A multipart part header larger than `max_part_header_size`.
    #[error("multipart/form-data part header too large")]
    PartHeaderTooLarge,
    /// Multipart parsing is disabled by configuration.
    #[error("multipart/form-data parsing is disabled")]
    MultipartDisabled,
    /// The client sent no body bytes for longer than the body inactivity timeout (or the whole
    /// body took longer than the total body timeout).
    #[error("timed out reading the request body")]
    BodyTimeout,
    /// The connection closed (or failed) before the whole body arrived.
    #[error("connection closed before the request body was complete")]
    IncompleteBody {
        /// Why the stream ended: `None` for the client's orderly close (EOF), else the stream's
        /// error (a reset, a send timeout, a TLS alert): a `typhoon_iostream::StreamError` from
        /// the server, which this sans-IO crate names only as an error (downcast to reach it).
        #[source]
        source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// A `Content-Encoding: gzip` request body (with `decompress_request`) that does not
    /// inflate: a corrupt, truncated or trailing-garbage gzip stream.
    #[error("invalid gzip request body")]
    CorruptContentEncoding {
        /// The decoder's error.
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
}

impl HTTPInputError {
    /// The HTTP status a server answers this error with (then it closes the connection).
    ///
    /// 400 for malformed input, 413 for a body over `max_body_size`, 414 for a long target, 431
    /// for an oversized header or trailer section, 501 for an unknown transfer coding, 505 for an
    /// unsupported HTTP version or the HTTP/2 preface (a prior-knowledge HTTP/2 client will not
    /// read it; the point is to close at once rather than wait for more bytes).
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::BodyTooLarge => 413,
            Self::UriTooLong => 414,
            Self::HeaderTooLarge | Self::TooManyHeaders | Self::TrailerTooLarge => 431,
            Self::UnsupportedTransferEncoding => 501,
            Self::UnsupportedVersion | Self::Http2Preface => 505,
            Self::BodyTimeout => 408,
            _ => 400,
        }
    }
}

/// `Result` with [`HTTPInputError`] as the default error.
pub type Result<T, E = HTTPInputError> = std::result::Result<T, E>;
