//! Switching protocols over real sockets: `ResponseWriter::upgrade` after a `101` (the path a
//! WebSocket takes) and after a `2xx` to `CONNECT` (a tunnel), with the bytes the client sent
//! early, and what the HTTP connection does once it has handed the stream over.

use std::cell::RefCell;
use std::rc::Rc;

use typhoon_httpserver::{HTTPServer, UpgradeError};
use typhoon_iostream::IOStream;
use typhoon_testing::{connect, read_response, run_test};

/// A server whose handler switches every request to a toy protocol that echoes what arrives,
/// and records why an upgrade failed.
fn echo_server(status: u16, refusals: Rc<RefCell<Vec<String>>>) -> HTTPServer {
    HTTPServer::new(move |request, mut response| {
        let refusals = Rc::clone(&refusals);
        async move {
            response.set_status(status);
            let _ = response.set_header("Upgrade", "echo");
            let _ = response.set_header("Connection", "Upgrade");
            if request.path() == "/flushed" {
                let _ = response.flush().await;
            }
            let upgraded = match response.upgrade().await {
                Ok(upgraded) => upgraded,
                Err(error) => {
                    refusals.borrow_mut().push(error.to_string());
                    return;
                }
            };
            let stream = upgraded.into_stream();
            while let Ok(bytes) = stream.read_bytes(64 * 1024, true).await {
                if stream.write(&bytes).await.is_err() {
                    break;
                }
            }
        }
    })
}

/// Reads the response head (up to the blank line) and returns it as text.
async fn read_head(stream: &IOStream) -> String {
    let head = stream
        .read_until(b"\r\n\r\n", Some(64 * 1024))
        .await
        .expect("a response head");
    String::from_utf8(head).expect("an ASCII head")
}

#[test]
fn upgrade_hands_over_the_stream_with_the_bytes_sent_early() {
    run_test(async {
        let server = echo_server(101, Rc::default());
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        // The first bytes of the new protocol ride in the request's own segment.
        client
            .write(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly",
            )
            .await
            .expect("write");
        let head = read_head(&client).await;
        assert!(
            head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nUpgrade: echo\r\n"), "{head}");
        assert!(head.contains("\r\nConnection: Upgrade\r\n"), "{head}");
        for framing in ["Content-Length", "Transfer-Encoding", "Connection: close"] {
            assert!(!head.contains(framing), "{framing} in {head}");
        }
        assert_eq!(client.read_bytes(5, false).await.expect("echo"), b"early");
        // Anything that looks like HTTP is the new protocol's now, not a second request.
        client
            .write(b"GET /again HTTP/1.1\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(
            client.read_bytes(23, false).await.expect("echo"),
            b"GET /again HTTP/1.1\r\n\r\n"
        );
        assert_eq!(server.connection_count(), 1);
        client.close();
        // The handler ends when its peer closes; then the HTTP connection closes and is gone.
        server.connections_closed().await;
    });
}

#[test]
fn connect_answered_with_200_opens_a_tunnel() {
    run_test(async {
        let server = echo_server(200, Rc::default());
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            .await
            .expect("write");
        let head = read_head(&client).await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(!head.contains("Content-Length"), "{head}");
        client.write(b"tunnelled").await.expect("write");
        assert_eq!(
            client.read_bytes(9, false).await.expect("echo"),
            b"tunnelled"
        );
        client.close();
        server.connections_closed().await;
    });
}

#[test]
fn upgrade_is_refused_for_other_statuses_and_after_a_flush() {
    run_test(async {
        for (status, path, refusal) in [
            (
                200,
                "/",
                "status 200 does not switch protocols (101, or 2xx for CONNECT)",
            ),
            (101, "/flushed", "the response head was already sent"),
        ] {
            let refusals = Rc::new(RefCell::new(Vec::new()));
            let server = echo_server(status, Rc::clone(&refusals));
            let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
            let client = connect(addr).await;
            let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            client.write(request.as_bytes()).await.expect("write");
            // The refused response is finished as any other, and the connection stays HTTP.
            let response = read_response(&client, false).await;
            assert_eq!(response.status, status, "{path}");
            assert_eq!(refusals.borrow().as_slice(), [refusal]);
            if status == 200 {
                client.write(request.as_bytes()).await.expect("write");
                assert_eq!(read_response(&client, false).await.status, 200);
            }
        }
    });
}

#[test]
fn upgrade_error_keeps_its_cause() {
    use std::error::Error as _;
    let error = UpgradeError::from(typhoon_iostream::StreamError::Closed { source: None });
    assert_eq!(error.to_string(), "the connection closed");
    assert!(error.source().is_some());
}

/// A server whose handler moves the upgraded connection into a task of its own and returns at
/// once: the task echoes until the client closes, and counts the requests' futures that ended.
fn detached_echo_server(ended: Rc<std::cell::Cell<usize>>) -> HTTPServer {
    HTTPServer::new(move |_request, mut response| {
        let ended = Rc::clone(&ended);
        async move {
            response.set_status(101);
            let _ = response.set_header("Upgrade", "echo");
            let _ = response.set_header("Connection", "Upgrade");
            let Ok(upgraded) = response.upgrade().await else {
                return;
            };
            typhoon_ioloop::IOLoop::current()
                .spawn(async move {
                    let stream = upgraded.stream();
                    while let Ok(bytes) = stream.read_bytes(64 * 1024, true).await {
                        if stream.write(&bytes).await.is_err() {
                            break;
                        }
                    }
                    // Dropping the Upgraded here ends the connection.
                })
                .detach();
            ended.set(ended.get() + 1);
        }
    })
}

#[test]
fn an_upgraded_connection_outlives_the_request_future_while_its_upgraded_lives() {
    run_test(async {
        let ended = Rc::new(std::cell::Cell::new(0));
        let server = detached_echo_server(Rc::clone(&ended));
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
            .await
            .expect("write");
        let head = read_head(&client).await;
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        // The request's future has ended; the protocol goes on in its task.
        client.write(b"still here").await.expect("write");
        assert_eq!(
            client.read_bytes(10, false).await.expect("echo"),
            b"still here"
        );
        assert_eq!(ended.get(), 1, "the request's future ended");
        assert_eq!(server.connection_count(), 1, "still counted as open");
        client.close();
        // The task ends when its peer closes and drops the Upgraded: the connection is gone.
        server.connections_closed().await;
        assert_eq!(server.connection_count(), 0);
    });
}

#[test]
fn a_shutdown_cuts_a_detached_upgraded_connection_after_its_grace() {
    run_test(async {
        let server = detached_echo_server(Rc::default());
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
            .await
            .expect("write");
        read_head(&client).await;
        client.write(b"ping").await.expect("write");
        assert_eq!(client.read_bytes(4, false).await.expect("echo"), b"ping");
        let cut = server.shutdown(std::time::Duration::from_millis(50)).await;
        assert_eq!(cut, 1, "the protocol that ignored the shutdown was cut");
        assert!(
            client.read_bytes(1, false).await.is_err(),
            "the socket closed"
        );
    });
}
