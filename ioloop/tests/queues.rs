//! Tests of `typhoon_ioloop::queues`, named after Tornado's `queues_test.py`.

use std::time::Duration;

use typhoon_ioloop::queues::{LifoQueue, PriorityQueue, Queue};
use typhoon_ioloop::{IOLoop, LoopError, yield_now};
use typhoon_testing::run_test;

#[test]
fn queue_basics_and_nowait() {
    run_test(async {
        let queue: Queue<i32> = Queue::new(2);
        assert_eq!(queue.maxsize(), 2);
        assert!(queue.empty());
        queue.put_nowait(1).expect("room");
        queue.put_nowait(2).expect("room");
        assert!(queue.full());
        assert_eq!(queue.put_nowait(3), Err(3), "QueueFull gives the item back");
        assert_eq!(queue.get_nowait().expect("item"), 1);
        assert_eq!(queue.get().await, 2);
        assert!(matches!(queue.get_nowait(), Err(LoopError::QueueEmpty)));
    });
}

#[test]
fn get_timeout_and_put_timeout() {
    run_test(async {
        let queue: Queue<i32> = Queue::new(1);
        assert!(matches!(
            queue.get_timeout(Duration::from_millis(5)).await,
            Err(LoopError::Timeout)
        ));
        queue.put(1).await;
        assert!(matches!(
            queue.put_timeout(2, Duration::from_millis(5)).await,
            Err(LoopError::Timeout)
        ));
        assert_eq!(queue.qsize(), 1, "the timed-out put added nothing");
        // A getter that timed out must not swallow a later item.
        assert_eq!(
            queue
                .get_timeout(Duration::from_secs(5))
                .await
                .expect("item"),
            1
        );
        let empty: Queue<i32> = Queue::new(0);
        let _ = empty.get_timeout(Duration::from_millis(1)).await;
        empty.put_nowait(7).expect("unbounded");
        assert_eq!(empty.get_nowait().expect("item"), 7);
    });
}

#[test]
fn blocking_put_wakes_when_room() {
    run_test(async {
        let queue: Queue<u32> = Queue::new(1);
        let producer = {
            let queue = queue.clone();
            IOLoop::current().spawn(async move {
                for i in 0..10 {
                    queue.put(i).await;
                }
            })
        };
        let mut got = Vec::new();
        for _ in 0..10 {
            got.push(queue.get().await);
            assert!(queue.qsize() <= 1);
        }
        producer.await.expect("producer");
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn getters_served_in_order_and_cancelled_getter_loses_nothing() {
    run_test(async {
        let queue: Queue<&'static str> = Queue::new(0);
        let first = {
            let queue = queue.clone();
            IOLoop::current().spawn(async move { queue.get().await })
        };
        let second = {
            let queue = queue.clone();
            IOLoop::current().spawn(async move { queue.get().await })
        };
        yield_now().await;
        queue.put_nowait("a").expect("put");
        first.cancel(); // notified, then cancelled before running: "a" must go to `second`
        assert_eq!(second.await.expect("second"), "a");
        assert!(queue.empty());
    });
}

#[test]
fn task_done_and_join() {
    run_test(async {
        let queue: Queue<u32> = Queue::new(0);
        assert!(matches!(
            queue.task_done(),
            Err(LoopError::TaskDoneTooManyTimes)
        ));
        queue.join().await; // nothing put: returns at once
        for i in 0..3 {
            queue.put(i).await;
        }
        assert!(matches!(
            queue.join_timeout(Duration::from_millis(5)).await,
            Err(LoopError::Timeout)
        ));
        let worker = {
            let queue = queue.clone();
            IOLoop::current().spawn(async move {
                while let Ok(item) = queue.get_timeout(Duration::from_millis(50)).await {
                    let _ = item;
                    queue.task_done().expect("task_done");
                }
            })
        };
        queue.join().await;
        assert!(queue.empty());
        worker.await.expect("worker");
    });
}

#[test]
fn priority_queue_smallest_first() {
    run_test(async {
        let queue: PriorityQueue<(u8, &'static str)> = Queue::new(0);
        queue.put((1, "medium")).await;
        queue.put((0, "high")).await;
        queue.put((10, "low")).await;
        assert_eq!(queue.get().await, (0, "high"));
        assert_eq!(queue.get().await, (1, "medium"));
        assert_eq!(queue.get().await, (10, "low"));
    });
}

#[test]
fn lifo_queue_last_first() {
    run_test(async {
        let queue: LifoQueue<u8> = Queue::new(0);
        for i in 1..=3 {
            queue.put(i).await;
        }
        assert_eq!(queue.get().await, 3);
        assert_eq!(queue.get().await, 2);
        assert_eq!(queue.get().await, 1);
    });
}

#[test]
fn a_notified_getter_that_finds_its_item_taken_waits_for_the_next() {
    run_test(async {
        let queue: Queue<u32> = Queue::new(0);
        let getter = {
            let queue = queue.clone();
            IOLoop::current().spawn(async move { queue.get().await })
        };
        yield_now().await; // the getter waits
        queue.put_nowait(1).expect("room");
        // Before the notified getter runs, a non-waiting caller takes the item.
        assert_eq!(queue.get_nowait().ok(), Some(1));
        yield_now().await; // the getter finds the queue empty and must wait again
        queue.put_nowait(2).expect("room");
        let got = typhoon_ioloop::timeout(Duration::from_secs(5), getter).await;
        assert_eq!(
            got.ok().and_then(Result::ok),
            Some(2),
            "the getter was not lost"
        );
    });
}

#[test]
fn a_notified_putter_that_finds_the_queue_full_again_waits_for_room() {
    run_test(async {
        let queue: Queue<u32> = Queue::new(1);
        queue.put_nowait(1).expect("room");
        let putter = {
            let queue = queue.clone();
            IOLoop::current().spawn(async move { queue.put(2).await })
        };
        yield_now().await; // the putter waits for room
        assert_eq!(queue.get_nowait().ok(), Some(1));
        // Before the notified putter runs, a non-waiting caller takes the room.
        queue.put_nowait(3).expect("room");
        yield_now().await; // the putter finds the queue full and must wait again
        assert_eq!(queue.get_nowait().ok(), Some(3));
        let put = typhoon_ioloop::timeout(Duration::from_secs(5), putter).await;
        assert!(put.is_ok(), "the putter was not lost");
        assert_eq!(queue.get_nowait().ok(), Some(2));
    });
}
