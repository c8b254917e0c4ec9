//! Event-loop throughput, Typhoon's `IOLoop` against tokio's `current_thread` runtime on the same
//! workloads in the same run (tokio is a benchmark peer only).
//!
//! Workloads (each benchmark id is `<workload>/<typhoon|tokio>`):
//! - `callbacks`: 10,000 callbacks queued and run (tokio has no callback queue: its nearest
//!   equivalent, a spawned trivial task, is the peer);
//! - `tasks`: 10,000 tasks spawned, each awaited through its join handle;
//! - `timers_fire`: 10,000 sleeps with one deadline 200 µs ahead, registered and fired;
//! - `timers_cancel`: 10,000 sleeps registered (polled once) and dropped before they fire;
//! - `cross_thread`: 10,000 callbacks sent from another thread (tokio: `Handle::spawn`);
//! - `ping_pong`: 1,000 one-byte round trips over a Unix socket pair between two tasks.
//!
//! Run: `cargo bench -p typhoon-ioloop --bench ioloop`; `bench/ioloop_ratios.py` prints the
//! ratios from criterion's estimates.

use std::cell::Cell;
use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use typhoon_ioloop::{Async, IOLoop, sleep_until};

const N: usize = 10_000;
const ROUND_TRIPS: usize = 1_000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn poll_once<F: Future>(future: F) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let _ = future.as_mut().poll(&mut cx);
}

fn callbacks(c: &mut Criterion) {
    let mut group = c.benchmark_group("callbacks");
    let ioloop = IOLoop::new();
    group.bench_function("typhoon", |b| {
        b.iter(|| {
            let count = Rc::new(Cell::new(0usize));
            for _ in 0..N {
                let count = Rc::clone(&count);
                ioloop.add_callback(move || count.set(count.get() + 1));
            }
            let stopper = ioloop.clone();
            ioloop.add_callback(move || stopper.stop());
            ioloop.start();
            assert_eq!(count.get(), N);
        });
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let count = Arc::new(AtomicUsize::new(0));
                for _ in 0..N {
                    let count = Arc::clone(&count);
                    drop(tokio::spawn(async move {
                        count.fetch_add(1, Ordering::Relaxed);
                    }));
                }
                while count.load(Ordering::Relaxed) < N {
                    tokio::task::yield_now().await;
                }
            });
        });
    });
    group.finish();
}

fn tasks(c: &mut Criterion) {
    let mut group = c.benchmark_group("tasks");
    let ioloop = IOLoop::new();
    group.bench_function("typhoon", |b| {
        b.iter(|| {
            ioloop.run_sync(async {
                let ioloop = IOLoop::current();
                let handles: Vec<_> = (0..N).map(|i| ioloop.spawn(async move { i })).collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.expect("task");
                }
                sum
            })
        });
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..N).map(|i| tokio::spawn(async move { i })).collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.expect("task");
                }
                sum
            })
        });
    });
    group.finish();
}

fn timers(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers_fire");
    let ioloop = IOLoop::new();
    group.bench_function("typhoon", |b| {
        b.iter(|| {
            ioloop.run_sync(async {
                let deadline = Instant::now() + Duration::from_micros(200);
                let ioloop = IOLoop::current();
                let handles: Vec<_> = (0..N)
                    .map(|_| ioloop.spawn(sleep_until(deadline)))
                    .collect();
                for handle in handles {
                    handle.await.expect("sleep");
                }
            });
        });
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let deadline = tokio::time::Instant::now() + Duration::from_micros(200);
                let handles: Vec<_> = (0..N)
                    .map(|_| tokio::spawn(tokio::time::sleep_until(deadline)))
                    .collect();
                for handle in handles {
                    handle.await.expect("sleep");
                }
            });
        });
    });
    group.finish();

    let mut group = c.benchmark_group("timers_cancel");
    group.bench_function("typhoon", |b| {
        b.iter(|| {
            ioloop.run_sync(async {
                let deadline = Instant::now() + Duration::from_secs(3600);
                for _ in 0..N {
                    poll_once(sleep_until(deadline));
                }
            });
        });
    });
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
                for _ in 0..N {
                    poll_once(tokio::time::sleep_until(deadline));
                }
            });
        });
    });
    group.finish();
}

fn cross_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("cross_thread");
    let ioloop = IOLoop::new();
    group.bench_function("typhoon", |b| {
        b.iter(|| {
            let handle = ioloop.handle();
            let count = Arc::new(AtomicUsize::new(0));
            let sent = Arc::clone(&count);
            let sender = std::thread::spawn(move || {
                for i in 0..N {
                    let count = Arc::clone(&sent);
                    let last = i == N - 1;
                    handle.add_callback(move || {
                        count.fetch_add(1, Ordering::Relaxed);
                        if last {
                            IOLoop::current().stop();
                        }
                    });
                }
            });
            ioloop.start();
            sender.join().expect("sender");
            assert_eq!(count.load(Ordering::Relaxed), N);
        });
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let handle = rt.handle().clone();
            let count = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(tokio::sync::Notify::new());
            let (sent, notify) = (Arc::clone(&count), Arc::clone(&done));
            let sender = std::thread::spawn(move || {
                for i in 0..N {
                    let count = Arc::clone(&sent);
                    let notify = Arc::clone(&notify);
                    let last = i == N - 1;
                    drop(handle.spawn(async move {
                        count.fetch_add(1, Ordering::Relaxed);
                        if last {
                            notify.notify_one();
                        }
                    }));
                }
            });
            rt.block_on(done.notified());
            sender.join().expect("sender");
            assert_eq!(count.load(Ordering::Relaxed), N);
        });
    });
    group.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong");
    let ioloop = IOLoop::new();
    group.bench_function("typhoon", |b| {
        b.iter(|| {
            ioloop.run_sync(async {
                let (a, b) = UnixStream::pair().expect("pair");
                let (a, b) = (Async::new(a).expect("a"), Async::new(b).expect("b"));
                let echo = IOLoop::current().spawn(async move {
                    let mut buf = [0u8; 1];
                    for _ in 0..ROUND_TRIPS {
                        b.read_with(|s| (&*s).read(&mut buf)).await.expect("read");
                        b.write_with(|s| (&*s).write(&buf)).await.expect("write");
                    }
                });
                let mut buf = [0u8; 1];
                for _ in 0..ROUND_TRIPS {
                    a.write_with(|s| (&*s).write(b"x")).await.expect("write");
                    a.read_with(|s| (&*s).read(&mut buf)).await.expect("read");
                }
                echo.await.expect("echo");
            });
        });
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        b.iter(|| {
            rt.block_on(async {
                let (mut a, mut b) = tokio::net::UnixStream::pair().expect("pair");
                let echo = tokio::spawn(async move {
                    let mut buf = [0u8; 1];
                    for _ in 0..ROUND_TRIPS {
                        b.read_exact(&mut buf).await.expect("read");
                        b.write_all(&buf).await.expect("write");
                    }
                });
                let mut buf = [0u8; 1];
                for _ in 0..ROUND_TRIPS {
                    a.write_all(b"x").await.expect("write");
                    a.read_exact(&mut buf).await.expect("read");
                }
                echo.await.expect("echo");
            });
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = callbacks, tasks, timers, cross_thread, ping_pong
}
criterion_main!(benches);
