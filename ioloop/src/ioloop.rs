//! `IOLoop`, the public face of a loop, and `LoopHandle`, its `Send + Sync` handle for other
//! threads. The loop's state and iteration are in `engine.rs`; the cross-thread half that a
//! `LoopHandle` reaches is in `shared.rs`.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use polling::PollMode;

use crate::engine::{self, ActiveGuard, Inner};
use crate::error::LoopError;
use crate::executor::{CatchUnwind, JoinHandle, schedule_fn};
use crate::pool::{Executor, ThreadPool};
use crate::reactor::{Entry, HandlerFn, Interest, Readiness};
use crate::shared::Shared;
use crate::sys::Registration;
use crate::timer_queue::{TimeoutHandle, TimerAction};

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
        Self {
            inner: Inner::new_default(),
        }
    }

    /// Creates a loop.
    ///
    /// # Errors
    ///
    /// If the poller cannot be created (the process ran out of file descriptors).
    pub fn try_new() -> io::Result<Self> {
        Inner::try_new_default().map(|inner| Self { inner })
    }

    /// Creates a loop whose [`run_in_executor`](Self::run_in_executor) pool runs at most
    /// `threads` blocking closures at once (at least one).
    ///
    /// # Errors
    ///
    /// If the poller cannot be created.
    pub fn with_executor_threads(threads: usize) -> io::Result<Self> {
        Inner::new(threads).map(|inner| Self { inner })
    }

    /// The thread's current loop: the running loop, or the one made current, or a new loop
    /// (made current) if the thread has none yet.
    pub fn current() -> IOLoop {
        IOLoop {
            inner: engine::current(),
        }
    }

    /// The thread's current loop, if it has one.
    pub fn try_current() -> Option<IOLoop> {
        engine::try_current().map(|inner| IOLoop { inner })
    }

    /// Makes this loop the thread's current loop.
    pub fn make_current(&self) {
        engine::make_current(&self.inner);
    }

    /// Clears the thread's current loop (the loop itself is dropped with its last handle).
    pub fn clear_current() {
        engine::clear_current();
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
        let _running = self.inner.enter();
        loop {
            self.inner.run_once();
            if self.inner.take_stop() {
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
            let _running = self.inner.enter();
            self.inner.stopping.set(false);
            self.inner
                .shared
                .stop_requested
                .store(false, Ordering::SeqCst);
            while !handle.is_finished() {
                self.inner.run_once();
                if self.inner.take_stop() && !handle.is_finished() {
                    // Not left running on the loop (a dropped handle would detach it).
                    handle.cancel();
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

    /// Runs `future` and then, on the loop, `callback` with its outcome: Tornado's
    /// `IOLoop.add_future(future, callback)`.
    ///
    /// The callback runs at the loop iteration after the future completes (as Tornado schedules
    /// it with `add_callback`), with `Ok(output)`, or `Err(`[`LoopError::Panicked`]`)` if the
    /// future panicked (Tornado's callback would see the exception on `future.result()`). The
    /// future runs as a detached task: nothing is returned to cancel it, as in Tornado; spawn it
    /// yourself and keep the [`JoinHandle`] if it must be stoppable. A panic in the callback is
    /// caught and logged on `typhoon::application`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use typhoon_ioloop::{IOLoop, sleep};
    ///
    /// let ioloop = IOLoop::new();
    /// let seen = Rc::new(Cell::new(0));
    /// let slot = Rc::clone(&seen);
    /// ioloop.add_future(async { 6 * 7 }, move |result| slot.set(result.unwrap()));
    /// ioloop.run_sync(sleep(Duration::from_millis(1)));
    /// assert_eq!(seen.get(), 42);
    /// ```
    pub fn add_future<F>(
        &self,
        future: F,
        callback: impl FnOnce(Result<F::Output, LoopError>) + 'static,
    ) where
        F: Future + 'static,
        F::Output: 'static,
    {
        let ioloop = self.clone();
        self.spawn(async move {
            let outcome = CatchUnwind::new(future, "add_future future", ()).await;
            ioloop.add_callback(move || callback(outcome));
        })
        .detach();
    }

    /// Calls `callback` at the loop's next iteration and runs the future it returns to
    /// completion as a detached task: Tornado's `IOLoop.spawn_callback`.
    ///
    /// The same as `spawn(async move { callback().await }).detach()`: nothing can cancel it but
    /// the loop's own end. A panic in `callback` or its future is caught and logged on
    /// `typhoon::application`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use typhoon_ioloop::{IOLoop, yield_now};
    ///
    /// let ioloop = IOLoop::new();
    /// let done = Rc::new(Cell::new(false));
    /// let flag = Rc::clone(&done);
    /// ioloop.spawn_callback(move || async move { flag.set(true) });
    /// ioloop.run_sync(yield_now());
    /// assert!(done.get());
    /// ```
    pub fn spawn_callback<C, F>(&self, callback: C)
    where
        C: FnOnce() -> F + 'static,
        F: Future<Output = ()> + 'static,
    {
        self.spawn(async move { callback().await }).detach();
    }

    /// Runs a blocking closure on the loop's default thread pool and awaits its result on the
    /// loop, so synchronous code (a `std::thread::sleep`, a blocking database driver) does not
    /// block the loop: Tornado's `IOLoop.run_in_executor(None, func)`.
    ///
    /// At most `executor_threads` closures run at once (5 × CPUs by default); the rest queue.
    /// Threads start on demand and exit after 10 s idle. A panic in the closure is caught and
    /// reported as [`LoopError::Panicked`]. Dropping the handle detaches the closure;
    /// [`JoinHandle::cancel`] before it starts keeps it from running, and a closure already
    /// running finishes, its result discarded. For a pool of its own (a database pool apart
    /// from CPU work), see [`run_in_executor_on`](Self::run_in_executor_on).
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
        pool.submit_closure(f)
    }

    /// Runs a blocking closure on `executor`, a pool of the caller's, and awaits its result on
    /// the loop: Tornado's `IOLoop.run_in_executor(executor, func)` with an executor of one's
    /// own. Otherwise as [`run_in_executor`](Self::run_in_executor); a closure given to a shut
    /// down executor is never run and its handle gives [`LoopError::Cancelled`].
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_ioloop::{Executor, IOLoop};
    ///
    /// let db = Executor::with_name("db", 4);
    /// let ioloop = IOLoop::new();
    /// let rows = ioloop.run_sync(ioloop.run_in_executor_on(&db, || vec!["alice", "bob"]));
    /// assert_eq!(rows.unwrap().len(), 2);
    /// ```
    pub fn run_in_executor_on<F, T>(&self, executor: &Executor, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        executor.pool().submit_closure(f)
    }

    /// Makes `executor` the pool of [`run_in_executor`](Self::run_in_executor) (Tornado's
    /// `set_default_executor`), for closures submitted from now on. The loop does not shut a
    /// given executor down when it closes (others may share it); closures already running on
    /// the previous default (and those queued there) finish there.
    pub fn set_default_executor(&self, executor: &Executor) {
        self.inner
            .executor_threads
            .set(executor.pool().max_threads());
        // The previous default is not shut down: what it queued still runs, then its threads
        // leave when idle.
        let previous = self
            .inner
            .executor
            .borrow_mut()
            .replace(Arc::clone(executor.pool()));
        drop(previous);
        self.inner.executor_owned.set(false);
    }

    /// The pool of [`run_in_executor`](Self::run_in_executor), started now if it was not yet.
    pub fn default_executor(&self) -> Executor {
        let pool =
            Arc::clone(self.inner.executor.borrow_mut().get_or_insert_with(|| {
                Arc::new(ThreadPool::new(self.inner.executor_threads.get()))
            }));
        Executor::from_pool(pool)
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
