//! The timer queue of one loop: `call_later`/`call_at` callbacks and the wakeups of sleeping
//! futures.
//!
//! All timers of a loop live in one `BTreeMap` ordered by `(deadline, sequence)`, so they fire in
//! deadline order, ties in the order they were scheduled, and removal is `O(log n)` without
//! tombstones. The clock is [`Instant`]: monotonic. The futures built on it (`Sleep`, `Timeout`)
//! are in `timer.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::task::Waker;
use std::time::Instant;

/// Identifies a scheduled timeout, for [`IOLoop::remove_timeout`](crate::IOLoop::remove_timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeoutHandle {
    /// When it fires.
    deadline: Instant,
    /// Tie-breaker and identity: unique per loop.
    seq: u64,
}

impl TimeoutHandle {
    /// When the timeout fires (or fired).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

/// What a timer does when it fires.
pub(crate) enum TimerAction {
    /// Run a callback (`call_later`, `call_at`).
    Callback(Box<dyn FnOnce()>),
    /// Wake a sleeping future; `None` until it is first polled.
    Wake(Option<Waker>),
}

/// The timer queue of one loop.
#[derive(Default)]
pub(crate) struct Timers {
    /// Pending timers by (deadline, sequence).
    map: BTreeMap<TimeoutHandle, TimerAction>,
    /// Timers taken out because they are due, not yet run: `remove` still finds them, so a
    /// timer can cancel another due in the same iteration.
    firing: BTreeMap<TimeoutHandle, TimerAction>,
    /// Next sequence number.
    next_seq: u64,
}

impl Timers {
    pub(crate) fn insert(&mut self, deadline: Instant, action: TimerAction) -> TimeoutHandle {
        let handle = TimeoutHandle {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.map.insert(handle, action);
        handle
    }

    pub(crate) fn remove(&mut self, handle: TimeoutHandle) -> Option<TimerAction> {
        self.map
            .remove(&handle)
            .or_else(|| self.firing.remove(&handle))
    }

    /// Replaces the waker of a `Wake` timer; false if the timer is gone.
    pub(crate) fn set_waker(&mut self, handle: TimeoutHandle, waker: &Waker) -> bool {
        match self.map.get_mut(&handle) {
            Some(TimerAction::Wake(slot)) => {
                match slot {
                    Some(current) if current.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                }
                true
            }
            _ => false,
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.map
            .first_key_value()
            .map(|(handle, _)| handle.deadline)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len() + self.firing.len()
    }

    /// Moves every timer due at `now` to the firing set; [`Timers::next_firing`] then yields
    /// them in order. Timers added meanwhile wait for the next iteration, even if due.
    pub(crate) fn take_due(&mut self, now: Instant) {
        // Most iterations have no due timer: skip the split (which allocates tree nodes).
        if self.next_deadline().is_none_or(|deadline| deadline > now) {
            return;
        }
        let first_not_due = TimeoutHandle {
            deadline: now,
            seq: u64::MAX,
        };
        let later = self.map.split_off(&first_not_due);
        let mut due = std::mem::replace(&mut self.map, later);
        self.firing.append(&mut due);
    }

    /// The next due timer to run, if any is left.
    pub(crate) fn next_firing(&mut self) -> Option<TimerAction> {
        self.firing.pop_first().map(|(_, action)| action)
    }

    pub(crate) fn clear(&mut self) -> Vec<TimerAction> {
        let map = std::mem::take(&mut self.map);
        let firing = std::mem::take(&mut self.firing);
        map.into_values().chain(firing.into_values()).collect()
    }
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers").field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn take_due_splits_at_now() {
        let mut timers = Timers::default();
        let now = Instant::now();
        let a = timers.insert(now, TimerAction::Wake(None));
        let b = timers.insert(now - Duration::from_millis(1), TimerAction::Wake(None));
        let c = timers.insert(now + Duration::from_millis(1), TimerAction::Wake(None));
        timers.take_due(now);
        assert_eq!(
            timers.firing.keys().copied().collect::<Vec<_>>(),
            vec![b, a]
        );
        assert!(
            timers.remove(a).is_some(),
            "a due timer can still be removed"
        );
        assert!(matches!(
            timers.next_firing(),
            Some(TimerAction::Wake(None))
        ));
        assert!(timers.next_firing().is_none());
        assert_eq!(timers.next_deadline(), Some(c.deadline()));
        assert!(timers.remove(c).is_some());
        assert_eq!(timers.len(), 0);
    }
}
