//! The crate's error type.

/// Errors of the event loop, its tasks, timers, locks and queues.
///
/// Mirrors Tornado's exceptions: `TimeoutError` is [`LoopError::Timeout`], `QueueFull` and
/// `QueueEmpty` are variants, a coroutine that raised is [`LoopError::Panicked`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopError {
    /// A deadline passed before the operation completed (`timeout`, `run_sync_timeout`, the
    /// `*_timeout` methods of locks and queues).
    #[error("operation timed out")]
    Timeout,
    /// The task was cancelled before it completed: its handle's `cancel`, or its loop was dropped.
    #[error("task was cancelled")]
    Cancelled,
    /// The task (or the blocking closure of `run_in_executor`) panicked; the panic was caught,
    /// logged on the `typhoon::application` target, and its message kept here.
    #[error("task panicked: {message}")]
    Panicked {
        /// The panic's message (`&str` or `String` payloads; other payloads say so).
        message: String,
    },
    /// `Queue::put_nowait` on a full queue.
    #[error("queue is full")]
    QueueFull,
    /// `Queue::get_nowait` on an empty queue.
    #[error("queue is empty")]
    QueueEmpty,
    /// `Queue::task_done` was called more times than items were put.
    #[error("task_done() called too many times")]
    TaskDoneTooManyTimes,
    /// `BoundedSemaphore::release` would raise the value above its initial value.
    #[error("semaphore released too many times")]
    SemaphoreReleasedTooManyTimes,
}

/// `Result` with [`LoopError`] as the default error.
pub type Result<T, E = LoopError> = std::result::Result<T, E>;

/// The message of a caught panic payload: the `&str` or `String` that `panic!` was given, or
/// `"non-string panic payload"` for any other payload (`std::panic::panic_any` with another type).
///
/// For code that catches panics itself (with [`std::panic::catch_unwind`]) and logs them as the
/// loop does; [`catch_unwind`](crate::catch_unwind) and [`catch_unwind_call`](crate::catch_unwind_call)
/// already put this message in [`LoopError::Panicked`].
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::panic_message;
///
/// let n = 7;
/// let payload = std::panic::catch_unwind(|| panic!("boom {n}")).unwrap_err();
/// assert_eq!(panic_message(&*payload), "boom 7");
/// let payload = std::panic::catch_unwind(|| std::panic::panic_any(7_u32)).unwrap_err();
/// assert_eq!(panic_message(&*payload), "non-string panic payload");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

/// Logs a caught panic on `typhoon::application`, as Tornado logs an exception in a callback.
pub(crate) fn log_panic(what: &str, message: &str) {
    tracing::error!(target: "typhoon::application", panic = message, "uncaught panic in {what}: {message}");
}
