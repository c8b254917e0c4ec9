//! `IOStream`: a buffered non-blocking stream over TCP, a Unix socket or TLS.
//!
//! This file holds the type and its life cycle (open, close). The read side (the buffer,
//! `read_until` and friends, the one-reader rule) is in `read.rs`; the write side (the queue,
//! `flush`, the write timeout) in `write.rs`; `send_file` in `sendfile.rs`; upgrading to TLS
//! (`start_tls_*`) in `start_tls.rs`. The socket under it is a [`Transport`] (`transport.rs`).

mod read;
mod sendfile;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
mod start_tls;
mod write;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{Async, IOLoop};

use crate::buffer::{ReadBuffer, WriteQueue};
use crate::error::{Result, StreamError, copy_io_error};
use crate::transport::Transport;

/// Limits and sizes of one stream (Tornado's `IOStream(max_buffer_size=..., ...)`).
#[derive(Clone, Debug)]
pub struct StreamOptions {
    /// The most bytes the read buffer may hold (default 100 MiB, Tornado's). A read that needs
    /// more fails with [`StreamError::BufferFull`] and closes the stream.
    pub max_buffer_size: usize,
    /// The most bytes that may wait in the write buffer (default: no limit, as Tornado). A write
    /// past it fails with [`StreamError::BufferFull`]; the stream stays open.
    pub max_write_buffer_size: Option<usize>,
    /// How long a write may wait with no byte reaching the kernel (nginx's `send_timeout`: it
    /// runs between two successive writes, not over the whole transfer, so a slow download
    /// that keeps moving is never cut). Then the wait fails with a `TimedOut` cause and the
    /// stream closes. Default: none (Tornado has no such limit); the HTTP server sets it.
    pub write_timeout: Option<Duration>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            max_buffer_size: 100 * 1024 * 1024,
            max_write_buffer_size: None,
            write_timeout: None,
        }
    }
}

/// A buffered, non-blocking stream: Tornado's `IOStream` (and `SSLIOStream` with the `tls`
/// feature), for tasks on one loop.
///
/// Reads fill an internal buffer and return what the caller asked for: up to a delimiter
/// ([`read_until`](Self::read_until)), a number of bytes ([`read_bytes`](Self::read_bytes)),
/// everything until EOF ([`read_until_close`](Self::read_until_close)). Data stays in the buffer
/// until a read completes, so every read is cancel-safe. Writes queue and flush with `writev`.
///
/// Methods take `&self`: one task may read while another writes. At most one read may be
/// pending at a time: a read started while another is pending fails with
/// [`StreamError::AlreadyReading`] (Tornado's "Already reading") and leaves the first one alone.
/// At most one flush should be pending at a time. Wrap the stream in an `Rc` to share it.
///
/// When the peer closes, the data it sent before is still delivered; reads that cannot be
/// satisfied then fail with [`StreamError::Closed`]. The write side stays usable (half-close)
/// until [`close`](Self::close).
///
/// # Examples
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use typhoon_ioloop::IOLoop;
/// use typhoon_iostream::IOStream;
///
/// IOLoop::new().run_sync(async {
///     let (a, b) = UnixStream::pair()?;
///     let (a, b) = (IOStream::from_unix(a)?, IOStream::from_unix(b)?);
///     a.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody").await?;
///     let head = b.read_until(b"\r\n\r\n", Some(64 * 1024)).await?;
///     assert!(head.ends_with(b"Host: x\r\n\r\n"));
///     assert_eq!(b.read_bytes(4, false).await?, b"body");
///     Ok::<(), typhoon_iostream::StreamError>(())
/// })?;
/// # Ok::<(), typhoon_iostream::StreamError>(())
/// ```
pub struct IOStream {
    /// The socket; `None` once closed (dropping it deregisters and closes the fd).
    transport: RefCell<Option<Transport>>,
    /// Bytes read and not yet consumed.
    read_buf: RefCell<ReadBuffer>,
    /// A read is pending (held by a `ReadGuard`, in `read.rs`): a second one is refused, as a
    /// read's state between polls (how far `read_until` has scanned) assumes nobody else
    /// consumes.
    reading: Cell<bool>,
    /// Set by [`IOStream::consume`] while a read is pending (the in-place API used from
    /// another task): the pending `read_until`'s scan position is stale and it rescans.
    rescan: Cell<bool>,
    /// Bytes waiting to be written.
    write_queue: RefCell<WriteQueue>,
    /// Moves whenever bytes reach the kernel (for the write timeout).
    written: Cell<u64>,
    /// The peer closed its side: buffered data is still readable.
    eof: Cell<bool>,
    /// Set when the stream is closed; `Some(error)` when an error closed it.
    close_cause: RefCell<Option<Option<io::Error>>>,
    /// Set on close, for [`IOStream::wait_closed`].
    closed_event: Event,
    /// Tornado's `set_close_callback`.
    close_callback: RefCell<Option<Box<dyn FnOnce()>>>,
    /// Limits.
    options: StreamOptions,
}

impl IOStream {
    pub(crate) fn from_transport(transport: Transport, options: StreamOptions) -> Self {
        Self {
            transport: RefCell::new(Some(transport)),
            read_buf: RefCell::new(ReadBuffer::default()),
            reading: Cell::new(false),
            rescan: Cell::new(false),
            write_queue: RefCell::new(WriteQueue::default()),
            written: Cell::new(0),
            eof: Cell::new(false),
            close_cause: RefCell::new(None),
            closed_event: Event::new(),
            close_callback: RefCell::new(None),
            options,
        }
    }

    /// Wraps a connected TCP socket (made non-blocking, registered with the current loop).
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    pub fn new(stream: TcpStream) -> Result<Self> {
        Self::with_options(stream, StreamOptions::default())
    }

    /// Like [`new`](Self::new), with limits.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    pub fn with_options(stream: TcpStream, options: StreamOptions) -> Result<Self> {
        Ok(Self::from_transport(
            Transport::Tcp(Async::new(stream)?),
            options,
        ))
    }

    /// Wraps a connected Unix-domain stream socket.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    pub fn from_unix(stream: UnixStream) -> Result<Self> {
        Self::from_unix_with_options(stream, StreamOptions::default())
    }

    /// Like [`from_unix`](Self::from_unix), with limits.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    pub fn from_unix_with_options(stream: UnixStream, options: StreamOptions) -> Result<Self> {
        Ok(Self::from_transport(
            Transport::Unix(Async::new(stream)?),
            options,
        ))
    }

    /// The stream's limits.
    pub fn options(&self) -> &StreamOptions {
        &self.options
    }

    /// Sets `TCP_NODELAY` (no-op on Unix sockets, and once closed).
    ///
    /// # Errors
    ///
    /// The socket option's error.
    pub fn set_nodelay(&self, nodelay: bool) -> Result<()> {
        if let Some(tcp) = self.transport.borrow().as_ref().and_then(Transport::tcp) {
            tcp.set_nodelay(nodelay)?;
        }
        Ok(())
    }

    /// The peer's address (TCP and TLS streams; `None` for Unix sockets or once closed).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.transport
            .borrow()
            .as_ref()
            .and_then(Transport::tcp)
            .and_then(|tcp| tcp.peer_addr().ok())
    }

    /// Forgets what the loop last said about readiness, so that the next read or write tries
    /// the socket itself. For a deadline that fires after a stalled loop (a handler that
    /// blocked it): data that arrived in time but whose event is not processed yet must not
    /// be taken for silence. Costs at most one `EAGAIN` syscall per direction.
    pub fn recheck_readiness(&self) {
        if let Some(transport) = self.transport.borrow().as_ref() {
            transport.wake_waiters();
        }
    }

    /// Whether the stream is closed (by [`close`](Self::close) or an error). A peer's EOF alone
    /// does not close it: see [`is_eof`](Self::is_eof).
    pub fn closed(&self) -> bool {
        self.close_cause.borrow().is_some()
    }

    /// Whether the peer has closed its side (buffered data may remain).
    pub fn is_eof(&self) -> bool {
        self.eof.get()
    }

    /// The error that closed the stream, if one did (Tornado's `stream.error`): a copy of the
    /// OS error (same [`raw_os_error`](io::Error::raw_os_error)), or of the I/O error, or an
    /// `io::Error` whose payload ([`get_ref`](io::Error::get_ref)) is the [`StreamError`] that
    /// closed it (a read past `max_buffer_size`, an unsatisfiable read).
    pub fn error(&self) -> Option<io::Error> {
        self.close_cause
            .borrow()
            .as_ref()
            .and_then(|cause| cause.as_ref().map(copy_io_error))
    }

    /// Runs `callback` once the stream closes (at once, on the loop, if it already has).
    pub fn set_close_callback(&self, callback: impl FnOnce() + 'static) {
        if self.closed() {
            IOLoop::current().add_callback(callback);
        } else {
            *self.close_callback.borrow_mut() = Some(Box::new(callback));
        }
    }

    /// Waits until the stream is closed (by `close`, an error, or a failed read or write).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait_closed(&self) {
        self.closed_event.wait().await;
    }

    /// Closes the stream: the fd is deregistered and closed, pending reads and writes fail with
    /// [`StreamError::Closed`], queued writes are dropped, the close callback runs. Buffered
    /// read data is kept for reads that it can satisfy.
    pub fn close(&self) {
        self.close_with(None);
    }

    pub(crate) fn close_with(&self, cause: Option<io::Error>) {
        if self.closed() {
            return;
        }
        *self.close_cause.borrow_mut() = Some(cause);
        let transport = self.transport.borrow_mut().take();
        if let Some(transport) = transport {
            transport.send_close_notify();
            transport.wake_waiters();
            drop(transport);
        }
        self.write_queue.borrow_mut().clear();
        self.closed_event.set();
        let callback = self.close_callback.borrow_mut().take();
        if let Some(callback) = callback {
            callback();
        }
    }

    /// Shuts down the write side (the peer reads EOF) but keeps reading.
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`] if the stream is closed; the socket's error.
    pub fn shutdown_write(&self) -> Result<()> {
        let transport = self.transport.borrow();
        let transport = transport.as_ref().ok_or_else(|| self.closed_error())?;
        transport.shutdown_write()?;
        Ok(())
    }

    /// The error for operations on a closed stream, carrying the close cause.
    fn closed_error(&self) -> StreamError {
        StreamError::Closed {
            source: self.error(),
        }
    }
}

impl Drop for IOStream {
    fn drop(&mut self) {
        // Send a TLS close_notify if we can; plain sockets just close.
        if let Some(transport) = self.transport.get_mut().as_ref() {
            transport.send_close_notify();
        }
    }
}

impl fmt::Debug for IOStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self
            .transport
            .borrow()
            .as_ref()
            .map_or("closed", Transport::kind);
        f.debug_struct("IOStream")
            .field("transport", &kind)
            .field("buffered", &self.read_buf.borrow().len())
            .field("queued", &self.write_queue.borrow().len())
            .field("eof", &self.eof.get())
            .finish()
    }
}
