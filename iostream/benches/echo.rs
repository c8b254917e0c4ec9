//! Echo round trips over loopback: a Typhoon `TCPServer` echo server against a tokio
//! `current_thread` `TcpStream` echo server (benchmark peer only), driven by the same client in
//! the same run.
//!
//! Each server runs on its own thread pinned to CPU 0; the client (Typhoon streams on one loop)
//! runs pinned to CPU 1. Workloads: 1 connection doing 200 round trips of 64 bytes per
//! iteration, and 64 connections doing 20 each. The client's cost is in both figures, so the
//! ratio understates the servers' difference.
//!
//! Run: `cargo bench -p typhoon-iostream --bench echo`.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typhoon_ioloop::{IOLoop, LoopHandle};
use typhoon_iostream::{IOStream, TCPClient, TCPServer};

const MESSAGE: &[u8; 64] = &[b'x'; 64];

/// Pins the calling thread to one CPU (ignored where the machine has fewer).
fn pin_to(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

/// Starts the Typhoon echo server on its own pinned thread.
fn typhoon_server() -> (SocketAddr, LoopHandle) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        pin_to(0);
        let ioloop = IOLoop::new();
        ioloop.make_current();
        let server = TCPServer::new(|stream, _peer| async move {
            let _ = stream.set_nodelay(true);
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = stream.read_into(&mut buf, true).await {
                if stream.write(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        tx.send((addr, ioloop.handle())).expect("send");
        ioloop.start();
    });
    rx.recv().expect("typhoon server")
}

/// Starts the tokio echo server on its own pinned thread.
fn tokio_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        pin_to(0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio");
        rt.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    continue;
                };
                let _ = socket.set_nodelay(true);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if socket.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        });
    });
    rx.recv().expect("tokio server")
}

/// Connects `n` client streams on the current (client) loop.
fn connect(ioloop: &IOLoop, addr: SocketAddr, n: usize) -> Rc<Vec<IOStream>> {
    let streams = ioloop.run_sync(async move {
        let mut streams = Vec::with_capacity(n);
        for _ in 0..n {
            let stream = TCPClient::new()
                .connect("127.0.0.1", addr.port())
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            streams.push(stream);
        }
        streams
    });
    Rc::new(streams)
}

/// Every stream does `trips` round trips, concurrently.
fn round_trips(ioloop: &IOLoop, streams: &Rc<Vec<IOStream>>, trips: usize) {
    let streams = Rc::clone(streams);
    ioloop.run_sync(async move {
        let ioloop = IOLoop::current();
        let tasks: Vec<_> = (0..streams.len())
            .map(|i| {
                let streams = Rc::clone(&streams);
                ioloop.spawn(async move {
                    let stream = &streams[i];
                    let mut buf = [0u8; 64];
                    for _ in 0..trips {
                        stream.write(MESSAGE).await.expect("write");
                        stream.read_into(&mut buf, false).await.expect("read");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("client task");
        }
    });
}

fn echo(c: &mut Criterion) {
    pin_to(1);
    let (typhoon_addr, typhoon_handle) = typhoon_server();
    let tokio_addr = tokio_server();
    let client = IOLoop::new();
    client.make_current();
    for (connections, trips) in [(1usize, 200usize), (64, 20)] {
        let mut group = c.benchmark_group(format!("echo_{connections}conn"));
        group.throughput(Throughput::Elements((connections * trips) as u64));
        for (name, addr) in [("typhoon", typhoon_addr), ("tokio", tokio_addr)] {
            let streams = connect(&client, addr, connections);
            group.bench_function(name, |b| b.iter(|| round_trips(&client, &streams, trips)));
        }
        group.finish();
    }
    typhoon_handle.stop();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = echo
}
criterion_main!(benches);
