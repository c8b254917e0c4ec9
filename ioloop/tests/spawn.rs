//! Detached spawns and executors: a dropped `JoinHandle` detaches (Tornado's `spawn_callback`
//! semantics), `cancel`/`cancel_on_drop` stop a task on purpose, `add_future`, and
//! `run_in_executor` on a pool of one's own (Tornado's `run_in_executor(executor, func)`).

mod util;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{Executor, IOLoop, LoopError, join_all, sleep, yield_now};
use typhoon_testing::{assert_send, assert_sync, capture_logs, run_test};
use util::DropFlag;

#[test]
fn executor_is_send_and_sync() {
    assert_send::<Executor>();
    assert_sync::<Executor>();
}

#[test]
fn dropped_join_handle_detaches() {
    run_test(async {
        let done = Event::new();
        let ran = Rc::new(Cell::new(false));
        let handle = {
            let (done, ran) = (done.clone(), Rc::clone(&ran));
            IOLoop::current().spawn(async move {
                yield_now().await;
                yield_now().await;
                ran.set(true);
                done.set();
            })
        };
        drop(handle);
        done.wait().await;
        assert!(
            ran.get(),
            "a task whose handle was dropped runs to completion"
        );
    });
}

#[test]
fn cancel_stops_the_task_and_drops_its_future() {
    let ioloop = IOLoop::new();
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(Rc::clone(&dropped));
    let handle = ioloop.spawn(async move {
        let _flag = flag;
        sleep(Duration::from_secs(3600)).await;
    });
    ioloop.run_sync(yield_now());
    assert!(!dropped.get());
    handle.cancel();
    ioloop.run_sync(async {});
    assert!(dropped.get());
}

#[test]
fn cancel_on_drop_cancels_when_dropped() {
    let ioloop = IOLoop::new();
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(Rc::clone(&dropped));
    let guard = ioloop
        .spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(3600)).await;
        })
        .cancel_on_drop();
    ioloop.run_sync(yield_now());
    assert!(!guard.is_finished());
    drop(guard);
    ioloop.run_sync(async {});
    assert!(dropped.get());
}

#[test]
fn cancel_on_drop_awaits_and_gives_back_the_handle() {
    run_test(async {
        let guard = IOLoop::current().spawn(async { 7 }).cancel_on_drop();
        assert_eq!(guard.await.expect("output"), 7);
        let handle = IOLoop::current()
            .spawn(async { 8 })
            .cancel_on_drop()
            .into_handle();
        assert_eq!(handle.await.expect("output"), 8);
    });
}

#[test]
fn add_future_runs_the_callback_on_the_loop_with_the_output() {
    run_test(async {
        let seen: Rc<RefCell<Vec<u32>>> = Rc::new(RefCell::new(Vec::new()));
        let done = Event::new();
        let ioloop = IOLoop::current();
        let thread = std::thread::current().id();
        {
            let (seen, done) = (Rc::clone(&seen), done.clone());
            ioloop.add_future(
                async {
                    yield_now().await;
                    42
                },
                move |result| {
                    assert_eq!(std::thread::current().id(), thread);
                    seen.borrow_mut().push(result.expect("output"));
                    done.set();
                },
            );
        }
        assert!(
            seen.borrow().is_empty(),
            "not called before the future completes"
        );
        done.wait().await;
        assert_eq!(*seen.borrow(), [42]);
    });
}

#[test]
fn add_future_gives_a_panic_to_the_callback() {
    let (outcome, log) = capture_logs(|| {
        run_test(async {
            let slot = Rc::new(RefCell::new(None));
            let done = Event::new();
            {
                let (slot, done) = (Rc::clone(&slot), done.clone());
                IOLoop::current().add_future(
                    async {
                        yield_now().await;
                        panic!("future boom");
                    },
                    move |result: Result<(), LoopError>| {
                        *slot.borrow_mut() = Some(result);
                        done.set();
                    },
                );
            }
            done.wait().await;
            slot.borrow_mut().take()
        })
    });
    assert!(
        matches!(outcome, Some(Err(LoopError::Panicked { ref message })) if message == "future boom"),
        "{outcome:?}"
    );
    assert!(log.contains("future boom"));
}

#[test]
fn spawn_callback_runs_to_completion() {
    run_test(async {
        let done = Event::new();
        let steps = Rc::new(Cell::new(0));
        {
            let (done, steps) = (done.clone(), Rc::clone(&steps));
            IOLoop::current().spawn_callback(move || async move {
                for _ in 0..3 {
                    steps.set(steps.get() + 1);
                    yield_now().await;
                }
                done.set();
            });
        }
        assert_eq!(steps.get(), 0, "the callback runs at the next iteration");
        done.wait().await;
        assert_eq!(steps.get(), 3);
    });
}

#[test]
fn run_in_executor_on_a_named_pool() {
    run_test(async {
        let db = Executor::with_name("db-pool", 2);
        assert_eq!(db.name(), "db-pool");
        assert_eq!(db.max_threads(), 2);
        let name = IOLoop::current()
            .run_in_executor_on(&db, || std::thread::current().name().map(str::to_owned))
            .await
            .expect("closure");
        assert_eq!(name.as_deref(), Some("db-pool"));
        let default = IOLoop::current()
            .run_in_executor(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("closure");
        assert_eq!(default.as_deref(), Some("typhoon-executor"));
    });
}

#[test]
fn a_saturated_pool_does_not_starve_another() {
    // Every thread of the "db" pool blocks until released; CPU work on the default pool still
    // runs meanwhile.
    run_test(async {
        let ioloop = IOLoop::current();
        let db = Executor::with_name("db", 2);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = std::sync::Arc::new(std::sync::Mutex::new(release_rx));
        let blocked: Vec<_> = (0..2)
            .map(|_| {
                let release_rx = std::sync::Arc::clone(&release_rx);
                ioloop.run_in_executor_on(&db, move || {
                    let _ = release_rx
                        .lock()
                        .map(|rx| rx.recv_timeout(Duration::from_secs(20)));
                })
            })
            .collect();
        let cpu = ioloop
            .run_in_executor(|| (1..=10_u64).product::<u64>())
            .await;
        assert_eq!(cpu.expect("closure"), 3_628_800);
        for _ in 0..2 {
            release_tx.send(()).expect("release");
        }
        for result in join_all(blocked).await {
            result.expect("db closure");
        }
    });
}

#[test]
fn set_default_executor_moves_run_in_executor() {
    run_test(async {
        let ioloop = IOLoop::current();
        let pool = Executor::with_name("mine", 3);
        ioloop.set_default_executor(&pool);
        assert_eq!(ioloop.executor_threads(), 3);
        assert_eq!(ioloop.default_executor().name(), "mine");
        let name = ioloop
            .run_in_executor(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("closure");
        assert_eq!(name.as_deref(), Some("mine"));
    });
}

#[test]
fn closing_a_loop_leaves_a_given_executor_running() {
    let pool = Executor::new(1);
    {
        let ioloop = IOLoop::new();
        ioloop.set_default_executor(&pool);
        assert_eq!(
            ioloop
                .run_sync(ioloop.run_in_executor(|| 1))
                .expect("closure"),
            1
        );
        ioloop.close();
    }
    assert!(!pool.is_shutdown());
    let ioloop = IOLoop::new();
    assert_eq!(
        ioloop
            .run_sync(ioloop.run_in_executor_on(&pool, || 2))
            .expect("closure"),
        2
    );
}

#[test]
fn a_shut_down_executor_refuses_work() {
    run_test(async {
        let pool = Executor::new(1);
        pool.shutdown();
        assert!(pool.is_shutdown());
        let result = IOLoop::current().run_in_executor_on(&pool, || 1).await;
        assert!(matches!(result, Err(LoopError::Cancelled)), "{result:?}");
    });
}
