//! Tests of `typhoon_ioloop::locks`, named after Tornado's `locks_test.py`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::locks::{BoundedSemaphore, Condition, Event, Lock, Semaphore};
use typhoon_ioloop::{IOLoop, LoopError, yield_now};
use typhoon_testing::run_test;

/// Lets every ready task run (a few loop iterations).
async fn settle() {
    for _ in 0..5 {
        yield_now().await;
    }
}

#[test]
fn condition_notify_order() {
    run_test(async {
        let condition = Condition::new();
        let history = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..4 {
            let (condition, history) = (condition.clone(), Rc::clone(&history));
            tasks.push(IOLoop::current().spawn(async move {
                condition.wait().await;
                history.borrow_mut().push(i);
            }));
        }
        settle().await;
        assert!(history.borrow().is_empty());
        assert_eq!(condition.notify(1), 1);
        settle().await;
        assert_eq!(*history.borrow(), vec![0]);
        assert_eq!(condition.notify(2), 2);
        settle().await;
        assert_eq!(*history.borrow(), vec![0, 1, 2]);
        assert_eq!(condition.notify_all(), 1);
        for task in tasks {
            task.await.expect("waiter");
        }
        assert_eq!(*history.borrow(), vec![0, 1, 2, 3]);
        assert_eq!(condition.notify_all(), 0);
    });
}

#[test]
fn condition_wait_timeout() {
    run_test(async {
        let condition = Condition::new();
        assert!(!condition.wait_timeout(Duration::from_millis(5)).await);
        // The timed-out waiter left the queue: a notify finds nobody.
        assert_eq!(condition.notify(1), 0);
        let waiter = {
            let condition = condition.clone();
            IOLoop::current()
                .spawn(async move { condition.wait_timeout(Duration::from_secs(10)).await })
        };
        settle().await;
        assert_eq!(condition.notify(1), 1);
        assert!(waiter.await.expect("waiter"));
    });
}

#[test]
fn condition_notify_skips_cancelled_waiter() {
    run_test(async {
        let condition = Condition::new();
        let first = {
            let condition = condition.clone();
            IOLoop::current().spawn(async move { condition.wait().await })
        };
        let second = {
            let condition = condition.clone();
            IOLoop::current().spawn(async move { condition.wait().await })
        };
        settle().await;
        first.cancel();
        settle().await;
        assert_eq!(condition.notify(1), 1, "the live waiter is notified");
        second.await.expect("second");
    });
}

#[test]
fn event_set_clear_wait() {
    run_test(async {
        let event = Event::new();
        assert!(!event.is_set());
        assert!(matches!(
            event.wait_timeout(Duration::from_millis(5)).await,
            Err(LoopError::Timeout)
        ));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let event = event.clone();
                IOLoop::current().spawn(async move { event.wait().await })
            })
            .collect();
        settle().await;
        event.set();
        // set then clear before the waiters run: they were released by the set (Tornado).
        event.clear();
        for waiter in waiters {
            waiter.await.expect("waiter");
        }
        event.set();
        event.wait().await; // returns at once while set
        event.clear();
        assert!(!event.is_set());
    });
}

#[test]
fn semaphore_acquire_release_fifo() {
    run_test(async {
        let semaphore = Semaphore::new(2);
        let a = semaphore.acquire().await;
        let _b = semaphore.acquire().await;
        assert_eq!(semaphore.value(), 0);
        assert!(semaphore.try_acquire().is_none());
        let order = Rc::new(RefCell::new(Vec::new()));
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let (semaphore, order) = (semaphore.clone(), Rc::clone(&order));
                IOLoop::current().spawn(async move {
                    let guard = semaphore.acquire().await;
                    order.borrow_mut().push(i);
                    guard.forget(); // keep it, to observe FIFO hand-over one at a time
                })
            })
            .collect();
        settle().await;
        drop(a);
        settle().await;
        assert_eq!(*order.borrow(), vec![0]);
        semaphore.release();
        semaphore.release();
        for waiter in waiters {
            waiter.await.expect("waiter");
        }
        assert_eq!(*order.borrow(), vec![0, 1, 2]);
    });
}

#[test]
fn semaphore_acquire_timeout_and_cancel_passes_turn_on() {
    run_test(async {
        let semaphore = Semaphore::new(1);
        let held = semaphore.acquire().await;
        assert!(matches!(
            semaphore.acquire_timeout(Duration::from_millis(5)).await,
            Err(LoopError::Timeout)
        ));
        let first = {
            let semaphore = semaphore.clone();
            IOLoop::current().spawn(async move { drop(semaphore.acquire().await) })
        };
        let second = {
            let semaphore = semaphore.clone();
            IOLoop::current().spawn(async move { drop(semaphore.acquire().await) })
        };
        settle().await;
        // Release (notifying `first`), then cancel `first` before it runs: its turn must pass
        // to `second`, or `second` would wait forever.
        drop(held);
        first.cancel();
        second.await.expect("second got the permit");
        assert_eq!(semaphore.value(), 1);
    });
}

#[test]
fn bounded_semaphore_release_unacquired() {
    run_test(async {
        let semaphore = BoundedSemaphore::new(1);
        assert!(matches!(
            semaphore.release(),
            Err(LoopError::SemaphoreReleasedTooManyTimes)
        ));
        let guard = semaphore.acquire().await;
        guard.forget();
        assert_eq!(semaphore.value(), 0);
        semaphore.release().expect("one release is fine");
        assert!(semaphore.release().is_err());
    });
}

#[test]
fn lock_fifo_and_timeout() {
    run_test(async {
        let lock = Lock::new();
        let history = Rc::new(RefCell::new(Vec::new()));
        let guard = lock.acquire().await;
        assert!(lock.is_locked());
        assert!(matches!(
            lock.acquire_timeout(Duration::from_millis(5)).await,
            Err(LoopError::Timeout)
        ));
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let (lock, history) = (lock.clone(), Rc::clone(&history));
                IOLoop::current().spawn(async move {
                    let _guard = lock.acquire().await;
                    history.borrow_mut().push(i);
                    yield_now().await; // hold it across a suspension
                    history.borrow_mut().push(i);
                })
            })
            .collect();
        settle().await;
        drop(guard);
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(*history.borrow(), vec![0, 0, 1, 1, 2, 2]);
        assert!(!lock.is_locked());
    });
}

#[test]
fn a_notified_waiter_whose_permit_was_taken_waits_for_the_next() {
    run_test(async {
        let semaphore = Semaphore::new(0);
        let waiter = {
            let semaphore = semaphore.clone();
            IOLoop::current().spawn(async move {
                let _guard = semaphore.acquire().await;
            })
        };
        yield_now().await; // the waiter waits
        semaphore.release();
        // Before the notified waiter runs, a non-waiting caller takes the permit.
        let stolen = semaphore.try_acquire().expect("a permit");
        yield_now().await; // the waiter finds none and must wait again
        drop(stolen);
        let acquired = typhoon_ioloop::timeout(Duration::from_secs(5), waiter).await;
        assert!(acquired.is_ok(), "the waiter was not lost");
    });
}
