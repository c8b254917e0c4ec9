//! The client's deadlines (`request_timeout` for the whole handshake, `connect_timeout` for
//! the connect) against listeners that never answer, and the back-pressure of its read queue.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_httpclient::{HTTPRequest, TimeoutPhase};
use typhoon_ioloop::locks::Event as Signal;
use typhoon_ioloop::sleep;
use typhoon_testing::{AsyncHTTPTestServer, bind_unused_port, run_test};
use typhoon_web::{Application, HTTPError};
use typhoon_websocket::{
    Message, WebSocket, WebSocketConnectError, WebSocketHandler, WebSocketRequest,
    websocket_connect, websocket_route,
};

/// A short deadline, and a long one that must not be the one to fire.
const SHORT: Duration = Duration::from_millis(200);
const LONG: Duration = Duration::from_secs(20);

/// The listener accepts (the kernel completes the TCP handshake from its backlog) and never
/// answers: the wait for the 101 ends at `request_timeout`, not at `connect_timeout`.
#[test]
fn request_timeout_bounds_the_wait_for_the_101() {
    run_test(async {
        let (_listener, port) = bind_unused_port();
        let request = HTTPRequest::new(format!("ws://127.0.0.1:{port}/"))
            .connect_timeout(LONG)
            .request_timeout(SHORT);
        let start = Instant::now();
        let error = websocket_connect(request).await.unwrap_err();
        let elapsed = start.elapsed();
        assert!(
            matches!(error, WebSocketConnectError::Timeout(TimeoutPhase::Request)),
            "{error:?}"
        );
        assert!(elapsed >= SHORT, "{elapsed:?}");
        assert!(elapsed < LONG / 4, "{elapsed:?}");
    });
}

/// The same through the `WebSocketRequest` field.
#[test]
fn request_timeout_field() {
    run_test(async {
        let (_listener, port) = bind_unused_port();
        let mut request = WebSocketRequest::new(format!("ws://127.0.0.1:{port}/"));
        request.connect_timeout = LONG;
        request.request_timeout = SHORT;
        let start = Instant::now();
        let error = websocket_connect(request).await.unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::Timeout(TimeoutPhase::Request)),
            "{error:?}"
        );
        assert!(start.elapsed() < LONG / 4, "{:?}", start.elapsed());
    });
}

/// A `wss` URL to a listener that never answers: the TLS handshake hangs, so the connect
/// timeout fires (and says so), well before the request timeout.
#[cfg(feature = "tls")]
#[test]
fn connect_timeout_bounds_the_tls_handshake() {
    run_test(async {
        let (_listener, port) = bind_unused_port();
        let request = HTTPRequest::new(format!("wss://127.0.0.1:{port}/"))
            .connect_timeout(SHORT)
            .request_timeout(LONG);
        let start = Instant::now();
        let error = websocket_connect(request).await.unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::Timeout(TimeoutPhase::Connect)),
            "{error:?}"
        );
        assert!(start.elapsed() < LONG / 4, "{:?}", start.elapsed());
    });
}

/// How many messages the back-pressure server writes, and their size.
const MESSAGES: usize = 2000;
const MESSAGE_SIZE: usize = 64 * 1024;

/// Writes [`MESSAGES`] binary messages from `open`, awaiting each write (each starts with its
/// index), counting the writes that completed; sets `done` at the end.
struct FloodHandler {
    written: Rc<Cell<usize>>,
    done: Rc<Signal>,
}

impl WebSocketHandler for FloodHandler {
    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        let mut payload = vec![0xa5; MESSAGE_SIZE];
        for i in 0..MESSAGES {
            payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
            if ws.write_message(payload.clone()).await.is_err() {
                break;
            }
            self.written.set(i + 1);
        }
        self.done.set();
        Ok(())
    }

    async fn on_message(&mut self, _: &mut WebSocket<'_>, _: Message) -> Result<(), HTTPError> {
        Ok(())
    }
}

/// Polls `written` until it stops advancing, and returns where it stopped.
///
/// Proving that something does *not* happen needs a timer: the server's writes stall once the
/// client's queue (one message), its reader's buffer and both sockets' kernel buffers are full,
/// and nothing signals that. Each step waits a short [`QUIET`] on the loop (which runs the
/// server and the client's reader meanwhile); the count is taken as stalled once it has not
/// moved for [`QUIET`] three times in a row. Loopback moves megabytes in far less than that.
async fn stalled_count(written: &Cell<usize>) -> usize {
    const QUIET: Duration = Duration::from_millis(50);
    let mut last = written.get();
    let mut unchanged = 0;
    // Bounded: 200 steps of QUIET (10 s) at most.
    for _ in 0..200 {
        sleep(QUIET).await;
        let now = written.get();
        if now == last && now > 0 {
            unchanged += 1;
            if unchanged == 3 {
                return now;
            }
        } else {
            unchanged = 0;
            last = now;
        }
    }
    panic!(
        "the server's writes never stalled: {} written",
        written.get()
    );
}

#[test]
fn read_queue_back_pressure_stalls_the_server() {
    run_test(async {
        let written = Rc::new(Cell::new(0));
        let done = Rc::new(Signal::new());
        let (handler_written, handler_done) = (written.clone(), done.clone());
        let app = Application::new(vec![websocket_route("/flood", move || FloodHandler {
            written: handler_written.clone(),
            done: handler_done.clone(),
        })]);
        let server = AsyncHTTPTestServer::new(app);
        let url = format!("ws://127.0.0.1:{}/flood", server.port());
        let ws = websocket_connect(url).await.unwrap();

        // The client reads nothing: the server stops well short of MESSAGES (what is in
        // flight is bounded by the socket buffers, a few MiB, and the queue of one).
        let stalled = stalled_count(&written).await;
        assert!(stalled < MESSAGES / 4, "{stalled} of {MESSAGES} written");
        assert!(!done.is_set());

        // Then every message arrives, in order, and the server finishes.
        for i in 0..MESSAGES {
            match ws.read_message().await {
                Some(Message::Binary(data)) => {
                    assert_eq!(data.len(), MESSAGE_SIZE);
                    let index = u64::from_be_bytes(data[..8].try_into().unwrap());
                    assert_eq!(index, i as u64);
                }
                other => panic!("message {i}: {other:?}"),
            }
        }
        done.wait().await;
        assert_eq!(written.get(), MESSAGES);
    });
}
