//! The socket under an `IOStream`: plain TCP, a Unix-domain socket, or TLS over TCP, with the
//! non-blocking read, write, flush and shutdown of each. The stream calls these and does not
//! look at the kind of socket itself, so `stream.rs` needs no `cfg(feature = "tls")`.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::task::{Context, Poll};

use typhoon_ioloop::Async;

#[cfg(feature = "tls")]
use crate::tls::TlsTransport;

/// The socket under a stream.
pub(crate) enum Transport {
    /// Plain TCP.
    Tcp(Async<TcpStream>),
    /// A Unix-domain stream socket.
    Unix(Async<UnixStream>),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<TlsTransport>),
}

impl Transport {
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(socket) => poll_read_socket(socket, cx, buf),
            Transport::Unix(socket) => poll_read_socket(socket, cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_read(cx, buf),
        }
    }

    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(socket) => poll_write_socket(socket, cx, bufs),
            Transport::Unix(socket) => poll_write_socket(socket, cx, bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_write(cx, bufs),
        }
    }

    /// Pushes out bytes the transport itself buffers (TLS records).
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let _ = &cx; // used by the TLS arm only
        match self {
            Transport::Tcp(_) | Transport::Unix(_) => Poll::Ready(Ok(())),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_flush(cx),
        }
    }

    /// A count that moves when the transport itself got bytes out (TLS records); plain
    /// sockets have no buffer of their own, so the stream's count says it all.
    pub(crate) fn write_progress(&self) -> u64 {
        match self {
            Transport::Tcp(_) | Transport::Unix(_) => 0,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.records_written(),
        }
    }

    pub(crate) fn wake_waiters(&self) {
        match self {
            Transport::Tcp(socket) => socket.wake_waiters(),
            Transport::Unix(socket) => socket.wake_waiters(),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.socket().wake_waiters(),
        }
    }

    pub(crate) fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Transport::Tcp(socket) => Some(socket.get_ref()),
            Transport::Unix(_) => None,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Some(tls.socket().get_ref()),
        }
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Transport::Tcp(socket) => socket.get_ref().shutdown(Shutdown::Write),
            Transport::Unix(socket) => socket.get_ref().shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.shutdown_write(),
        }
    }

    /// Sends a TLS close_notify, best effort; plain sockets have nothing to send before closing.
    pub(crate) fn send_close_notify(&self) {
        match self {
            Transport::Tcp(_) | Transport::Unix(_) => {}
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.send_close_notify(),
        }
    }

    /// The kind of socket, for `Debug`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Transport::Tcp(_) => "tcp",
            Transport::Unix(_) => "unix",
            #[cfg(feature = "tls")]
            Transport::Tls(_) => "tls",
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
