//! The write side of [`IOStream`]: queue, flush with `writev`, `send_file`, the write timeout.

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::IOStream;
use crate::buffer::MAX_IOVECS;
use crate::error::{Result, StreamError, copy_io_error};
use crate::transport::Transport;

impl IOStream {
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
