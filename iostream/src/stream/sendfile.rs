//! Sending a file on an [`IOStream`]: `send_file`, with `sendfile(2)` on Linux over plain
//! sockets (after the queued head goes out with `MSG_MORE`), else copied in 64 KiB pieces by
//! [`write_file_range`] (`file_range.rs`).

#[cfg(any(target_os = "linux", target_os = "android"))]
use std::future::poll_fn;
use std::io;
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::net::TcpStream;
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::os::unix::net::UnixStream;
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::task::Poll;

use super::IOStream;
use crate::error::{Result, StreamError, copy_io_error};
use crate::file_range::write_file_range;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::transport::Transport;

impl IOStream {
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
        let copied = write_file_range(file, offset, count, async |piece: &[u8]| {
            self.write(piece).await
        })
        .await;
        // `write` fails with `Closed` or `BufferFull`, never `Io`: an `Io` error is the file's
        // (unreadable, or shorter than the range), and the response is cut short.
        if let Err(StreamError::Io(error)) = &copied {
            self.close_with(Some(copy_io_error(error)));
        }
        copied
    }
}
