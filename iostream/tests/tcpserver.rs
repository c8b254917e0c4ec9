//! `netutil`, `TCPServer`, `start_loops` and `TCPClient` over real loopback sockets (Tornado's
//! `netutil_test.py`, `tcpserver_test.py`, `tcpclient_test.py`).

mod util;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use typhoon_ioloop::IOLoop;
use typhoon_iostream::netutil::{AddressFamily, BindOptions, bind_sockets, bind_unix_socket};
use typhoon_iostream::{
    LoopServer, MultiLoopServer, StreamError, TCPClient, TCPServer, start_loops,
};
use typhoon_testing::{assert_send, assert_sync, run_test};

/// An echo handler: lines back until the peer closes.
fn echo_server() -> TCPServer {
    TCPServer::new(|stream, _peer| async move {
        while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
            if stream.write(&line).await.is_err() {
                break;
            }
        }
    })
}

#[test]
fn bind_sockets_port_zero_all_families_share_the_port() {
    let sockets = bind_sockets(0, None, &BindOptions::default()).expect("bind");
    let ports: HashSet<u16> = sockets
        .iter()
        .map(|s| s.local_addr().expect("addr").port())
        .collect();
    assert_eq!(ports.len(), 1, "every family on the one chosen port");
    assert!(!ports.contains(&0));
    let v4 = BindOptions {
        family: AddressFamily::Ipv4,
        ..BindOptions::default()
    };
    let only_v4 = bind_sockets(0, Some("localhost"), &v4).expect("bind v4");
    assert!(
        only_v4
            .iter()
            .all(|s| s.local_addr().expect("addr").is_ipv4())
    );
}

#[test]
fn bind_sockets_ipv6_loopback() {
    // Hosts without IPv6 cannot run this case; everything else must.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        return;
    }
    let sockets = bind_sockets(0, Some("::1"), &BindOptions::default()).expect("bind ::1");
    assert!(sockets[0].local_addr().expect("addr").is_ipv6());
}

#[test]
fn bind_sockets_reuse_port() {
    let options = BindOptions {
        reuse_port: true,
        ..BindOptions::default()
    };
    let first = bind_sockets(0, Some("127.0.0.1"), &options).expect("first");
    let port = first[0].local_addr().expect("addr").port();
    let second = bind_sockets(port, Some("127.0.0.1"), &options).expect("second on the same port");
    assert_eq!(second[0].local_addr().expect("addr").port(), port);
    let without = bind_sockets(port, Some("127.0.0.1"), &BindOptions::default());
    assert!(without.is_err(), "without SO_REUSEPORT the port is taken");
}

#[test]
fn bind_unix_socket_replaces_stale_socket_refuses_files() {
    let dir = std::env::temp_dir().join(format!("typhoon-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("sock");
    let first = bind_unix_socket(&path, 128).expect("bind");
    drop(first); // leaves a stale socket file behind
    let listener = bind_unix_socket(&path, 128).expect("rebinding over a stale socket");
    let file = dir.join("plain-file");
    std::fs::write(&file, b"not a socket").expect("write");
    assert!(bind_unix_socket(&file, 128).is_err());
    run_test(async move {
        let server = echo_server();
        server.add_unix_socket(listener).expect("add");
        let client = TCPClient::new().connect_unix(&path).expect("connect");
        client.write(b"over unix\n").await.expect("write");
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"over unix\n"
        );
        server.stop();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tcp_server_listen_and_stop() {
    run_test(async {
        let server = echo_server();
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = TCPClient::new()
            .connect("127.0.0.1", addr.port())
            .await
            .expect("connect");
        client.write(b"ping\n").await.expect("write");
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"ping\n"
        );
        server.stop();
        // The listener is closed: new connections are refused; the old one still works.
        let refused = TCPClient::new().connect("127.0.0.1", addr.port()).await;
        assert!(matches!(refused, Err(StreamError::Io(_))), "{refused:?}");
        client.write(b"still\n").await.expect("write");
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"still\n"
        );
    });
}

#[test]
fn thousand_concurrent_connections_echo_through_one_loop() {
    util::raise_fd_limit(4096);
    run_test(async {
        let server = echo_server();
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let ioloop = IOLoop::current();
        let clients: Vec<_> = (0..1000)
            .map(|i| {
                ioloop.spawn(async move {
                    let stream = TCPClient::new().connect("127.0.0.1", port).await?;
                    let line = format!("connection {i}\n");
                    stream.write(line.as_bytes()).await?;
                    let echoed = stream.read_until(b"\n", None).await?;
                    assert_eq!(echoed, line.as_bytes());
                    Ok::<(), StreamError>(())
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client task").expect("echo");
        }
        server.stop();
    });
}

#[test]
fn start_loops_spreads_connections_over_loops() {
    let served_by: Arc<Mutex<HashSet<std::thread::ThreadId>>> = Arc::default();
    let seen = Arc::clone(&served_by);
    let server = start_loops(4, 0, "127.0.0.1", move || {
        let seen = Arc::clone(&seen);
        TCPServer::new(move |stream, _peer| {
            seen.lock()
                .expect("lock")
                .insert(std::thread::current().id());
            async move {
                if let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
                    let _ = stream.write(&line).await;
                }
            }
        })
    })
    .expect("start_loops");
    assert_eq!(server.loops(), 4);
    let addr = server.local_addr();
    let mut ok = 0;
    for i in 0..64 {
        let mut socket = TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        writeln!(socket, "conn {i}").expect("write");
        let mut answer = String::new();
        socket.read_to_string(&mut answer).expect("read");
        assert_eq!(answer, format!("conn {i}\n"));
        ok += 1;
    }
    server.stop();
    assert_eq!(ok, 64);
    assert!(
        served_by.lock().expect("lock").len() > 1,
        "64 connections all went to one loop"
    );
}

/// A per-loop value for `start_loops`: the loop's server, its index (the factory's call
/// number), how many jobs reached it, and a channel that hears when it is dropped (after its
/// loop has ended).
struct Counted {
    tcp: TCPServer,
    index: usize,
    jobs: std::cell::Cell<usize>,
    dropped: std::sync::mpsc::Sender<usize>,
}

impl LoopServer for Counted {
    fn tcp_server(&self) -> &TCPServer {
        &self.tcp
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let _ = self.dropped.send(self.index);
    }
}

#[test]
fn on_each_loop_reaches_every_loop_value_once_and_skips_ended_loops() {
    // The handle crosses threads although its values (with a `Cell`) do not.
    assert_send::<MultiLoopServer<Counted>>();
    assert_sync::<MultiLoopServer<Counted>>();
    let (dropped_tx, dropped) = std::sync::mpsc::channel();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let server = start_loops(3, 0, "127.0.0.1", move || Counted {
        tcp: echo_server(),
        index: next.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        jobs: std::cell::Cell::new(0),
        dropped: dropped_tx.clone(),
    })
    .expect("start_loops");

    let (tx, rx) = std::sync::mpsc::channel();
    let queued = server.on_each_loop(move |value: &Counted| {
        value.jobs.set(value.jobs.get() + 1);
        let _ = tx.send((value.index, value.jobs.get(), std::thread::current().id()));
    });
    assert_eq!(queued, 3);
    // Ends when every job has run and dropped its sender.
    let mut reached: Vec<(usize, usize, std::thread::ThreadId)> = rx.iter().collect();
    reached.sort_by_key(|&(index, _, _)| index);
    assert_eq!(
        reached.iter().map(|&(i, n, _)| (i, n)).collect::<Vec<_>>(),
        [(0, 1), (1, 1), (2, 1)]
    );
    let threads: HashSet<_> = reached.iter().map(|&(_, _, thread)| thread).collect();
    assert_eq!(threads.len(), 3, "each value ran on its own loop's thread");
    assert!(!threads.contains(&std::thread::current().id()));

    // A panicking job is logged and the next job still runs.
    server.on_each_loop(|value: &Counted| {
        if value.index == 1 {
            panic!("job panics on loop 1");
        }
    });

    // Loop 0 ends; its value is dropped after its mailbox closed.
    server.loop_handles()[0].stop();
    assert_eq!(
        dropped.recv_timeout(Duration::from_secs(10)),
        Ok(0),
        "loop 0 did not end"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let queued = server.on_each_loop(move |value: &Counted| {
        let _ = tx.send((value.index, value.jobs.get()));
    });
    assert_eq!(queued, 2, "the ended loop does not take the job");
    let mut reached: Vec<(usize, usize)> = rx.iter().collect();
    reached.sort_unstable();
    assert_eq!(reached, [(1, 1), (2, 1)]);

    server.stop();
    let mut rest: Vec<usize> = dropped.try_iter().collect();
    rest.sort_unstable();
    assert_eq!(
        rest,
        [1, 2],
        "stop ended the other loops and dropped their values"
    );
}

#[test]
fn multi_loop_shutdown_of_tcp_servers_stops_every_loop() {
    let server = start_loops(2, 0, "127.0.0.1", echo_server).expect("start_loops");
    let addr = server.local_addr();
    // Returns only once both loops stopped and their threads were joined; a hang fails the
    // test instead of hanging the suite.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(server.shutdown(Duration::from_secs(10)));
    });
    let cut = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("shutdown returned");
    assert_eq!(cut, 0);
    assert!(TcpStream::connect(addr).is_err(), "nobody listens any more");
}

/// A per-loop value whose graceful shutdown panics on loop 0 and reports one connection cut
/// on the others.
struct PanickyShutdown {
    tcp: TCPServer,
    index: usize,
}

impl LoopServer for PanickyShutdown {
    fn tcp_server(&self) -> &TCPServer {
        &self.tcp
    }

    async fn shutdown(&self, _grace: Duration) -> usize {
        self.tcp.stop();
        assert_ne!(self.index, 0, "the shutdown of loop 0 panics");
        1
    }
}

#[test]
fn multi_loop_shutdown_stops_a_loop_whose_shutdown_panicked() {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let server = start_loops(3, 0, "127.0.0.1", move || PanickyShutdown {
        tcp: echo_server(),
        index: next.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
    })
    .expect("start_loops");
    // On a thread of its own, so a shutdown that never returned fails the test, not hangs it.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(server.shutdown(Duration::from_secs(10)));
    });
    assert_eq!(
        finished.recv_timeout(Duration::from_secs(10)),
        Ok(2),
        "the panicking loop stopped too, and the others' cuts were summed"
    );
}

#[test]
fn tcp_client_connect_refused_and_timeout() {
    run_test(async {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let refused = TCPClient::new().connect("127.0.0.1", port).await;
        assert!(
            matches!(&refused, Err(StreamError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "{refused:?}"
        );
        // Resolution happens off the loop; an unknown name is an error, not a hang.
        let unknown = TCPClient::new()
            .connect_timeout(Some(Duration::from_secs(10)))
            .connect("no-such-host.invalid", 80)
            .await;
        assert!(unknown.is_err());
        // A zero deadline times out.
        let timed_out = TCPClient::new()
            .connect_timeout(Some(Duration::ZERO))
            .connect("127.0.0.1", port)
            .await;
        assert!(
            matches!(timed_out, Err(StreamError::Timeout)),
            "{timed_out:?}"
        );
    });
}

#[test]
fn handler_panic_does_not_stop_the_server() {
    run_test(async {
        let server = TCPServer::new(|stream, _peer| async move {
            let line = stream.read_until(b"\n", None).await.unwrap_or_default();
            if line == b"panic\n" {
                panic!("handler boom");
            }
            let _ = stream.write(&line).await;
        });
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let bad = TCPClient::new()
            .connect("127.0.0.1", port)
            .await
            .expect("connect");
        bad.write(b"panic\n").await.expect("write");
        assert!(
            bad.read_bytes(1, false).await.is_err(),
            "the panicking handler's stream closes"
        );
        let good = TCPClient::new()
            .connect("127.0.0.1", port)
            .await
            .expect("connect");
        good.write(b"fine\n").await.expect("write");
        assert_eq!(good.read_until(b"\n", None).await.expect("read"), b"fine\n");
        server.stop();
    });
}
