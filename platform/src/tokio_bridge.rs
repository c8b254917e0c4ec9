//! The tokio bridge (feature `tokio`): a tokio runtime on side threads that runs the futures of
//! tokio-only libraries for Typhoon's loop, whose tasks await them as any other future.
//!
//! A call is one `Handle::spawn` (the runtime's thread is woken) and one wake back (the
//! awaiting Typhoon task is woken from the runtime's thread through the loop's remote queue):
//! a few microseconds, measured by `bench/platform.sh`. The future runs on the runtime's
//! thread, with tokio's I/O and timer drivers; its output crosses back, so both must be `Send`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Why a bridged call gave no value.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The future panicked on the runtime; the panic's message.
    #[error("the tokio task panicked: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// The task was cancelled: its runtime shut down.
    #[error("the tokio task was cancelled")]
    Cancelled,
    /// The runtime could not be started.
    #[error("cannot start the tokio runtime")]
    Runtime(#[source] std::io::Error),
}

/// A tokio runtime for Typhoon's loop (Tornado's `tornado.platform.asyncio` turned around: the
/// other framework's futures run beside Typhoon's loop, not under it). Cheap to clone; the
/// runtime it started shuts down when the last clone is dropped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_platform::TokioBridge;
///
/// let bridge = TokioBridge::new()?;
/// typhoon_testing::run_test(async move {
///     // tokio's timer: it would panic outside a tokio runtime.
///     let answer = bridge
///         .spawn(async {
///             tokio::time::sleep(Duration::from_millis(1)).await;
///             42
///         })
///         .await?;
///     assert_eq!(answer, 42);
///     Ok::<(), typhoon_platform::BridgeError>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokioBridge {
    /// Where calls are spawned.
    handle: Handle,
    /// The runtime this bridge started, if it did (shut down with the last clone).
    _runtime: Option<Arc<OwnedRuntime>>,
}

/// A runtime the bridge owns.
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            // Never block the dropping thread (it may be Typhoon's loop).
            runtime.shutdown_background();
        }
    }
}

impl TokioBridge {
    /// A bridge with its own runtime: one worker thread, named `typhoon-tokio`, with tokio's
    /// I/O and timer drivers.
    ///
    /// # Errors
    ///
    /// [`BridgeError::Runtime`] if the threads cannot be started.
    pub fn new() -> Result<Self, BridgeError> {
        Self::with_worker_threads(1)
    }

    /// A bridge with its own runtime of `threads` worker threads (at least one).
    ///
    /// # Errors
    ///
    /// [`BridgeError::Runtime`] if the threads cannot be started.
    pub fn with_worker_threads(threads: usize) -> Result<Self, BridgeError> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("typhoon-tokio")
            .enable_all()
            .build()
            .map_err(BridgeError::Runtime)?;
        Ok(Self {
            handle: runtime.handle().clone(),
            _runtime: Some(Arc::new(OwnedRuntime(Some(runtime)))),
        })
    }

    /// A bridge to a runtime the application already has (its lifetime is the caller's).
    pub fn from_handle(handle: Handle) -> Self {
        Self {
            handle,
            _runtime: None,
        }
    }

    /// The runtime's handle, to create tokio resources (a connection pool) inside it: a
    /// resource registers with the runtime current when it is created, so create it in a
    /// bridged future or under `handle().enter()`.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` on the runtime; the returned [`TokioTask`] resolves on Typhoon's loop to
    /// its output. Dropping the task cancels the future.
    pub fn spawn<F>(&self, future: F) -> TokioTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioTask {
            handle: self.handle.spawn(future),
        }
    }

    /// Runs `producer` on the runtime with the sending half of a channel of `capacity` items
    /// (at least one), for results that come as a stream (sqlx's `fetch`): the producer's
    /// `send` waits while the channel is full, so a slow reader on Typhoon's loop pushes back.
    /// Dropping the [`TokioStream`] cancels the producer.
    pub fn stream<T, P, Fut>(&self, capacity: usize, producer: P) -> TokioStream<T>
    where
        T: Send + 'static,
        P: FnOnce(TokioSender<T>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let task = self.handle.spawn(producer(TokioSender { sender }));
        TokioStream { receiver, task }
    }
}

impl fmt::Debug for TokioBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioBridge")
            .field("owns_runtime", &self._runtime.is_some())
            .finish()
    }
}

/// The process's default bridge, started on first use.
pub(crate) fn default_bridge() -> Result<&'static TokioBridge, BridgeError> {
    static BRIDGE: OnceLock<TokioBridge> = OnceLock::new();
    if let Some(bridge) = BRIDGE.get() {
        return Ok(bridge);
    }
    let bridge = TokioBridge::new()?;
    Ok(BRIDGE.get_or_init(|| bridge))
}

/// Runs `future` on the process's default bridge (one worker thread, started by the first
/// call) and resolves to its output on Typhoon's loop: `run_on_tokio(sqlx::query(..).fetch_one(&pool)).await`.
/// Dropping the returned future cancels the call. For a runtime of your own, use
/// [`TokioBridge`].
///
/// # Errors
///
/// As [`TokioTask`], and [`BridgeError::Runtime`] if the default runtime cannot be started.
pub async fn run_on_tokio<F>(future: F) -> Result<F::Output, BridgeError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    default_bridge()?.spawn(future).await
}

/// A call running on a [`TokioBridge`]'s runtime: await it for the output. Dropping it cancels
/// the call (tokio aborts the task at its next await).
#[must_use = "dropping a TokioTask cancels the call"]
pub struct TokioTask<T> {
    /// The tokio task.
    handle: JoinHandle<T>,
}

impl<T> TokioTask<T> {
    /// Cancels the call.
    pub fn abort(&self) {
        self.handle.abort();
    }
}

impl<T> Future for TokioTask<T> {
    type Output = Result<T, BridgeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Outside a tokio runtime the coop budget is unconstrained: this polls straight through,
        // and the waker it stores is Typhoon's, woken from the runtime's thread.
        Pin::new(&mut self.handle).poll(cx).map(|joined| {
            joined.map_err(|error| {
                if error.is_panic() {
                    let payload = error.into_panic();
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(a non-string panic)".to_owned());
                    BridgeError::Panicked { message }
                } else {
                    BridgeError::Cancelled
                }
            })
        })
    }
}

impl<T> Drop for TokioTask<T> {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl<T> fmt::Debug for TokioTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioTask")
            .field("finished", &self.handle.is_finished())
            .finish()
    }
}

/// The producer's half of a [`TokioBridge::stream`].
#[derive(Debug)]
pub struct TokioSender<T> {
    /// The channel.
    sender: mpsc::Sender<T>,
}

/// The reader went away: the stream was dropped.
#[derive(Debug, thiserror::Error)]
#[error("the stream's reader is gone")]
pub struct StreamClosed<T>(
    /// The item that was not sent.
    pub T,
);

impl<T> TokioSender<T> {
    /// Sends `item`, waiting while the channel is full (the reader's back-pressure).
    ///
    /// # Errors
    ///
    /// [`StreamClosed`], with the item, once the reader dropped its [`TokioStream`].
    pub async fn send(&self, item: T) -> Result<(), StreamClosed<T>> {
        self.sender
            .send(item)
            .await
            .map_err(|mpsc::error::SendError(item)| StreamClosed(item))
    }
}

/// Items a producer on a [`TokioBridge`]'s runtime sends, read on Typhoon's loop. Dropping it
/// cancels the producer.
pub struct TokioStream<T> {
    /// The channel.
    receiver: mpsc::Receiver<T>,
    /// The producer.
    task: JoinHandle<()>,
}

impl<T> TokioStream<T> {
    /// The next item, or `None` once the producer has finished (or panicked) and every item
    /// sent has been read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: no item is lost.
    pub async fn next(&mut self) -> Option<T> {
        self.receiver.recv().await
    }
}

impl<T> Drop for TokioStream<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T> fmt::Debug for TokioStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioStream")
            .field("producer_finished", &self.task.is_finished())
            .finish()
    }
}
