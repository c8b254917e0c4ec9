//! The crate's error type.

use std::io;

/// Errors of streams, servers and clients (Tornado's `StreamClosedError`,
/// `UnsatisfiableReadError` and `StreamBufferFullError`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream is closed: by [`close`](crate::IOStream::close), by the peer (EOF: `source` is
    /// `None`), or by an error kept as `source` (a reset, a TLS alert, a limit).
    ///
    /// When a stream error closed the stream (a read past `max_buffer_size`, an unsatisfiable
    /// `read_until`), `source` carries that error as its payload: see
    /// [`close_reason`](Self::close_reason). An OS error keeps its
    /// [`raw_os_error`](io::Error::raw_os_error).
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
    /// A read was started while another read on the same stream is pending (Tornado's
    /// "Already reading"). The stream stays open and the pending read is not disturbed: a
    /// stream has one reader at a time.
    #[error("already reading")]
    AlreadyReading,
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
    #[cfg_attr(not(feature = "tls"), allow(dead_code))] // the TLS handshake's
    pub(crate) fn closed() -> Self {
        StreamError::Closed { source: None }
    }

    /// For a [`Closed`](Self::Closed) error, the stream error that closed the stream, if one
    /// did: the [`BufferFull`](Self::BufferFull) or [`UnsatisfiableRead`](Self::UnsatisfiableRead)
    /// that an earlier read failed with, for instance. `None` for other variants, and for a
    /// stream closed cleanly or by an OS error (that one is `source` itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use typhoon_ioloop::IOLoop;
    /// use typhoon_iostream::{IOStream, StreamError};
    ///
    /// IOLoop::new().run_sync(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (a, b) = (IOStream::from_unix(a)?, IOStream::from_unix(b)?);
    ///     a.write(b"no newline here").await?;
    ///     let first = b.read_until(b"\n", Some(4)).await;
    ///     assert!(matches!(first, Err(StreamError::UnsatisfiableRead { max_bytes: 4 })));
    ///     // The stream is closed now; a later read still learns why.
    ///     let later = b.read_until(b"\n", None).await.unwrap_err();
    ///     assert!(matches!(later.close_reason(), Some(StreamError::UnsatisfiableRead { .. })));
    ///     Ok::<(), StreamError>(())
    /// })?;
    /// # Ok::<(), StreamError>(())
    /// ```
    pub fn close_reason(&self) -> Option<&StreamError> {
        match self {
            StreamError::Closed {
                source: Some(source),
            } => source
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<StreamError>()),
            _ => None,
        }
    }
}

/// `Result` with [`StreamError`] as the default error.
pub type Result<T, E = StreamError> = std::result::Result<T, E>;

/// A copy of an `io::Error` (which is not `Clone`), for handing the close cause to every caller.
///
/// An OS error stays an OS error (same `raw_os_error`, kind and message); a [`StreamError`]
/// payload stays a `StreamError` (see [`StreamError::close_reason`]); anything else keeps its
/// kind and message.
pub(crate) fn copy_io_error(error: &io::Error) -> io::Error {
    if let Some(code) = error.raw_os_error() {
        return io::Error::from_raw_os_error(code);
    }
    if let Some(inner) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<StreamError>())
    {
        return io::Error::new(error.kind(), copy_stream_error(inner));
    }
    if error.get_ref().is_none() && error.to_string() == error.kind().to_string() {
        // A bare kind (`ErrorKind::WriteZero.into()`): no message to copy.
        return error.kind().into();
    }
    io::Error::new(error.kind(), error.to_string())
}

/// A copy of a `StreamError` (which is not `Clone`: it may hold an `io::Error`).
pub(crate) fn copy_stream_error(error: &StreamError) -> StreamError {
    match error {
        StreamError::Closed { source } => StreamError::Closed {
            source: source.as_ref().map(copy_io_error),
        },
        StreamError::UnsatisfiableRead { max_bytes } => StreamError::UnsatisfiableRead {
            max_bytes: *max_bytes,
        },
        StreamError::BufferFull { limit } => StreamError::BufferFull { limit: *limit },
        StreamError::AlreadyReading => StreamError::AlreadyReading,
        StreamError::Timeout => StreamError::Timeout,
        StreamError::Io(source) => StreamError::Io(copy_io_error(source)),
        #[cfg(feature = "tls")]
        StreamError::Tls(source) => StreamError::Tls(source.clone()),
    }
}

/// The close cause kept for a stream that `error` closed: an `io::Error` as it is (copied), a
/// stream error as the payload of an `io::Error` of a fitting kind.
pub(crate) fn close_cause(error: &StreamError) -> Option<io::Error> {
    let kind = match error {
        StreamError::Closed { source } => return source.as_ref().map(copy_io_error),
        StreamError::Io(source) => return Some(copy_io_error(source)),
        StreamError::UnsatisfiableRead { .. } => io::ErrorKind::InvalidData,
        StreamError::BufferFull { .. } => io::ErrorKind::OutOfMemory,
        StreamError::Timeout => io::ErrorKind::TimedOut,
        StreamError::AlreadyReading => io::ErrorKind::ResourceBusy,
        #[cfg(feature = "tls")]
        StreamError::Tls(_) => io::ErrorKind::InvalidData,
    };
    Some(io::Error::new(kind, copy_stream_error(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_keep_the_os_error() {
        let reset = io::Error::from_raw_os_error(rustix::io::Errno::CONNRESET.raw_os_error());
        let copy = copy_io_error(&reset);
        assert_eq!(copy.raw_os_error(), reset.raw_os_error());
        assert_eq!(copy.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn copies_keep_kind_and_message() {
        let bare: io::Error = io::ErrorKind::WriteZero.into();
        let copy = copy_io_error(&bare);
        assert_eq!(copy.kind(), io::ErrorKind::WriteZero);
        assert!(copy.get_ref().is_none(), "a bare kind stays bare");

        let custom = io::Error::new(io::ErrorKind::TimedOut, "write timeout");
        let copy = copy_io_error(&custom);
        assert_eq!(copy.kind(), io::ErrorKind::TimedOut);
        assert_eq!(copy.to_string(), custom.to_string());
    }

    #[test]
    fn close_causes_keep_the_stream_error() {
        let cause = close_cause(&StreamError::BufferFull { limit: 7 }).expect("a cause");
        let closed = StreamError::Closed {
            source: Some(copy_io_error(&cause)),
        };
        assert!(matches!(
            closed.close_reason(),
            Some(StreamError::BufferFull { limit: 7 })
        ));
        assert!(close_cause(&StreamError::closed()).is_none());
        assert!(StreamError::Timeout.close_reason().is_none());
    }
}
