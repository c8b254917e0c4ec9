//! Tornado's `tornado.locks` for the tasks of one loop: [`Condition`], [`Event`],
//! [`Semaphore`], [`BoundedSemaphore`] and [`Lock`].
//!
//! They coordinate tasks, not threads: no OS lock, no atomics; all are `!Send` and cheap to
//! clone (clones share the primitive). Every wait is cancel-safe: a dropped wait leaves the
//! queue, and a turn it was given passes to the next waiter.

use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use crate::error::{LoopError, Result};
use crate::timer::timeout;
use crate::wait_queue::{QueuePlace, WaitQueue};

/// Tasks wait until another task notifies them (Tornado's `locks.Condition`).
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{IOLoop, locks::Condition};
///
/// let ioloop = IOLoop::new();
/// let condition = Condition::new();
/// let waiter = ioloop.spawn({
///     let condition = condition.clone();
///     async move { condition.wait().await; "notified" }
/// });
/// // Tasks run in spawn order: the waiter is queued by the time this one notifies.
/// let result = ioloop.run_sync(async move {
///     assert_eq!(condition.notify_all(), 1);
///     waiter.await
/// });
/// assert_eq!(result.unwrap(), "notified");
/// ```
#[derive(Clone, Default)]
pub struct Condition {
    /// The waiting tasks.
    waiters: Rc<WaitQueue>,
}

impl Condition {
    /// A condition with no waiters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for a notification. The task is queued when the future is first polled.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped wait leaves the queue (a notification it already received is
    /// lost with it, as in Tornado).
    pub async fn wait(&self) {
        let mut waiter = QueuePlace::new(&self.waiters, false);
        poll_fn(|cx| {
            if waiter.poll_notified() {
                waiter.done();
                return Poll::Ready(());
            }
            waiter.wait(cx);
            Poll::Pending
        })
        .await;
    }

    /// Waits for a notification for at most `duration`: true if notified, false on timeout
    /// (Tornado's `wait(timeout)`).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait_timeout(&self, duration: Duration) -> bool {
        timeout(duration, self.wait()).await.is_ok()
    }

    /// Wakes up to `n` waiters, oldest first; returns how many were woken.
    pub fn notify(&self, n: usize) -> usize {
        self.waiters.notify(n)
    }

    /// Wakes every waiter; returns how many were woken.
    pub fn notify_all(&self) -> usize {
        self.waiters.notify_all()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.has_waiters())
            .finish()
    }
}

/// A flag tasks can wait for (Tornado's `locks.Event`).
#[derive(Clone, Default)]
pub struct Event {
    /// The flag and its waiters.
    inner: Rc<EventInner>,
}

/// The state of an [`Event`].
#[derive(Default)]
struct EventInner {
    /// Whether the event is set.
    set: std::cell::Cell<bool>,
    /// Tasks waiting for `set`.
    waiters: WaitQueue,
}

impl Event {
    /// An event that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.inner.set.get()
    }

    /// Sets the event, waking every waiter. Later waits return at once until [`clear`](Self::clear).
    pub fn set(&self) {
        self.inner.set.set(true);
        self.inner.waiters.notify_all();
    }

    /// Clears the event: later waits block until the next [`set`](Self::set).
    pub fn clear(&self) {
        self.inner.set.set(false);
    }

    /// Waits until the event is set.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait(&self) {
        let mut waiter = QueuePlace::new(&self.inner.waiters, false);
        poll_fn(|cx| {
            if self.inner.set.get() || waiter.poll_notified() {
                waiter.done();
                return Poll::Ready(());
            }
            waiter.wait(cx);
            Poll::Pending
        })
        .await;
    }

    /// Waits until the event is set, for at most `duration`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait_timeout(&self, duration: Duration) -> Result<()> {
        timeout(duration, self.wait()).await
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// A counter of permits tasks acquire and release (Tornado's `locks.Semaphore`).
///
/// Waiters are served in FIFO order.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{IOLoop, locks::Semaphore};
///
/// IOLoop::new().run_sync(async {
///     let semaphore = Semaphore::new(1);
///     let guard = semaphore.acquire().await;
///     assert!(semaphore.try_acquire().is_none());
///     drop(guard);
///     assert!(semaphore.try_acquire().is_some());
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    /// The counter and its waiters.
    inner: Rc<SemaphoreInner>,
}

/// The state of a semaphore.
struct SemaphoreInner {
    /// Permits available.
    value: std::cell::Cell<usize>,
    /// For a bounded semaphore, the most permits there may be.
    bound: Option<usize>,
    /// Tasks waiting for a permit.
    waiters: WaitQueue,
}

impl SemaphoreInner {
    fn release(&self) -> Result<()> {
        let value = self.value.get();
        if self.bound.is_some_and(|bound| value >= bound) {
            return Err(LoopError::SemaphoreReleasedTooManyTimes);
        }
        self.value.set(value + 1);
        self.waiters.notify_one();
        Ok(())
    }
}

impl Semaphore {
    /// A semaphore with `value` permits.
    pub fn new(value: usize) -> Self {
        Self::with_bound(value, None)
    }

    fn with_bound(value: usize, bound: Option<usize>) -> Self {
        Self {
            inner: Rc::new(SemaphoreInner {
                value: std::cell::Cell::new(value),
                bound,
                waiters: WaitQueue::default(),
            }),
        }
    }

    /// Permits available now.
    pub fn value(&self) -> usize {
        self.inner.value.get()
    }

    /// Takes a permit if one is free and nobody is queued for it.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard> {
        let inner = &*self.inner;
        if inner.value.get() > 0 && !inner.waiters.has_waiters() {
            inner.value.set(inner.value.get() - 1);
            Some(self.guard())
        } else {
            None
        }
    }

    /// Waits for a permit; the guard gives it back when dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped wait takes no permit and passes its turn on.
    pub async fn acquire(&self) -> SemaphoreGuard {
        let inner = &*self.inner;
        let mut waiter = QueuePlace::new(&inner.waiters, true);
        poll_fn(|cx| {
            // `may_take` first: it also collects a notification, which a waiter that then finds
            // nothing must carry back into the queue (at the front); checked second, a turn
            // taken by someone else would leave this waiter out of the queue for good.
            if waiter.may_take() && inner.value.get() > 0 {
                inner.value.set(inner.value.get() - 1);
                waiter.done();
                return Poll::Ready(());
            }
            waiter.wait(cx);
            Poll::Pending
        })
        .await;
        self.guard()
    }

    /// Waits for a permit for at most `duration`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn acquire_timeout(&self, duration: Duration) -> Result<SemaphoreGuard> {
        timeout(duration, self.acquire()).await
    }

    /// Adds a permit (for permits taken with [`SemaphoreGuard::forget`]).
    pub fn release(&self) {
        // Unbounded: cannot fail.
        let _ = self.inner.release();
    }

    fn guard(&self) -> SemaphoreGuard {
        SemaphoreGuard {
            inner: Some(Rc::clone(&self.inner)),
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A held permit of a [`Semaphore`] (or [`BoundedSemaphore`]); released when dropped.
#[must_use = "dropping the guard releases the permit at once"]
pub struct SemaphoreGuard {
    /// The semaphore; `None` after `forget`.
    inner: Option<Rc<SemaphoreInner>>,
}

impl SemaphoreGuard {
    /// Keeps the permit: it is not released when the guard is dropped (release it later with
    /// `Semaphore::release`).
    pub fn forget(mut self) {
        self.inner = None;
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // A guard holds a permit it took, so even a bounded release cannot overflow.
            let _ = inner.release();
        }
    }
}

impl fmt::Debug for SemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish()
    }
}

/// A semaphore that refuses to be released above its initial value (Tornado's
/// `locks.BoundedSemaphore`).
#[derive(Clone)]
pub struct BoundedSemaphore {
    /// The semaphore, created with a bound.
    semaphore: Semaphore,
}

impl BoundedSemaphore {
    /// A semaphore with `value` permits, never more.
    pub fn new(value: usize) -> Self {
        Self {
            semaphore: Semaphore::with_bound(value, Some(value)),
        }
    }

    /// Permits available now.
    pub fn value(&self) -> usize {
        self.semaphore.value()
    }

    /// As [`Semaphore::try_acquire`].
    pub fn try_acquire(&self) -> Option<SemaphoreGuard> {
        self.semaphore.try_acquire()
    }

    /// As [`Semaphore::acquire`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn acquire(&self) -> SemaphoreGuard {
        self.semaphore.acquire().await
    }

    /// As [`Semaphore::acquire_timeout`].
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn acquire_timeout(&self, duration: Duration) -> Result<SemaphoreGuard> {
        self.semaphore.acquire_timeout(duration).await
    }

    /// Adds a permit.
    ///
    /// # Errors
    ///
    /// [`LoopError::SemaphoreReleasedTooManyTimes`] if that would exceed the initial value.
    pub fn release(&self) -> Result<()> {
        self.semaphore.inner.release()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A lock for tasks (Tornado's `locks.Lock`): one holder at a time, waiters in FIFO order.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{IOLoop, locks::Lock};
///
/// IOLoop::new().run_sync(async {
///     let lock = Lock::new();
///     let guard = lock.acquire().await;
///     assert!(lock.is_locked());
///     drop(guard);
///     assert!(!lock.is_locked());
/// });
/// ```
#[derive(Clone)]
pub struct Lock {
    /// A one-permit semaphore.
    semaphore: BoundedSemaphore,
}

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

impl Lock {
    /// An unlocked lock.
    pub fn new() -> Self {
        Self {
            semaphore: BoundedSemaphore::new(1),
        }
    }

    /// Whether some task holds the lock.
    pub fn is_locked(&self) -> bool {
        self.semaphore.value() == 0
    }

    /// Takes the lock if it is free and nobody is queued.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard> {
        self.semaphore.try_acquire()
    }

    /// Waits for the lock; the guard unlocks when dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn acquire(&self) -> SemaphoreGuard {
        self.semaphore.acquire().await
    }

    /// Waits for the lock for at most `duration`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn acquire_timeout(&self, duration: Duration) -> Result<SemaphoreGuard> {
        self.semaphore.acquire_timeout(duration).await
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.is_locked())
            .finish()
    }
}
