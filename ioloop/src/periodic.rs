//! `PeriodicCallback`: a callback run every period on the current loop.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::executor::{CatchUnwind, catch_unwind_call};

use crate::ioloop::IOLoop;
use crate::timer_queue::TimeoutHandle;

/// Runs a callback every `period` (Tornado's `PeriodicCallback`).
///
/// The period is measured from the start of one run to the start of the next. If a run takes
/// longer than the period (or the loop was blocked), the missed ticks are **skipped**, never
/// run in a burst: the next run is at the next multiple of the period on the original schedule.
/// With `jitter` `j`, each period is scaled by a random factor in `[1 - j/2, 1 + j/2]`.
///
/// A started callback keeps running until [`stop`](Self::stop) (clones share it), or until its
/// loop is dropped. A panic in the callback is caught and logged; the schedule goes on.
///
/// An async callback ([`with_async`](Self::with_async), Tornado 5.1's coroutine callbacks) is
/// awaited before the next run is scheduled, so runs never overlap: a run that outlasts the
/// period makes the ticks it covered be skipped, by the same rule.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use typhoon_ioloop::{IOLoop, PeriodicCallback, sleep};
///
/// let ticks = Rc::new(Cell::new(0));
/// let counter = Rc::clone(&ticks);
/// let periodic = PeriodicCallback::new(move || counter.set(counter.get() + 1), Duration::from_millis(5));
/// IOLoop::new().run_sync(async move {
///     periodic.start();
///     sleep(Duration::from_millis(30)).await;
///     periodic.stop();
/// });
/// assert!(ticks.get() >= 2);
/// ```
#[derive(Clone)]
pub struct PeriodicCallback {
    /// Shared by clones and by the pending timer.
    inner: Rc<PeriodicInner>,
}

/// A boxed future of an async periodic callback.
type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// The user's callback, of either kind.
enum Callback {
    /// Runs to its end inside the timer callback.
    Sync(Box<dyn FnMut()>),
    /// Returns a future, awaited in a task before the next run is scheduled.
    Async(Box<dyn FnMut() -> BoxFuture>),
}

/// The state of a periodic callback.
struct PeriodicInner {
    /// The user's callback.
    callback: RefCell<Callback>,
    /// Bumped by each `start`, so an async run still in flight from before a `stop` and a
    /// restart does not schedule a second timer when it ends.
    generation: Cell<u64>,
    /// The period.
    period: Duration,
    /// The jitter fraction (0 for none).
    jitter: Cell<f64>,
    /// Between `start` and `stop`.
    running: Cell<bool>,
    /// When the next run is due, on the original schedule.
    next_deadline: Cell<Option<Instant>>,
    /// The pending timer, and the loop it is on.
    pending: RefCell<Option<(IOLoop, TimeoutHandle)>>,
}

impl PeriodicCallback {
    /// A periodic callback, not yet started.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    pub fn new(callback: impl FnMut() + 'static, period: Duration) -> Self {
        Self::from_callback(Callback::Sync(Box::new(callback)), period)
    }

    /// A periodic callback whose runs are async, not yet started: each call's future is
    /// awaited (on the loop, as a task) before the next run is scheduled, as Tornado does for a
    /// callback that returns an awaitable. A run that takes longer than the period is not
    /// overlapped by the next; the ticks it covered are skipped.
    ///
    /// [`stop`](Self::stop) during a run lets that run finish and schedules no other.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use typhoon_ioloop::{IOLoop, PeriodicCallback, sleep};
    ///
    /// let runs = Rc::new(Cell::new(0));
    /// let counter = Rc::clone(&runs);
    /// let periodic = PeriodicCallback::with_async(
    ///     move || {
    ///         let counter = Rc::clone(&counter);
    ///         async move {
    ///             sleep(Duration::from_millis(2)).await; // an async health check, say
    ///             counter.set(counter.get() + 1);
    ///         }
    ///     },
    ///     Duration::from_millis(5),
    /// );
    /// IOLoop::new().run_sync(async move {
    ///     periodic.start();
    ///     sleep(Duration::from_millis(40)).await;
    ///     periodic.stop();
    /// });
    /// assert!(runs.get() >= 2);
    /// ```
    pub fn with_async<F, Fut>(mut callback: F, period: Duration) -> Self
    where
        F: FnMut() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Self::from_callback(
            Callback::Async(Box::new(move || Box::pin(callback()) as BoxFuture)),
            period,
        )
    }

    fn from_callback(callback: Callback, period: Duration) -> Self {
        assert!(
            !period.is_zero(),
            "PeriodicCallback period must be positive"
        );
        Self {
            inner: Rc::new(PeriodicInner {
                callback: RefCell::new(callback),
                generation: Cell::new(0),
                period,
                jitter: Cell::new(0.0),
                running: Cell::new(false),
                next_deadline: Cell::new(None),
                pending: RefCell::new(None),
            }),
        }
    }

    /// Randomises each period by ± `jitter` / 2 of itself (Tornado's `jitter`), so that many
    /// processes with the same period do not fire in lockstep. Clamped to `[0, 1]`.
    pub fn jitter(self, jitter: f64) -> Self {
        self.inner.jitter.set(jitter.clamp(0.0, 1.0));
        self
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.inner.period
    }

    /// Starts the schedule on the current loop: the first run is one period from now.
    pub fn start(&self) {
        if self.inner.running.replace(true) {
            return;
        }
        self.inner
            .generation
            .set(self.inner.generation.get().wrapping_add(1));
        self.inner.next_deadline.set(Some(Instant::now()));
        PeriodicInner::schedule_next(&self.inner, Instant::now());
    }

    /// Stops the schedule; a started run is not interrupted.
    pub fn stop(&self) {
        self.inner.running.set(false);
        let pending = self.inner.pending.borrow_mut().take();
        if let Some((ioloop, handle)) = pending {
            ioloop.remove_timeout(handle);
        }
    }

    /// Whether the callback is scheduled.
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }
}

impl PeriodicInner {
    /// The next deadline after `now`, skipping missed ticks (Tornado's `_update_next`).
    fn update_next(&self, now: Instant) -> Instant {
        let mut period = self.period.as_secs_f64();
        let jitter = self.jitter.get();
        if jitter > 0.0 {
            period *= 1.0 + jitter * (fastrand::f64() - 0.5);
        }
        // Periods too long for a `Duration` or an `Instant` mean "not in this process's life".
        let seconds = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX);
        let period = seconds(period.max(1e-6));
        let next = self.next_deadline.get().unwrap_or(now);
        let next = if next <= now {
            let behind = now.duration_since(next).as_secs_f64();
            let ticks = (behind / period.as_secs_f64()).floor() + 1.0;
            crate::timer::deadline_after(next, seconds(period.as_secs_f64() * ticks))
        } else {
            // The deadline is still ahead: advance one period.
            crate::timer::deadline_after(next, period)
        };
        self.next_deadline.set(Some(next));
        next
    }

    fn schedule_next(this: &Rc<Self>, now: Instant) {
        if !this.running.get() {
            return;
        }
        let deadline = this.update_next(now);
        let ioloop = IOLoop::current();
        let me = Rc::clone(this);
        let handle = ioloop.call_at(deadline, move || PeriodicInner::run(&me));
        *this.pending.borrow_mut() = Some((ioloop, handle));
    }

    fn run(this: &Rc<Self>) {
        if !this.running.get() {
            return;
        }
        this.pending.borrow_mut().take();
        // The borrow ends before any await: the callback may stop or inspect its own
        // PeriodicCallback.
        let future = {
            let mut callback = this.callback.borrow_mut();
            match &mut *callback {
                Callback::Sync(callback) => {
                    let _ = catch_unwind_call(callback, "periodic callback");
                    None
                }
                Callback::Async(callback) => catch_unwind_call(callback, "periodic callback").ok(),
            }
        };
        let Some(future) = future else {
            PeriodicInner::schedule_next(this, Instant::now());
            return;
        };
        let me = Rc::clone(this);
        let generation = this.generation.get();
        IOLoop::current()
            .spawn(async move {
                // A panic is logged by the wrapper; the schedule goes on, as Tornado's.
                let _ = CatchUnwind::new(future, "periodic callback", ()).await;
                if me.generation.get() == generation {
                    PeriodicInner::schedule_next(&me, Instant::now());
                }
            })
            .detach();
    }
}

impl fmt::Debug for PeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeriodicCallback")
            .field("period", &self.inner.period)
            .field("running", &self.inner.running.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_next_skips_missed_ticks() {
        let periodic = PeriodicCallback::new(|| {}, Duration::from_millis(10));
        let start = Instant::now();
        periodic.inner.next_deadline.set(Some(start));
        // 35 ms late: ticks at 10, 20, 30 are skipped, the next is 40.
        let next = periodic
            .inner
            .update_next(start + Duration::from_millis(35));
        assert_eq!(next, start + Duration::from_millis(40));
        // On time: exactly one period later.
        let next = periodic
            .inner
            .update_next(start + Duration::from_millis(40));
        assert_eq!(next, start + Duration::from_millis(50));
    }

    #[test]
    fn periods_past_any_instant_mean_never_not_a_panic() {
        for period in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
            let periodic = PeriodicCallback::new(|| {}, period);
            let start = Instant::now();
            let next = periodic.inner.update_next(start);
            assert!(
                next > start + Duration::from_secs(86_400 * 365 * 29),
                "{period:?}"
            );
            // Late (as after a stalled loop) as well as on time.
            periodic.inner.next_deadline.set(Some(start));
            let next = periodic.inner.update_next(start + Duration::from_secs(1));
            assert!(
                next > start + Duration::from_secs(86_400 * 365 * 29),
                "{period:?}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_half_the_fraction() {
        let periodic = PeriodicCallback::new(|| {}, Duration::from_millis(100)).jitter(0.5);
        for _ in 0..100 {
            let start = Instant::now();
            periodic
                .inner
                .next_deadline
                .set(Some(start + Duration::from_secs(1)));
            let next = periodic.inner.update_next(start);
            let period = next - (start + Duration::from_secs(1));
            assert!(
                period >= Duration::from_millis(75) && period <= Duration::from_millis(125),
                "{period:?}"
            );
        }
    }
}
