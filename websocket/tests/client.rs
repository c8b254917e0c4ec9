//! The client (`websocket_connect`) against a typhoon-web server with `WebSocketHandler`s over
//! real loopback sockets: Tornado's `websocket_test.py` client tests, by their names.

#[path = "client/flow.rs"]
mod flow;
#[path = "client/raw.rs"]
mod raw;
#[cfg(feature = "tls")]
#[path = "client/tls.rs"]
mod tls;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpclient::HTTPRequest;
use typhoon_ioloop::IOLoop;
use typhoon_ioloop::locks::Event as Signal;
use typhoon_testing::{AsyncHTTPTestServer, bind_unused_port, run_test};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};
use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{
    Message, WebSocket, WebSocketClientOptions, WebSocketConnectError, WebSocketError,
    WebSocketHandler, websocket_connect, websocket_connect_with, websocket_route,
};

/// What the server's handlers saw, for the assertions.
#[derive(Default)]
struct Seen {
    /// `(close_code, close_reason)` when `on_close` ran.
    closed: RefCell<Option<(Option<u16>, Option<String>)>>,
    /// Set when `on_close` ran.
    closed_signal: Signal,
    /// The `X-Test` header `prepare` found.
    header: RefCell<Option<String>>,
}

/// Echoes every message; records the close (Tornado's `EchoHandler`).
struct EchoHandler {
    seen: Rc<Seen>,
    compress: bool,
}

impl WebSocketHandler for EchoHandler {
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        self.compress.then(DeflateOptions::default)
    }

    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        let _ = ws.write_message(message).await;
        Ok(())
    }

    fn on_close(&mut self, ws: &mut WebSocket<'_>) {
        *self.seen.closed.borrow_mut() = Some((ws.close_code(), ws.close_reason()));
        self.seen.closed_signal.set();
    }
}

/// Checks a request header in `prepare`, adds a response header, and sends the request
/// header back from `open` (Tornado's `HeaderHandler` and `HeaderEchoHandler`).
struct HeaderHandler {
    seen: Rc<Seen>,
}

impl WebSocketHandler for HeaderHandler {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let value = cx.request().headers.get("X-Test").map(str::to_owned);
        *self.seen.header.borrow_mut() = value;
        cx.set_header("X-Extra-Response-Header", "Extra-Response-Value")?;
        Ok(())
    }

    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        let value = ws.request().headers.get("X-Test").unwrap_or("").to_owned();
        let _ = ws.write_message(value).await;
        Ok(())
    }

    async fn on_message(&mut self, _: &mut WebSocket<'_>, _: Message) -> Result<(), HTTPError> {
        Ok(())
    }
}

/// Closes from `open` with 1001 "goodbye" (Tornado's `CloseReasonHandler`).
struct CloseReasonHandler;

impl WebSocketHandler for CloseReasonHandler {
    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        ws.close(Some(1001), Some("goodbye"))
            .map_err(|_| HTTPError::new(500))?;
        Ok(())
    }

    async fn on_message(&mut self, _: &mut WebSocket<'_>, _: Message) -> Result<(), HTTPError> {
        Ok(())
    }
}

/// Selects `goodproto` if offered and says what it selected (Tornado's `SubprotocolHandler`).
struct SubprotocolHandler;

impl WebSocketHandler for SubprotocolHandler {
    fn select_subprotocol(&mut self, subprotocols: &[String]) -> Option<String> {
        subprotocols.iter().find(|p| *p == "goodproto").cloned()
    }

    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        let selected = ws.selected_subprotocol().unwrap_or("None").to_owned();
        let _ = ws.write_message(format!("subprotocol={selected}")).await;
        Ok(())
    }

    async fn on_message(&mut self, _: &mut WebSocket<'_>, _: Message) -> Result<(), HTTPError> {
        Ok(())
    }
}

/// Answers each ping with a "got ping" message (Tornado's `PingHandler`).
struct PingHandler;

impl WebSocketHandler for PingHandler {
    async fn on_message(&mut self, _: &mut WebSocket<'_>, _: Message) -> Result<(), HTTPError> {
        Ok(())
    }

    fn on_ping(&mut self, ws: &mut WebSocket<'_>, _data: &[u8]) {
        let connection = ws.connection().clone();
        IOLoop::current()
            .spawn(async move {
                let _ = connection.write_text("got ping").await;
            })
            .detach();
    }
}

/// Sends three messages from `open`: they follow the `101` at once.
struct EarlyHandler;

impl WebSocketHandler for EarlyHandler {
    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        for i in 0..3 {
            let _ = ws.write_message(format!("early {i}")).await;
        }
        Ok(())
    }

    async fn on_message(&mut self, _: &mut WebSocket<'_>, _: Message) -> Result<(), HTTPError> {
        Ok(())
    }
}

/// A plain page (Tornado's `NonWebSocketHandler`).
struct NonWebSocketHandler;

impl RequestHandler for NonWebSocketHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
}

/// Redirects to the echo handler (Tornado's `RedirectHandler`).
struct RedirectHandler;

impl RequestHandler for RedirectHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.redirect("/echo")?;
        Ok(())
    }
}

/// The test application and what its handlers saw.
fn server(settings: Settings) -> (AsyncHTTPTestServer, Rc<Seen>) {
    let seen = Rc::new(Seen::default());
    let (echo_seen, header_seen, deflate_seen) = (seen.clone(), seen.clone(), seen.clone());
    let app = Application::with_settings(
        vec![
            websocket_route("/echo", move || EchoHandler {
                seen: echo_seen.clone(),
                compress: false,
            }),
            websocket_route("/deflate", move || EchoHandler {
                seen: deflate_seen.clone(),
                compress: true,
            }),
            websocket_route("/header", move || HeaderHandler {
                seen: header_seen.clone(),
            }),
            websocket_route("/close_reason", || CloseReasonHandler),
            websocket_route("/subprotocol", || SubprotocolHandler),
            websocket_route("/ping", || PingHandler),
            websocket_route("/early", || EarlyHandler),
            route("/non_ws", || NonWebSocketHandler),
            route("/redirect", || RedirectHandler),
        ],
        settings,
    );
    (AsyncHTTPTestServer::new(app), seen)
}

/// `ws://127.0.0.1:PORT/path` of the test server.
fn ws_url(server: &AsyncHTTPTestServer, path: &str) -> String {
    format!("ws://127.0.0.1:{}{path}", server.port())
}

#[test]
fn test_websocket_gen() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/echo")).await.unwrap();
        ws.write_message("hello").await.unwrap();
        assert_eq!(ws.read_message().await, Some(Message::Text("hello".into())));
        assert_eq!(ws.selected_subprotocol(), None);
    });
}

#[test]
fn test_binary_message() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/echo")).await.unwrap();
        ws.write_binary(b"hello \xe9").await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(Message::Binary(b"hello \xe9".to_vec()))
        );
    });
}

#[test]
fn test_unicode_message() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/echo")).await.unwrap();
        ws.write_text("hello \u{e9}").await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(Message::Text("hello \u{e9}".into()))
        );
    });
}

#[test]
fn test_websocket_http_fail() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let error = websocket_connect(ws_url(&server, "/notfound"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::Http { status: 404, .. }),
            "{error:?}"
        );
    });
}

#[test]
fn test_websocket_http_success() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let error = websocket_connect(ws_url(&server, "/non_ws"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::NotWebSocket { status: 200 }),
            "{error:?}"
        );
    });
}

#[test]
fn test_websocket_http_redirect() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let error = websocket_connect(ws_url(&server, "/redirect"))
            .await
            .unwrap_err();
        match error {
            WebSocketConnectError::Http {
                status: 302,
                headers,
                ..
            } => assert_eq!(headers.get("Location"), Some("/echo")),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn test_websocket_network_fail() {
    run_test(async {
        let (listener, port) = bind_unused_port();
        drop(listener);
        let error = websocket_connect(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::Connect { .. }),
            "{error:?}"
        );
        assert!(std::error::Error::source(&error).is_some());
    });
}

#[test]
fn test_websocket_headers() {
    run_test(async {
        let (server, seen) = server(Settings::default());
        let request = HTTPRequest::new(ws_url(&server, "/header")).header("X-Test", "hello");
        let ws = websocket_connect(request).await.unwrap();
        assert_eq!(ws.read_message().await, Some(Message::Text("hello".into())));
        assert_eq!(seen.header.borrow().as_deref(), Some("hello"));
    });
}

#[test]
fn test_websocket_header_echo() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/header")).await.unwrap();
        assert_eq!(
            ws.headers().get("X-Extra-Response-Header"),
            Some("Extra-Response-Value")
        );
    });
}

#[test]
fn test_subprotocols() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let options = WebSocketClientOptions {
            subprotocols: vec!["badproto".into(), "goodproto".into()],
            ..Default::default()
        };
        let ws = websocket_connect_with(ws_url(&server, "/subprotocol"), options)
            .await
            .unwrap();
        assert_eq!(ws.selected_subprotocol(), Some("goodproto"));
        assert_eq!(
            ws.read_message().await,
            Some(Message::Text("subprotocol=goodproto".into()))
        );
    });
}

#[test]
fn test_subprotocols_not_offered() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/subprotocol"))
            .await
            .unwrap();
        assert_eq!(ws.selected_subprotocol(), None);
        assert_eq!(
            ws.read_message().await,
            Some(Message::Text("subprotocol=None".into()))
        );
    });
}

#[test]
fn test_server_close_reason() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/close_reason"))
            .await
            .unwrap();
        assert_eq!(ws.read_message().await, None);
        // The end is sticky.
        assert_eq!(ws.read_message().await, None);
        assert_eq!(ws.close_code(), Some(1001));
        assert_eq!(ws.close_reason().as_deref(), Some("goodbye"));
        assert!(ws.is_closed());
    });
}

#[test]
fn test_client_close_reason() {
    run_test(async {
        let (server, seen) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/echo")).await.unwrap();
        ws.close(Some(1001), Some("goodbye")).unwrap();
        seen.closed_signal.wait().await;
        assert_eq!(
            *seen.closed.borrow(),
            Some((Some(1001), Some("goodbye".to_owned())))
        );
        // The server's echo of the close ends the client too.
        assert_eq!(ws.read_message().await, None);
        assert_eq!(ws.close_code(), Some(1001));
    });
}

#[test]
fn test_write_after_close() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/close_reason"))
            .await
            .unwrap();
        assert_eq!(ws.read_message().await, None);
        assert!(matches!(
            ws.write_message("hello").await,
            Err(WebSocketError::Closed)
        ));
    });
}

#[test]
fn test_error_in_closed_client_write_message() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/echo")).await.unwrap();
        ws.close(None, None).unwrap();
        assert!(matches!(
            ws.write_message("hello \u{e9}").await,
            Err(WebSocketError::Closed)
        ));
    });
}

#[test]
fn test_compression_round_trip() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let options = WebSocketClientOptions {
            compression: Some(DeflateOptions::default()),
            ..Default::default()
        };
        let ws = websocket_connect_with(ws_url(&server, "/deflate"), options)
            .await
            .unwrap();
        let agreed = ws.headers().get("Sec-WebSocket-Extensions").unwrap_or("");
        assert!(agreed.starts_with("permessage-deflate"), "{agreed}");
        for i in 0..5 {
            let text = format!("message {i}: {}", "compressible ".repeat(50));
            ws.write_text(&text).await.unwrap();
            assert_eq!(ws.read_message().await, Some(Message::Text(text)));
        }
        ws.write_binary(&[0xe9; 1000]).await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(Message::Binary(vec![0xe9; 1000]))
        );
    });
}

#[test]
fn test_compression_not_accepted_by_server() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let options = WebSocketClientOptions {
            compression: Some(DeflateOptions::default()),
            ..Default::default()
        };
        // The echo route enables no compression: the connection works uncompressed.
        let ws = websocket_connect_with(ws_url(&server, "/echo"), options)
            .await
            .unwrap();
        assert_eq!(ws.headers().get("Sec-WebSocket-Extensions"), None);
        ws.write_text("plain").await.unwrap();
        assert_eq!(ws.read_message().await, Some(Message::Text("plain".into())));
    });
}

#[test]
fn test_client_ping() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let options = WebSocketClientOptions {
            ping_interval: Some(Duration::from_millis(10)),
            // No pong deadline: with Nagle and delayed ACKs a pong can take longer than 10 ms.
            ping_timeout: Some(Duration::ZERO),
            ..Default::default()
        };
        let ws = websocket_connect_with(ws_url(&server, "/ping"), options)
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(
                ws.read_message().await,
                Some(Message::Text("got ping".into()))
            );
        }
    });
}

#[test]
fn test_manual_ping() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let pongs = Rc::new(RefCell::new(Vec::new()));
        let got_pong = Rc::new(Signal::new());
        let (record, signal) = (pongs.clone(), got_pong.clone());
        let options = WebSocketClientOptions {
            on_pong: Some(Box::new(move |data| {
                record.borrow_mut().push(data.to_vec());
                signal.set();
            })),
            ..Default::default()
        };
        let ws = websocket_connect_with(ws_url(&server, "/echo"), options)
            .await
            .unwrap();
        ws.ping(b"hello").await.unwrap();
        got_pong.wait().await;
        assert_eq!(*pongs.borrow(), [b"hello".to_vec()]);
        assert!(matches!(
            ws.ping(&[0; 126]).await,
            Err(WebSocketError::Protocol(_))
        ));
    });
}

#[test]
fn test_server_ping_reaches_on_ping() {
    run_test(async {
        let (server, _) = server(Settings {
            websocket_ping_interval: Some(Duration::from_millis(10)),
            ..Settings::default()
        });
        let pinged = Rc::new(Signal::new());
        let set = pinged.clone();
        let options = WebSocketClientOptions {
            on_ping: Some(Box::new(move |_| set.set())),
            ..Default::default()
        };
        let ws = websocket_connect_with(ws_url(&server, "/echo"), options)
            .await
            .unwrap();
        pinged.wait().await;
        // The client's pong kept the connection open past the server's ping timeout.
        ws.write_text("still open").await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(Message::Text("still open".into()))
        );
    });
}

#[test]
fn test_early_frames_after_handshake() {
    run_test(async {
        let (server, _) = server(Settings::default());
        let ws = websocket_connect(ws_url(&server, "/early")).await.unwrap();
        for i in 0..3 {
            assert_eq!(
                ws.read_message().await,
                Some(Message::Text(format!("early {i}")))
            );
        }
    });
}

#[test]
fn test_client_max_message_size() {
    run_test(async {
        let (server, seen) = server(Settings::default());
        let options = WebSocketClientOptions {
            max_message_size: 1024,
            ..Default::default()
        };
        let ws = websocket_connect_with(ws_url(&server, "/echo"), options)
            .await
            .unwrap();
        ws.write_binary(&[0; 1024]).await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(Message::Binary(vec![0; 1024]))
        );
        ws.write_binary(&[0; 1025]).await.unwrap();
        assert_eq!(ws.read_message().await, None);
        seen.closed_signal.wait().await;
        assert_eq!(
            *seen.closed.borrow(),
            Some((Some(1009), Some(String::new())))
        );
    });
}

#[test]
fn test_invalid_url() {
    run_test(async {
        let error = websocket_connect("ftp://127.0.0.1/").await.unwrap_err();
        assert!(matches!(
            error,
            WebSocketConnectError::UnsupportedScheme { .. }
        ));
        let error = websocket_connect("not a url").await.unwrap_err();
        assert!(matches!(error, WebSocketConnectError::InvalidUrl { .. }));
    });
}
