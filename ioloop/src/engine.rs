//! The loop's engine: the state of one loop ([`Inner`]), the thread's current loop, and what
//! drives it. One iteration (`run_once`) waits for I/O, dispatches events, takes work from other
//! threads, fires due timers, runs callbacks and polls tasks; `close` cancels everything on the
//! loop's thread; guards mark a loop running and keep the set of live tasks.
//!
//! `Inner` owns the timer queue, the reactor and the event buffers; the public face over it is
//! `IOLoop` (`ioloop.rs`), and the timer futures (`timer.rs`) and `Async` sources reach it here.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use async_task::Runnable;
use polling::Poller;
use slab::Slab;

use crate::error::log_panic;
use crate::executor::{LocalQueue, register_local_queue, unregister_local_queue};
use crate::pool::ThreadPool;
use crate::reactor::{Entry, Reactor, Readiness};
use crate::shared::{Remote, Shared};
use crate::timer_queue::{TimerAction, Timers};
use crate::wait::EventBuffers;

/// How many task polls one iteration may run before the loop polls for I/O and fires timers
/// again: a task that keeps waking itself cannot starve I/O (tokio uses 61; a `Poller::wait`
/// costs five syscalls here, so a larger batch amortises it better).
const TASK_BUDGET: usize = 256;

/// Source of loop ids (the key of a loop's run queue in the thread-local table).
static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The thread's current loop (`IOLoop::current`).
    static CURRENT: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

/// The state of one loop (behind every `IOLoop` handle). Only the loop's thread touches it; what
/// other threads need is in [`Shared`].
pub(crate) struct Inner {
    /// This loop's id, the key of its run queue in the thread-local queue table.
    pub(crate) id: u64,
    /// The part other threads reach: poller, remote queues, stop flag.
    pub(crate) shared: Arc<Shared>,
    /// Runnable tasks woken on this thread (no lock).
    pub(crate) tasks: Rc<LocalQueue>,
    /// `add_callback` callbacks, run in FIFO order; those added while running wait for the
    /// next iteration (Tornado's rule), so a callback that re-adds itself cannot starve I/O.
    pub(crate) callbacks: RefCell<VecDeque<Box<dyn FnOnce()>>>,
    /// Pending timeouts and sleeps.
    pub(crate) timers: RefCell<Timers>,
    /// fd handlers and async sources by poller key.
    pub(crate) reactor: RefCell<Reactor>,
    /// A waker of every live task spawned with `IOLoop::spawn`, so dropping the loop can cancel
    /// (and drop, on this thread) every task's future.
    pub(crate) active: RefCell<Slab<Waker>>,
    /// Waits for events, with its reused buffers.
    pub(crate) events: RefCell<EventBuffers>,
    /// True while `start`/`run_sync` drive the loop (a second start panics).
    pub(crate) running: Cell<bool>,
    /// Set by `stop()` on the loop's thread; consumed by `start`.
    pub(crate) stopping: Cell<bool>,
    /// The time read after the last wait: a lower bound of "now" that futures may use instead
    /// of reading the clock (a `Sleep` checks it before registering its timer).
    pub(crate) now: Cell<Instant>,
    /// The blocking-work pool of `run_in_executor`, started on first use.
    pub(crate) executor: RefCell<Option<Arc<ThreadPool>>>,
    /// The pool's thread limit.
    pub(crate) executor_threads: Cell<usize>,
    /// Whether the loop started `executor` itself (and so shuts it down on close), rather than
    /// being given a shared [`Executor`](crate::Executor) by `set_default_executor`.
    pub(crate) executor_owned: Cell<bool>,
}

/// The thread's current loop, if it has one (`IOLoop::try_current`).
pub(crate) fn try_current() -> Option<Rc<Inner>> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// The thread's current loop: the running loop, or the one made current, or a new loop (made
/// current) if the thread has none yet (`IOLoop::current`).
pub(crate) fn current() -> Rc<Inner> {
    if let Some(inner) = try_current() {
        return inner;
    }
    let inner = Inner::new_default();
    make_current(&inner);
    inner
}

/// Makes `inner` the thread's current loop (`IOLoop::make_current`).
pub(crate) fn make_current(inner: &Rc<Inner>) {
    CURRENT.with(|current| *current.borrow_mut() = Some(Rc::clone(inner)));
}

/// Clears the thread's current loop (`IOLoop::clear_current`).
pub(crate) fn clear_current() {
    let previous = CURRENT.with(|current| current.borrow_mut().take());
    drop(previous);
}

impl Inner {
    /// A new loop whose executor pool runs at most `threads` closures at once (at least one):
    /// `IOLoop::with_executor_threads`.
    pub(crate) fn new(threads: usize) -> io::Result<Rc<Inner>> {
        let poller = Arc::new(Poller::new()?);
        let id = NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed);
        let tasks = Rc::new(LocalQueue::default());
        register_local_queue(id, Rc::clone(&tasks));
        let shared = Arc::new(Shared {
            poller,
            remote: Mutex::new(Remote::default()),
            has_remote: AtomicBool::new(false),
            stop_requested: AtomicBool::new(false),
        });
        Ok(Rc::new(Inner {
            id,
            shared,
            tasks,
            callbacks: RefCell::new(VecDeque::new()),
            timers: RefCell::new(Timers::default()),
            reactor: RefCell::new(Reactor::default()),
            active: RefCell::new(Slab::new()),
            events: RefCell::new(EventBuffers::new()),
            running: Cell::new(false),
            stopping: Cell::new(false),
            now: Cell::new(Instant::now()),
            executor: RefCell::new(None),
            executor_threads: Cell::new(threads.max(1)),
            executor_owned: Cell::new(true),
        }))
    }

    /// A new loop with the default executor size, 5 × the number of CPUs (`IOLoop::try_new`).
    pub(crate) fn try_new_default() -> io::Result<Rc<Inner>> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(5 * cpus)
    }

    /// `IOLoop::new`: as [`try_new_default`](Self::try_new_default), panicking if the poller
    /// cannot be created.
    pub(crate) fn new_default() -> Rc<Inner> {
        Self::try_new_default().expect("could not create the event loop's poller")
    }

    /// Marks the loop running and current for the duration of the guard.
    pub(crate) fn enter(self: &Rc<Self>) -> RunningGuard {
        assert!(
            !self.running.get(),
            "IOLoop is already running: start() and run_sync() cannot be nested; \
             spawn the future or add a callback instead"
        );
        self.running.set(true);
        let previous = CURRENT.with(|current| current.borrow_mut().replace(Rc::clone(self)));
        RunningGuard {
            inner: Rc::clone(self),
            previous,
            _log_batch: typhoon_options::line_batch::batch_this_thread(),
        }
    }

    /// Consumes a stop request, local (`IOLoop::stop`) or remote (`LoopHandle::stop`).
    pub(crate) fn take_stop(&self) -> bool {
        let local = self.stopping.replace(false);
        let remote = self.shared.stop_requested.swap(false, Ordering::SeqCst);
        local || remote
    }

    /// One iteration: wait for I/O (not at all if work is ready), dispatch events, take work
    /// from other threads, fire due timers, run the callbacks queued before this iteration, run
    /// up to [`TASK_BUDGET`] task polls.
    pub(crate) fn run_once(&self) {
        self.drain_remote();
        let has_work = !self.tasks.borrow().is_empty() || !self.callbacks.borrow().is_empty();
        let timeout = if has_work || self.stopping.get() {
            Some(Duration::ZERO)
        } else {
            self.timers()
                .next_deadline()
                .map(|deadline| deadline.saturating_duration_since(Instant::now()))
        };
        self.poll_io(timeout);
        self.drain_remote();

        let now = Instant::now();
        self.now.set(now);
        self.timers().take_due(now);
        loop {
            let action = self.timers().next_firing();
            match action {
                Some(TimerAction::Callback(callback)) => run_guarded("timeout callback", callback),
                Some(TimerAction::Wake(Some(waker))) => waker.wake(),
                Some(TimerAction::Wake(None)) => {}
                None => break,
            }
        }

        let queued = self.callbacks.borrow().len();
        for _ in 0..queued {
            let callback = self.callbacks.borrow_mut().pop_front();
            match callback {
                Some(callback) => run_guarded("callback", callback),
                None => break,
            }
        }

        for _ in 0..TASK_BUDGET {
            let runnable = self.tasks.borrow_mut().pop_front();
            match runnable {
                Some(runnable) => {
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| runnable.run())) {
                        log_panic("task", crate::error::panic_message(&*payload));
                    }
                }
                None => break,
            }
        }
    }

    fn poll_io(&self, timeout: Option<Duration>) {
        // This iteration's log lines go out before the loop waits: none is held while it sleeps.
        typhoon_options::line_batch::flush_this_thread();
        let mut events = self.events.borrow_mut();
        let result = events.wait(
            &self.shared.poller,
            timeout,
            &mut |key, readable, writable| {
                self.dispatch(key, readable, writable);
            },
        );
        if let Err(error) = result {
            tracing::error!(target: "typhoon::general", %error, "polling for I/O events failed");
            // Do not spin if the failure persists.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub(crate) fn timers(&self) -> RefMut<'_, Timers> {
        self.timers.borrow_mut()
    }

    /// The time read after the loop's last wait (never later than the real time).
    pub(crate) fn cached_now(&self) -> Instant {
        self.now.get()
    }

    pub(crate) fn poller(&self) -> &Arc<Poller> {
        &self.shared.poller
    }

    pub(crate) fn reactor(&self) -> RefMut<'_, Reactor> {
        self.reactor.borrow_mut()
    }

    /// Moves work sent by other threads into the local queues.
    fn drain_remote(&self) {
        if !self.shared.has_remote.load(Ordering::Acquire) {
            return;
        }
        let (callbacks, tasks) = {
            let mut remote = self.shared.lock();
            self.shared.has_remote.store(false, Ordering::Release);
            (
                std::mem::take(&mut remote.callbacks),
                std::mem::take(&mut remote.tasks),
            )
        };
        if !callbacks.is_empty() {
            let mut local = self.callbacks.borrow_mut();
            local.extend(callbacks.into_iter().map(|cb| cb as Box<dyn FnOnce()>));
        }
        if !tasks.is_empty() {
            self.tasks.borrow_mut().extend(tasks);
        }
    }

    /// Delivers one poller event to its registration.
    fn dispatch(&self, key: usize, readable: bool, writable: bool) {
        let mut reactor = self.reactor.borrow_mut();
        match reactor.entries.get_mut(key) {
            Some(Entry::Source(state)) => {
                let state = Rc::clone(state);
                drop(reactor);
                state.on_event(readable, writable);
            }
            Some(Entry::Handler {
                fd,
                callback,
                generation,
                ..
            }) => {
                let Some(mut taken) = callback.take() else {
                    return;
                };
                let (fd, generation) = (*fd, *generation);
                drop(reactor);
                let readiness = Readiness { readable, writable };
                run_guarded("fd handler", || taken(fd, readiness));
                let mut reactor = self.reactor.borrow_mut();
                if let Some(Entry::Handler {
                    callback,
                    generation: current,
                    ..
                }) = reactor.entries.get_mut(key)
                    && *current == generation
                    && callback.is_none()
                {
                    *callback = Some(taken);
                    return;
                }
                drop(reactor);
                drop(taken);
            }
            None => {}
        }
    }

    /// Cancels every task and drops every callback, timer and registration, on this thread.
    pub(crate) fn close(&self) {
        for _ in 0..16 {
            // Wake every live task so its runnable lands in the local queue, then drop the
            // runnables: that cancels the tasks and drops their futures here, on the loop's
            // thread (they may hold `Rc`s). Dropping futures can wake or free other tasks, hence
            // the loop until nothing is left.
            let wakers: Vec<Waker> = self.active.borrow_mut().drain().collect();
            for waker in wakers {
                waker.wake();
            }
            self.drain_remote();
            let runnables: Vec<Runnable> = self.tasks.borrow_mut().drain(..).collect();
            let callbacks: Vec<_> = self.callbacks.borrow_mut().drain(..).collect();
            let timers = self.timers().clear();
            let entries: Vec<Entry> = {
                let mut reactor = self.reactor.borrow_mut();
                reactor.handlers_by_fd.clear();
                reactor.entries.drain().collect()
            };
            let done = runnables.is_empty()
                && callbacks.is_empty()
                && timers.is_empty()
                && entries.is_empty();
            for entry in &entries {
                if let Entry::Source(state) = entry {
                    state.wake_all();
                }
            }
            drop((runnables, callbacks, timers, entries));
            if done && self.active.borrow().is_empty() {
                break;
            }
        }
        if let Some(pool) = self.executor.borrow_mut().take()
            && self.executor_owned.get()
        {
            pool.shutdown();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
        {
            let mut remote = self.shared.lock();
            remote.closed = true;
        }
        self.drain_remote_on_drop();
        unregister_local_queue(self.id);
    }
}

impl Inner {
    fn drain_remote_on_drop(&self) {
        let (callbacks, tasks) = {
            let mut remote = self.shared.lock();
            (
                std::mem::take(&mut remote.callbacks),
                std::mem::take(&mut remote.tasks),
            )
        };
        drop((callbacks, tasks));
        let runnables: Vec<Runnable> = self.tasks.borrow_mut().drain(..).collect();
        drop(runnables);
    }
}

/// Removes a task from the loop's live set when its future completes or is dropped.
pub(crate) struct ActiveGuard {
    /// The loop (weak: a task must not keep its loop alive).
    pub(crate) inner: Weak<Inner>,
    /// The task's key in `Inner::active`.
    pub(crate) index: usize,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            let removed = inner
                .active
                .try_borrow_mut()
                .ok()
                .and_then(|mut active| active.try_remove(self.index));
            drop(removed);
        }
    }
}

/// Restores the previous current loop and clears `running` when `start`/`run_sync` returns.
pub(crate) struct RunningGuard {
    /// The loop that was entered.
    inner: Rc<Inner>,
    /// The thread's current loop before it.
    previous: Option<Rc<Inner>>,
    /// Log lines are batched on this thread while the loop runs, and written before each wait
    /// and when it stops.
    _log_batch: typhoon_options::line_batch::BatchGuard,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.inner.running.set(false);
        let previous = self.previous.take();
        let replaced =
            CURRENT.try_with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
        drop(replaced);
    }
}

/// Runs a callback, catching and logging a panic.
fn run_guarded(what: &str, callback: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(callback)) {
        log_panic(what, crate::error::panic_message(&*payload));
    }
}
