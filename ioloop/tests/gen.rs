//! Tornado's `gen_test.py` for the fan-out helpers: `test_multi*` (`gen.multi` over a list and
//! a dict) and `WaitIteratorTest`, as `join_all`, `join_all_map` and `as_completed`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{IOLoop, as_completed, as_completed_map, join_all, join_all_map, yield_now};
use typhoon_testing::run_test;

/// A future that completes once `event` is set, recording its name in `order` when it does.
async fn when_set(
    event: Event,
    name: &'static str,
    order: Rc<RefCell<Vec<&'static str>>>,
) -> &'static str {
    event.wait().await;
    order.borrow_mut().push(name);
    name
}

#[test]
fn multi() {
    let results = run_test(join_all(vec![
        Box::pin(async { "v1" }) as std::pin::Pin<Box<dyn Future<Output = &str>>>,
        Box::pin(async {
            yield_now().await;
            "v2"
        }),
    ]));
    assert_eq!(results, ["v1", "v2"]);
}

#[test]
fn multi_dict() {
    let futures = BTreeMap::from([
        ("foo", std::future::ready("v1")),
        ("bar", std::future::ready("v2")),
    ]);
    let results: BTreeMap<_, _> = run_test(join_all_map(futures));
    assert_eq!(results, BTreeMap::from([("foo", "v1"), ("bar", "v2")]));
}

#[test]
fn multi_dict_into_hashmap() {
    let futures: HashMap<String, _> = (0..10_u32)
        .map(|i| {
            (i.to_string(), async move {
                for _ in 0..i {
                    yield_now().await;
                }
                i * i
            })
        })
        .collect();
    let results: HashMap<String, u32> = run_test(join_all_map(futures));
    assert_eq!(results.len(), 10);
    for i in 0..10_u32 {
        assert_eq!(results[&i.to_string()], i * i);
    }
}

#[test]
fn multi_delayed() {
    // The first future completes last; the results keep the input order.
    run_test(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let (first, second) = (Event::new(), Event::new());
        let setter = {
            let (first, second) = (first.clone(), second.clone());
            IOLoop::current().spawn(async move {
                second.set();
                yield_now().await;
                yield_now().await;
                first.set();
            })
        };
        let results = join_all(vec![
            when_set(first, "v1", Rc::clone(&order)),
            when_set(second, "v2", Rc::clone(&order)),
        ])
        .await;
        assert_eq!(results, ["v1", "v2"]);
        assert_eq!(*order.borrow(), ["v2", "v1"]);
        setter.await.expect("setter");
    });
}

#[test]
fn multi_dict_delayed() {
    run_test(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let (first, second) = (Event::new(), Event::new());
        second.set();
        let futures = vec![
            ("foo", when_set(first.clone(), "v1", Rc::clone(&order))),
            ("bar", when_set(second, "v2", Rc::clone(&order))),
        ];
        IOLoop::current().add_callback(move || first.set());
        let results: BTreeMap<_, _> = join_all_map(futures).await;
        assert_eq!(results, BTreeMap::from([("foo", "v1"), ("bar", "v2")]));
        assert_eq!(*order.borrow(), ["v2", "v1"]);
    });
}

#[test]
fn multi_empty() {
    let results: Vec<()> = run_test(join_all(Vec::<std::future::Ready<()>>::new()));
    assert!(results.is_empty());
    let results: HashMap<u8, ()> =
        run_test(join_all_map(Vec::<(u8, std::future::Ready<()>)>::new()));
    assert!(results.is_empty());
}

#[test]
fn multi_exceptions_wait_for_every_child() {
    // gen.multi waits for all children, then raises the first error: collect the Results.
    let finished = Rc::new(Cell::new(0));
    let results = run_test({
        let finished = Rc::clone(&finished);
        join_all((0..4).map(move |i| {
            let finished = Rc::clone(&finished);
            async move {
                for _ in 0..(4 - i) {
                    yield_now().await;
                }
                finished.set(finished.get() + 1);
                if i % 2 == 1 {
                    Err(format!("error {i}"))
                } else {
                    Ok(i)
                }
            }
        }))
    });
    assert_eq!(finished.get(), 4);
    let collected: Result<Vec<_>, _> = results.into_iter().collect();
    assert_eq!(collected, Err("error 1".to_owned()));
}

/// Counts how often the parent task is woken.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn multi_polls_only_the_woken_future() {
    // 100 pending futures, then one wake: only that one is polled again.
    let polls = Rc::new(Cell::new(0));
    let wakers: Rc<RefCell<Vec<Option<Waker>>>> = Rc::new(RefCell::new(vec![None; 100]));
    let futures = (0..100).map(|i| {
        let (polls, wakers) = (Rc::clone(&polls), Rc::clone(&wakers));
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            polls.set(polls.get() + 1);
            wakers.borrow_mut()[i] = Some(cx.waker().clone());
            Poll::<()>::Pending
        })
    });
    let mut all = join_all(futures);
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut all).poll(&mut cx).is_pending());
    assert_eq!(polls.get(), 100, "each future polled once to start");
    assert!(std::pin::Pin::new(&mut all).poll(&mut cx).is_pending());
    assert_eq!(polls.get(), 100, "nothing woken, nothing polled");
    let child = wakers.borrow_mut()[37].take().expect("a waker");
    child.wake();
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "a child's wake wakes the parent"
    );
    assert!(std::pin::Pin::new(&mut all).poll(&mut cx).is_pending());
    assert_eq!(polls.get(), 101, "only the woken future is polled");
}

#[test]
fn wait_iterator_empty_iterator() {
    run_test(async {
        let mut waiting = as_completed(Vec::<std::future::Ready<u8>>::new());
        assert!(waiting.is_empty());
        assert!(waiting.next().await.is_none());
    });
}

#[test]
fn wait_iterator_already_done() {
    run_test(async {
        let mut waiting = as_completed([24, 42, 84].map(std::future::ready));
        let mut seen = Vec::new();
        while let Some((index, value)) = waiting.next().await {
            seen.push((index, value));
        }
        // Futures already done come in input order.
        assert_eq!(seen, [(0, 24), (1, 42), (2, 84)]);
        assert!(waiting.is_empty());

        let mut waiting = as_completed_map(vec![
            ("foo", std::future::ready(24)),
            ("bar", std::future::ready(42)),
        ]);
        assert_eq!(waiting.len(), 2);
        let mut seen = Vec::new();
        while let Some(pair) = waiting.next().await {
            seen.push(pair);
        }
        assert_eq!(seen, [("foo", 24), ("bar", 42)]);
    });
}

#[test]
fn wait_iterator_iterator() {
    // Completion order, with each future's index (Tornado's current_index).
    run_test(async {
        let events: Vec<Event> = (0..4).map(|_| Event::new()).collect();
        let order = Rc::new(RefCell::new(Vec::new()));
        let names = ["a", "b", "c", "d"];
        let mut waiting = as_completed(
            events
                .iter()
                .zip(names)
                .map(|(event, name)| when_set(event.clone(), name, Rc::clone(&order))),
        );
        let setter = {
            let events = events.clone();
            IOLoop::current().spawn(async move {
                for index in [2, 0, 3, 1] {
                    events[index].set();
                    yield_now().await;
                    yield_now().await;
                }
            })
        };
        let mut seen = Vec::new();
        while let Some((index, name)) = waiting.next().await {
            seen.push((index, name));
        }
        assert_eq!(seen, [(2, "c"), (0, "a"), (3, "d"), (1, "b")]);
        setter.await.expect("setter");
    });
}

#[test]
fn wait_iterator_dict_keys_in_completion_order() {
    run_test(async {
        let (slow, fast) = (Event::new(), Event::new());
        let order = Rc::new(RefCell::new(Vec::new()));
        let futures = HashMap::from([
            ("slow", when_set(slow.clone(), "slow", Rc::clone(&order))),
            ("fast", when_set(fast.clone(), "fast", Rc::clone(&order))),
        ]);
        let mut waiting = as_completed_map(futures);
        fast.set();
        assert_eq!(waiting.next().await, Some(("fast", "fast")));
        slow.set();
        assert_eq!(waiting.next().await, Some(("slow", "slow")));
        assert_eq!(waiting.next().await, None);
    });
}

#[test]
fn wait_iterator_dropped_drops_pending_futures() {
    run_test(async {
        let dropped = Rc::new(Cell::new(0));
        struct Counted(Rc<Cell<u32>>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let never = Event::new();
        let mut waiting = as_completed((0..3).map(|i| {
            let guard = Counted(Rc::clone(&dropped));
            let never = never.clone();
            async move {
                let _guard = guard;
                if i > 0 {
                    never.wait().await;
                }
                i
            }
        }));
        assert_eq!(waiting.next().await, Some((0, 0)));
        assert_eq!(dropped.get(), 1);
        drop(waiting);
        assert_eq!(dropped.get(), 3);
    });
}

#[test]
fn wake_from_another_thread() {
    // A run_in_executor handle is woken from a pool thread.
    let results = run_test(async {
        let ioloop = IOLoop::current();
        join_all((0..4_u64).map(|i| ioloop.run_in_executor(move || i * 10))).await
    });
    let results: Vec<u64> = results.into_iter().map(|r| r.expect("closure")).collect();
    assert_eq!(results, [0, 10, 20, 30]);
}

#[test]
fn multi_of_queue_workers_all_see_their_stop() {
    // demos/webspider's shape: workers in one join_all, each stopped by a None.
    run_test(async {
        let queue: typhoon_ioloop::queues::Queue<Option<u32>> =
            typhoon_ioloop::queues::Queue::new(0);
        let workers = IOLoop::current().spawn(join_all((0..3).map(|_| {
            let queue = queue.clone();
            async move {
                let mut seen = 0;
                while let Some(item) = queue.get().await {
                    seen += item;
                }
                seen
            }
        })));
        for i in 1..=6 {
            queue.put(Some(i)).await;
        }
        yield_now().await;
        for _ in 0..3 {
            queue.put(None).await;
        }
        let seen = workers.await.expect("workers");
        assert_eq!(seen.iter().sum::<u32>(), 21);
    });
}
