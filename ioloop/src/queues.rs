//! Tornado's `tornado.queues` for the tasks of one loop: [`Queue`] (FIFO), [`LifoQueue`] and
//! [`PriorityQueue`], with `maxsize`, timeouts and `task_done`/`join`.
//!
//! Like the [locks](crate::locks) they coordinate tasks of one loop: `!Send`, no OS locks,
//! clones share the queue, every wait is cancel-safe.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use crate::error::{LoopError, Result};
use crate::locks::Event;
use crate::timer::maybe_timeout;
use crate::wait_queue::{QueuePlace, WaitQueue};

/// The order a queue keeps its items in.
pub trait QueueStorage<T>: Default {
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the next item.
    fn pop(&mut self) -> Option<T>;
    /// How many items are stored.
    fn len(&self) -> usize;
    /// Whether no item is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out.
impl<T> QueueStorage<T> for VecDeque<T> {
    fn push(&mut self, item: T) {
        self.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}

/// Last in, first out.
impl<T> QueueStorage<T> for Vec<T> {
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// Smallest first, as Python's `heapq` (so `(priority, item)` tuples work as in Tornado).
impl<T: Ord> QueueStorage<T> for BinaryHeap<Reverse<T>> {
    fn push(&mut self, item: T) {
        BinaryHeap::push(self, Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        BinaryHeap::pop(self).map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
}

/// A queue that retrieves the most recently put item first (Tornado's `LifoQueue`).
pub type LifoQueue<T> = Queue<T, Vec<T>>;

/// A queue that retrieves the smallest item first (Tornado's `PriorityQueue`).
pub type PriorityQueue<T> = Queue<T, BinaryHeap<Reverse<T>>>;

/// A queue for producer and consumer tasks (Tornado's `queues.Queue`).
///
/// `maxsize` 0 means unbounded; otherwise `put` waits while the queue is full.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::{IOLoop, queues::Queue};
///
/// let ioloop = IOLoop::new();
/// let queue: Queue<u32> = Queue::new(2);
/// let consumer = ioloop.spawn({
///     let queue = queue.clone();
///     async move {
///         let mut sum = 0;
///         for _ in 0..5 {
///             sum += queue.get().await;
///             queue.task_done().unwrap();
///         }
///         sum
///     }
/// });
/// ioloop.run_sync(async move {
///     for i in 1..=5 {
///         queue.put(i).await; // waits while 2 items are queued
///     }
///     queue.join().await; // until every item is task_done
/// });
/// assert_eq!(ioloop.run_sync(consumer).unwrap(), 15);
/// ```
pub struct Queue<T, S: QueueStorage<T> = VecDeque<T>> {
    /// Shared by clones.
    inner: Rc<QueueInner<T, S>>,
}

/// The state of a queue.
struct QueueInner<T, S> {
    /// The items.
    items: RefCell<S>,
    /// The most items it holds; 0 for no limit.
    maxsize: usize,
    /// Tasks waiting for an item.
    getters: WaitQueue,
    /// Tasks waiting for room.
    putters: WaitQueue,
    /// Items put and not yet `task_done`.
    unfinished: Cell<usize>,
    /// Set while `unfinished` is 0: what `join` waits for.
    finished: Event,
    /// The item type.
    marker: std::marker::PhantomData<T>,
}

impl<T, S: QueueStorage<T>> Clone for Queue<T, S> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<T, S: QueueStorage<T>> Queue<T, S> {
    /// A queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> Self {
        let finished = Event::new();
        finished.set();
        Self {
            inner: Rc::new(QueueInner {
                items: RefCell::new(S::default()),
                maxsize,
                getters: WaitQueue::default(),
                putters: WaitQueue::default(),
                unfinished: Cell::new(0),
                finished,
                marker: std::marker::PhantomData,
            }),
        }
    }

    /// The size limit (0: unbounded).
    pub fn maxsize(&self) -> usize {
        self.inner.maxsize
    }

    /// Items in the queue.
    pub fn qsize(&self) -> usize {
        self.inner.items.borrow().len()
    }

    /// Whether the queue holds no item.
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue is at its size limit.
    pub fn full(&self) -> bool {
        self.inner.maxsize > 0 && self.qsize() >= self.inner.maxsize
    }

    fn push(&self, item: T) {
        let inner = &*self.inner;
        inner.items.borrow_mut().push(item);
        inner.unfinished.set(inner.unfinished.get() + 1);
        inner.finished.clear();
        inner.getters.notify_one();
    }

    fn pop(&self) -> Option<T> {
        let item = self.inner.items.borrow_mut().pop();
        if item.is_some() {
            self.inner.putters.notify_one();
        }
        item
    }

    /// Puts an item without waiting.
    ///
    /// # Errors
    ///
    /// The item back if the queue is full (Tornado's `QueueFull`).
    pub fn put_nowait(&self, item: T) -> std::result::Result<(), T> {
        if self.full() || self.inner.putters.has_waiters() {
            return Err(item);
        }
        self.push(item);
        Ok(())
    }

    /// Puts an item, waiting while the queue is full.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if dropped before it completes, the item is not queued (it is dropped).
    pub async fn put(&self, item: T) {
        // Without a timeout the wait cannot fail.
        let _ = self.put_inner(item, None).await;
    }

    /// Puts an item, waiting at most `duration` for room.
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`]; the item is dropped.
    ///
    /// # Cancel safety
    ///
    /// As [`put`](Self::put).
    pub async fn put_timeout(&self, item: T, duration: Duration) -> Result<()> {
        self.put_inner(item, Some(duration)).await
    }

    async fn put_inner(&self, item: T, duration: Option<Duration>) -> Result<()> {
        let mut item = Some(item);
        let mut waiter = QueuePlace::new(&self.inner.putters, true);
        let wait = poll_fn(|cx| {
            // `may_take` first: it also collects a notification, which a waiter that then finds
            // nothing must carry back into the queue (at the front); checked second, a turn
            // taken by someone else would leave this waiter out of the queue for good.
            if waiter.may_take() && !self.full() {
                waiter.done();
                if let Some(item) = item.take() {
                    self.push(item);
                }
                return Poll::Ready(());
            }
            waiter.wait(cx);
            Poll::Pending
        });
        maybe_timeout(duration, wait).await
    }

    /// Takes an item without waiting.
    ///
    /// # Errors
    ///
    /// [`LoopError::QueueEmpty`].
    pub fn get_nowait(&self) -> Result<T> {
        if self.inner.getters.has_waiters() {
            return Err(LoopError::QueueEmpty);
        }
        self.pop().ok_or(LoopError::QueueEmpty)
    }

    /// Takes an item, waiting until there is one.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an item is removed only when the future completes.
    pub async fn get(&self) -> T {
        let mut waiter = QueuePlace::new(&self.inner.getters, true);
        poll_fn(|cx| {
            // `may_take` first, as in `put_inner`.
            if waiter.may_take() && !self.empty() {
                waiter.done();
                if let Some(item) = self.pop() {
                    return Poll::Ready(item);
                }
            }
            waiter.wait(cx);
            Poll::Pending
        })
        .await
    }

    /// Takes an item, waiting at most `duration`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn get_timeout(&self, duration: Duration) -> Result<T> {
        crate::timer::timeout(duration, self.get()).await
    }

    /// Marks one item taken by `get` as processed (for [`join`](Self::join)).
    ///
    /// # Errors
    ///
    /// [`LoopError::TaskDoneTooManyTimes`] if every item put was already marked.
    pub fn task_done(&self) -> Result<()> {
        let unfinished = self.inner.unfinished.get();
        if unfinished == 0 {
            return Err(LoopError::TaskDoneTooManyTimes);
        }
        self.inner.unfinished.set(unfinished - 1);
        if unfinished == 1 {
            self.inner.finished.set();
        }
        Ok(())
    }

    /// Waits until every item put has been marked with [`task_done`](Self::task_done).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn join(&self) {
        self.inner.finished.wait().await;
    }

    /// Like [`join`](Self::join), for at most `duration`.
    ///
    /// # Errors
    ///
    /// [`LoopError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn join_timeout(&self, duration: Duration) -> Result<()> {
        self.inner.finished.wait_timeout(duration).await
    }
}

impl<T, S: QueueStorage<T>> fmt::Debug for Queue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("maxsize", &self.inner.maxsize)
            .field("qsize", &self.qsize())
            .field("unfinished", &self.inner.unfinished.get())
            .finish()
    }
}
