//! The bounded thread pool behind `IOLoop::run_in_executor`, and [`Executor`], its public
//! handle for named pools of one's own (Tornado's `ThreadPoolExecutor` passed to
//! `run_in_executor`).
//!
//! Jobs are `async-task` runnables of `Send` futures that complete in one poll (the blocking
//! closure). Threads start on demand up to the limit and exit after [`IDLE_TIMEOUT`] without
//! work, so an idle process keeps no threads.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_task::Runnable;

use crate::executor::{CatchUnwind, JoinHandle};

/// How long a worker waits for a job before exiting.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bounded pool of worker threads.
pub(crate) struct ThreadPool {
    /// The worker threads' name (`typhoon-executor`, or an [`Executor`]'s own).
    name: String,
    /// Queue and counters, under one lock.
    state: Mutex<PoolState>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
}

/// The pool's mutable state.
#[derive(Default)]
struct PoolState {
    /// The most threads that may run at once.
    max_threads: usize,
    /// Jobs waiting for a thread.
    queue: VecDeque<Runnable>,
    /// Live worker threads.
    threads: usize,
    /// Workers waiting for a job.
    idle: usize,
    /// The loop is gone: workers exit once the queue is empty; new jobs are dropped.
    shutdown: bool,
}

impl ThreadPool {
    pub(crate) fn new(max_threads: usize) -> Self {
        Self::with_name("typhoon-executor".to_owned(), max_threads)
    }

    pub(crate) fn with_name(name: String, max_threads: usize) -> Self {
        Self {
            name,
            state: Mutex::new(PoolState {
                max_threads: max_threads.max(1),
                ..PoolState::default()
            }),
            work: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so a poisoned lock only means a worker died between
        // simple counter updates; the state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a job, starting a worker if every live one is busy and the limit allows.
    pub(crate) fn submit(self: &Arc<Self>, job: Runnable) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            drop(job);
            return;
        }
        state.queue.push_back(job);
        if state.queue.len() > state.idle && state.threads < state.max_threads {
            state.threads += 1;
            drop(state);
            let pool = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name(self.name.clone())
                .spawn(move || pool.work());
            if let Err(error) = spawned {
                tracing::error!(target: "typhoon::general", %error, "could not start an executor thread");
                let mut state = self.lock();
                state.threads -= 1;
                // The job stays queued for a live worker; with none, it would wait forever,
                // so drop it: its awaiter gets `LoopError::Cancelled`.
                if state.threads == 0 {
                    let orphans: Vec<Runnable> = state.queue.drain(..).collect();
                    drop(state);
                    drop(orphans);
                }
            }
        } else {
            drop(state);
            self.work.notify_one();
        }
    }

    /// Changes how many threads may run at once, for jobs submitted from now on (threads
    /// above a lowered limit finish their job and leave when idle).
    pub(crate) fn set_max_threads(&self, max_threads: usize) {
        self.lock().max_threads = max_threads.max(1);
    }

    /// The most threads that may run at once.
    pub(crate) fn max_threads(&self) -> usize {
        self.lock().max_threads
    }

    /// Runs `f` on the pool; the handle gives its result.
    pub(crate) fn submit_closure<F, T>(self: &Arc<Self>, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let future = CatchUnwind::new(async move { f() }, "run_in_executor closure", ());
        let pool = Arc::clone(self);
        let (runnable, task) = async_task::spawn(future, move |runnable| pool.submit(runnable));
        runnable.schedule();
        JoinHandle::new(task)
    }

    /// Stops accepting jobs; workers finish what is queued and exit.
    pub(crate) fn shutdown(&self) {
        let orphans: Vec<Runnable> = {
            let mut state = self.lock();
            state.shutdown = true;
            state.queue.drain(..).collect()
        };
        drop(orphans);
        self.work.notify_all();
    }

    /// A worker's loop.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // The job's future catches its own panics; this guards async-task internals.
                let _ = catch_unwind(AssertUnwindSafe(|| job.run()));
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, IDLE_TIMEOUT)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("ThreadPool")
            .field("name", &self.name)
            .field("max_threads", &state.max_threads)
            .field("threads", &state.threads)
            .field("queued", &state.queue.len())
            .finish()
    }
}

/// A bounded pool of threads for blocking work, of one's own: Tornado's
/// `concurrent.futures.ThreadPoolExecutor` given to `IOLoop.run_in_executor(executor, fn)`.
///
/// Each loop has a default pool ([`IOLoop::run_in_executor`](crate::IOLoop::run_in_executor));
/// an `Executor` keeps one kind of blocking work apart from the rest, so that slow database
/// calls cannot take every thread from CPU work, or the other way round. Run closures on it with
/// [`IOLoop::run_in_executor_on`](crate::IOLoop::run_in_executor_on). It is `Send + Sync` and
/// cheap to clone (clones share the pool), so several loops may share one.
///
/// Threads start on demand up to `max_threads`, are named after the pool (handy in `top -H`
/// and in panic messages), and exit after 10 s idle. Dropping the last clone does not stop the
/// running work; [`shutdown`](Self::shutdown) does (Tornado's `executor.shutdown()`).
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{Executor, IOLoop};
///
/// let db = Executor::with_name("db", 2);
/// let ioloop = IOLoop::new();
/// let name = ioloop.run_sync(ioloop.run_in_executor_on(&db, || {
///     std::thread::current().name().map(str::to_owned)
/// }));
/// assert_eq!(name.unwrap().as_deref(), Some("db"));
/// ```
#[derive(Clone)]
pub struct Executor {
    /// The shared pool; worker threads hold clones of it too.
    pool: Arc<ThreadPool>,
}

impl Executor {
    /// A pool of at most `max_threads` threads (at least one), named `typhoon-executor`.
    pub fn new(max_threads: usize) -> Self {
        Self {
            pool: Arc::new(ThreadPool::new(max_threads)),
        }
    }

    /// A pool of at most `max_threads` threads (at least one) named `name`.
    pub fn with_name(name: impl Into<String>, max_threads: usize) -> Self {
        Self {
            pool: Arc::new(ThreadPool::with_name(name.into(), max_threads)),
        }
    }

    pub(crate) fn from_pool(pool: Arc<ThreadPool>) -> Self {
        Self { pool }
    }

    pub(crate) fn pool(&self) -> &Arc<ThreadPool> {
        &self.pool
    }

    /// The pool's (and its threads') name.
    pub fn name(&self) -> &str {
        &self.pool.name
    }

    /// How many closures may run at once.
    pub fn max_threads(&self) -> usize {
        self.pool.max_threads()
    }

    /// Changes how many closures may run at once, for closures submitted from now on.
    pub fn set_max_threads(&self, max_threads: usize) {
        self.pool.set_max_threads(max_threads);
    }

    /// Stops the pool: queued closures are dropped (their awaiters get
    /// [`LoopError::Cancelled`](crate::LoopError::Cancelled)), running ones finish, and later ones are refused the same way.
    pub fn shutdown(&self) {
        self.pool.shutdown();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.pool.lock().shutdown
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Executor").field(&*self.pool).finish()
    }
}
