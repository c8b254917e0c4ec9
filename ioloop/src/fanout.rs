//! Fan-out helpers: Tornado's `gen.multi` ([`join_all`], [`join_all_map`]) and `gen.WaitIterator`
//! ([`as_completed`], [`as_completed_map`]).
//!
//! Every helper polls its futures concurrently inside one task (no task per future, no
//! allocation per wake-up beyond the first), and polls again only the futures that were woken:
//! each future gets a waker of its own that marks it ready, so a thousand pending fetches cost
//! nothing while one of them makes progress. The wakers are `Send + Sync`, as std requires, so
//! a future woken from another thread (a [`run_in_executor`](crate::IOLoop::run_in_executor)
//! closure's handle) is handled too.
//!
//! Outputs are plain values: a fallible future's `Result` is its output, so
//! `join_all(fetches).await.into_iter().collect::<Result<Vec<_>, _>>()` is Tornado's `multi`,
//! which also waits for every child and then raises the first error.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// Which futures were woken, and who polls them.
#[derive(Default)]
struct ReadySet {
    /// Under one lock: wakes may come from any thread.
    state: Mutex<ReadyState>,
}

#[derive(Default)]
struct ReadyState {
    /// Indices woken since they were last polled, in wake order.
    ready: VecDeque<usize>,
    /// `queued[i]`: `i` is in `ready` (so a future woken twice is polled once).
    queued: Vec<bool>,
    /// The waker of the task polling the helper.
    parent: Option<Waker>,
}

impl ReadySet {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReadyState> {
        // Nothing panics under this lock; a poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The waker of one child future: queues its index and wakes the parent.
struct ChildWaker {
    /// The child's index.
    index: usize,
    /// The set it marks.
    set: Arc<ReadySet>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut state = self.set.lock();
            if let Some(queued) = state.queued.get_mut(self.index)
                && !*queued
            {
                *queued = true;
                state.ready.push_back(self.index);
            }
            state.parent.clone()
        };
        // Woken outside the lock: the parent may be polled at once, on this thread.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// Yields the outputs of several futures in the order they complete, each with its key (its
/// index for [`as_completed`], its map key for [`as_completed_map`]): Tornado's
/// `gen.WaitIterator`.
///
/// Tornado's loop
///
/// ```python
/// wait_iterator = gen.WaitIterator(*futures)
/// while not wait_iterator.done():
///     result = await wait_iterator.next()
///     print(wait_iterator.current_index, result)
/// ```
///
/// becomes `while let Some((index, result)) = wait_iterator.next().await { ... }`.
///
/// The futures run only while the iterator is polled (through [`next`](Self::next)), all of
/// them concurrently. Dropping the iterator drops the futures not yet complete.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_ioloop::{IOLoop, as_completed, sleep};
///
/// let order = IOLoop::new().run_sync(async {
///     let delays = [30, 10, 20];
///     let mut waiting = as_completed(delays.map(|ms| async move {
///         sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some((index, ms)) = waiting.next().await {
///         order.push((index, ms));
///     }
///     order
/// });
/// assert_eq!(order, [(1, 10), (2, 20), (0, 30)]);
/// ```
pub struct WaitIterator<K, F: Future> {
    /// The futures not yet complete, by index.
    futures: Vec<Option<Pin<Box<F>>>>,
    /// Their keys, taken as each completes.
    keys: Vec<Option<K>>,
    /// A waker per future, made once.
    wakers: Vec<Waker>,
    /// Which futures to poll next.
    set: Arc<ReadySet>,
    /// How many futures are not complete.
    remaining: usize,
}

impl<K, F: Future> WaitIterator<K, F> {
    fn new(pairs: impl IntoIterator<Item = (K, F)>) -> Self {
        let (keys, futures): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .map(|(key, future)| (Some(key), Some(Box::pin(future))))
            .unzip();
        let set = Arc::new(ReadySet::default());
        {
            let mut state = set.lock();
            // Every future is polled once to start.
            state.ready = (0..futures.len()).collect();
            state.queued = vec![true; futures.len()];
        }
        let wakers = (0..futures.len())
            .map(|index| {
                Waker::from(Arc::new(ChildWaker {
                    index,
                    set: Arc::clone(&set),
                }))
            })
            .collect();
        Self {
            remaining: futures.len(),
            futures,
            keys,
            wakers,
            set,
        }
    }

    /// How many futures have not completed yet.
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// Whether every future has completed (Tornado's `WaitIterator.done()`).
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    /// The next future to complete: its key and output, or `None` once all have completed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an output is taken from its future only in the poll that returns it.
    // Tornado's `WaitIterator.next()`; async, so it cannot be `Iterator::next`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> WaitNext<'_, K, F> {
        WaitNext { iterator: self }
    }

    /// Polls for the next output; what [`next`](Self::next) awaits.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(K, F::Output)>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        {
            let mut state = self.set.lock();
            match &state.parent {
                Some(parent) if parent.will_wake(cx.waker()) => {}
                _ => state.parent = Some(cx.waker().clone()),
            }
        }
        loop {
            let next = {
                let mut state = self.set.lock();
                let next = state.ready.pop_front();
                if let Some(index) = next
                    && let Some(queued) = state.queued.get_mut(index)
                {
                    *queued = false;
                }
                next
            };
            let Some(index) = next else {
                return Poll::Pending;
            };
            let Some(future) = self.futures.get_mut(index).and_then(Option::as_mut) else {
                continue; // completed already; a late wake
            };
            let mut child = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(output) = future.as_mut().poll(&mut child) {
                self.futures[index] = None;
                self.remaining -= 1;
                let key = self.keys[index]
                    .take()
                    .expect("invariant: a key is taken once, when its future completes");
                return Poll::Ready(Some((key, output)));
            }
        }
    }
}

// Nothing is ever pinned in place: the futures are boxed, keys and outputs only moved.
impl<K, F: Future> Unpin for WaitIterator<K, F> {}

impl<K, F: Future> fmt::Debug for WaitIterator<K, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitIterator")
            .field("total", &self.futures.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// The future of [`WaitIterator::next`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitNext<'a, K, F: Future> {
    /// The iterator it advances.
    iterator: &'a mut WaitIterator<K, F>,
}

impl<K, F: Future> Future for WaitNext<'_, K, F> {
    type Output = Option<(K, F::Output)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.iterator.poll_next(cx)
    }
}

impl<K, F: Future> fmt::Debug for WaitNext<'_, K, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitNext")
            .field("iterator", &*self.iterator)
            .finish()
    }
}

/// Runs `futures` concurrently and yields their outputs in completion order, each with its
/// index in `futures`: Tornado's `gen.WaitIterator(*futures)`.
///
/// See [`WaitIterator`] for an example.
pub fn as_completed<I>(futures: I) -> WaitIterator<usize, I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    WaitIterator::new(futures.into_iter().enumerate())
}

/// Runs the futures of a map (any `(key, future)` pairs: a `HashMap`, a `BTreeMap`, a `Vec`
/// of pairs) concurrently and yields their outputs in completion order, each with its key:
/// Tornado's `gen.WaitIterator(**futures)`.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::Duration;
/// use typhoon_ioloop::{IOLoop, as_completed_map, sleep};
///
/// let first = IOLoop::new().run_sync(async {
///     let futures = BTreeMap::from([
///         ("slow", Box::pin(sleep(Duration::from_millis(50)))),
///         ("fast", Box::pin(sleep(Duration::from_millis(1)))),
///     ]);
///     let mut waiting = as_completed_map(futures);
///     waiting.next().await.map(|(key, ())| key)
/// });
/// assert_eq!(first, Some("fast"));
/// ```
pub fn as_completed_map<K, F, I>(futures: I) -> WaitIterator<K, F>
where
    I: IntoIterator<Item = (K, F)>,
    F: Future,
{
    WaitIterator::new(futures)
}

/// Runs `futures` concurrently and gives all their outputs, in the order of `futures`, once
/// every one has completed: Tornado's `gen.multi([...])` (and `asyncio.gather`).
///
/// # Cancel safety
///
/// Dropping the future drops the futures not yet complete and the outputs gathered so far.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_ioloop::{IOLoop, join_all, sleep};
///
/// let outputs = IOLoop::new().run_sync(join_all([30, 10, 20].map(|ms| async move {
///     sleep(Duration::from_millis(ms)).await;
///     ms * 2
/// })));
/// assert_eq!(outputs, [60, 20, 40]); // in input order, whatever the completion order
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let iterator = as_completed(futures);
    let outputs = std::iter::repeat_with(|| None)
        .take(iterator.len())
        .collect();
    JoinAll { iterator, outputs }
}

/// The future of [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    /// The futures.
    iterator: WaitIterator<usize, F>,
    /// The outputs so far, by index.
    outputs: Vec<Option<F::Output>>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this.iterator.poll_next(cx) {
                Poll::Ready(Some((index, output))) => this.outputs[index] = Some(output),
                Poll::Ready(None) => {
                    let outputs = std::mem::take(&mut this.outputs)
                        .into_iter()
                        .map(|output| output.expect("invariant: every future completed"))
                        .collect();
                    return Poll::Ready(outputs);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("iterator", &self.iterator)
            .finish()
    }
}

/// Runs the futures of a map concurrently and gives a map of their outputs under the same
/// keys once every one has completed: Tornado's `gen.multi({...})`. The output is any
/// collection of `(key, output)` pairs (`HashMap`, `BTreeMap`, `Vec`), chosen by the caller.
///
/// # Cancel safety
///
/// Dropping the future drops the futures not yet complete and the outputs gathered so far.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use typhoon_ioloop::{IOLoop, join_all_map};
///
/// let futures = HashMap::from([("a", std::future::ready(1)), ("b", std::future::ready(2))]);
/// let outputs: HashMap<_, _> = IOLoop::new().run_sync(join_all_map(futures));
/// assert_eq!(outputs, HashMap::from([("a", 1), ("b", 2)]));
/// ```
pub fn join_all_map<K, F, I, M>(futures: I) -> JoinAllMap<K, F, M>
where
    I: IntoIterator<Item = (K, F)>,
    F: Future,
    M: FromIterator<(K, F::Output)>,
{
    JoinAllMap {
        iterator: as_completed_map(futures),
        outputs: Vec::new(),
        _map: std::marker::PhantomData,
    }
}

/// The future of [`join_all_map`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAllMap<K, F: Future, M> {
    /// The futures.
    iterator: WaitIterator<K, F>,
    /// The outputs so far, with their keys.
    outputs: Vec<(K, F::Output)>,
    /// The collection the caller asked for.
    _map: std::marker::PhantomData<fn() -> M>,
}

impl<K, F: Future, M: FromIterator<(K, F::Output)>> Future for JoinAllMap<K, F, M> {
    type Output = M;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<M> {
        let this = self.get_mut();
        loop {
            match this.iterator.poll_next(cx) {
                Poll::Ready(Some(pair)) => this.outputs.push(pair),
                Poll::Ready(None) => {
                    return Poll::Ready(std::mem::take(&mut this.outputs).into_iter().collect());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<K, F: Future, M> Unpin for JoinAllMap<K, F, M> {}

impl<K, F: Future, M> fmt::Debug for JoinAllMap<K, F, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAllMap")
            .field("iterator", &self.iterator)
            .finish()
    }
}
