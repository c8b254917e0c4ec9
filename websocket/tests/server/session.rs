//! The session: messages one at a time, pings answered while a handler is busy, the close
//! handshake both ways, errors in the handler's methods, limits, and the protocol errors the
//! RFC makes the server refuse.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::locks::Event as Signal;
use typhoon_testing::run_test;
use typhoon_web::{Application, HTTPError, Settings};
use typhoon_websocket::{
    CloseFrame, Event, Message, PreparedMessage, WebSocket, WebSocketHandler, websocket_route,
};

use crate::{RawClient, serve};

/// What the handlers saw, for the tests to check.
#[derive(Default)]
struct Seen {
    /// Events in order: `open`, `message:<text>`, `ping:<data>`, `pong`, `close:<code>:<reason>`.
    log: RefCell<Vec<String>>,
    /// Set by `on_close`.
    closed: Signal,
    /// Binary messages received (they are counted, not echoed).
    binary: std::cell::Cell<usize>,
    /// Set when the 5000th binary message arrives.
    burst_done: Signal,
    /// Advanced by a task of the test at each of its turns on the loop.
    ticks: std::cell::Cell<usize>,
    /// `ticks` when the first binary message arrived.
    ticks_at_first: std::cell::Cell<usize>,
}

impl Seen {
    fn push(&self, entry: impl Into<String>) {
        self.log.borrow_mut().push(entry.into());
    }
}

/// A handler whose behaviour each text message chooses: `slow:<s>` waits for the test's
/// signal, `close` closes with 1001 "goodbye", `fail` returns an error, `panic` panics, anything
/// else is echoed. Binary messages are only counted.
struct Scripted {
    seen: Rc<Seen>,
    release: Signal,
    fail_open: bool,
}

impl WebSocketHandler for Scripted {
    async fn open(&mut self, _ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        self.seen.push("open");
        if self.fail_open {
            return Err(HTTPError::with_log_message(500, "open failed"));
        }
        Ok(())
    }

    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        let Message::Text(text) = message else {
            self.seen.binary.set(self.seen.binary.get() + 1);
            if self.seen.binary.get() == 1 {
                self.seen.ticks_at_first.set(self.seen.ticks.get());
            }
            if self.seen.binary.get() == 5000 {
                self.seen.burst_done.set();
            }
            return Ok(());
        };
        self.seen.push(format!("message:{text}"));
        match text.as_str() {
            "close" => ws.close(Some(1001), Some("goodbye"))?,
            "prepared" => {
                let prepared = PreparedMessage::new(Message::Text("framed once".into()));
                ws.write_prepared(&prepared).await?;
                ws.write_prepared(&prepared).await?;
            }
            "fail" => return Err(HTTPError::with_log_message(500, "on_message failed")),
            "panic" => panic!("on_message panicked"),
            "write-after-close" => {
                ws.close(None, None)?;
                let refused = ws.write_text("too late").await.is_err();
                self.seen
                    .push(format!("write after close refused: {refused}"));
            }
            slow if slow.starts_with("slow:") => {
                self.release.wait().await;
                ws.write_text(slow).await?;
            }
            _ => ws.write_text(&text).await?,
        }
        Ok(())
    }

    fn on_ping(&mut self, _ws: &mut WebSocket<'_>, data: &[u8]) {
        self.seen
            .push(format!("ping:{}", String::from_utf8_lossy(data)));
        assert_ne!(data, b"panic", "on_ping panicked");
    }

    fn on_pong(&mut self, _ws: &mut WebSocket<'_>, _data: &[u8]) {
        self.seen.push("pong");
    }

    fn on_close(&mut self, ws: &mut WebSocket<'_>) {
        self.seen.push(format!(
            "close:{:?}:{:?}",
            ws.close_code(),
            ws.close_reason()
        ));
        self.seen.closed.set();
    }
}

/// The app with a scripted handler on `/` (and one whose `open` fails on `/fail-open`).
fn app(seen: &Rc<Seen>, release: &Signal, settings: Settings) -> Application {
    let (seen_a, release_a) = (Rc::clone(seen), release.clone());
    let (seen_b, release_b) = (Rc::clone(seen), release.clone());
    Application::with_settings(
        vec![
            websocket_route("/", move || Scripted {
                seen: Rc::clone(&seen_a),
                release: release_a.clone(),
                fail_open: false,
            }),
            websocket_route("/fail-open", move || Scripted {
                seen: Rc::clone(&seen_b),
                release: release_b.clone(),
                fail_open: true,
            }),
        ],
        settings,
    )
}

#[test]
fn test_websocket_gen() {
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("hello").await;
        assert_eq!(client.text().await, "hello");
        client.send_text("hello \u{e9}").await;
        assert_eq!(client.text().await, "hello \u{e9}");
    });
}

#[test]
fn a_prepared_message_is_sent_as_framed() {
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("prepared").await;
        assert_eq!(client.text().await, "framed once");
        assert_eq!(client.text().await, "framed once");
    });
}

#[test]
fn test_coroutine() {
    // Two messages sent at once are handled one at a time, in order: the second waits for the
    // first handler's future.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("slow:1").await;
        // The ping is answered while the first handler waits (tornado#2021 is fixed here).
        client.send_ping(b"busy?").await;
        client.send_text("after").await;
        assert_eq!(client.next().await, Some(Event::Pong(b"busy?".to_vec())));
        assert_eq!(seen.log.borrow().as_slice(), ["open", "message:slow:1"]);
        release.set();
        assert_eq!(client.text().await, "slow:1");
        assert_eq!(client.text().await, "after");
        // on_ping ran after on_message, before the next message.
        assert_eq!(
            seen.log.borrow().as_slice(),
            ["open", "message:slow:1", "ping:busy?", "message:after"]
        );
    });
}

#[test]
fn test_server_close_reason() {
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("close").await;
        let close = client.next().await;
        assert_eq!(
            close,
            Some(Event::Close(Some(CloseFrame {
                code: 1001,
                reason: "goodbye".into()
            })))
        );
        // The client echoes the code, as Tornado's does; the server then sees it.
        client.send_close(Some((1001, ""))).await;
        assert_eq!(
            client.next().await,
            None,
            "the server closes TCP once both closes are done"
        );
        seen.closed.wait().await;
        assert_eq!(
            seen.log.borrow().last().map(String::as_str),
            Some("close:Some(1001):Some(\"\")")
        );
    });
}

#[test]
fn test_client_close_reason() {
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_close(Some((1001, "goodbye"))).await;
        // The server echoes the code and closes.
        assert_eq!(
            client.close_frame().await,
            Some(CloseFrame {
                code: 1001,
                reason: String::new()
            })
        );
        seen.closed.wait().await;
        assert_eq!(
            seen.log.borrow().as_slice(),
            ["open", "close:Some(1001):Some(\"goodbye\")"]
        );
    });
}

#[test]
fn test_write_after_close() {
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("write-after-close").await;
        assert_eq!(client.next().await, Some(Event::Close(None)));
        client.send_close(None).await;
        seen.closed.wait().await;
        assert!(
            seen.log
                .borrow()
                .contains(&"write after close refused: true".to_owned())
        );
    });
}

#[test]
fn test_error_in_on_message() {
    for (text, needle) in [
        ("fail", "on_message failed"),
        ("panic", "on_message panicked"),
    ] {
        let (seen, log) = typhoon_testing::capture_logs(|| {
            run_test(async {
                let (seen, release) = (Rc::new(Seen::default()), Signal::new());
                let (_s, addr) = serve(app(&seen, &release, Settings::default()));
                let mut client = RawClient::connect(addr, "/").await;
                client.send_text(text).await;
                // Aborted: the connection ends without a close frame, and on_close still runs.
                assert_eq!(client.next().await, None);
                seen.closed.wait().await;
                seen
            })
        });
        assert!(
            log.contains("Uncaught exception in WebSocket on_message"),
            "{log}"
        );
        assert!(log.contains(needle), "{log}");
        assert_eq!(
            seen.log.borrow().last().map(String::as_str),
            Some("close:None:None")
        );
    }
}

#[test]
fn test_error_in_open() {
    let (seen, log) = typhoon_testing::capture_logs(|| {
        run_test(async {
            let (seen, release) = (Rc::new(Seen::default()), Signal::new());
            let (_s, addr) = serve(app(&seen, &release, Settings::default()));
            let mut client = RawClient::connect(addr, "/fail-open").await;
            assert_eq!(client.next().await, None);
            seen.closed.wait().await;
            seen
        })
    });
    assert!(
        log.contains("Uncaught exception in WebSocket open"),
        "{log}"
    );
    assert_eq!(seen.log.borrow().as_slice(), ["open", "close:None:None"]);
}

#[test]
fn test_large_message() {
    // Tornado's MaxMessageSizeTest: 1024 bytes pass, 1025 close with 1009.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let settings = Settings {
            websocket_max_message_size: 1024,
            ..Settings::default()
        };
        let (_s, addr) = serve(app(&seen, &release, settings));
        let mut client = RawClient::connect(addr, "/").await;
        let fits = "a".repeat(1024);
        client.send_text(&fits).await;
        assert_eq!(client.text().await, fits);
        client.send_text(&"a".repeat(1025)).await;
        let close = client.close_frame().await.expect("a close code");
        assert_eq!(close.code, 1009);
    });
}

#[test]
fn an_unmasked_client_frame_is_closed_with_1002() {
    // RFC 6455 §5.1; Tornado accepts it.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_raw(b"\x81\x05hello").await;
        assert_eq!(client.close_frame().await.map(|c| c.code), Some(1002));
    });
}

#[test]
fn an_invalid_close_code_is_closed_with_1002() {
    // Autobahn 7.9.x; Tornado echoes the code back.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        // A close with code 1005 (never on the wire), masked by hand with a zero mask.
        client.send_raw(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED]).await;
        assert_eq!(client.close_frame().await.map(|c| c.code), Some(1002));
    });
}

#[test]
fn test_server_ping() {
    // Tornado's ServerPeriodicPingTest: with an interval, pings come; the pongs reach on_pong.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let settings = Settings {
            websocket_ping_interval: Some(Duration::from_millis(10)),
            websocket_ping_timeout: Some(Duration::ZERO),
            ..Settings::default()
        };
        let (_s, addr) = serve(app(&seen, &release, settings));
        let mut client = RawClient::connect(addr, "/").await;
        for _ in 0..3 {
            assert_eq!(client.next().await, Some(Event::Ping(Vec::new())));
            let mut out = Vec::new();
            client.encoder.encode_pong(&mut out, b"").expect("pong");
            client.send_raw(&out).await;
        }
        // A message round trip after the pongs: they were handled in order before it.
        client.send_text("sync").await;
        assert_eq!(client.text().await, "sync");
        let pongs = seen.log.borrow().iter().filter(|e| *e == "pong").count();
        assert_eq!(pongs, 3);
    });
}

#[test]
fn test_client_ping_timeout() {
    // Tornado's ServerPingTimeoutTest: pongs withheld, the server closes with 1000 "ping timed
    // out".
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let settings = Settings {
            websocket_ping_interval: Some(Duration::from_millis(20)),
            websocket_ping_timeout: Some(Duration::from_millis(10)),
            ..Settings::default()
        };
        let (_s, addr) = serve(app(&seen, &release, settings));
        let mut client = RawClient::connect(addr, "/").await;
        assert_eq!(client.next().await, Some(Event::Ping(Vec::new())));
        let close = client.next().await;
        assert_eq!(
            close,
            Some(Event::Close(Some(CloseFrame {
                code: 1000,
                reason: "ping timed out".into()
            })))
        );
    });
}

#[test]
fn test_many_small_messages_yield() {
    // 5000 one-byte messages in one write, handled without any wait of their own: the
    // connection still lets the loop's other tasks run meanwhile.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        let mut burst = Vec::new();
        for _ in 0..5000 {
            client.encoder.encode_binary(&mut burst, b"x");
        }
        let counter = {
            let seen = Rc::clone(&seen);
            typhoon_ioloop::IOLoop::current().spawn(async move {
                loop {
                    seen.ticks.set(seen.ticks.get() + 1);
                    typhoon_ioloop::yield_now().await;
                }
            })
        };
        client.send_raw(&burst).await;
        seen.burst_done.wait().await;
        counter.cancel();
        let turns = seen.ticks.get() - seen.ticks_at_first.get();
        assert!(
            turns > 10,
            "the loop's other tasks ran {turns} times during the burst"
        );
    });
}

#[test]
fn a_panic_in_on_ping_aborts_and_on_close_still_runs() {
    let (seen, log) = typhoon_testing::capture_logs(|| {
        run_test(async {
            let (seen, release) = (Rc::new(Seen::default()), Signal::new());
            let (_s, addr) = serve(app(&seen, &release, Settings::default()));
            let mut client = RawClient::connect(addr, "/").await;
            client.send_ping(b"panic").await;
            assert_eq!(client.next().await, Some(Event::Pong(b"panic".to_vec())));
            assert_eq!(client.next().await, None, "aborted");
            seen.closed.wait().await;
            seen
        })
    });
    assert!(
        log.contains("Uncaught exception in WebSocket on_ping"),
        "{log}"
    );
    assert_eq!(
        seen.log.borrow().last().map(String::as_str),
        Some("close:None:None")
    );
}

#[test]
fn a_ping_after_the_servers_close_still_gets_its_pong() {
    // RFC 6455 §5.5.2: a pong is owed until the peer's close arrives, also after ours.
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (_s, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("close").await;
        assert!(matches!(client.next().await, Some(Event::Close(Some(_)))));
        // The test's own decoder ignores frames after a close; read what follows with a fresh one.
        client.decoder = typhoon_websocket::Decoder::new(
            typhoon_websocket::Role::Client,
            typhoon_websocket::DEFAULT_MAX_MESSAGE_SIZE,
        );
        client.send_ping(b"still there?").await;
        assert_eq!(
            client.next().await,
            Some(Event::Pong(b"still there?".to_vec()))
        );
        client.send_close(Some((1000, ""))).await;
        assert_eq!(client.next().await, None);
    });
}

#[test]
fn a_graceful_shutdown_closes_with_1001() {
    run_test(async {
        let (seen, release) = (Rc::new(Seen::default()), Signal::new());
        let (server, addr) = serve(app(&seen, &release, Settings::default()));
        let mut client = RawClient::connect(addr, "/").await;
        client.send_text("hello").await;
        assert_eq!(client.text().await, "hello");
        let shutdown = typhoon_ioloop::IOLoop::current()
            .spawn(async move { server.shutdown(Duration::from_secs(30)).await });
        // The server says it is going away, and finishes once the client answers.
        assert_eq!(
            client.next().await,
            Some(Event::Close(Some(CloseFrame {
                code: 1001,
                reason: "server shutting down".into()
            })))
        );
        client.send_close(Some((1001, ""))).await;
        assert_eq!(client.next().await, None, "the server closes TCP");
        assert_eq!(shutdown.await.ok(), Some(0), "no connection had to be cut");
        seen.closed.wait().await;
        assert_eq!(
            seen.log.borrow().last().map(String::as_str),
            Some("close:Some(1001):Some(\"\")")
        );
    });
}
