//! Futures that wait for time: `sleep`, `sleep_until`, `timeout`, `timeout_at`; and
//! `yield_now`.
//!
//! They register with the timer queue (`timer_queue.rs`) of the loop that polls them, reached
//! through the loop's engine; the clock is [`Instant`]: monotonic.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::engine::{self, Inner};
use crate::error::LoopError;
use crate::timer_queue::{TimeoutHandle, TimerAction};

/// A future that completes at a deadline; see [`sleep`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// When it completes.
    deadline: Instant,
    /// The registered timer and the loop it is registered with; `None` until first polled.
    timer: Option<(TimeoutHandle, Weak<Inner>)>,
    /// The waker the timer holds: polls from the same task skip the timer table.
    waker: Option<Waker>,
}

impl Sleep {
    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // The loop's time of its last wakeup is a lower bound of now: if it is past the
        // deadline, so is now (never early), and no clock read is needed. If it is not, the
        // timer (re)registered below fires at the deadline, precisely.
        if let Some((handle, weak)) = &self.timer
            && let Some(inner) = weak.upgrade()
        {
            if inner.cached_now() >= self.deadline {
                self.deregister();
                return Poll::Ready(());
            }
            // Same task as last time: the timer already holds its waker (a fired timer means
            // the loop's time passed the deadline, caught above).
            if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            let handle = *handle;
            if inner.timers().set_waker(handle, cx.waker()) {
                self.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            // The timer fired (and was removed): the deadline has passed.
            self.timer = None;
            return Poll::Ready(());
        }
        // First poll: read the clock once, so a deadline already passed (a zero timeout)
        // completes at once rather than after the next wait.
        let inner = engine::current();
        if inner.cached_now() >= self.deadline || Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let handle = inner
            .timers()
            .insert(self.deadline, TimerAction::Wake(Some(cx.waker().clone())));
        self.timer = Some((handle, Rc::downgrade(&inner)));
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Sleep {
    fn deregister(&mut self) {
        self.waker = None;
        if let Some((handle, weak)) = self.timer.take()
            && let Some(inner) = weak.upgrade()
        {
            // Drop the removed action after the borrow ends: it may hold a waker whose drop
            // reschedules a task.
            let removed = inner.timers().remove(handle);
            drop(removed);
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Completes after `duration` (Tornado's `gen.sleep`), on the loop that polls it.
///
/// # Cancel safety
///
/// Cancel-safe: dropping it removes its timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use typhoon_ioloop::{IOLoop, sleep};
///
/// let start = Instant::now();
/// IOLoop::new().run_sync(async { sleep(Duration::from_millis(10)).await });
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(Instant::now(), duration))
}

/// `from + duration`, or a point about 30 years on when that sum does not fit in an
/// `Instant` (`Duration::MAX` and the like, meaning "no deadline"), as tokio does: a long
/// timeout setting never panics.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use typhoon_ioloop::deadline_after;
///
/// let now = Instant::now();
/// assert_eq!(deadline_after(now, Duration::from_secs(5)), now + Duration::from_secs(5));
/// assert!(deadline_after(now, Duration::MAX) > now + Duration::from_secs(86_400 * 365 * 29));
/// ```
#[must_use]
pub fn deadline_after(from: Instant, duration: Duration) -> Instant {
    /// About 30 years: far beyond any process's life, well inside `Instant`'s range.
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    // `from + FAR` always fits: `Instant` counts seconds in an i64 from boot.
    from.checked_add(duration.min(FAR)).unwrap_or(from)
}

/// Completes at `deadline`.
///
/// # Cancel safety
///
/// Cancel-safe: dropping it removes its timer.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
        waker: None,
    }
}

/// Runs `future` with a deadline `duration` from now (Tornado's `gen.with_timeout`).
///
/// The returned [`Timeout`] resolves to `Ok(output)`, or to `Err(`[`LoopError::Timeout`]`)`
/// if the deadline passes first (`future` is then dropped with it).
///
/// # Cancel safety
///
/// Cancel-safe as far as `future` is: dropping the returned future drops `future` and removes
/// the timer. A future that completes in the same iteration the deadline passes wins.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_ioloop::{IOLoop, LoopError, sleep, timeout};
///
/// let result = IOLoop::new().run_sync(timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))));
/// assert!(matches!(result, Err(LoopError::Timeout)));
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(deadline_after(Instant::now(), duration), future)
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Cancel safety
///
/// As [`timeout`].
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// A future with a deadline; see [`timeout`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, LoopError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(value) = this.future.poll(cx) {
            return Poll::Ready(Ok(value));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(LoopError::Timeout)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline)
            .finish()
    }
}

/// Runs `future` with an optional deadline: `None` waits forever.
pub(crate) async fn maybe_timeout<F: Future>(
    duration: Option<Duration>,
    future: F,
) -> Result<F::Output, LoopError> {
    match duration {
        Some(duration) => timeout(duration, future).await,
        None => Ok(future.await),
    }
}

/// Allows the other tasks of the loop to run, then resumes (a yield point for long computations).
///
/// # Cancel safety
///
/// Cancel-safe.
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}
