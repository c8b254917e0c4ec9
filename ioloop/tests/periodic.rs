//! Tornado's `ioloop_test.py` `TestPeriodicCallback` for callbacks that return a future
//! (`test_periodic_plain`, `test_periodic_coro`, `test_periodic_async`) and the no-overlap rule
//! of Tornado 5.1.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{PeriodicCallback, sleep};
use typhoon_testing::{capture_logs, run_test};

#[test]
fn periodic_plain() {
    run_test(async {
        let count = Rc::new(Cell::new(0));
        let done = Event::new();
        let slot: Rc<RefCell<Option<PeriodicCallback>>> = Rc::new(RefCell::new(None));
        let pc = {
            let (count, done, slot) = (Rc::clone(&count), done.clone(), Rc::clone(&slot));
            PeriodicCallback::new(
                move || {
                    count.set(count.get() + 1);
                    if count.get() == 3 {
                        if let Some(pc) = slot.borrow().as_ref() {
                            pc.stop();
                        }
                        done.set();
                    }
                },
                Duration::from_millis(10),
            )
        };
        *slot.borrow_mut() = Some(pc.clone());
        pc.start();
        done.wait().await;
        assert_eq!(count.get(), 3);
        assert!(!pc.is_running());
        slot.borrow_mut().take();
    });
}

/// Tornado's coroutine callback: counts[0] on entry, counts[1] after a 25 ms await, stop at 3.
fn counting_callback(
    counts: Rc<[Cell<u32>; 2]>,
    done: Event,
    slot: Rc<RefCell<Option<PeriodicCallback>>>,
) -> impl FnMut() -> Pin<Box<dyn Future<Output = ()>>> {
    move || {
        counts[0].set(counts[0].get() + 1);
        let (counts, done, slot) = (Rc::clone(&counts), done.clone(), Rc::clone(&slot));
        Box::pin(async move {
            sleep(Duration::from_millis(25)).await;
            counts[1].set(counts[1].get() + 1);
            if counts[1].get() == 3 {
                if let Some(pc) = slot.borrow().as_ref() {
                    pc.stop();
                }
                done.set();
            }
        })
    }
}

#[test]
fn periodic_coro() {
    // A 25 ms run on a 10 ms period: the next run waits for the previous one, so the counts
    // never differ (a scheduler that did not await would start a fourth run before the third
    // ended, and many more).
    run_test(async {
        let counts = Rc::new([Cell::new(0), Cell::new(0)]);
        let done = Event::new();
        let slot = Rc::new(RefCell::new(None));
        let pc = PeriodicCallback::with_async(
            counting_callback(Rc::clone(&counts), done.clone(), Rc::clone(&slot)),
            Duration::from_millis(10),
        );
        *slot.borrow_mut() = Some(pc.clone());
        pc.start();
        done.wait().await;
        assert_eq!(counts[0].get(), 3);
        assert_eq!(counts[1].get(), 3);
        slot.borrow_mut().take();
    });
}

#[test]
fn periodic_async() {
    run_test(async {
        let counts = Rc::new([Cell::new(0), Cell::new(0)]);
        let done = Event::new();
        let slot: Rc<RefCell<Option<PeriodicCallback>>> = Rc::new(RefCell::new(None));
        let pc = {
            let (counts, done, slot) = (Rc::clone(&counts), done.clone(), Rc::clone(&slot));
            PeriodicCallback::with_async(
                move || {
                    let (counts, done, slot) = (Rc::clone(&counts), done.clone(), Rc::clone(&slot));
                    async move {
                        counts[0].set(counts[0].get() + 1);
                        sleep(Duration::from_millis(25)).await;
                        counts[1].set(counts[1].get() + 1);
                        if counts[1].get() == 3 {
                            if let Some(pc) = slot.borrow().as_ref() {
                                pc.stop();
                            }
                            done.set();
                        }
                    }
                },
                Duration::from_millis(10),
            )
        };
        *slot.borrow_mut() = Some(pc.clone());
        pc.start();
        done.wait().await;
        assert_eq!(counts[0].get(), 3);
        assert_eq!(counts[1].get(), 3);
        slot.borrow_mut().take();
    });
}

#[test]
fn periodic_async_overrun_skips_the_covered_ticks() {
    // A run of 3.5 periods: the next starts on the original schedule after it, not at once
    // and not in a burst.
    run_test(async {
        let period = Duration::from_millis(20);
        let starts: Rc<RefCell<Vec<Instant>>> = Rc::new(RefCell::new(Vec::new()));
        let done = Event::new();
        let start = Instant::now();
        let pc = {
            let (starts, done) = (Rc::clone(&starts), done.clone());
            PeriodicCallback::with_async(
                move || {
                    let (starts, done) = (Rc::clone(&starts), done.clone());
                    async move {
                        starts.borrow_mut().push(Instant::now());
                        let n = starts.borrow().len();
                        if n == 1 {
                            sleep(Duration::from_millis(70)).await;
                        }
                        if n == 2 {
                            done.set();
                        }
                    }
                },
                period,
            )
        };
        pc.start();
        done.wait().await;
        pc.stop();
        let starts = starts.borrow();
        assert!(starts[0] - start >= period, "{starts:?}");
        // First run 20..90 ms; the ticks at 40, 60 and 80 are skipped: the next is at 100.
        assert!(starts[1] - start >= 5 * period, "{:?}", starts[1] - start);
    });
}

#[test]
fn periodic_async_stop_during_a_run_lets_it_finish_and_restart_schedules_once() {
    run_test(async {
        let runs = Rc::new(Cell::new(0));
        let finished = Rc::new(Cell::new(0));
        let in_run = Event::new();
        let release = Event::new();
        let pc = {
            let (runs, finished) = (Rc::clone(&runs), Rc::clone(&finished));
            let (in_run, release) = (in_run.clone(), release.clone());
            PeriodicCallback::with_async(
                move || {
                    let (runs, finished) = (Rc::clone(&runs), Rc::clone(&finished));
                    let (in_run, release) = (in_run.clone(), release.clone());
                    async move {
                        runs.set(runs.get() + 1);
                        in_run.set();
                        release.wait().await;
                        finished.set(finished.get() + 1);
                    }
                },
                Duration::from_millis(5),
            )
        };
        pc.start();
        in_run.wait().await;
        in_run.clear();
        // Stopped and restarted while the first run waits: that run must not schedule a
        // second timer beside the restart's.
        pc.stop();
        pc.start();
        release.set();
        // The restart's run; with a duplicate timer there would be two more.
        in_run.wait().await;
        pc.stop();
        sleep(Duration::from_millis(30)).await; // room for a wrongly scheduled extra run
        assert_eq!(runs.get(), 2);
        assert_eq!(finished.get(), 2);
    });
}

#[test]
fn periodic_async_panic_is_logged_and_the_schedule_goes_on() {
    let (runs, log) = capture_logs(|| {
        run_test(async {
            let runs = Rc::new(Cell::new(0));
            let done = Event::new();
            let pc = {
                let (runs, done) = (Rc::clone(&runs), done.clone());
                PeriodicCallback::with_async(
                    move || {
                        let (runs, done) = (Rc::clone(&runs), done.clone());
                        async move {
                            runs.set(runs.get() + 1);
                            if runs.get() == 1 {
                                panic!("periodic boom");
                            }
                            done.set();
                        }
                    },
                    Duration::from_millis(5),
                )
            };
            pc.start();
            done.wait().await;
            pc.stop();
            runs.get()
        })
    });
    assert_eq!(runs, 2);
    assert!(log.contains("periodic boom"), "{log}");
}
