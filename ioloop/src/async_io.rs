//! `Async<T>`: the readiness primitive the stream layer is built on (async-io's pattern).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use polling::{Event, PollMode};

use crate::engine::Inner;
use crate::ioloop::IOLoop;
use crate::reactor::{Entry, SourceState};
use crate::sys::Registration;

/// An I/O object (socket, pipe, any `AsFd`) registered with the current loop, with async
/// readiness and the retry-until-not-`WouldBlock` operations built on it.
///
/// The fd is registered once, edge-triggered, for both directions. An event marks the source
/// readable or writable; [`read_with`](Self::read_with) runs the operation while the source is
/// marked ready and, when it returns `WouldBlock`, clears the mark and waits for the next event.
/// So a busy connection costs no `epoll_ctl` per operation.
///
/// One task may wait to read and one to write at a time (a stream's reader and writer); a second
/// concurrent reader replaces the first one's waker.
///
/// The fd's lifetime rule: `Async` owns `T` and deregisters the fd before dropping it.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use typhoon_ioloop::{Async, IOLoop};
///
/// IOLoop::new().run_sync(async {
///     let (a, b) = UnixStream::pair()?;
///     let (a, b) = (Async::new(a)?, Async::new(b)?);
///     a.write_with(|s| (&*s).write(b"ping")).await?;
///     let mut buf = [0u8; 4];
///     let n = b.read_with(|s| (&*s).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Async<T: AsFd> {
    /// Owns the I/O object; deregisters it on drop.
    registration: Registration<T>,
    /// Readiness and wakers, shared with the reactor.
    state: Rc<SourceState>,
    /// Removes the reactor entry when the `Async` goes away.
    entry: EntryGuard,
}

/// Removes an async source's reactor entry on drop.
struct EntryGuard {
    /// The poller key.
    key: usize,
    /// The loop it is registered with (weak: an `Async` must not keep its loop alive).
    ioloop: Weak<Inner>,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.ioloop.upgrade() {
            let removed = inner.reactor().entries.try_remove(self.key);
            drop(removed);
        }
    }
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the current loop.
    ///
    /// # Errors
    ///
    /// If the fd cannot be made non-blocking or the poller refuses it.
    pub fn new(io: T) -> io::Result<Self> {
        rustix::io::ioctl_fionbio(io.as_fd(), true)?;
        Self::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already put in non-blocking mode (saves a syscall
    /// per accepted socket when `accept4(SOCK_NONBLOCK)` did it).
    ///
    /// # Errors
    ///
    /// If the poller refuses the fd.
    pub fn new_nonblocking(io: T) -> io::Result<Self> {
        let ioloop = IOLoop::current();
        let inner = ioloop.inner();
        let state = Rc::new(SourceState::default());
        // Optimistic: try the first operation before waiting for an event (a fresh connection
        // usually has its request waiting). A `WouldBlock` clears it.
        state.readable.set(true);
        state.writable.set(true);
        let mut reactor = inner.reactor();
        let key = reactor.entries.vacant_key();
        let registration = Registration::new(inner.poller(), io, Event::all(key), PollMode::Edge)?;
        reactor.entries.insert(Entry::Source(Rc::clone(&state)));
        Ok(Self {
            registration,
            state,
            entry: EntryGuard {
                key,
                ioloop: ioloop.downgrade(),
            },
        })
    }

    /// The I/O object.
    pub fn get_ref(&self) -> &T {
        self.registration.source()
    }

    /// Deregisters and returns the I/O object (still non-blocking).
    pub fn into_inner(self) -> T {
        let Async {
            registration,
            entry,
            ..
        } = self;
        drop(entry);
        registration.into_inner()
    }

    /// Waits until the source is readable (or the peer hung up, or it is in error).
    ///
    /// # Errors
    ///
    /// None today; `io::Result` leaves room for a loop that is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the source is writable.
    ///
    /// # Errors
    ///
    /// As [`readable`](Self::readable).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// Polls for readability; registers the task's waker if not ready.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.state.readable.get() {
            return Poll::Ready(Ok(()));
        }
        store_waker(&self.state.reader, cx);
        Poll::Pending
    }

    /// Polls for writability; registers the task's waker if not ready.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.state.writable.get() {
            return Poll::Ready(Ok(()));
        }
        store_waker(&self.state.writer, cx);
        Poll::Pending
    }

    /// Marks the source ready both ways and wakes the tasks waiting on it. A stream calls this
    /// when it closes from one task while another waits to read or write, so the waiter runs,
    /// sees the close and returns an error instead of waiting forever.
    pub fn wake_waiters(&self) {
        self.state.wake_all();
    }

    /// Forgets read readiness, so the next read waits for an event. Only safe when no event can
    /// have been missed: after a short read the socket's data is drained, but a FIN that arrived
    /// with the data raised no separate edge, so clearing then can hide an EOF. Prefer letting
    /// an operation's `WouldBlock` clear it.
    pub fn clear_readable(&self) {
        self.state.readable.set(false);
    }

    /// Forgets write readiness (after a short write).
    pub fn clear_writable(&self) {
        self.state.writable.set(false);
    }

    /// Runs `op` until it returns something other than `WouldBlock`, waiting for readability in
    /// between.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe if `op` is: it is only called when it can make progress, and its result is
    /// returned at once.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Runs `op` until it returns something other than `WouldBlock`, waiting for writability in
    /// between.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// As [`read_with`](Self::read_with).
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }

    /// The poll form of [`read_with`](Self::read_with), for hand-written futures.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if !self.state.readable.get() {
                store_waker(&self.state.reader, cx);
                return Poll::Pending;
            }
            match op(self.get_ref()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.state.readable.set(false);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// The poll form of [`write_with`](Self::write_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if !self.state.writable.get() {
                store_waker(&self.state.writer, cx);
                return Poll::Pending;
            }
            match op(self.get_ref()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.state.writable.set(false);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }
}

/// Stores `cx`'s waker in `slot` unless an equivalent one is there.
fn store_waker(slot: &std::cell::RefCell<Option<std::task::Waker>>, cx: &Context<'_>) {
    let mut slot = slot.borrow_mut();
    match &*slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("io", self.get_ref())
            .field("key", &self.entry.key)
            .finish()
    }
}
