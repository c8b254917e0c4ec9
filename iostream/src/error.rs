//! The crate's error type.

use std::io;

/// Errors of streams, servers and clients (Tornado's `StreamClosedError`,
/// `UnsatisfiableReadError` and `StreamBufferFullError`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream is closed: by [`close`](crate::IOStream::close), by the peer (EOF: `source` is
    /// `None`), or by an error kept as `source` (a reset, a TLS alert, a limit).
    #[error("stream is closed")]
    Closed {
        /// Why it closed, if for an error.
        #[source]
        source: Option<io::Error>,
    },
    /// `read_until` found no delimiter within `max_bytes` (the stream is closed).
    #[error("delimiter not found within {max_bytes} bytes")]
    UnsatisfiableRead {
        /// The limit that was passed.
        max_bytes: usize,
    },
    /// A read would grow the read buffer past `max_buffer_size` (the stream is closed), or a
    /// write would grow the write buffer past `max_write_buffer_size` (the stream stays open).
    #[error("stream buffer is full ({limit} bytes)")]
    BufferFull {
        /// The limit that was reached.
        limit: usize,
    },
    /// A connect, handshake or read deadline passed.
    #[error("operation timed out")]
    Timeout,
    /// Name resolution, binding, connecting or another socket operation failed.
    #[error("i/o error")]
    Io(#[from] io::Error),
    /// A TLS configuration error (certificate or key loading, protocol setup). Carries rustls's
    /// own error: this couples the variant to rustls, acceptable while Typhoon is unpublished.
    #[cfg(feature = "tls")]
    #[error("tls configuration error")]
    Tls(#[from] rustls::Error),
}

impl StreamError {
    /// A `Closed` error without a cause (the peer closed, or `close` was called).
    pub(crate) fn closed() -> Self {
        StreamError::Closed { source: None }
    }
}

/// `Result` with [`StreamError`] as the default error.
pub type Result<T, E = StreamError> = std::result::Result<T, E>;

/// A copy of an `io::Error` (which is not `Clone`), for handing the close cause to every caller.
pub(crate) fn copy_io_error(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}
