//! `IOLoop`, its cross-thread `LoopHandle`, and the loop's iteration.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use async_task::Runnable;
use polling::{PollMode, Poller};
use slab::Slab;

use crate::error::{LoopError, log_panic};
use crate::executor::{
    CatchUnwind, JoinHandle, LocalQueue, register_local_queue, schedule_fn, unregister_local_queue,
};
use crate::pool::ThreadPool;
use crate::reactor::{Entry, HandlerFn, Interest, Reactor, Readiness};
use crate::sys::Registration;
use crate::timer::{TimeoutHandle, TimerAction, Timers};
use crate::wait::EventBuffers;

/// How many task polls one iteration may run before the loop polls for I/O and fires timers
/// again: a task that keeps waking itself cannot starve I/O (tokio uses 61; a `Poller::wait`
/// costs five syscalls here, so a larger batch amortises it better).
const TASK_BUDGET: usize = 256;

/// Source of loop ids (the key of a loop's run queue in the thread-local table).
static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The thread's current loop (`IOLoop::current`).
    static CURRENT: RefCell<Option<IOLoop>> = const { RefCell::new(None) };
}

/// A single-threaded event loop and futures executor: Tornado's `IOLoop`.
///
/// One loop per thread is the usual shape; [`IOLoop::current`] returns the thread's loop. A
/// loop runs fd handlers, timers, callbacks and tasks, all on its own thread, so tasks need not
/// be `Send`. `IOLoop` is a cheap `Rc` handle: clones refer to the same loop. Work from other
/// threads goes through a [`LoopHandle`].
///
/// `IOLoop` is `!Send`:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<typhoon_ioloop::IOLoop>();
/// ```
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::IOLoop;
///
/// let ioloop = IOLoop::new();
/// let answer = ioloop.run_sync(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct IOLoop {
    /// The loop itself; `IOLoop` handles and running code share it.
    inner: Rc<Inner>,
}

/// The state of one loop. Only the loop's thread touches it; what other threads need is in
/// [`Shared`].
pub(crate) struct Inner {
    /// This loop's id, the key of its run queue in the thread-local queue table.
    id: u64,
    /// The part other threads reach: poller, remote queues, stop flag.
    shared: Arc<Shared>,
    /// Runnable tasks woken on this thread (no lock).
    tasks: Rc<LocalQueue>,
    /// `add_callback` callbacks, run in FIFO order; those added while running wait for the
    /// next iteration (Tornado's rule), so a callback that re-adds itself cannot starve I/O.
    callbacks: RefCell<VecDeque<Box<dyn FnOnce()>>>,
    /// Pending timeouts and sleeps.
    timers: RefCell<Timers>,
    /// fd handlers and async sources by poller key.
    reactor: RefCell<Reactor>,
    /// A waker of every live task spawned with `IOLoop::spawn`, so dropping the loop can cancel
    /// (and drop, on this thread) every task's future.
    active: RefCell<Slab<Waker>>,
    /// Waits for events, with its reused buffers.
    events: RefCell<EventBuffers>,
    /// True while `start`/`run_sync` drive the loop (a second start panics).
    running: Cell<bool>,
    /// Set by `stop()` on the loop's thread; consumed by `start`.
    stopping: Cell<bool>,
    /// The time read after the last wait: a lower bound of "now" that futures may use instead
    /// of reading the clock (a `Sleep` checks it before registering its timer).
    now: Cell<Instant>,
    /// The blocking-work pool of `run_in_executor`, started on first use.
    executor: RefCell<Option<Arc<ThreadPool>>>,
    /// The pool's thread limit.
    executor_threads: Cell<usize>,
}

/// The part of a loop that other threads reach through a [`LoopHandle`] or a waker.
pub(crate) struct Shared {
    /// The poller; `notify` wakes a loop blocked in `wait`.
    pub(crate) poller: Arc<Poller>,
    /// Work sent from other threads.
    remote: Mutex<Remote>,
    /// Whether `remote` holds anything: lets each iteration skip the lock when it is empty.
    has_remote: AtomicBool,
    /// `LoopHandle::stop` was called.
    stop_requested: AtomicBool,
}

/// Work sent from other threads, drained by the loop every iteration.
#[derive(Default)]
struct Remote {
    /// `LoopHandle::add_callback`.
    callbacks: Vec<Box<dyn FnOnce() + Send>>,
    /// Tasks woken on other threads (and `LoopHandle::spawn`).
    tasks: Vec<Runnable>,
    /// The loop is gone: new work is dropped.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remote> {
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

    fn push_remote_callback(&self, callback: Box<dyn FnOnce() + Send>) -> bool {
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

    fn notify(&self) {
        if let Err(error) = self.poller.notify() {
            tracing::error!(target: "typhoon::general", %error, "could not wake the event loop");
        }
    }
}

/// A `Send + Sync` handle to a loop, for other threads: Tornado's thread-safe
/// `IOLoop.add_callback`, plus `spawn` of `Send` futures and `stop`.
///
/// Each call wakes the loop at once if it is blocked waiting for events.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::IOLoop;
///
/// let ioloop = IOLoop::new();
/// let handle = ioloop.handle();
/// let thread = std::thread::spawn(move || {
///     handle.add_callback(|| IOLoop::current().stop());
/// });
/// ioloop.start(); // returns once the callback has run
/// thread.join().unwrap();
/// ```
#[derive(Clone)]
pub struct LoopHandle {
    /// The loop's cross-thread state.
    shared: Arc<Shared>,
    /// The loop's id, for the schedule function of spawned tasks.
    id: u64,
}

impl LoopHandle {
    /// Runs `callback` on the loop's thread at its next iteration. Returns `false` (and drops
    /// the callback) if the loop has been dropped.
    pub fn add_callback(&self, callback: impl FnOnce() + Send + 'static) -> bool {
        self.shared.push_remote_callback(Box::new(callback))
    }

    /// Spawns a `Send` future onto the loop.
    ///
    /// The task is not tracked for cancellation when the loop is dropped (its future is `Send`,
    /// so it is simply dropped wherever its last reference goes).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let future = CatchUnwind::new(future, "task", ());
        let (runnable, task) =
            async_task::spawn(future, schedule_fn(Arc::clone(&self.shared), self.id));
        runnable.schedule();
        JoinHandle::new(task)
    }

    /// Asks the loop to stop after its current iteration (see [`IOLoop::stop`]).
    pub fn stop(&self) {
        self.shared.stop_requested.store(true, Ordering::SeqCst);
        self.shared.notify();
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle").field("id", &self.id).finish()
    }
}

impl Default for IOLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl IOLoop {
    /// Creates a loop with the default executor size (5 × the number of CPUs, Tornado's
    /// default). It becomes current while it runs, or after [`make_current`](Self::make_current).
    ///
    /// # Panics
    ///
    /// If the OS refuses to create the poller (no fds left); [`try_new`](Self::try_new) reports
    /// that as an error instead.
    pub fn new() -> Self {
        Self::try_new().expect("could not create the event loop's poller")
    }

    /// Creates a loop.
    ///
    /// # Errors
    ///
    /// If the poller cannot be created (the process ran out of file descriptors).
    pub fn try_new() -> io::Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_executor_threads(5 * cpus)
    }

    /// Creates a loop whose [`run_in_executor`](Self::run_in_executor) pool runs at most
    /// `threads` blocking closures at once (at least one).
    ///
    /// # Errors
    ///
    /// If the poller cannot be created.
    pub fn with_executor_threads(threads: usize) -> io::Result<Self> {
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
        Ok(Self {
            inner: Rc::new(Inner {
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
            }),
        })
    }

    /// The thread's current loop: the running loop, or the one made current, or a new loop
    /// (made current) if the thread has none yet.
    pub fn current() -> IOLoop {
        if let Some(ioloop) = Self::try_current() {
            return ioloop;
        }
        let ioloop = IOLoop::new();
        ioloop.make_current();
        ioloop
    }

    /// The thread's current loop, if it has one.
    pub fn try_current() -> Option<IOLoop> {
        CURRENT
            .try_with(|current| current.borrow().clone())
            .ok()
            .flatten()
    }

    /// Makes this loop the thread's current loop.
    pub fn make_current(&self) {
        CURRENT.with(|current| *current.borrow_mut() = Some(self.clone()));
    }

    /// Clears the thread's current loop (the loop itself is dropped with its last handle).
    pub fn clear_current() {
        let previous = CURRENT.with(|current| current.borrow_mut().take());
        drop(previous);
    }

    /// A `Send + Sync` handle for other threads.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            shared: Arc::clone(&self.inner.shared),
            id: self.inner.id,
        }
    }

    /// Whether `start` or `run_sync` is driving this loop.
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }

    /// Runs the loop until [`stop`](Self::stop) is called (or [`LoopHandle::stop`]).
    ///
    /// A `stop` that arrives while the loop is not running makes the next `start` return after
    /// one iteration, so a stop sent from another thread just before the loop starts is not lost.
    ///
    /// # Panics
    ///
    /// If the loop is already running (`start` or `run_sync` called from inside the loop).
    pub fn start(&self) {
        let _running = self.enter();
        loop {
            self.run_once();
            if self.take_stop() {
                break;
            }
        }
    }

    /// Stops the loop after the current iteration: `start` returns.
    pub fn stop(&self) {
        self.inner.stopping.set(true);
    }

    /// Runs `future` on this loop until it completes, then returns its output (Tornado's
    /// `IOLoop.run_sync`). Other tasks keep running while it does, and stay on the loop after.
    ///
    /// # Panics
    ///
    /// If the loop is already running; if `future` panics (the panic is logged and re-raised
    /// here with its message); if the loop is stopped before `future` completes.
    pub fn run_sync<F>(&self, future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let mut handle = self.spawn(future);
        {
            let _running = self.enter();
            self.inner.stopping.set(false);
            self.inner
                .shared
                .stop_requested
                .store(false, Ordering::SeqCst);
            while !handle.is_finished() {
                self.run_once();
                if self.take_stop() && !handle.is_finished() {
                    panic!("IOLoop::run_sync: the loop was stopped before the future completed");
                }
            }
        }
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut handle).poll(&mut cx) {
            Poll::Ready(Ok(value)) => value,
            Poll::Ready(Err(LoopError::Panicked { message })) => panic!("{message}"),
            Poll::Ready(Err(error)) => {
                panic!("IOLoop::run_sync: the future did not complete: {error}")
            }
            Poll::Pending => unreachable!("a finished task is ready"),
        }
    }

    /// Like [`run_sync`](Self::run_sync), with a deadline (Tornado's `run_sync(timeout=...)`).
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`] if `future` did not complete within `timeout`; it is dropped.
    ///
    /// # Panics
    ///
    /// As `run_sync`.
    pub fn run_sync_timeout<F>(&self, timeout: Duration, future: F) -> Result<F::Output, LoopError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.run_sync(crate::timer::timeout(timeout, future))
    }

    /// The loop's clock: monotonic.
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// The time the loop read when it last woke up: a lower bound of now, free to read. Good
    /// for coarse deadlines (an idle timeout) and timestamps that need not be exact; use
    /// [`time`](Self::time) for the exact time.
    pub fn iteration_time(&self) -> Instant {
        self.inner.now.get()
    }

    /// Runs `callback` on the loop at its next iteration (after the callbacks already queued).
    /// A panic in it is caught and logged on `typhoon::application`.
    pub fn add_callback(&self, callback: impl FnOnce() + 'static) {
        self.inner
            .callbacks
            .borrow_mut()
            .push_back(Box::new(callback));
    }

    /// Runs `callback` once `delay` has passed (never earlier).
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce() + 'static) -> TimeoutHandle {
        self.call_at(
            crate::timer::deadline_after(Instant::now(), delay),
            callback,
        )
    }

    /// Runs `callback` at `deadline` (never earlier). Timers fire in deadline order; timers with
    /// the same deadline in the order they were added.
    pub fn call_at(&self, deadline: Instant, callback: impl FnOnce() + 'static) -> TimeoutHandle {
        self.inner
            .timers()
            .insert(deadline, TimerAction::Callback(Box::new(callback)))
    }

    /// Cancels a pending timeout. Returns whether it was still pending.
    pub fn remove_timeout(&self, handle: TimeoutHandle) -> bool {
        let removed = self.inner.timers().remove(handle);
        removed.is_some()
    }

    /// Spawns a future onto the loop (it need not be `Send`).
    ///
    /// The task starts at the loop's next iteration. A panic inside it is caught, logged on
    /// `typhoon::application`, and given to whoever awaits the handle as
    /// [`LoopError::Panicked`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use typhoon_ioloop::IOLoop;
    ///
    /// let ioloop = IOLoop::new();
    /// let shared = Rc::new(5); // not Send: fine on a loop
    /// let task = ioloop.spawn(async move { *shared * 2 });
    /// assert_eq!(ioloop.run_sync(task).unwrap(), 10);
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let inner = &self.inner;
        let index = inner.active.borrow().vacant_key();
        let guard = ActiveGuard {
            inner: Rc::downgrade(inner),
            index,
        };
        let future = CatchUnwind::new(future, "task", guard);
        let (runnable, task) =
            async_task::spawn_local(future, schedule_fn(Arc::clone(&inner.shared), inner.id));
        inner.active.borrow_mut().insert(runnable.waker());
        runnable.schedule();
        JoinHandle::new(task)
    }

    /// Runs a blocking closure on the loop's thread pool and awaits its result on the loop, so
    /// synchronous code (a `std::thread::sleep`, a blocking database driver) does not block the
    /// loop: Tornado's `IOLoop.run_in_executor`.
    ///
    /// At most `executor_threads` closures run at once (5 × CPUs by default); the rest queue.
    /// Threads start on demand and exit after 10 s idle. A panic in the closure is caught and
    /// reported as [`LoopError::Panicked`]. Dropping the handle before the closure starts
    /// cancels it; a closure already running finishes, its result discarded.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_ioloop::IOLoop;
    ///
    /// let ioloop = IOLoop::new();
    /// let sum = ioloop.run_sync(ioloop.run_in_executor(|| (1..=100).sum::<u32>()));
    /// assert_eq!(sum.unwrap(), 5050);
    /// ```
    pub fn run_in_executor<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let pool =
            Arc::clone(self.inner.executor.borrow_mut().get_or_insert_with(|| {
                Arc::new(ThreadPool::new(self.inner.executor_threads.get()))
            }));
        let future = CatchUnwind::new(async move { f() }, "run_in_executor closure", ());
        let (runnable, task) = async_task::spawn(future, move |runnable| pool.submit(runnable));
        runnable.schedule();
        JoinHandle::new(task)
    }

    /// Sets how many [`run_in_executor`](Self::run_in_executor) closures may run at once
    /// (Tornado's `set_default_executor(ThreadPoolExecutor(max_workers=n))`), for closures
    /// submitted from now on. Size it for the blocking work that must overlap: 40 concurrent
    /// one-second blocking calls need 40 threads to finish in one second.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_ioloop::IOLoop;
    ///
    /// let ioloop = IOLoop::new();
    /// ioloop.set_executor_threads(64);
    /// assert_eq!(ioloop.executor_threads(), 64);
    /// ```
    pub fn set_executor_threads(&self, threads: usize) {
        let threads = threads.max(1);
        self.inner.executor_threads.set(threads);
        if let Some(pool) = self.inner.executor.borrow().as_ref() {
            pool.set_max_threads(threads);
        }
    }

    /// How many executor closures may run at once.
    pub fn executor_threads(&self) -> usize {
        self.inner.executor_threads.get()
    }

    /// Registers `source` with the loop: `callback(fd, readiness)` runs whenever the fd is
    /// ready for `interest` (level-triggered, as Tornado's `add_handler`).
    ///
    /// The fd's lifetime rule: the loop keeps an `Rc` of `source` until the handler is removed
    /// (or the loop is dropped) and deregisters the fd before dropping it, so the fd cannot be
    /// closed while it is registered. The handler is addressed by the raw fd afterwards.
    ///
    /// # Errors
    ///
    /// If the fd is already registered with this loop (`AlreadyExists`), or the poller
    /// refuses it (for example a regular file, which epoll does not support).
    pub fn add_handler<S>(
        &self,
        source: Rc<S>,
        interest: Interest,
        callback: impl FnMut(RawFd, Readiness) + 'static,
    ) -> io::Result<()>
    where
        S: AsFd + 'static,
    {
        let fd = source.as_fd().as_raw_fd();
        let mut reactor = self.inner.reactor.borrow_mut();
        if reactor.handlers_by_fd.contains_key(&fd) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("fd {fd} already has a handler on this loop"),
            ));
        }
        let key = reactor.entries.vacant_key();
        let source: Rc<dyn AsFd> = source;
        let registration = Registration::new(
            &self.inner.shared.poller,
            source,
            interest.to_event(key),
            PollMode::Level,
        )?;
        reactor.next_generation += 1;
        let generation = reactor.next_generation;
        let callback: HandlerFn = Box::new(callback);
        reactor.entries.insert(Entry::Handler {
            registration,
            fd,
            callback: Some(callback),
            generation,
        });
        reactor.handlers_by_fd.insert(fd, key);
        Ok(())
    }

    /// Changes the interest of the handler of `fd`.
    ///
    /// # Errors
    ///
    /// `NotFound` if `fd` has no handler on this loop; or the poller's error.
    pub fn update_handler(&self, fd: RawFd, interest: Interest) -> io::Result<()> {
        let reactor = self.inner.reactor.borrow();
        let entry = reactor
            .handlers_by_fd
            .get(&fd)
            .and_then(|key| reactor.entries.get(*key).map(|entry| (*key, entry)));
        match entry {
            Some((key, Entry::Handler { registration, .. })) => {
                registration.modify(interest.to_event(key), PollMode::Level)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("fd {fd} has no handler on this loop"),
            )),
        }
    }

    /// Removes the handler of `fd` (also from inside its own callback): the fd is deregistered
    /// and the loop's `Rc` of its source dropped. Returns whether there was one.
    pub fn remove_handler(&self, fd: RawFd) -> bool {
        let removed = {
            let mut reactor = self.inner.reactor.borrow_mut();
            match reactor.handlers_by_fd.remove(&fd) {
                Some(key) => reactor.entries.try_remove(key),
                None => None,
            }
        };
        // Dropped outside the borrow: the callback's captures may touch the loop.
        removed.is_some()
    }

    /// Closes the loop: cancels (drops) every task, drops pending callbacks and timers and
    /// deregisters every fd. Also happens when the last handle is dropped.
    pub fn close(&self) {
        self.inner.close();
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    /// Marks the loop running and current for the duration of the guard.
    fn enter(&self) -> RunningGuard {
        assert!(
            !self.inner.running.get(),
            "IOLoop is already running: start() and run_sync() cannot be nested; \
             spawn the future or add a callback instead"
        );
        self.inner.running.set(true);
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        RunningGuard {
            ioloop: self.clone(),
            previous,
        }
    }

    fn take_stop(&self) -> bool {
        let local = self.inner.stopping.replace(false);
        let remote = self
            .inner
            .shared
            .stop_requested
            .swap(false, Ordering::SeqCst);
        local || remote
    }

    /// One iteration: wait for I/O (not at all if work is ready), dispatch events, take work
    /// from other threads, fire due timers, run the callbacks queued before this iteration, run
    /// up to [`TASK_BUDGET`] task polls.
    fn run_once(&self) {
        let inner = &*self.inner;
        inner.drain_remote();
        let has_work = !inner.tasks.borrow().is_empty() || !inner.callbacks.borrow().is_empty();
        let timeout = if has_work || inner.stopping.get() {
            Some(Duration::ZERO)
        } else {
            inner
                .timers()
                .next_deadline()
                .map(|deadline| deadline.saturating_duration_since(Instant::now()))
        };
        self.poll_io(timeout);
        inner.drain_remote();

        let now = Instant::now();
        inner.now.set(now);
        inner.timers().take_due(now);
        loop {
            let action = inner.timers().next_firing();
            match action {
                Some(TimerAction::Callback(callback)) => run_guarded("timeout callback", callback),
                Some(TimerAction::Wake(Some(waker))) => waker.wake(),
                Some(TimerAction::Wake(None)) => {}
                None => break,
            }
        }

        let queued = inner.callbacks.borrow().len();
        for _ in 0..queued {
            let callback = inner.callbacks.borrow_mut().pop_front();
            match callback {
                Some(callback) => run_guarded("callback", callback),
                None => break,
            }
        }

        for _ in 0..TASK_BUDGET {
            let runnable = inner.tasks.borrow_mut().pop_front();
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
        let inner = &*self.inner;
        let mut events = inner.events.borrow_mut();
        let result = events.wait(
            &inner.shared.poller,
            timeout,
            &mut |key, readable, writable| {
                inner.dispatch(key, readable, writable);
            },
        );
        if let Err(error) = result {
            tracing::error!(target: "typhoon::general", %error, "polling for I/O events failed");
            // Do not spin if the failure persists.
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Inner {
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
    fn close(&self) {
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
        if let Some(pool) = self.executor.borrow_mut().take() {
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
struct ActiveGuard {
    /// The loop (weak: a task must not keep its loop alive).
    inner: Weak<Inner>,
    /// The task's key in `Inner::active`.
    index: usize,
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
struct RunningGuard {
    /// The loop that was entered.
    ioloop: IOLoop,
    /// The thread's current loop before it.
    previous: Option<IOLoop>,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.ioloop.inner.running.set(false);
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

impl fmt::Debug for IOLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("IOLoop")
            .field("id", &inner.id)
            .field("running", &inner.running.get())
            .field("tasks", &inner.active.borrow().len())
            .field("timers", &*inner.timers.borrow())
            .field("reactor", &*inner.reactor.borrow())
            .finish()
    }
}
