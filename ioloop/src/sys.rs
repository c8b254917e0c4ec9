//! The one place in Typhoon that uses `unsafe`: registering a file descriptor with the poller,
//! and taking ownership of the listening sockets a process inherits (socket activation).
//!
//! `polling::Poller::add` is unsafe because the poller keeps referring to the fd after the call:
//! if the fd were closed (and its number reused) while still registered, events for some other
//! file would be delivered under our key. [`Registration`] makes that impossible by construction:
//! it *owns* the source whose fd it registers, and its `Drop` deletes the registration before the
//! source (and so the fd) is dropped. Nothing can close the fd while the registration exists,
//! because nothing else owns it.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use polling::{Event, PollMode, Poller};

/// A source registered with a poller, owning the source so the fd outlives the registration.
///
/// The lifetime rule: the fd stays open for as long as `source` lives, and `source` lives until
/// after `Poller::delete` has run in `Drop` (or in [`Registration::into_inner`]).
pub(crate) struct Registration<S: AsFd> {
    /// The poller the fd is registered with; shared with the loop so a registration may outlive
    /// neither the poller nor the fd.
    poller: Arc<Poller>,
    /// The owned source; `None` only transiently inside `into_inner`.
    source: Option<S>,
}

impl<S: AsFd> Registration<S> {
    /// Registers `source` with `poller` under `interest.key` in `mode`.
    pub(crate) fn new(
        poller: &Arc<Poller>,
        source: S,
        interest: Event,
        mode: PollMode,
    ) -> io::Result<Self> {
        let fd = source.as_fd().as_raw_fd();
        // SAFETY: `source` is moved into the returned `Registration`, which calls
        // `Poller::delete` in `Drop`/`into_inner` before `source` is dropped, so `fd` stays
        // open (and is not reused) for as long as it is registered. On error nothing is
        // registered and `source` is dropped normally.
        unsafe { poller.add_with_mode(fd, interest, mode)? };
        Ok(Self {
            poller: Arc::clone(poller),
            source: Some(source),
        })
    }

    /// The registered source.
    pub(crate) fn source(&self) -> &S {
        self.source
            .as_ref()
            .expect("invariant: the source is present until into_inner")
    }

    /// Changes the interest (and mode) of the registration.
    pub(crate) fn modify(&self, interest: Event, mode: PollMode) -> io::Result<()> {
        self.poller
            .modify_with_mode(self.source().as_fd(), interest, mode)
    }

    /// Deregisters and hands back the source.
    pub(crate) fn into_inner(mut self) -> S {
        let source = self
            .source
            .take()
            .expect("invariant: the source is present until into_inner");
        // Ignore the error: the only failure is "not registered", which leaves nothing to undo.
        let _ = self.poller.delete(source.as_fd());
        source
    }
}

impl<S: AsFd> Drop for Registration<S> {
    fn drop(&mut self) {
        if let Some(source) = self.source.take() {
            let _ = self.poller.delete(source.as_fd());
            drop(source);
        }
    }
}

impl<S: AsFd> std::fmt::Debug for Registration<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("fd", &self.source.as_ref().map(|s| s.as_fd().as_raw_fd()))
            .finish()
    }
}

/// Takes ownership of `fd` if it is an open, listening TCP stream socket (IPv4 or IPv6);
/// `None` (touching nothing) otherwise.
///
/// Only [`inherited::take_inherited_listeners`](crate::inherited) calls it, once per process,
/// with the fds the socket-activation environment names for this very process (its pid): the
/// parent (systemd, or this process before it re-executed itself) left them open across
/// `exec`, so they were open before this program ran any code, and nothing in it can have
/// opened an fd of the same number while they stay open; no Rust value of this process owns
/// them.
pub(crate) fn adopt_inherited_listener(fd: RawFd) -> Option<OwnedFd> {
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` is only borrowed for the checks below, which fail cleanly (EBADF) if it is
    // not open; the borrow ends before this function returns or takes ownership.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let stat = rustix::fs::fstat(borrowed).ok()?;
    let is_socket =
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Socket;
    let inet = matches!(
        rustix::net::sockopt::socket_domain(borrowed).ok()?,
        rustix::net::AddressFamily::INET | rustix::net::AddressFamily::INET6
    );
    if !is_socket
        || !inet
        || rustix::net::sockopt::socket_type(borrowed).ok()? != rustix::net::SocketType::STREAM
        || !rustix::net::sockopt::socket_acceptconn(borrowed).ok()?
    {
        return None;
    }
    // SAFETY: `fd` is open and a listening socket (checked above), inherited across `exec` for
    // this process to own (see the function's docs: the caller adopts each inherited fd once,
    // and nothing else in the process owns it), so the returned `OwnedFd` is its only owner.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
