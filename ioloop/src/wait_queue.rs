//! A FIFO of waiting tasks, the building block of the locks and queues.
//!
//! Single-threaded (tasks of one loop), so no atomics: a waiter is an `Rc` node in a `VecDeque`.
//! The protocol is "notify, then retry": a notified waiter re-checks the resource when it runs.
//! If a notified waiter is dropped before it could use its turn, the [`QueuePlace`] passes the
//! notification on, so no wakeup is ever lost to a cancelled wait.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Waker};

/// Where a waiter stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// In the queue, not yet notified.
    Waiting,
    /// Taken out of the queue by a notify.
    Notified,
    /// Its future was dropped while waiting; skipped by notify.
    Cancelled,
}

/// One waiting task.
#[derive(Debug)]
struct Node {
    /// Where it stands.
    state: Cell<State>,
    /// The task to wake.
    waker: RefCell<Option<Waker>>,
}

/// A FIFO of waiting tasks.
#[derive(Debug, Default)]
pub(crate) struct WaitQueue {
    /// The waiters, oldest first (cancelled ones are skipped lazily).
    queue: RefCell<VecDeque<Rc<Node>>>,
    /// How many queued waiters are still `Waiting`.
    waiting: Cell<usize>,
}

impl WaitQueue {
    /// Whether any task is waiting (not counting notified ones).
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiting.get() > 0
    }

    /// Wakes the oldest waiter; false if none was waiting.
    pub(crate) fn notify_one(&self) -> bool {
        loop {
            let node = self.queue.borrow_mut().pop_front();
            let Some(node) = node else { return false };
            if node.state.get() == State::Waiting {
                node.state.set(State::Notified);
                self.waiting.set(self.waiting.get() - 1);
                let waker = node.waker.borrow_mut().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
                return true;
            }
        }
    }

    /// Wakes up to `n` waiters; returns how many.
    pub(crate) fn notify(&self, n: usize) -> usize {
        let mut woken = 0;
        while woken < n && self.notify_one() {
            woken += 1;
        }
        woken
    }

    /// Wakes every waiter.
    pub(crate) fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// Drops cancelled nodes once they outnumber live ones, so waits that keep timing out
    /// (with nobody notifying) do not grow the queue without bound.
    fn compact(&self) {
        let mut queue = self.queue.borrow_mut();
        if queue.len() > 2 * self.waiting.get() + 32 {
            queue.retain(|node| node.state.get() == State::Waiting);
        }
    }

    fn enqueue(&self, front: bool, cx: &Context<'_>) -> Rc<Node> {
        let node = Rc::new(Node {
            state: Cell::new(State::Waiting),
            waker: RefCell::new(Some(cx.waker().clone())),
        });
        let mut queue = self.queue.borrow_mut();
        if front {
            queue.push_front(Rc::clone(&node));
        } else {
            queue.push_back(Rc::clone(&node));
        }
        self.waiting.set(self.waiting.get() + 1);
        node
    }
}

/// A task's place in a [`WaitQueue`], owned by the future that waits (a lock's `acquire`, a
/// queue's `get`).
#[derive(Debug)]
pub(crate) struct QueuePlace<'a> {
    /// The queue.
    queue: &'a WaitQueue,
    /// The node while queued or notified-but-unused.
    node: Option<Rc<Node>>,
    /// Whether a notify came and the turn has not been used yet. A waiter with a turn may take
    /// the resource even if others wait, and is requeued at the front if it still cannot.
    has_turn: bool,
    /// Pass an unused turn on to the next waiter when dropped (locks and queues); a condition
    /// variable's notification is not passed on.
    pass_on: bool,
}

impl<'a> QueuePlace<'a> {
    pub(crate) fn new(queue: &'a WaitQueue, pass_on: bool) -> Self {
        Self {
            queue,
            node: None,
            has_turn: false,
            pass_on,
        }
    }

    /// Checks for a notification; true once notified (until [`QueuePlace::done`]).
    pub(crate) fn poll_notified(&mut self) -> bool {
        if let Some(node) = &self.node
            && node.state.get() == State::Notified
        {
            self.node = None;
            self.has_turn = true;
        }
        self.has_turn
    }

    /// Whether this waiter may take the resource now: it has a turn, or nobody is waiting.
    pub(crate) fn may_take(&mut self) -> bool {
        self.poll_notified() || (self.node.is_none() && !self.queue.has_waiters())
    }

    /// Queues the task (at the front if it had a turn it could not use) or refreshes its waker.
    pub(crate) fn wait(&mut self, cx: &Context<'_>) {
        if let Some(node) = &self.node {
            let mut waker = node.waker.borrow_mut();
            match &*waker {
                Some(current) if current.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
            return;
        }
        let front = std::mem::take(&mut self.has_turn);
        self.node = Some(self.queue.enqueue(front, cx));
    }

    /// The resource was taken (or the wait ended for good): nothing to pass on.
    pub(crate) fn done(&mut self) {
        self.has_turn = false;
        if let Some(node) = self.node.take()
            && node.state.get() == State::Waiting
        {
            node.state.set(State::Cancelled);
            self.queue.waiting.set(self.queue.waiting.get() - 1);
            self.queue.compact();
        }
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        let notified = self.poll_notified();
        self.done();
        if notified && self.pass_on {
            self.queue.notify_one();
        }
    }
}
