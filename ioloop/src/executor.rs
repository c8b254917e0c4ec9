//! The loop's executor: task spawning, scheduling and join handles.
//!
//! Tasks are allocated by `async-task`. Its schedule function must be `Send + Sync` (a waker may
//! be woken from any thread), so it decides at run time where a woken task goes:
//!
//! - On the loop's own thread the runnable is pushed onto the loop's local run queue, a
//!   `RefCell<VecDeque>` reached through a thread-local table: no lock, no atomic RMW on the
//!   queue, no syscall.
//! - On any other thread it is pushed onto the loop's remote queue (a mutex-protected `Vec`) and
//!   the poller is notified, which wakes the loop if it is blocked in `epoll_wait`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_task::{FallibleTask, Runnable};

use crate::error::{LoopError, log_panic, panic_message};
use crate::shared::Shared;

/// A loop's local run queue.
pub(crate) type LocalQueue = RefCell<VecDeque<Runnable>>;

thread_local! {
    /// The run queues of the loops owned by this thread, by loop id. Almost always one entry.
    static LOCAL_QUEUES: RefCell<Vec<(u64, Rc<LocalQueue>)>> = const { RefCell::new(Vec::new()) };
}

/// Makes `queue` reachable from wakers running on this thread.
pub(crate) fn register_local_queue(id: u64, queue: Rc<LocalQueue>) {
    LOCAL_QUEUES.with(|queues| queues.borrow_mut().push((id, queue)));
}

/// Undoes [`register_local_queue`] (when the loop is dropped).
pub(crate) fn unregister_local_queue(id: u64) {
    let _ = LOCAL_QUEUES.try_with(|queues| {
        // Take the entry out before dropping it: dropping runnables may run arbitrary drops.
        let removed = {
            let mut queues = queues.borrow_mut();
            queues
                .iter()
                .position(|(qid, _)| *qid == id)
                .map(|pos| queues.swap_remove(pos))
        };
        drop(removed);
    });
}

/// The schedule function of every task of the loop `id`.
pub(crate) fn schedule_fn(shared: Arc<Shared>, id: u64) -> impl Fn(Runnable) + Send + Sync {
    move |runnable: Runnable| {
        let mut slot = Some(runnable);
        let _ = LOCAL_QUEUES.try_with(|queues| {
            if let Ok(queues) = queues.try_borrow()
                && let Some((_, queue)) = queues.iter().find(|(qid, _)| *qid == id)
                && let Ok(mut queue) = queue.try_borrow_mut()
                && let Some(runnable) = slot.take()
            {
                queue.push_back(runnable);
            }
        });
        if let Some(runnable) = slot {
            shared.push_remote_task(runnable);
        }
    }
}

pin_project_lite::pin_project! {
    /// A future that turns a panic while polling the wrapped future into
    /// [`LoopError::Panicked`] (logged on `typhoon::application`) instead of unwinding; see
    /// [`catch_unwind`]. Every task is wrapped in one. Holds the future inline: one copy, no
    /// extra allocation. `guard` is dropped with the wrapper (after the future).
    pub struct CatchUnwind<F, G = ()> {
        #[pin]
        future: F,
        what: &'static str,
        guard: G,
        done: bool,
    }
}

/// Wraps `future` so a panic inside it becomes `Err(`[`LoopError::Panicked`]`)` (and a log line
/// naming `what`) rather than unwinding into the caller: how a server answers 500 when a handler
/// panics and goes on serving.
///
/// # Cancel safety
///
/// As cancel-safe as `future`.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{IOLoop, LoopError, catch_unwind};
///
/// let result = IOLoop::new().run_sync(catch_unwind(async { panic!("boom") }, "handler"));
/// assert!(matches!(result, Err(LoopError::Panicked { message }) if message == "boom"));
/// ```
pub fn catch_unwind<F: Future>(future: F, what: &'static str) -> CatchUnwind<F> {
    CatchUnwind::new(future, what, ())
}

/// The synchronous counterpart of [`catch_unwind`]: calls `f`, and a panic inside it becomes
/// `Err(`[`LoopError::Panicked`]`)` with the same log line naming `what`. For the synchronous
/// half of an async callback (the call that builds its future), which runs before there is a
/// future to wrap.
///
/// # Errors
///
/// [`LoopError::Panicked`] if `f` panicked.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{LoopError, catch_unwind_call};
///
/// let result = catch_unwind_call(|| -> u32 { panic!("boom") }, "handler");
/// assert!(matches!(result, Err(LoopError::Panicked { message }) if message == "boom"));
/// assert!(matches!(catch_unwind_call(|| 7, "handler"), Ok(7)));
/// ```
pub fn catch_unwind_call<T>(f: impl FnOnce() -> T, what: &'static str) -> Result<T, LoopError> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(&*payload).to_owned();
        log_panic(what, &message);
        LoopError::Panicked { message }
    })
}

impl<F, G> fmt::Debug for CatchUnwind<F, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatchUnwind")
            .field("what", &self.what)
            .finish()
    }
}

impl<F, G> CatchUnwind<F, G> {
    pub(crate) fn new(future: F, what: &'static str, guard: G) -> Self {
        Self {
            future,
            what,
            guard,
            done: false,
        }
    }
}

impl<F: Future, G> Future for CatchUnwind<F, G> {
    type Output = Result<F::Output, LoopError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.done {
            // A panicked future is never polled again.
            return Poll::Pending;
        }
        let future = this.future;
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                *this.done = true;
                let message = panic_message(&*payload).to_owned();
                log_panic(this.what, &message);
                Poll::Ready(Err(LoopError::Panicked { message }))
            }
        }
    }
}

/// An owned permission to await, detach or cancel a spawned task.
///
/// Awaiting it gives the task's output, or [`LoopError::Panicked`] if the task panicked, or
/// [`LoopError::Cancelled`] if it was cancelled (its loop was dropped, for instance).
///
/// Dropping a `JoinHandle` **detaches** the task: it runs to completion on its own, as a task
/// started with Tornado's `spawn_callback` does (and as tokio's handles behave). Stopping a task
/// is always explicit: [`cancel`](JoinHandle::cancel), or [`cancel_on_drop`](JoinHandle::cancel_on_drop)
/// for a guard that cancels when it goes out of scope (a task owned by a struct, for instance).
/// [`detach`](JoinHandle::detach) says in code what a drop does.
///
/// # Cancel safety
///
/// Awaiting is cancel-safe: dropping the `.await` (not the handle) loses nothing.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use typhoon_ioloop::{IOLoop, yield_now};
///
/// let ioloop = IOLoop::new();
/// let ran = Rc::new(Cell::new(false));
/// let flag = Rc::clone(&ran);
/// // Dropped at once, yet the task still runs (Tornado's spawn_callback).
/// drop(ioloop.spawn(async move {
///     yield_now().await;
///     flag.set(true);
/// }));
/// ioloop.run_sync(async { yield_now().await; yield_now().await });
/// assert!(ran.get());
/// ```
#[must_use = "a dropped JoinHandle detaches its task: call .detach() to say so, or .cancel() to stop it"]
pub struct JoinHandle<T> {
    /// The async-task handle; `None` after `detach` or `cancel`.
    task: Option<FallibleTask<Result<T, LoopError>>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<Result<T, LoopError>>) -> Self {
        Self {
            task: Some(task.fallible()),
        }
    }

    /// Lets the task run to completion without anyone awaiting it (what dropping the handle
    /// does; this names it).
    pub fn detach(mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }

    /// Cancels the task: its future is dropped (at the latest at the loop's next iteration) and
    /// never polled again. A blocking closure already running on an executor pool runs to its
    /// end, but its result is discarded.
    pub fn cancel(mut self) {
        // Dropping async-task's handle (rather than detaching it) is what cancels.
        drop(self.task.take());
    }

    /// Turns the handle into a guard that cancels the task when dropped: for a task whose life
    /// is bound to an owner (a connection's reader, a pinger).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use typhoon_ioloop::{IOLoop, sleep};
    ///
    /// let ioloop = IOLoop::new();
    /// let guard = ioloop.spawn(sleep(Duration::from_secs(3600))).cancel_on_drop();
    /// assert!(!guard.is_finished());
    /// drop(guard); // the hour-long sleep is cancelled
    /// ioloop.run_sync(async {});
    /// ```
    pub fn cancel_on_drop(self) -> CancelOnDrop<T> {
        CancelOnDrop { handle: Some(self) }
    }

    /// Whether the task has completed (or panicked, or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(FallibleTask::is_finished)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, LoopError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(Err(LoopError::Cancelled));
        };
        match Pin::new(task).poll(cx) {
            Poll::Ready(Some(result)) => Poll::Ready(result),
            Poll::Ready(None) => Poll::Ready(Err(LoopError::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A [`JoinHandle`] that cancels its task when dropped, from [`JoinHandle::cancel_on_drop`].
///
/// Awaiting it gives what awaiting the handle gives.
///
/// # Cancel safety
///
/// Awaiting is cancel-safe: dropping the `.await` (not the guard) loses nothing.
#[must_use = "dropping a CancelOnDrop cancels its task at once"]
pub struct CancelOnDrop<T> {
    /// The handle; `None` once awaited to the end or given back by `into_handle`.
    handle: Option<JoinHandle<T>>,
}

impl<T> CancelOnDrop<T> {
    /// Cancels the task now (what dropping the guard does; this names it).
    pub fn cancel(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.cancel();
        }
    }

    /// Gives back the plain handle, whose drop detaches.
    pub fn into_handle(mut self) -> JoinHandle<T> {
        self.handle
            .take()
            .expect("invariant: a CancelOnDrop holds its handle until consumed")
    }

    /// Whether the task has completed (or panicked, or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.cancel();
        }
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, LoopError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.handle.as_mut() {
            Some(handle) => Pin::new(handle).poll(cx),
            None => Poll::Ready(Err(LoopError::Cancelled)),
        }
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnDrop")
            .field("finished", &self.is_finished())
            .finish()
    }
}
