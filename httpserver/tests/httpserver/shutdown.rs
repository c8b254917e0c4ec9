//! Connections ending: clients going away, graceful shutdown on one loop and on several
//! (`start_loops`), and resets mid-request.

use super::*;

#[test]
fn handler_sees_client_going_away() {
    run_test(async {
        let closed = Rc::new(std::cell::Cell::new(false));
        let seen = Rc::clone(&closed);
        let server = HTTPServer::new(move |_request, response| {
            let seen = Rc::clone(&seen);
            async move {
                response.connection_closed().await;
                seen.set(true);
            }
        });
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        sleep(Duration::from_millis(20)).await;
        client.close();
        for _ in 0..100 {
            if closed.get() {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert!(closed.get(), "on_connection_close never ran");
        server.stop();
    });
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let idle = connect(addr).await;
        idle.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let _ = read_response(&idle, false).await; // now idle in keep-alive
        let busy = connect(addr).await;
        busy.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        sleep(Duration::from_millis(50)).await;
        let shutdown = {
            let server = server.clone();
            IOLoop::current().spawn(async move { server.shutdown(Duration::from_secs(5)).await })
        };
        // The idle connection is closed at once.
        assert!(idle.read_until_close().await.expect("eof").is_empty());
        // The in-flight request completes, then its connection closes.
        let response = read_response(&busy, false).await;
        assert_eq!(response.body, b"slow done");
        assert_eq!(response.header("Connection").as_deref(), Some("close"));
        assert_eq!(
            shutdown.await.expect("shutdown"),
            0,
            "nothing had to be cut"
        );
        // New connections are refused.
        assert!(
            typhoon_iostream::TCPClient::new()
                .connect("127.0.0.1", addr.port())
                .await
                .is_err()
        );
    });
}

#[test]
fn start_loops_serves_from_several_loops() {
    let server = typhoon_iostream::start_loops(2, 0, "127.0.0.1", || {
        HTTPServer::new(|_request, mut response| async move {
            response.write(format!("{:?}", std::thread::current().id()).as_bytes());
        })
    })
    .expect("start_loops");
    let addr = server.local_addr();
    let mut threads = std::collections::HashSet::new();
    for _ in 0..64 {
        use std::io::{Read, Write};
        let mut socket = std::net::TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        socket
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut reply = String::new();
        socket.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 200"));
        threads.insert(reply.rsplit("\r\n\r\n").next().expect("body").to_owned());
    }
    server.stop();
    assert!(threads.len() > 1, "all 64 requests went to one loop");
}

/// `n` loops whose `/slow?ms=N` handlers tell `started` when they begin, then sleep N ms.
fn slow_loops(
    n: usize,
    started: std::sync::mpsc::Sender<()>,
) -> typhoon_iostream::MultiLoopServer<HTTPServer> {
    typhoon_iostream::start_loops(n, 0, "127.0.0.1", move || {
        let started = started.clone();
        HTTPServer::new(move |request, mut response| {
            let started = started.clone();
            async move {
                let ms = request
                    .query()
                    .strip_prefix("ms=")
                    .and_then(|ms| ms.parse().ok())
                    .unwrap_or(0);
                let _ = started.send(());
                sleep(Duration::from_millis(ms)).await;
                response.write(b"slow done");
            }
        })
    })
    .expect("start_loops")
}

/// Connects and sends `GET path`, keep-alive.
fn send_get(addr: SocketAddr, path: &str) -> std::net::TcpStream {
    use std::io::Write;
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    socket
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .expect("write");
    socket
}

#[test]
fn start_loops_shutdown_finishes_requests_in_flight_on_every_loop() {
    use std::io::Read;
    let (started, starts) = std::sync::mpsc::channel();
    let loops = slow_loops(2, started);
    let addr = loops.local_addr();
    // Eight requests in flight, spread over the loops by the kernel, and two idle connections.
    let busy: Vec<_> = (0..8).map(|_| send_get(addr, "/slow?ms=300")).collect();
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
        .collect();
    for _ in 0..8 {
        starts
            .recv_timeout(Duration::from_secs(10))
            .expect("every request reached its handler");
    }
    let cut = loops.shutdown(Duration::from_secs(10));
    assert_eq!(cut, 0, "every request in flight finished within the grace");
    for mut socket in busy {
        let mut reply = String::new();
        socket.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("slow done"), "{reply}");
    }
    for mut socket in idle {
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut rest = Vec::new();
        assert_eq!(
            socket.read_to_end(&mut rest).map(|_| rest.len()).ok(),
            Some(0),
            "idle closed"
        );
    }
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nothing listens after the shutdown"
    );
}

#[test]
fn start_loops_shutdown_cuts_what_outlasts_the_grace() {
    let (started, starts) = std::sync::mpsc::channel();
    let loops = slow_loops(2, started);
    let socket = send_get(loops.local_addr(), "/slow?ms=30000");
    starts
        .recv_timeout(Duration::from_secs(10))
        .expect("the request reached its handler");
    let begun = std::time::Instant::now();
    assert_eq!(
        loops.shutdown(Duration::from_millis(200)),
        1,
        "one connection cut"
    );
    assert!(
        begun.elapsed() < Duration::from_secs(10),
        "the grace bounds the wait"
    );
    drop(socket);
}

#[test]
fn client_reset_mid_request_is_cleaned_up() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        for partial in [
            &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf"[..],
            b"GET / HTTP/1.1\r\nHo",
        ] {
            let stream = connect(addr).await;
            stream.write(partial).await.expect("write");
            sleep(Duration::from_millis(20)).await;
            drop(stream); // closes with data unread by nobody: a FIN or a reset
        }
        for _ in 0..100 {
            if server.connection_count() == 0 {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.connection_count(), 0);
        let reply = raw_request(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status_of(&reply), Some(200));
        server.stop();
    });
}

/// A connection accepted just before the shutdown, whose request arrives after it began, is
/// answered (then closed), not dropped unanswered: its client had done nothing wrong.
#[test]
fn graceful_shutdown_answers_the_first_request_of_a_new_connection() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions {
            // However slow this test runs, its request arrives within the grace.
            first_request_grace: Duration::from_secs(30),
            ..HTTPServerOptions::default()
        });
        let fresh = connect(addr).await;
        // Accepted (the server counts it) before the shutdown starts.
        while server.connection_count() == 0 {
            typhoon_ioloop::yield_now().await;
        }
        let shutdown = {
            let server = server.clone();
            IOLoop::current().spawn(async move { server.shutdown(Duration::from_secs(5)).await })
        };
        typhoon_ioloop::yield_now().await;
        fresh
            .write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&fresh, false).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Connection").as_deref(), Some("close"));
        assert!(fresh.read_until_close().await.expect("eof").is_empty());
        assert_eq!(shutdown.await.expect("shutdown"), 0);
    });
}

/// A new connection that stays silent is closed once `first_request_grace` is over: the
/// shutdown does not wait the whole grace for it.
#[test]
fn graceful_shutdown_closes_a_silent_new_connection_after_its_first_request_grace() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions {
            first_request_grace: Duration::from_millis(100),
            ..HTTPServerOptions::default()
        });
        let silent = connect(addr).await;
        while server.connection_count() == 0 {
            typhoon_ioloop::yield_now().await;
        }
        let begun = std::time::Instant::now();
        let cut = server.shutdown(Duration::from_secs(30)).await;
        assert_eq!(cut, 0, "closed as idle, not cut at the end of the grace");
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the shutdown waited for the silent connection"
        );
        assert!(silent.read_until_close().await.expect("eof").is_empty());
    });
}
