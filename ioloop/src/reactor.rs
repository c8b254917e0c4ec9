//! The reactor: what each poller key stands for, and how events reach their owners.
//!
//! Two kinds of registration share one key space (a slab):
//!
//! - **fd handlers** (`IOLoop::add_handler`): Tornado's raw interface, level-triggered: the
//!   callback runs on every iteration in which the fd is ready for the requested interest.
//! - **async sources** ([`Async`](crate::Async)): edge-triggered, registered once for both
//!   directions. An event records readiness and wakes the task waiting for that direction; a
//!   task clears readiness only when an operation returns `WouldBlock`. No `epoll_ctl` per
//!   operation, no oneshot re-arm.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::ops::BitOr;
use std::os::fd::{AsFd, RawFd};
use std::rc::Rc;
use std::task::Waker;

use polling::Event;
use slab::Slab;

use crate::sys::Registration;

/// Which readiness an fd handler is interested in.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Interest {
    /// Interested in readability (Tornado's `IOLoop.READ`).
    readable: bool,
    /// Interested in writability (Tornado's `IOLoop.WRITE`).
    writable: bool,
}

impl Interest {
    /// Readability: data to read, a peer that closed, or an error (`IOLoop.READ`).
    pub const READABLE: Interest = Interest {
        readable: true,
        writable: false,
    };
    /// Writability: room in the send buffer, or an error (`IOLoop.WRITE`).
    pub const WRITABLE: Interest = Interest {
        readable: false,
        writable: true,
    };
    /// No interest: the fd stays registered but its handler is not called.
    pub const NONE: Interest = Interest {
        readable: false,
        writable: false,
    };

    /// Whether readability is requested.
    pub fn is_readable(self) -> bool {
        self.readable
    }

    /// Whether writability is requested.
    pub fn is_writable(self) -> bool {
        self.writable
    }

    pub(crate) fn to_event(self, key: usize) -> Event {
        Event::new(key, self.readable, self.writable)
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        Interest {
            readable: self.readable || other.readable,
            writable: self.writable || other.writable,
        }
    }
}

/// What an fd was found ready for, passed to an fd handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// Readable, or hung up, or in error (reads will not block).
    pub readable: bool,
    /// Writable, or in error (writes will not block).
    pub writable: bool,
}

/// An fd handler's callback: called with the fd and its readiness.
pub(crate) type HandlerFn = Box<dyn FnMut(RawFd, Readiness)>;

/// One poller key.
pub(crate) enum Entry {
    /// `add_handler`.
    Handler {
        /// Owns the source so the fd outlives the registration.
        registration: Registration<Rc<dyn AsFd>>,
        /// The raw fd, the handler's identity in Tornado's API.
        fd: RawFd,
        /// Taken out while the callback runs, so the callback may update or remove itself.
        callback: Option<HandlerFn>,
        /// Bumped by every `add_handler`, so a callback put back after running never lands
        /// on a different handler that reused the key.
        generation: u64,
    },
    /// An [`Async`](crate::Async) source; the registration itself lives in the `Async`.
    Source(Rc<SourceState>),
}

/// The readiness state of one async source, shared by the reactor and the `Async` handle.
#[derive(Default)]
pub(crate) struct SourceState {
    /// Set by an event, cleared by an operation that returned `WouldBlock`.
    pub(crate) readable: Cell<bool>,
    /// Set by an event, cleared by an operation that returned `WouldBlock`.
    pub(crate) writable: Cell<bool>,
    /// The task waiting to read, if any.
    pub(crate) reader: RefCell<Option<Waker>>,
    /// The task waiting to write, if any.
    pub(crate) writer: RefCell<Option<Waker>>,
}

impl SourceState {
    /// Records an event and wakes the waiting tasks.
    pub(crate) fn on_event(&self, readable: bool, writable: bool) {
        if readable {
            self.readable.set(true);
            if let Some(waker) = self.reader.borrow_mut().take() {
                waker.wake();
            }
        }
        if writable {
            self.writable.set(true);
            if let Some(waker) = self.writer.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    /// Wakes every waiter (the source is going away).
    pub(crate) fn wake_all(&self) {
        self.on_event(true, true);
    }
}

/// All registrations of one loop.
#[derive(Default)]
pub(crate) struct Reactor {
    /// Every registration, by poller key.
    pub(crate) entries: Slab<Entry>,
    /// fd → key, for Tornado's fd-addressed `update_handler`/`remove_handler`.
    pub(crate) handlers_by_fd: HashMap<RawFd, usize>,
    /// Source of `Entry::Handler::generation`.
    pub(crate) next_generation: u64,
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("registrations", &self.entries.len())
            .field("handlers", &self.handlers_by_fd.len())
            .finish()
    }
}
