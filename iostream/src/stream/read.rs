//! The read side of [`IOStream`]: fill the buffer, answer reads from it, one reader at a time.

use std::cell::{Cell, Ref};
use std::future::poll_fn;
use std::task::{Context, Poll};

use super::IOStream;
use crate::buffer::ReadBuffer;
use crate::error::{Result, StreamError, close_cause};

impl IOStream {
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
        let _reading = ReadGuard::acquire(&self.reading)?;
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

    /// Closes the stream for a read error, keeping its cause: an I/O error as it is, a stream
    /// error (a limit, an unsatisfiable read) as the payload of the cause, so that a later
    /// reader can still match it ([`StreamError::close_reason`]). A clean EOF closes nothing.
    fn close_on_error(&self, error: &StreamError) {
        if matches!(error, StreamError::AlreadyReading) {
            return; // the pending read owns the stream; it is not broken
        }
        if let Some(cause) = close_cause(error) {
            self.close_with(Some(cause));
        }
    }

    /// Reads up to and including `delimiter`.
    ///
    /// # Errors
    ///
    /// [`StreamError::UnsatisfiableRead`] (and the stream closes) if `max_bytes` bytes arrive
    /// without the delimiter, or the delimiter ends past `max_bytes`;
    /// [`StreamError::Closed`] if the stream closes first; [`StreamError::BufferFull`] past
    /// `max_buffer_size`; [`StreamError::AlreadyReading`] if another read is pending.
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
            if self.rescan.replace(false) {
                scanned = 0; // bytes were consumed under this read: its position is stale
            }
            let data = buf.data();
            let from = scanned.min(data.len()).saturating_sub(delimiter.len() - 1);
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
    /// `max_buffer_size`; [`StreamError::AlreadyReading`] if another read is pending.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn read_bytes(&self, n: usize, partial: bool) -> Result<Vec<u8>> {
        self.read_op(|buf, _eof| {
            let available = buf.len();
            if available >= n || (partial && available > 0) {
                Some(Ok(buf.take(n.min(available))))
            } else if n == 0 {
                Some(Ok(Vec::new()))
            } else {
                // At EOF `read_op` answers `Closed`, with the cause if an error closed it.
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
        self.read_op(|buf, _eof| {
            let available = buf.len();
            if available >= wanted || (partial && available > 0) {
                let n = wanted.min(available);
                out[..n].copy_from_slice(&buf.data()[..n]);
                buf.consume(n);
                Some(Ok(n))
            } else if wanted == 0 {
                Some(Ok(0))
            } else {
                // At EOF `read_op` answers `Closed`, with the cause if an error closed it.
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
    /// cause if an error (not a clean EOF) ends the stream; [`StreamError::AlreadyReading`] if
    /// another read is pending.
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
    /// [`StreamError::Closed`] on errors (the stream closes) or if closed;
    /// [`StreamError::AlreadyReading`] if another read is pending.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn fill_buffer(&self) -> Result<usize> {
        let _reading = ReadGuard::acquire(&self.reading)?;
        let result = poll_fn(|cx| self.poll_fill(cx)).await;
        if let Err(error) = &result {
            self.close_on_error(error);
        }
        result
    }

    /// The buffered, unconsumed bytes. Do not hold the borrow across an `.await`.
    ///
    /// With [`consume`](Self::consume) and [`fill_buffer`](Self::fill_buffer) this is the
    /// in-place parsing API; use it from the one task that reads, not while another read is
    /// pending.
    pub fn read_buffer(&self) -> Ref<'_, [u8]> {
        Ref::map(self.read_buf.borrow(), ReadBuffer::data)
    }

    /// Drops `n` bytes from the front of the read buffer.
    ///
    /// Meant for the task that reads, between reads. Called while another task's read is
    /// pending, it takes bytes from under that read (which then rescans what is left).
    pub fn consume(&self, n: usize) {
        self.read_buf.borrow_mut().consume(n);
        if self.reading.get() {
            self.rescan.set(true);
        }
    }

    /// Gives the read buffer (if empty) and the write queue's spare chunk back to the thread's
    /// pools, and frees the write queue's chunk list if it grew: an idle connection (a
    /// keep-alive one between requests, a WebSocket between messages) holds no buffer, and the
    /// next read or write takes one from the pools without allocating.
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
}

/// Marks a stream as having a pending read for as long as it lives: a read future holds one
/// from its first poll until it completes or is dropped, so a cancelled read frees the stream.
struct ReadGuard<'a> {
    /// The stream's `reading` flag.
    flag: &'a Cell<bool>,
}

impl<'a> ReadGuard<'a> {
    /// Takes the stream's one read slot.
    ///
    /// # Errors
    ///
    /// [`StreamError::AlreadyReading`] if another read holds it.
    fn acquire(flag: &'a Cell<bool>) -> Result<Self> {
        if flag.replace(true) {
            return Err(StreamError::AlreadyReading);
        }
        Ok(Self { flag })
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        self.flag.set(false);
    }
}

/// The position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
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
