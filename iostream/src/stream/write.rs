//! The write side of [`IOStream`]: queue, flush with `writev`, the write timeout. Sending a
//! file (`send_file`) is in `sendfile.rs`.

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
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

    /// Counts `n` bytes as having reached the kernel.
    pub(super) fn note_written(&self, n: usize) {
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
    pub(super) async fn within_write_timeout<T>(
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

    /// Writes what is queued as far as the socket takes it now, without waiting: `Ok(true)` when
    /// nothing is left queued. For a writer that queues to many streams from one task (a
    /// broadcast) and waits only for the few whose socket is full.
    ///
    /// Call it only while no other task waits in a write or flush of this stream: the stream
    /// keeps one waiting writer, and a socket found full would take its place. When it returns
    /// `Ok(false)`, what is left needs a [`flush`](Self::flush) (by a task of the caller's).
    ///
    /// # Errors
    ///
    /// As [`flush`](Self::flush); the stream closes on write errors.
    pub fn try_flush(&self) -> Result<bool> {
        let mut cx = Context::from_waker(Waker::noop());
        let result = match self.poll_flush(&mut cx) {
            Poll::Pending => return Ok(false),
            Poll::Ready(result) => result,
        };
        self.close_on_write_error(&result);
        result.map(|()| true)
    }

    /// Closes the stream with the cause of a failed write (a reset, a broken pipe).
    pub(super) fn close_on_write_error(&self, result: &Result<()>) {
        if let Err(StreamError::Closed {
            source: Some(error),
        }) = result
        {
            self.close_with(Some(copy_io_error(error)));
        }
    }

    /// Writes the queue with `write` (given the queued slices, it returns how many bytes the
    /// socket took) until it is empty, the socket is full, or a write fails.
    pub(super) fn poll_drain_queue(
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
