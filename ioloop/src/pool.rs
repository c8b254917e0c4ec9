//! The bounded thread pool behind `IOLoop::run_in_executor`.
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

/// How long a worker waits for a job before exiting.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bounded pool of worker threads.
pub(crate) struct ThreadPool {
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
        Self {
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
                .name("typhoon-executor".to_owned())
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
            .field("max_threads", &state.max_threads)
            .field("threads", &state.threads)
            .field("queued", &state.queue.len())
            .finish()
    }
}
