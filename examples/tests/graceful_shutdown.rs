//! The `graceful_shutdown` example's `serve_until`, driven in-process with an event as the
//! stop trigger (where `main` has the signal): a request in flight when shutdown begins
//! completes with 200, idle connections are closed, new connections get nothing, and the
//! grace period bounds how long the server waits.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use typhoon_examples::graceful_shutdown::{make_app, serve_until};
use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{spawn, timeout};
use typhoon_iostream::{IOStream, TCPClient};
use typhoon_testing::{connect, read_response, run_test_with_timeout};

fn run<F: std::future::Future<Output = ()> + 'static>(future: F) {
    run_test_with_timeout(Duration::from_secs(20), future);
}

/// Starts `GET /slow` and returns once its first line (`started`) has arrived.
async fn start_slow(addr: SocketAddr) -> IOStream {
    let stream = connect(addr).await;
    stream
        .write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let head = stream
        .read_until(b"\r\n\r\n", Some(64 * 1024))
        .await
        .expect("head");
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{head:?}");
    let first = stream.read_until(b"started\n", Some(1024)).await;
    assert!(first.is_ok(), "{first:?}");
    stream
}

/// Whether a new connection to `addr` gets any HTTP answer.
async fn new_connection_answered(addr: SocketAddr) -> bool {
    let Ok(stream) = TCPClient::new()
        .connect(&addr.ip().to_string(), addr.port())
        .await
    else {
        return false; // refused
    };
    // Accepted by the kernel before the listening socket closed: it is never served.
    let _ = stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let reply = timeout(Duration::from_secs(5), stream.read_until_close())
        .await
        .expect("the connection neither closed nor answered");
    matches!(reply, Ok(bytes) if bytes.starts_with(b"HTTP/"))
}

#[test]
fn in_flight_requests_finish_and_new_connections_are_refused() {
    run(async {
        let server = make_app(Duration::from_millis(300)).into_server();
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let stop = Event::new();
        let began = Rc::new(Event::new());
        let (stop_in, began_in) = (stop.clone(), Rc::clone(&began));
        let drained = spawn(async move {
            let trigger = async move {
                stop_in.wait().await;
                began_in.set();
            };
            serve_until(&server, trigger, Duration::from_secs(10)).await
        });

        // An idle keep-alive connection, and a request in flight.
        let idle = connect(addr).await;
        idle.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let hello = read_response(&idle, false).await;
        assert_eq!(
            (hello.status, hello.text().as_str()),
            (200, "Hello, world\n")
        );
        let slow = start_slow(addr).await;

        stop.set();
        began.wait().await;

        assert!(
            !new_connection_answered(addr).await,
            "a connection made after shutdown began was served"
        );
        // The idle connection is closed without another response.
        let rest = idle.read_until_close().await.unwrap_or_default();
        assert!(rest.is_empty(), "{rest:?}");
        // The request in flight completes, and its connection closes after it.
        let rest = slow.read_until_close().await.expect("the rest of /slow");
        let rest = String::from_utf8_lossy(&rest);
        assert!(rest.contains("finished after 300ms"), "{rest}");
        assert!(rest.ends_with("0\r\n\r\n"), "{rest}");

        assert_eq!(
            drained.await.expect("shutdown task"),
            0,
            "no connection cut"
        );
        // The listening socket is gone: connecting is refused outright.
        let refused = TCPClient::new().connect("127.0.0.1", addr.port()).await;
        assert!(refused.is_err(), "connected after shutdown");
    });
}

#[test]
fn the_grace_period_bounds_the_wait() {
    run(async {
        let server = make_app(Duration::from_secs(30)).into_server();
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let stop = Event::new();
        let stop_in = stop.clone();
        let drained = spawn(async move {
            serve_until(
                &server,
                async move { stop_in.wait().await },
                Duration::from_millis(200),
            )
            .await
        });
        let slow = start_slow(addr).await;
        stop.set();
        assert_eq!(
            drained.await.expect("shutdown task"),
            1,
            "one connection cut"
        );
        let rest = slow.read_until_close().await.unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&rest).contains("finished"),
            "{rest:?}"
        );
    });
}

#[test]
fn nothing_in_flight_shuts_down_at_once() {
    run(async {
        let server = make_app(Duration::from_secs(1)).into_server();
        server.listen(0, Some("127.0.0.1")).expect("listen");
        let cut = serve_until(&server, async {}, Duration::from_secs(10)).await;
        assert_eq!(cut, 0);
    });
}
