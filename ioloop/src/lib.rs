//! Typhoon's event loop: a single-threaded reactor and futures executor on `polling`
//! (Tornado's `tornado.ioloop`, `tornado.locks` and `tornado.queues`).
//!
//! This is the bottom layer of Typhoon. `typhoon-iostream` builds buffered sockets on
//! [`Async`], `typhoon-httpserver` and the web framework run their connections as tasks on an
//! [`IOLoop`]; nothing here knows about HTTP.
//!
//! What it gives you:
//!
//! - [`IOLoop`]: `start`/`stop`, `run_sync`, `add_callback`, timers (`call_later`, `call_at`,
//!   `remove_timeout`), raw fd handlers (`add_handler`, `update_handler`, `remove_handler`),
//!   `spawn` of futures that need not be `Send` (a dropped [`JoinHandle`] detaches, as Tornado's
//!   `spawn_callback`; cancelling is explicit), `add_future`, `spawn_callback`, and
//!   `run_in_executor` for blocking code, on the loop's pool or on an [`Executor`] of one's own.
//! - [`LoopHandle`]: the `Send + Sync` way in from other threads.
//! - Fan-out: [`join_all`] and [`join_all_map`] (Tornado's `gen.multi` over a list or a dict),
//!   [`as_completed`] and [`as_completed_map`] (`gen.WaitIterator`).
//! - [`Async`]: an fd registered for async readiness, with `read_with`/`write_with`.
//! - [`sleep`], [`timeout`], [`yield_now`], [`PeriodicCallback`] (sync or async callbacks).
//! - [`locks`] and [`queues`] for coordinating tasks of one loop.
//!
//! # Examples
//!
//! A timer, a task and a blocking call moved off the loop:
//!
//! ```
//! use std::time::Duration;
//! use typhoon_ioloop::{IOLoop, sleep};
//!
//! let ioloop = IOLoop::new();
//! let result = ioloop.run_sync(async {
//!     let ioloop = IOLoop::current();
//!     let blocking = ioloop.run_in_executor(|| {
//!         std::thread::sleep(Duration::from_millis(20)); // would block the loop if run on it
//!         "slept on a pool thread"
//!     });
//!     sleep(Duration::from_millis(5)).await; // the loop stays free meanwhile
//!     blocking.await
//! });
//! assert_eq!(result.unwrap(), "slept on a pool thread");
//! ```
//!
//! A TCP echo over loopback, on the readiness primitive alone:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::{TcpListener, TcpStream};
//! use typhoon_ioloop::{Async, IOLoop};
//!
//! IOLoop::new().run_sync(async {
//!     let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
//!     let addr = listener.get_ref().local_addr()?;
//!     let server = IOLoop::current().spawn(async move {
//!         let (stream, _) = listener.read_with(|l| l.accept()).await?;
//!         let stream = Async::new(stream)?;
//!         let mut buf = [0u8; 64];
//!         let n = stream.read_with(|s| (&*s).read(&mut buf)).await?;
//!         stream.write_with(|s| (&*s).write(&buf[..n])).await?;
//!         Ok::<_, std::io::Error>(())
//!     });
//!     let client = Async::new(TcpStream::connect(addr)?)?;
//!     client.write_with(|s| (&*s).write(b"hello")).await?;
//!     let mut buf = [0u8; 5];
//!     let n = client.read_with(|s| (&*s).read(&mut buf)).await?;
//!     assert_eq!(&buf[..n], b"hello");
//!     server.await.expect("server task")?;
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Feature flags
//!
//! None: everything here is always available.
//!
//! # Implementation
//!
//! One iteration of the loop ([`IOLoop::start`] repeats it until stopped):
//!
//! 1. **Wait for I/O** with `polling::Poller::wait`. The timeout is zero if callbacks or tasks
//!    are ready, else the time to the earliest timer, else infinite. On Linux a wait costs five
//!    syscalls whatever its timeout, so an iteration does as much work as it can per wait.
//! 2. **Dispatch events.** Each poller key is an fd handler (level-triggered; its callback runs
//!    directly) or an [`Async`] source (edge-triggered, registered once for both directions: the
//!    event marks it ready and wakes the task waiting on that direction). Edge mode means no
//!    `epoll_ctl` per operation and no oneshot re-arm.
//! 3. **Take work from other threads**: callbacks from [`LoopHandle::add_callback`] and tasks
//!    woken off-thread, from one mutex-protected queue, skipped without locking when empty.
//! 4. **Fire due timers.** Timers live in a `BTreeMap` keyed by `(deadline, sequence)`: they fire
//!    in deadline order, never early (the clock is [`std::time::Instant`]), and removal is
//!    exact. [`sleep`] registers a waker instead of a callback.
//! 5. **Run callbacks** queued before this step (Tornado's rule: callbacks added meanwhile wait
//!    for the next iteration, so a self-rescheduling callback cannot starve I/O).
//! 6. **Run tasks**, at most 256 polls per iteration (the budget that keeps a task that always
//!    wakes itself from starving I/O and timers).
//!
//! Tasks are allocated by `async-task`. A waker is `Send + Sync`, as std requires; its schedule
//! function checks a thread-local table: on the loop's thread the task goes onto a plain
//! `RefCell<VecDeque>` (no lock, no syscall), on any other thread onto the remote queue followed
//! by `Poller::notify`, which wakes a loop blocked in `epoll_wait` (notifications coalesce).
//! Every task's future is wrapped in `catch_unwind`: a panic is logged on the
//! `typhoon::application` target and becomes [`LoopError::Panicked`] for the awaiter; callbacks,
//! timers and fd handlers are guarded the same way. The loop keeps a waker of every live task, so
//! dropping it cancels them all and drops their futures on its own thread.
//!
//! `unsafe` appears in one file (`sys.rs`): the registration of an fd with the poller, sound
//! because the registration owns the fd's source and deregisters before dropping it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod async_io;
mod engine;
mod error;
mod executor;
mod fanout;
mod inherited;
mod ioloop;
pub mod locks;
mod periodic;
mod pool;
pub mod queues;
mod reactor;
mod shared;
mod sys;
mod timer;
mod timer_queue;
mod wait;
mod wait_queue;

pub use async_io::Async;
pub use error::{LoopError, Result, panic_message};
pub use executor::{CancelOnDrop, CatchUnwind, JoinHandle, catch_unwind, catch_unwind_call};
pub use fanout::{
    JoinAll, JoinAllMap, WaitIterator, WaitNext, as_completed, as_completed_map, join_all,
    join_all_map,
};
pub use inherited::{TYPHOON_LISTEN_FDS, TYPHOON_LISTEN_PID, take_inherited_listeners};
pub use ioloop::{IOLoop, LoopHandle};
pub use periodic::PeriodicCallback;
pub use pool::Executor;
pub use reactor::{Interest, Readiness};
pub use timer::{
    Sleep, Timeout, deadline_after, sleep, sleep_until, timeout, timeout_at, yield_now,
};
pub use timer_queue::TimeoutHandle;

/// Spawns a future onto the current loop ([`IOLoop::spawn`] on [`IOLoop::current`]).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    IOLoop::current().spawn(future)
}

/// Runs a blocking closure on the current loop's thread pool ([`IOLoop::run_in_executor`]).
pub fn run_in_executor<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    IOLoop::current().run_in_executor(f)
}
