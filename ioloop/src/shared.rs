//! The cross-thread half of a loop: what other threads reach through a `LoopHandle` or a
//! waker. That is the poller (whose `notify` wakes a loop blocked in `wait`), the queue of
//! callbacks and tasks sent from other threads, and the stop flag of `LoopHandle::stop`.
//!
//! The executor's schedule function needs only this, so it sits below both the executor and the
//! loop's engine (`engine.rs`), which drains the queue every iteration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_task::Runnable;
use polling::Poller;

/// The part of a loop that other threads reach through a [`LoopHandle`](crate::LoopHandle) or a
/// waker.
pub(crate) struct Shared {
    /// The poller; `notify` wakes a loop blocked in `wait`.
    pub(crate) poller: Arc<Poller>,
    /// Work sent from other threads.
    pub(crate) remote: Mutex<Remote>,
    /// Whether `remote` holds anything: lets each iteration skip the lock when it is empty.
    pub(crate) has_remote: AtomicBool,
    /// `LoopHandle::stop` was called.
    pub(crate) stop_requested: AtomicBool,
}

/// Work sent from other threads, drained by the loop every iteration.
#[derive(Default)]
pub(crate) struct Remote {
    /// `LoopHandle::add_callback`.
    pub(crate) callbacks: Vec<Box<dyn FnOnce() + Send>>,
    /// Tasks woken on other threads (and `LoopHandle::spawn`).
    pub(crate) tasks: Vec<Runnable>,
    /// The loop is gone: new work is dropped.
    pub(crate) closed: bool,
}

impl Shared {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Remote> {
        // A panic while holding this lock cannot leave `Remote` inconsistent (pushes and swaps).
        self.remote.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push_remote_task(&self, runnable: Runnable) {
        let mut remote = self.lock();
        if remote.closed {
            drop(remote);
            drop(runnable);
            return;
        }
        remote.tasks.push(runnable);
        self.has_remote.store(true, Ordering::Release);
        drop(remote);
        self.notify();
    }

    pub(crate) fn push_remote_callback(&self, callback: Box<dyn FnOnce() + Send>) -> bool {
        let mut remote = self.lock();
        if remote.closed {
            return false;
        }
        remote.callbacks.push(callback);
        self.has_remote.store(true, Ordering::Release);
        drop(remote);
        self.notify();
        true
    }

    pub(crate) fn notify(&self) {
        if let Err(error) = self.poller.notify() {
            tracing::error!(target: "typhoon::general", %error, "could not wake the event loop");
        }
    }
}
