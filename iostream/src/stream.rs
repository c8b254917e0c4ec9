//! `IOStream`: a buffered non-blocking stream over TCP, a Unix socket or TLS.

use std::cell::{Cell, Ref, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{Async, IOLoop};

use crate::buffer::{MAX_IOVECS, ReadBuffer, WriteQueue};
use crate::error::{Result, StreamError, copy_io_error};

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

/// The socket under a stream.
pub(crate) enum Transport {
    /// Plain TCP.
    Tcp(Async<TcpStream>),
    /// A Unix-domain stream socket.
    Unix(Async<UnixStream>),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsTransport>),
}

impl Transport {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(socket) => poll_read_socket(socket, cx, buf),
            Transport::Unix(socket) => poll_read_socket(socket, cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_read(cx, buf),
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(socket) => poll_write_socket(socket, cx, bufs),
            Transport::Unix(socket) => poll_write_socket(socket, cx, bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_write(cx, bufs),
        }
    }

    /// Pushes out bytes the transport itself buffers (TLS records).
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let _ = &cx; // used by the TLS arm only
        match self {
            Transport::Tcp(_) | Transport::Unix(_) => Poll::Ready(Ok(())),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_flush(cx),
        }
    }

    /// A count that moves when the transport itself got bytes out (TLS records); plain
    /// sockets have no buffer of their own, so the stream's count says it all.
    fn write_progress(&self) -> u64 {
        match self {
            Transport::Tcp(_) | Transport::Unix(_) => 0,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.records_written(),
        }
    }

    fn wake_waiters(&self) {
        match self {
            Transport::Tcp(socket) => socket.wake_waiters(),
            Transport::Unix(socket) => socket.wake_waiters(),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.socket().wake_waiters(),
        }
    }

    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Transport::Tcp(socket) => Some(socket.get_ref()),
            Transport::Unix(_) => None,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Some(tls.socket().get_ref()),
        }
    }

    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Transport::Tcp(socket) => socket.get_ref().shutdown(Shutdown::Write),
            Transport::Unix(socket) => socket.get_ref().shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.shutdown_write(),
        }
    }
}

/// Reads from a socket. A short read is *not* taken to mean "drained": the peer's FIN may have
/// arrived together with the data, and in edge mode its event was already consumed, so only a
/// read that returns `WouldBlock` clears readiness (otherwise an EOF could go unnoticed).
fn poll_read_socket<T: io::Read + std::os::fd::AsFd>(
    socket: &Async<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: io::Read,
{
    socket.poll_read_with(cx, &mut |s: &T| {
        let mut s = s;
        s.read(buf)
    })
}

fn poll_write_socket<T: std::os::fd::AsFd>(
    socket: &Async<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: io::Write,
{
    socket.poll_write_with(cx, &mut |s: &T| {
        let mut s = s;
        if bufs.len() == 1 {
            s.write(&bufs[0])
        } else {
            s.write_vectored(bufs)
        }
    })
}

/// A buffered, non-blocking stream: Tornado's `IOStream` (and `SSLIOStream` with the `tls`
/// feature), for tasks on one loop.
///
/// Reads fill an internal buffer and return what the caller asked for: up to a delimiter
/// ([`read_until`](Self::read_until)), a number of bytes ([`read_bytes`](Self::read_bytes)),
/// everything until EOF ([`read_until_close`](Self::read_until_close)). Data stays in the buffer
/// until a read completes, so every read is cancel-safe. Writes queue and flush with `writev`.
///
/// Methods take `&self`: one task may read while another writes (at most one pending read and
/// one pending flush at a time). Wrap the stream in an `Rc` to share it.
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

    /// The error that closed the stream, if one did (Tornado's `stream.error`).
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
            #[cfg(feature = "tls")]
            if let Transport::Tls(tls) = &transport {
                tls.send_close_notify();
            }
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

    /// Runs `f` on the TLS transport, if this is a TLS stream.
    #[cfg(feature = "tls")]
    pub(crate) fn with_tls<R>(&self, f: impl FnOnce(&crate::tls::TlsTransport) -> R) -> Option<R> {
        match self.transport.borrow().as_ref() {
            Some(Transport::Tls(tls)) => Some(f(tls)),
            _ => None,
        }
    }

    #[cfg(feature = "tls")]
    pub(crate) fn take_transport(&self) -> Option<Transport> {
        self.transport.borrow_mut().take()
    }

    #[cfg(feature = "tls")]
    pub(crate) fn has_buffered_io(&self) -> bool {
        !self.read_buf.borrow().is_empty() || !self.write_queue.borrow().is_empty()
    }

    // ---- reading -------------------------------------------------------------------------

    /// Reads more bytes into the buffer. `Ready(Ok(0))` means EOF.
    fn poll_fill(&self, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        if self.eof.get() {
            return Poll::Ready(Ok(0));
        }
        let transport = self.transport.borrow();
        let Some(transport) = transport.as_ref() else {
            return Poll::Ready(Err(self.closed_error()));
        };
        let mut buf = self.read_buf.borrow_mut();
        let limit = self.options.max_buffer_size;
        let spare = buf.spare(limit);
        if spare.is_empty() {
            return Poll::Ready(Err(StreamError::BufferFull { limit }));
        }
        match transport.poll_read(cx, spare) {
            Poll::Pending => {
                // Nothing to read: an empty buffer goes back to the thread's pool while the
                // stream waits, so idle streams hold no read buffer.
                buf.release();
                Poll::Pending
            }
            Poll::Ready(Ok(0)) => {
                self.eof.set(true);
                Poll::Ready(Ok(0))
            }
            Poll::Ready(Ok(n)) => {
                buf.commit(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(StreamError::Closed {
                source: Some(error),
            })),
        }
    }

    /// The engine of every read: `check` looks at the buffer (and whether EOF was seen) and
    /// returns `Some` when it can answer; otherwise more is read. Errors close the stream.
    async fn read_op<R>(
        &self,
        mut check: impl FnMut(&mut ReadBuffer, bool) -> Option<Result<R>>,
    ) -> Result<R> {
        poll_fn(|cx| {
            loop {
                let eof = self.eof.get() || self.closed();
                let answer = check(&mut self.read_buf.borrow_mut(), eof);
                if let Some(answer) = answer {
                    if let Err(error) = &answer {
                        self.close_on_error(error);
                    }
                    return Poll::Ready(answer);
                }
                if eof {
                    return Poll::Ready(Err(self.closed_error()));
                }
                match self.poll_fill(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(error)) => {
                        self.close_on_error(&error);
                        return Poll::Ready(Err(error));
                    }
                }
            }
        })
        .await
    }

    /// Closes the stream for a read error, keeping its cause.
    fn close_on_error(&self, error: &StreamError) {
        let cause = match error {
            StreamError::Closed { source: None } => return,
            StreamError::Closed {
                source: Some(source),
            }
            | StreamError::Io(source) => copy_io_error(source),
            other => io::Error::other(other.to_string()),
        };
        self.close_with(Some(cause));
    }

    /// Reads up to and including `delimiter`.
    ///
    /// # Errors
    ///
    /// [`StreamError::UnsatisfiableRead`] (and the stream closes) if `max_bytes` bytes arrive
    /// without the delimiter, or the delimiter ends past `max_bytes`;
    /// [`StreamError::Closed`] if the stream closes first; [`StreamError::BufferFull`] past
    /// `max_buffer_size`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed until it completes.
    ///
    /// # Panics
    ///
    /// If `delimiter` is empty.
    pub async fn read_until(&self, delimiter: &[u8], max_bytes: Option<usize>) -> Result<Vec<u8>> {
        assert!(
            !delimiter.is_empty(),
            "read_until needs a non-empty delimiter"
        );
        let mut scanned: usize = 0;
        self.read_op(|buf, _eof| {
            let data = buf.data();
            let from = scanned.saturating_sub(delimiter.len() - 1);
            if let Some(pos) = find(&data[from..], delimiter) {
                let end = from + pos + delimiter.len();
                if let Some(max_bytes) = max_bytes
                    && end > max_bytes
                {
                    return Some(Err(StreamError::UnsatisfiableRead { max_bytes }));
                }
                return Some(Ok(buf.take(end)));
            }
            scanned = data.len();
            if let Some(max_bytes) = max_bytes
                && data.len() > max_bytes
            {
                return Some(Err(StreamError::UnsatisfiableRead { max_bytes }));
            }
            None
        })
        .await
    }

    /// Reads `n` bytes; with `partial`, returns as soon as any bytes are available (at most
    /// `n`).
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`] if the stream closes before it can answer (buffered bytes are
    /// still delivered to a `partial` read); [`StreamError::BufferFull`] if `n` exceeds
    /// `max_buffer_size`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn read_bytes(&self, n: usize, partial: bool) -> Result<Vec<u8>> {
        self.read_op(|buf, eof| {
            let available = buf.len();
            if available >= n || (partial && available > 0) {
                Some(Ok(buf.take(n.min(available))))
            } else if n == 0 {
                Some(Ok(Vec::new()))
            } else if eof {
                Some(Err(StreamError::closed()))
            } else {
                None
            }
        })
        .await
    }

    /// Reads into `out`: fills it, or with `partial` returns as soon as any bytes are available.
    /// Returns how many bytes were written to `out`.
    ///
    /// # Errors
    ///
    /// As [`read_bytes`](Self::read_bytes).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: bytes are copied to `out` only when the read completes.
    pub async fn read_into(&self, out: &mut [u8], partial: bool) -> Result<usize> {
        let wanted = out.len();
        self.read_op(|buf, eof| {
            let available = buf.len();
            if available >= wanted || (partial && available > 0) {
                let n = wanted.min(available);
                out[..n].copy_from_slice(&buf.data()[..n]);
                buf.consume(n);
                Some(Ok(n))
            } else if wanted == 0 {
                Some(Ok(0))
            } else if eof {
                Some(Err(StreamError::closed()))
            } else {
                None
            }
        })
        .await
    }

    /// Reads everything until the peer closes.
    ///
    /// # Errors
    ///
    /// [`StreamError::BufferFull`] past `max_buffer_size`; [`StreamError::Closed`] with a
    /// cause if an error (not a clean EOF) ends the stream.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn read_until_close(&self) -> Result<Vec<u8>> {
        let result = self
            .read_op(|buf, eof| eof.then(|| Ok(buf.take(buf.len()))))
            .await;
        if let Err(StreamError::Closed { source: None }) = &result {
            // Closed by `close()` with nothing buffered: an empty read, as at EOF.
            return Ok(Vec::new());
        }
        result
    }

    /// As [`fill_buffer`](Self::fill_buffer), unless `deadline` passes first (`None`). When the
    /// deadline expires the socket is asked once more, without waiting: after a stalled loop
    /// (a handler that blocked it) the timer can run before the event of data that arrived in
    /// time, and that data must not be taken for silence.
    ///
    /// # Errors
    ///
    /// As [`fill_buffer`](Self::fill_buffer).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn fill_buffer_before(&self, deadline: std::time::Instant) -> Option<Result<usize>> {
        if let Ok(result) = typhoon_ioloop::timeout_at(deadline, self.fill_buffer()).await {
            return Some(result);
        }
        self.recheck_readiness();
        let mut fill = std::pin::pin!(self.fill_buffer());
        poll_fn(|cx| match fill.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(Some(result)),
            Poll::Pending => Poll::Ready(None),
        })
        .await
    }

    /// Reads more bytes into the read buffer, for parsers that work in place (see
    /// [`read_buffer`](Self::read_buffer) and [`consume`](Self::consume)). Returns how many
    /// bytes arrived: 0 at EOF.
    ///
    /// # Errors
    ///
    /// [`StreamError::BufferFull`] if the buffer already holds `max_buffer_size` bytes;
    /// [`StreamError::Closed`] on errors (the stream closes) or if closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn fill_buffer(&self) -> Result<usize> {
        let result = poll_fn(|cx| self.poll_fill(cx)).await;
        if let Err(error) = &result {
            self.close_on_error(error);
        }
        result
    }

    /// The buffered, unconsumed bytes. Do not hold the borrow across an `.await`.
    pub fn read_buffer(&self) -> Ref<'_, [u8]> {
        Ref::map(self.read_buf.borrow(), ReadBuffer::data)
    }

    /// Drops `n` bytes from the front of the read buffer.
    pub fn consume(&self, n: usize) {
        self.read_buf.borrow_mut().consume(n);
    }

    /// Frees the read buffer (if empty; it goes back to the thread's pool) and the write
    /// queue's memory if it grew past a small size, so an idle connection holds no big
    /// buffers; small ones stay so that the next response allocates nothing.
    pub fn release_buffers(&self) {
        self.read_buf.borrow_mut().release();
        self.write_queue.borrow_mut().release(false);
    }

    /// As [`release_buffers`](Self::release_buffers), and also frees the small write buffers
    /// kept so that the next response allocates nothing: for a connection that has been idle
    /// for a while, where memory counts more than the next allocation.
    pub fn release_all_buffers(&self) {
        self.read_buf.borrow_mut().release();
        self.write_queue.borrow_mut().release(true);
    }

    // ---- writing -------------------------------------------------------------------------

    /// Bytes queued and not yet written to the kernel.
    pub fn write_buffer_len(&self) -> usize {
        self.write_queue.borrow().len()
    }

    fn check_write(&self, extra: usize) -> Result<()> {
        if self.closed() {
            return Err(self.closed_error());
        }
        if let Some(limit) = self.options.max_write_buffer_size
            && self.write_queue.borrow().len() + extra > limit
        {
            return Err(StreamError::BufferFull { limit });
        }
        Ok(())
    }

    /// Queues a copy of `data` without writing it (see [`flush`](Self::flush)).
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`]; [`StreamError::BufferFull`] past `max_write_buffer_size`.
    pub fn write_buffered(&self, data: &[u8]) -> Result<()> {
        self.check_write(data.len())?;
        self.write_queue.borrow_mut().push_slice(data);
        Ok(())
    }

    /// Queues `data` without copying it.
    ///
    /// # Errors
    ///
    /// As [`write_buffered`](Self::write_buffered).
    pub fn write_buffered_vec(&self, data: Vec<u8>) -> Result<()> {
        self.check_write(data.len())?;
        self.write_queue.borrow_mut().push_vec(data);
        Ok(())
    }

    /// Writes `data` (after anything queued) and waits until all of it reached the kernel.
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`] with the cause if the stream is or gets closed (the stream
    /// closes on write errors); [`StreamError::BufferFull`] past `max_write_buffer_size`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: `data` is queued when first polled; if the future is dropped, the bytes
    /// stay queued for the next write or flush.
    pub async fn write(&self, data: &[u8]) -> Result<()> {
        self.check_write(data.len())?;
        if self.write_queue.borrow().is_empty() {
            // Fast path: write straight from the caller's buffer, queue only the rest.
            let written = poll_fn(|cx| {
                let transport = self.transport.borrow();
                let Some(transport) = transport.as_ref() else {
                    return Poll::Ready(Ok(0));
                };
                match transport.poll_write(cx, &[IoSlice::new(data)]) {
                    Poll::Pending => Poll::Ready(Ok(0)),
                    other => other,
                }
            })
            .await;
            match written {
                Ok(n) => {
                    self.note_written(n);
                    self.write_queue.borrow_mut().push_slice(&data[n..]);
                }
                Err(error) => {
                    self.close_with(Some(copy_io_error(&error)));
                    return Err(StreamError::Closed {
                        source: Some(error),
                    });
                }
            }
        } else {
            self.write_queue.borrow_mut().push_slice(data);
        }
        self.flush().await
    }

    /// Writes `data` without copying it, then flushes.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    ///
    /// # Cancel safety
    ///
    /// As [`write`](Self::write).
    pub async fn write_vec(&self, data: Vec<u8>) -> Result<()> {
        self.write_buffered_vec(data)?;
        self.flush().await
    }

    /// Sends `count` bytes of `file` from `offset`, after anything queued, and waits until all
    /// of them reached the kernel. Returns the bytes sent (`count`).
    ///
    /// On Linux over plain TCP or a Unix socket this is `sendfile(2)`: the bytes go from the
    /// page cache to the socket without passing through user space (Tornado's long-standing
    /// request, tornadoweb/tornado#1448). Over TLS, and elsewhere, the file is read in 64 KiB
    /// pieces and written as usual. The file's own position is not used or moved.
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`] with the cause if the stream is or gets closed (the stream
    /// closes on write errors); [`StreamError::Io`] if the file cannot be read or ends
    /// before `offset + count` (the stream is closed then too: the response is cut short).
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: if the future is dropped part-way, an unknown part of the range was
    /// sent. Close the stream in that case.
    pub async fn send_file(&self, file: &std::fs::File, offset: u64, count: u64) -> Result<u64> {
        if offset.checked_add(count).is_none() {
            return Err(StreamError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "offset + count overflows",
            )));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if count > 0 {
            // What is queued (a response head) goes with MSG_MORE, so the kernel packs it with
            // the file's first bytes instead of sending a small segment of its own.
            self.flush_with_more().await?;
        }
        self.flush().await?;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(sent) = self.sendfile_zero_copy(file, offset, count).await {
            return sent;
        }
        self.send_file_copying(file, offset, count).await
    }

    /// On plain TCP, writes what is queued with `MSG_MORE` (more data follows at once); other
    /// transports are left to [`flush`](Self::flush).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    async fn flush_with_more(&self) -> Result<()> {
        let result = self
            .within_write_timeout(poll_fn(|cx| {
                let transport = self.transport.borrow();
                let Some(Transport::Tcp(socket)) = transport.as_ref() else {
                    return Poll::Ready(Ok(()));
                };
                self.poll_drain_queue(|slices| {
                    let first = slices.first().map_or(&[][..], |slice| &slice[..]);
                    socket.poll_write_with(cx, &mut |s: &TcpStream| {
                        rustix::net::send(s, first, rustix::net::SendFlags::MORE)
                            .map_err(io::Error::from)
                    })
                })
            }))
            .await;
        self.close_on_write_error(&result);
        result
    }

    /// `sendfile(2)` on a plain socket; `None` for TLS (the caller copies instead).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    async fn sendfile_zero_copy(
        &self,
        file: &std::fs::File,
        offset: u64,
        count: u64,
    ) -> Option<Result<u64>> {
        use std::os::fd::AsFd;
        /// The most one call asks for (Linux caps a call at about 2 GiB anyway).
        const MAX_PER_CALL: u64 = 1 << 30;
        fn send(
            out: impl AsFd,
            file: &std::fs::File,
            offset: &mut u64,
            want: usize,
        ) -> io::Result<usize> {
            rustix::fs::sendfile(out, file, Some(offset), want).map_err(io::Error::from)
        }
        {
            let transport = self.transport.borrow();
            match transport.as_ref() {
                Some(Transport::Tcp(_) | Transport::Unix(_)) => {}
                #[cfg(feature = "tls")]
                Some(Transport::Tls(_)) => return None,
                None => return Some(Err(self.closed_error())),
            }
        }
        let mut position = offset;
        let end = offset + count; // checked in send_file
        while position < end {
            let want = usize::try_from((end - position).min(MAX_PER_CALL)).unwrap_or(usize::MAX);
            let sent = self
                .within_write_timeout(poll_fn(|cx| {
                    let transport = self.transport.borrow();
                    let sent = match transport.as_ref() {
                        Some(Transport::Tcp(socket)) => socket
                            .poll_write_with(cx, &mut |s: &TcpStream| {
                                send(s, file, &mut position, want)
                            }),
                        Some(Transport::Unix(socket)) => socket
                            .poll_write_with(cx, &mut |s: &UnixStream| {
                                send(s, file, &mut position, want)
                            }),
                        _ => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
                    };
                    if let Poll::Ready(Ok(n)) = sent {
                        self.note_written(n);
                    }
                    sent.map_err(|error| StreamError::Closed {
                        source: Some(error),
                    })
                }))
                .await;
            match sent {
                Ok(0) => {
                    let error = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file ended before the range to send",
                    );
                    self.close_with(Some(copy_io_error(&error)));
                    return Some(Err(StreamError::Io(error)));
                }
                Ok(_) => {}
                Err(error) => {
                    if let StreamError::Closed {
                        source: Some(cause),
                    } = &error
                    {
                        self.close_with(Some(copy_io_error(cause)));
                    }
                    return Some(Err(error));
                }
            }
        }
        Some(Ok(count))
    }

    /// Reads the range in pieces and writes them (TLS, or systems without `sendfile`).
    async fn send_file_copying(
        &self,
        file: &std::fs::File,
        offset: u64,
        count: u64,
    ) -> Result<u64> {
        use std::os::unix::fs::FileExt;
        const PIECE: u64 = 64 * 1024;
        let mut buf = vec![0u8; usize::try_from(count.min(PIECE)).unwrap_or(64 * 1024)];
        let mut position = offset;
        let end = offset + count; // checked in send_file
        while position < end {
            let want = usize::try_from((end - position).min(buf.len() as u64)).unwrap_or(buf.len());
            let read = match file.read_at(&mut buf[..want], position) {
                Ok(0) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file ended before the range to send",
                )),
                other => other,
            };
            let n = match read {
                Ok(n) => n,
                Err(error) => {
                    self.close_with(Some(copy_io_error(&error)));
                    return Err(StreamError::Io(error));
                }
            };
            self.write(&buf[..n]).await?;
            position += n as u64;
        }
        Ok(count)
    }

    /// Counts `n` bytes as having reached the kernel.
    fn note_written(&self, n: usize) {
        self.written.set(self.written.get().wrapping_add(n as u64));
    }

    /// A count that moves whenever bytes of this stream reach the kernel.
    fn write_progress(&self) -> u64 {
        let transport = self
            .transport
            .borrow()
            .as_ref()
            .map_or(0, Transport::write_progress);
        self.written.get().wrapping_add(transport)
    }

    /// Awaits `wait` (a write waiting for the socket) under
    /// [`StreamOptions::write_timeout`]: once no byte has reached the kernel for that long, the
    /// wait fails with a `TimedOut` cause and the stream closes. A wait that completes at
    /// once costs nothing more.
    async fn within_write_timeout<T>(
        &self,
        wait: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let mut wait = pin!(wait);
        // Most writes finish at once: no clock reading, no timer.
        if let Poll::Ready(result) = poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await {
            return result;
        }
        match self.options.write_timeout {
            None => wait.await,
            // Boxed: the timed wait's state lives on the heap only while a write is blocked,
            // so every future that awaits a flush (a connection's, held while it is idle)
            // stays small.
            Some(limit) => Box::pin(self.wait_for_progress(wait, limit)).await,
        }
    }

    /// The blocked part of [`within_write_timeout`](Self::within_write_timeout). When the
    /// timer fires the socket is asked once more, so a stalled loop (a handler that blocked
    /// it) is not taken for a client that stopped reading.
    async fn wait_for_progress<T>(
        &self,
        mut wait: std::pin::Pin<&mut impl std::future::Future<Output = Result<T>>>,
        limit: Duration,
    ) -> Result<T> {
        let last_progress = Cell::new(Instant::now());
        let mut tracked = pin!(poll_fn(|cx| {
            let before = self.write_progress();
            let poll = wait.as_mut().poll(cx);
            if self.write_progress() != before {
                last_progress.set(Instant::now());
            }
            poll
        }));
        loop {
            let deadline = typhoon_ioloop::deadline_after(last_progress.get(), limit);
            if let Ok(result) = typhoon_ioloop::timeout_at(deadline, tracked.as_mut()).await {
                return result;
            }
            if last_progress.get().elapsed() < limit {
                continue; // bytes went out since the timer was set
            }
            self.recheck_readiness();
            let again = poll_fn(|cx| Poll::Ready(tracked.as_mut().poll(cx))).await;
            if let Poll::Ready(result) = again {
                return result;
            }
            if last_progress.get().elapsed() < limit {
                continue;
            }
            let error = io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no byte could be written for {limit:?} (write timeout)"),
            );
            self.close_with(Some(copy_io_error(&error)));
            return Err(StreamError::Closed {
                source: Some(error),
            });
        }
    }

    /// Writes everything queued, with `writev`, and waits until it reached the kernel.
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`] with the cause (a reset, a broken pipe) if the stream is or gets
    /// closed; the stream closes on write errors.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: unwritten bytes stay queued.
    pub async fn flush(&self) -> Result<()> {
        let result = self
            .within_write_timeout(poll_fn(|cx| self.poll_flush(cx)))
            .await;
        self.close_on_write_error(&result);
        result
    }

    /// Closes the stream with the cause of a failed write (a reset, a broken pipe).
    fn close_on_write_error(&self, result: &Result<()>) {
        if let Err(StreamError::Closed {
            source: Some(error),
        }) = result
        {
            self.close_with(Some(copy_io_error(error)));
        }
    }

    /// Writes the queue with `write` (given the queued slices, it returns how many bytes the
    /// socket took) until it is empty, the socket is full, or a write fails.
    fn poll_drain_queue(
        &self,
        mut write: impl FnMut(&[IoSlice<'_>]) -> Poll<io::Result<usize>>,
    ) -> Poll<Result<()>> {
        loop {
            let mut queue = self.write_queue.borrow_mut();
            if queue.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let count = queue.io_slices(&mut slices);
            match write(&slices[..count]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(StreamError::Closed {
                        source: Some(io::ErrorKind::WriteZero.into()),
                    }));
                }
                Poll::Ready(Ok(n)) => {
                    queue.advance(n);
                    self.note_written(n);
                }
                Poll::Ready(Err(error)) => {
                    return Poll::Ready(Err(StreamError::Closed {
                        source: Some(error),
                    }));
                }
            }
        }
    }

    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let transport = self.transport.borrow();
        let Some(transport) = transport.as_ref() else {
            return Poll::Ready(Err(self.closed_error()));
        };
        match self.poll_drain_queue(|slices| transport.poll_write(cx, slices)) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        match transport.poll_flush(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(StreamError::Closed {
                source: Some(error),
            })),
        }
    }
}

impl Drop for IOStream {
    fn drop(&mut self) {
        // Send a TLS close_notify if we can; plain sockets just close.
        #[cfg(feature = "tls")]
        if let Some(Transport::Tls(tls)) = self.transport.get_mut().as_ref() {
            tls.send_close_notify();
        }
    }
}

impl fmt::Debug for IOStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.transport.borrow().as_ref() {
            Some(Transport::Tcp(_)) => "tcp",
            Some(Transport::Unix(_)) => "unix",
            #[cfg(feature = "tls")]
            Some(Transport::Tls(_)) => "tls",
            None => "closed",
        };
        f.debug_struct("IOStream")
            .field("transport", &kind)
            .field("buffered", &self.read_buf.borrow().len())
            .field("queued", &self.write_queue.borrow().len())
            .field("eof", &self.eof.get())
            .finish()
    }
}

/// The position of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [] => Some(0),
        [byte] => haystack.iter().position(|b| b == byte),
        [first, rest @ ..] => {
            let mut from = 0;
            while let Some(pos) = haystack[from..].iter().position(|b| b == first) {
                let start = from + pos;
                if haystack[start + 1..].starts_with(rest) {
                    return Some(start);
                }
                from = start + 1;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn find_delimiters() {
        assert_eq!(find(b"abc\r\n\r\nx", b"\r\n\r\n"), Some(3));
        assert_eq!(find(b"abc\r\n\r", b"\r\n\r\n"), None);
        assert_eq!(find(b"\n", b"\n"), Some(0));
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(find(b"", b"ab"), None);
    }
}
