//! Client throughput over keep-alive: `AsyncHTTPClient` fetching a 12-byte hello from a Typhoon
//! `HTTPServer` on another thread (its own loop), one request at a time and 16 concurrent.
//!
//! The server's cost is in the figure (both run on this 2-core machine), so it is an upper
//! bound on the client's cost per request. The Rust peer (reqwest or hyper's client) and
//! Tornado's `AsyncHTTPClient` against nginx, asked by the issue, are not here yet.
//!
//! Run: `cargo bench -p typhoon-httpclient --bench fetch`.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typhoon_httpclient::{AsyncHTTPClient, ClientOptions};
use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::{IOLoop, spawn};

/// Starts the server on its own thread and loop; returns its URL.
fn server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let io_loop = IOLoop::new();
        io_loop.make_current();
        let server = HTTPServer::new(|_request, mut response| async move {
            response.write(b"Hello world!");
        });
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        tx.send(format!("http://127.0.0.1:{port}/")).expect("send");
        io_loop.start();
    });
    rx.recv().expect("server started")
}

fn fetch(c: &mut Criterion) {
    let url = server();
    let io_loop = IOLoop::new();
    let client = AsyncHTTPClient::with_options(ClientOptions {
        max_clients: 16,
        max_idle_per_host: 16,
        ..ClientOptions::default()
    });
    let mut group = c.benchmark_group("keep_alive_fetch");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.iter_custom(|iters| {
            let (client, url) = (client.clone(), url.clone());
            io_loop.run_sync(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let response = client.fetch(url.as_str()).await.expect("fetch");
                    assert_eq!(response.body.len(), 12);
                }
                start.elapsed()
            })
        });
    });
    group.bench_function("concurrent_16", |b| {
        b.iter_custom(|iters| {
            let (client, url) = (client.clone(), url.clone());
            io_loop.run_sync(async move {
                let start = Instant::now();
                let per_task = iters.div_ceil(16);
                let tasks: Vec<_> = (0..16)
                    .map(|_| {
                        let (client, url) = (client.clone(), url.clone());
                        spawn(async move {
                            for _ in 0..per_task {
                                client.fetch(url.as_str()).await.expect("fetch");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("task");
                }
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * 16) as f64)
            })
        });
    });
    group.finish();
}

criterion_group!(benches, fetch);
criterion_main!(benches);
