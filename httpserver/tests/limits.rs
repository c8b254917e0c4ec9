//! The limits `shared/HTTP-LIMITS.md` promises, over real sockets: `max_connections`, the TLS
//! handshake timeout, and `start_loops` cleaning up after a loop that fails to start (the
//! bounded output is in `output_backpressure.rs`, alone in its binary).

use std::cell::{Cell, OnceCell};
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{IOLoop, timeout};
use typhoon_iostream::start_loops;
use typhoon_testing::{connect, read_response, run_test};

#[test]
fn max_connections_pauses_accepting_and_serves_everyone_in_turn() {
    run_test(async {
        let options = HTTPServerOptions {
            max_connections: 10,
            ..HTTPServerOptions::default()
        };
        let server_cell: Rc<OnceCell<HTTPServer>> = Rc::new(OnceCell::new());
        let in_flight = Rc::new(Cell::new(0usize));
        let most_open = Rc::new(Cell::new(0usize));
        let ten_in = Event::new();
        let release = Event::new();
        let server = {
            let (server_cell, in_flight, most_open) = (
                Rc::clone(&server_cell),
                Rc::clone(&in_flight),
                Rc::clone(&most_open),
            );
            let (ten_in, release) = (ten_in.clone(), release.clone());
            HTTPServer::with_options(
                move |_request, mut response| {
                    let (server_cell, in_flight, most_open) = (
                        Rc::clone(&server_cell),
                        Rc::clone(&in_flight),
                        Rc::clone(&most_open),
                    );
                    let (ten_in, release) = (ten_in.clone(), release.clone());
                    async move {
                        let open = server_cell.get().map_or(0, HTTPServer::connection_count);
                        most_open.set(most_open.get().max(open));
                        in_flight.set(in_flight.get() + 1);
                        if in_flight.get() == 10 {
                            ten_in.set();
                        }
                        release.wait().await;
                        in_flight.set(in_flight.get() - 1);
                        response.write(b"served");
                    }
                },
                options,
            )
        };
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let _ = server_cell.set(server.clone());
        let clients: Vec<_> = (0..50)
            .map(|_| {
                IOLoop::current().spawn(async move {
                    let stream = connect(addr).await;
                    stream
                        .write(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                        .await
                        .expect("write");
                    read_response(&stream, false).await
                })
            })
            .collect();
        ten_in.wait().await;
        assert!(
            server.connection_count() <= 10,
            "accepted past max_connections"
        );
        release.set();
        for client in clients {
            let response = client.await.expect("the client task");
            assert_eq!(
                (response.status, response.text()),
                (200, "served".to_owned())
            );
        }
        assert!(
            most_open.get() <= 10,
            "{} connections open at once",
            most_open.get()
        );
        timeout(Duration::from_secs(10), server.connections_closed())
            .await
            .expect("all closed");
    });
}

#[test]
fn max_connections_closes_the_connection_idle_longest_to_make_room() {
    run_test(async {
        let options = HTTPServerOptions {
            max_connections: 3,
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            |request, mut response| async move { response.write(request.path().as_bytes()) },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        // Three keep-alive connections, each served once and left idle: the cap is reached.
        let mut idle = Vec::new();
        for i in 0..3 {
            let stream = connect(addr).await;
            stream
                .write(format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
                .await
                .expect("write");
            assert_eq!(read_response(&stream, false).await.text(), format!("/{i}"));
            idle.push(stream);
        }
        // A fourth client is served at once (not after the 60 s idle timeout): the connection
        // idle longest, the first, made room.
        let stream = connect(addr).await;
        stream
            .write(b"GET /new HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .expect("write");
        let response = timeout(Duration::from_secs(5), read_response(&stream, false))
            .await
            .expect("served while the others idle");
        assert_eq!(response.text(), "/new");
        let first = timeout(Duration::from_secs(5), idle[0].read_until_close()).await;
        assert!(first.is_ok(), "the oldest idle connection was closed");
        assert!(server.connection_count() <= 3);
    });
}

#[test]
fn start_loops_stops_the_loops_it_started_when_a_later_one_fails() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    /// Sets its flag when dropped: when the first loop's server goes, with its thread.
    struct Dropped(Arc<AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let first_server_gone = Arc::new(AtomicBool::new(false));
    let (seen, gone) = (Arc::clone(&calls), Arc::clone(&first_server_gone));
    let result = start_loops(3, 0, "127.0.0.1", move || {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        assert!(n < 1, "the second loop's factory fails");
        let dropped = Dropped(Arc::clone(&gone));
        HTTPServer::new(move |_request, mut response| {
            let _held = &dropped;
            async move { response.write(b"up") }
        })
    });
    assert!(result.is_err(), "a loop that failed to start is an error");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The first loop had started serving. The error returns only after its thread was stopped
    // and joined, and a loop's thread drops the loop's server before it ends: a loop left
    // running would still hold it.
    assert!(
        first_server_gone.load(Ordering::SeqCst),
        "a started loop is still running"
    );
}

#[cfg(feature = "tls")]
#[test]
fn tls_handshake_timeout_drops_a_silent_client() {
    run_test(async move {
        let options = HTTPServerOptions {
            tls: Some(typhoon_testing::tls::server_config()),
            tls_handshake_timeout: Duration::from_millis(100),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(|_request, _response| async {}, options);
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        // A client that connects and never says hello: the server gives up after 100 ms (the
        // default would be 10 s, past this wait).
        let stream = connect(addr).await;
        let closed = timeout(Duration::from_secs(5), stream.read_until_close()).await;
        assert!(
            closed.is_ok(),
            "the server kept a silent TLS client past its handshake timeout"
        );
        assert_eq!(server.tcp_server().live_connections(), Some(0));
    });
}

/// A server whose `first_request_grace` is `grace`, at most 2 connections, answering "served".
fn two_slot_server(grace: Duration) -> (HTTPServer, std::net::SocketAddr) {
    let options = HTTPServerOptions {
        max_connections: 2,
        first_request_grace: grace,
        ..HTTPServerOptions::default()
    };
    let server = HTTPServer::with_options(
        |_request, mut response| async move { response.write(b"served") },
        options,
    );
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr)
}

/// Connects and waits until the server has registered the connection as its `n`th.
async fn silent_connection(
    server: &HTTPServer,
    addr: std::net::SocketAddr,
    n: usize,
) -> typhoon_iostream::IOStream {
    let stream = connect(addr).await;
    while server.connection_count() < n {
        typhoon_ioloop::yield_now().await;
    }
    stream
}

/// One request on a new connection.
async fn served(addr: std::net::SocketAddr) -> String {
    let stream = connect(addr).await;
    stream
        .write(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    read_response(&stream, false).await.text()
}

/// `first_request_grace` protects a connection just accepted from `max_connections`'
/// eviction while its client sends the first request.
#[test]
fn max_connections_spares_a_new_connection_within_its_first_request_grace() {
    run_test(async {
        let (server, addr) = two_slot_server(Duration::from_secs(30));
        let young = silent_connection(&server, addr, 1).await;
        assert_eq!(served(addr).await, "served");
        assert!(
            timeout(Duration::from_millis(50), young.read_bytes(1, false))
                .await
                .is_err(),
            "a connection within its first-request grace was evicted"
        );
    });
}

/// After its `first_request_grace`, a silent connection is closed to make room, as an idle
/// keep-alive one is: silent clients cannot hold the slots (slowloris).
#[test]
fn max_connections_evicts_a_silent_new_connection_once_its_first_request_grace_is_over() {
    run_test(async {
        let (server, addr) = two_slot_server(Duration::from_millis(50));
        let old = silent_connection(&server, addr, 1).await;
        // The time passing is what is awaited.
        typhoon_ioloop::sleep(Duration::from_millis(100)).await;
        assert_eq!(served(addr).await, "served");
        let closed = timeout(Duration::from_secs(5), old.read_until_close())
            .await
            .expect("the silent connection was not closed to make room");
        assert!(closed.map(|rest| rest.is_empty()).unwrap_or(true));
    });
}
