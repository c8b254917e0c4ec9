//! Integration tests of the loop, named after Tornado's `ioloop_test.py` where a case applies.

mod util;

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use typhoon_ioloop::{
    Async, IOLoop, Interest, LoopError, LoopHandle, PeriodicCallback, sleep, timeout, yield_now,
};
use typhoon_testing::{assert_send, assert_sync, capture_logs, run_test};
use util::DropFlag;

#[test]
fn loop_handle_is_send_and_sync() {
    assert_send::<LoopHandle>();
    assert_sync::<LoopHandle>();
    assert_send::<typhoon_ioloop::JoinHandle<u32>>();
}

#[test]
fn run_sync_returns_output() {
    assert_eq!(run_test(async { 42 }), 42);
}

#[test]
fn run_sync_timeout() {
    let ioloop = IOLoop::new();
    let result = ioloop.run_sync_timeout(Duration::from_millis(10), sleep(Duration::from_secs(60)));
    assert!(matches!(result, Err(LoopError::Timeout)));
    // The loop is reusable afterwards.
    assert_eq!(ioloop.run_sync(async { 1 }), 1);
}

#[test]
fn start_while_running_panics() {
    let ioloop = IOLoop::new();
    let inner = ioloop.clone();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ioloop.run_sync(async move { inner.start() })
    }))
    .expect_err("nested start must panic");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("already running"), "{message}");
}

#[test]
fn current_is_the_running_loop() {
    let ioloop = IOLoop::new();
    let same = ioloop.clone();
    let task = ioloop.spawn(async move {
        let current = IOLoop::current();
        format!("{current:?}") == format!("{same:?}")
    });
    assert!(ioloop.run_sync(task).expect("task"));
}

#[test]
fn add_callback_return_sequence() {
    // Callbacks run in FIFO order; one added while running waits for the next iteration.
    let order = Rc::new(RefCell::new(Vec::new()));
    let ioloop = IOLoop::new();
    for i in 0..3 {
        let order = Rc::clone(&order);
        let ioloop2 = ioloop.clone();
        ioloop.add_callback(move || {
            order.borrow_mut().push(i);
            if i == 0 {
                let order = Rc::clone(&order);
                ioloop2.add_callback(move || order.borrow_mut().push(10));
            }
        });
    }
    let stopper = ioloop.clone();
    ioloop.call_later(Duration::from_millis(5), move || stopper.stop());
    ioloop.start();
    assert_eq!(*order.borrow(), vec![0, 1, 2, 10]);
}

#[test]
fn add_callback_wakeup_other_thread() {
    // A loop blocked in the poller (only a far-away safety timer pending) wakes at once for a
    // cross-thread add_callback.
    let ioloop = IOLoop::new();
    let handle = ioloop.handle();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let fired = Rc::new(Cell::new(false));
    let safety = {
        let (ioloop, fired) = (ioloop.clone(), Rc::clone(&fired));
        ioloop.clone().call_later(Duration::from_secs(10), move || {
            fired.set(true);
            ioloop.stop();
        })
    };
    ioloop.add_callback(move || started_tx.send(()).expect("send"));
    let thread = std::thread::spawn(move || {
        started_rx.recv().expect("loop started");
        // Give the loop time to block in epoll_wait: this is the condition under test, not a
        // wait for something awaitable.
        std::thread::sleep(Duration::from_millis(50));
        handle.add_callback(|| IOLoop::current().stop());
    });
    let start = Instant::now();
    ioloop.start();
    thread.join().expect("thread");
    assert!(!fired.get(), "the loop only woke for the safety timer");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(ioloop.remove_timeout(safety));
}

#[test]
fn stop_from_other_thread() {
    let ioloop = IOLoop::new();
    let handle = ioloop.handle();
    let thread = std::thread::spawn(move || handle.stop());
    let guard = {
        let ioloop = ioloop.clone();
        ioloop
            .clone()
            .call_later(typhoon_testing::async_test_timeout(), move || ioloop.stop())
    };
    ioloop.start();
    thread.join().expect("thread");
    assert!(
        ioloop.remove_timeout(guard),
        "stopped by the handle, not the guard"
    );
}

#[test]
fn loop_handle_spawn_send_future() {
    let ioloop = IOLoop::new();
    let handle = ioloop.handle();
    let task = std::thread::spawn(move || handle.spawn(async { 7 }))
        .join()
        .expect("thread");
    assert_eq!(ioloop.run_sync(task).expect("task"), 7);
}

#[test]
fn add_timeout_timedelta_fires_in_deadline_order_never_early() {
    let ioloop = IOLoop::new();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let base = Instant::now();
    for (i, ms) in [30u64, 10, 20, 10, 0].into_iter().enumerate() {
        let deadline = base + Duration::from_millis(ms);
        let fired = Rc::clone(&fired);
        ioloop.call_at(deadline, move || {
            fired.borrow_mut().push((i, Instant::now() >= deadline));
        });
    }
    let stopper = ioloop.clone();
    ioloop.call_at(base + Duration::from_millis(40), move || stopper.stop());
    ioloop.start();
    let fired = fired.borrow();
    let order: Vec<usize> = fired.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        order,
        vec![4, 1, 3, 2, 0],
        "deadline order, ties in insertion order"
    );
    assert!(
        fired.iter().all(|(_, on_time)| *on_time),
        "no timer fired early"
    );
}

#[test]
fn remove_timeout_after_fire_and_cleanup() {
    let ioloop = IOLoop::new();
    let handle = ioloop.call_later(Duration::ZERO, || {});
    ioloop.run_sync(sleep(Duration::from_millis(2)));
    assert!(!ioloop.remove_timeout(handle), "already fired");
    let pending = ioloop.call_later(Duration::from_secs(3600), || panic!("removed timer fired"));
    assert!(ioloop.remove_timeout(pending));
    assert!(!ioloop.remove_timeout(pending));
}

#[test]
fn remove_timeout_from_timeout() {
    // Two timers due at the same time: the first removes the second, which never runs.
    let ioloop = IOLoop::new();
    let deadline = Instant::now() + Duration::from_millis(5);
    let second_ran = Rc::new(Cell::new(false));
    let second: Rc<Cell<Option<typhoon_ioloop::TimeoutHandle>>> = Rc::new(Cell::new(None));
    {
        let (ioloop2, second) = (ioloop.clone(), Rc::clone(&second));
        ioloop.call_at(deadline, move || {
            let handle = second.get().expect("second scheduled");
            assert!(ioloop2.remove_timeout(handle));
        });
    }
    let ran = Rc::clone(&second_ran);
    second.set(Some(ioloop.call_at(deadline, move || ran.set(true))));
    ioloop.run_sync(sleep(Duration::from_millis(20)));
    assert!(!second_ran.get());
}

#[test]
fn handler_sees_readable_and_writable_and_updates_take_effect() {
    let ioloop = IOLoop::new();
    let (a, mut b) = UnixStream::pair().expect("pair");
    a.set_nonblocking(true).expect("nonblocking");
    let a = Rc::new(a);
    let fd = a.as_raw_fd();
    let seen = Rc::new(RefCell::new(Vec::new()));
    {
        let seen = Rc::clone(&seen);
        let source = Rc::clone(&a);
        let ioloop2 = ioloop.clone();
        ioloop
            .add_handler(Rc::clone(&a), Interest::WRITABLE, move |fd, readiness| {
                seen.borrow_mut().push(readiness);
                if readiness.writable {
                    // Writable seen: now only care about reads.
                    ioloop2
                        .update_handler(fd, Interest::READABLE)
                        .expect("update");
                }
                if readiness.readable {
                    let mut buf = [0u8; 16];
                    let n = (&*source).read(&mut buf).expect("read");
                    assert_eq!(&buf[..n], b"x");
                    ioloop2.remove_handler(fd);
                    ioloop2.stop();
                }
            })
            .expect("add_handler");
    }
    assert!(matches!(
        ioloop.add_handler(Rc::clone(&a), Interest::READABLE, |_, _| {}),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists
    ));
    b.write_all(b"x").expect("write");
    let guard = {
        let ioloop = ioloop.clone();
        ioloop
            .clone()
            .call_later(typhoon_testing::async_test_timeout(), move || ioloop.stop())
    };
    ioloop.start();
    assert!(ioloop.remove_timeout(guard));
    let seen = seen.borrow();
    assert!(seen[0].writable && !seen[0].readable, "{seen:?}");
    assert!(seen.last().expect("events").readable);
    // Removed: the loop gave back its Rc of the source, and the fd is unknown.
    assert_eq!(Rc::strong_count(&a), 1);
    assert!(ioloop.update_handler(fd, Interest::READABLE).is_err());
    assert!(!ioloop.remove_handler(fd));
}

#[test]
fn remove_handler_from_handler() {
    // Both sockets are readable in the same iteration; whichever handler runs first removes
    // the other, which must then not run.
    let ioloop = IOLoop::new();
    let (a, mut a_peer) = UnixStream::pair().expect("pair");
    let (b, mut b_peer) = UnixStream::pair().expect("pair");
    a_peer.write_all(b"1").expect("write");
    b_peer.write_all(b"1").expect("write");
    let (fa, fb) = (a.as_raw_fd(), b.as_raw_fd());
    let calls = Rc::new(Cell::new(0));
    for (source, other) in [(a, fb), (b, fa)] {
        let (ioloop2, calls) = (ioloop.clone(), Rc::clone(&calls));
        ioloop
            .add_handler(Rc::new(source), Interest::READABLE, move |fd, _| {
                calls.set(calls.get() + 1);
                ioloop2.remove_handler(other);
                ioloop2.remove_handler(fd);
            })
            .expect("add_handler");
    }
    ioloop.run_sync(sleep(Duration::from_millis(10)));
    assert_eq!(calls.get(), 1);
}

#[test]
fn periodic_callback_skips_missed_ticks() {
    let ioloop = IOLoop::new();
    let runs: Rc<RefCell<Vec<Instant>>> = Rc::new(RefCell::new(Vec::new()));
    let start = Instant::now();
    let period = Duration::from_millis(20);
    let recorded = Rc::clone(&runs);
    let periodic = PeriodicCallback::new(
        move || {
            recorded.borrow_mut().push(Instant::now());
            if recorded.borrow().len() == 1 {
                // Hold the loop for 3.5 periods: the ticks at 40, 60 and 80 ms are missed.
                std::thread::sleep(Duration::from_millis(70));
            }
        },
        period,
    );
    let pc = periodic.clone();
    ioloop.run_sync(async move {
        pc.start();
        sleep(Duration::from_millis(130)).await;
        pc.stop();
    });
    assert!(!periodic.is_running());
    let runs = runs.borrow();
    assert!(runs.len() >= 2, "{runs:?}");
    assert!(runs[0] - start >= period);
    // The second run waits for the next tick on the original schedule (>= 100 ms after start),
    // not a burst of the missed ones right after the slow run ended (~90 ms).
    assert!(runs[1] - start >= 5 * period, "{:?}", runs[1] - start);
    for pair in runs.windows(2) {
        assert!(pair[1] - pair[0] >= period / 2, "burst: {runs:?}");
    }
}

#[test]
fn spawn_callback_panic_is_logged_and_loop_goes_on() {
    let ioloop = IOLoop::new();
    let after = Rc::new(Cell::new(false));
    let ((), log) = capture_logs(|| {
        ioloop.add_callback(|| panic!("callback boom"));
        ioloop.call_later(Duration::ZERO, || panic!("timer boom"));
        let after = Rc::clone(&after);
        ioloop.run_sync(async move {
            sleep(Duration::from_millis(2)).await;
            after.set(true);
        });
    });
    assert!(after.get());
    assert!(log.contains("typhoon::application"), "{log}");
    assert!(log.contains("callback boom"), "{log}");
    assert!(log.contains("timer boom"), "{log}");
}

#[test]
fn task_panic_reaches_awaiter() {
    let (result, log) = capture_logs(|| {
        run_test(async {
            let task = IOLoop::current().spawn(async {
                yield_now().await;
                panic!("task boom");
            });
            task.await
        })
    });
    assert!(matches!(&result, Err(LoopError::Panicked { message }) if message == "task boom"));
    assert!(log.contains("task boom"), "{log}");
}

#[test]
fn fd_handler_panic_does_not_stop_loop() {
    let ioloop = IOLoop::new();
    let (a, mut b) = UnixStream::pair().expect("pair");
    b.write_all(b"x").expect("write");
    let fd = a.as_raw_fd();
    ioloop
        .add_handler(Rc::new(a), Interest::READABLE, |_, _| {
            panic!("handler boom")
        })
        .expect("add_handler");
    let ((), log) = capture_logs(|| ioloop.run_sync(sleep(Duration::from_millis(5))));
    assert!(log.contains("handler boom"));
    // The handler survives its panic (as in Tornado) until removed.
    assert!(ioloop.remove_handler(fd));
}

#[test]
fn spawn_await_detach_cancel() {
    let ioloop = IOLoop::new();
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(Rc::clone(&dropped));
    let forever = ioloop.spawn(async move {
        let _flag = flag;
        sleep(Duration::from_secs(3600)).await;
    });
    let detached_ran = Rc::new(Cell::new(false));
    let ran = Rc::clone(&detached_ran);
    ioloop
        .spawn(async move {
            yield_now().await;
            ran.set(true);
        })
        .detach();
    ioloop.run_sync(sleep(Duration::from_millis(2)));
    assert!(!forever.is_finished());
    assert!(detached_ran.get());
    forever.cancel();
    ioloop.run_sync(async {});
    assert!(dropped.get(), "a cancelled task's future is dropped");
}

#[test]
fn timeout_drops_inner_future() {
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(Rc::clone(&dropped));
    let result = run_test(timeout(Duration::from_millis(5), async move {
        let _flag = flag;
        sleep(Duration::from_secs(3600)).await;
    }));
    assert!(matches!(result, Err(LoopError::Timeout)));
    assert!(dropped.get());
    assert_eq!(
        run_test(timeout(Duration::from_secs(5), async { 3 })).expect("in time"),
        3
    );
}

#[test]
fn run_in_executor_runs_40_blocking_sleeps_concurrently() {
    let ioloop = IOLoop::with_executor_threads(40).expect("loop");
    let running = Arc::new(AtomicUsize::new(0));
    let high_water = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let (running2, high2) = (Arc::clone(&running), Arc::clone(&high_water));
    let loop_stayed_free = ioloop.run_sync(async move {
        let ioloop = IOLoop::current();
        let jobs: Vec<_> = (0..40)
            .map(|_| {
                let (running, high) = (Arc::clone(&running2), Arc::clone(&high2));
                ioloop.run_in_executor(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    high.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_secs(1)); // the blocking call under test
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        // Meanwhile the loop still runs timers.
        let tick = Instant::now();
        sleep(Duration::from_millis(10)).await;
        let free = tick.elapsed() < Duration::from_millis(500);
        for job in jobs {
            job.await.expect("job");
        }
        free
    });
    assert!(loop_stayed_free);
    assert_eq!(high_water.load(Ordering::SeqCst), 40);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn run_in_executor_is_bounded_and_reports_panics() {
    let ioloop = IOLoop::with_executor_threads(3).expect("loop");
    let running = Arc::new(AtomicUsize::new(0));
    let high_water = Arc::new(AtomicUsize::new(0));
    let (r, h) = (Arc::clone(&running), Arc::clone(&high_water));
    let results = ioloop.run_sync(async move {
        let ioloop = IOLoop::current();
        let jobs: Vec<_> = (0..9)
            .map(|_| {
                let (running, high) = (Arc::clone(&r), Arc::clone(&h));
                ioloop.run_in_executor(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    high.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        let panicked = ioloop
            .run_in_executor(|| -> u32 { panic!("pool boom") })
            .await;
        for job in jobs {
            job.await.expect("job");
        }
        panicked
    });
    assert!(high_water.load(Ordering::SeqCst) <= 3);
    assert!(matches!(results, Err(LoopError::Panicked { message }) if message == "pool boom"));
}

#[test]
fn set_executor_threads_resizes_the_pool() {
    let ioloop = IOLoop::with_executor_threads(2).expect("loop");
    ioloop.run_sync(async {
        let ioloop = IOLoop::current();
        // Used once at the small size, so the pool exists before it is resized.
        ioloop.run_in_executor(|| ()).await.expect("job");
        ioloop.set_executor_threads(6);
        assert_eq!(ioloop.executor_threads(), 6);
        // Six jobs that can only pass the barrier together: all six must run at once.
        let barrier = Arc::new(std::sync::Barrier::new(6));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                ioloop.run_in_executor(move || {
                    barrier.wait();
                })
            })
            .collect();
        for job in jobs {
            job.await.expect("job");
        }
    });
}

#[test]
fn self_waking_task_does_not_starve_timers() {
    let ioloop = IOLoop::new();
    let starved = Rc::new(Cell::new(false));
    let flag = Rc::clone(&starved);
    ioloop
        .spawn(async move {
            let start = Instant::now();
            loop {
                yield_now().await;
                if start.elapsed() > Duration::from_secs(5) {
                    flag.set(true);
                    IOLoop::current().stop();
                    return;
                }
            }
        })
        .detach();
    let stopper = ioloop.clone();
    ioloop.call_later(Duration::from_millis(10), move || stopper.stop());
    ioloop.start();
    assert!(!starved.get(), "the timer never got a turn");
}

#[test]
fn dropping_the_loop_drops_tasks_and_deregisters_fds() {
    let dropped = Rc::new(Cell::new(false));
    let (a, _b) = UnixStream::pair().expect("pair");
    let source = Rc::new(a);
    {
        let ioloop = IOLoop::new();
        let flag = DropFlag(Rc::clone(&dropped));
        ioloop
            .spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            })
            .detach();
        ioloop
            .add_handler(Rc::clone(&source), Interest::READABLE, |_, _| {})
            .expect("add_handler");
        ioloop.run_sync(async {});
        assert!(!dropped.get());
        assert_eq!(Rc::strong_count(&source), 2);
    }
    assert!(dropped.get(), "the task's future was dropped with the loop");
    assert_eq!(Rc::strong_count(&source), 1, "the loop let go of the fd");
}

#[test]
fn async_socket_pair_ping_pong_and_large_writes() {
    run_test(async {
        let (a, b) = UnixStream::pair()?;
        let (a, b) = (Async::new(a)?, Async::new(b)?);
        let echo = IOLoop::current().spawn(async move {
            let mut buf = [0u8; 1];
            for _ in 0..1000 {
                b.read_with(|s| (&*s).read_exact(&mut buf)).await?;
                b.write_with(|s| (&*s).write(&buf)).await?;
            }
            // Then read 8 MiB that the other side writes in one go (far more than the socket
            // buffer holds): the writer must wait for writability, never spin or lose bytes.
            let mut total = 0usize;
            let mut chunk = vec![0u8; 65536];
            while total < 8 << 20 {
                let n = b.read_with(|s| (&*s).read(&mut chunk)).await?;
                assert!(chunk[..n].iter().all(|&byte| byte == 0xAB));
                total += n;
            }
            Ok::<usize, std::io::Error>(total)
        });
        let mut buf = [0u8; 1];
        for i in 0..1000u32 {
            let byte = [(i % 251) as u8];
            a.write_with(|s| (&*s).write(&byte)).await?;
            a.read_with(|s| (&*s).read_exact(&mut buf)).await?;
            assert_eq!(buf, byte);
        }
        let big = vec![0xABu8; 8 << 20];
        let mut written = 0;
        while written < big.len() {
            written += a.write_with(|s| (&*s).write(&big[written..])).await?;
        }
        assert_eq!(echo.await.expect("echo task")?, 8 << 20);
        Ok::<(), std::io::Error>(())
    })
    .expect("io");
}

#[test]
fn async_into_inner_deregisters() {
    run_test(async {
        let (a, _b) = UnixStream::pair()?;
        let a = Async::new(a)?;
        let raw = a.into_inner();
        // Registering the same socket again works only if it was deregistered.
        let again = Async::new(raw)?;
        drop(again);
        Ok::<(), std::io::Error>(())
    })
    .expect("io");
}
