//! Broadcasting with [`PreparedMessage`] and [`WebSocketConnection::send_prepared`]: one task
//! sends to every open socket without a wait or a task per socket, a full socket gets the rest
//! in the background, and with permessage-deflate each connection decodes what it was sent
//! (compressed once for the connections without context takeover, with its own state for one
//! with it).

use std::cell::RefCell;
use std::rc::Rc;

use typhoon_testing::run_test;
use typhoon_web::{Application, HTTPError, Settings};
use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{
    Message, PreparedMessage, WebSocket, WebSocketClientOptions, WebSocketConnection,
    WebSocketHandler, websocket_connect_with, websocket_route,
};

use crate::{RawClient, serve};

/// The open sockets.
type Room = Rc<RefCell<Vec<WebSocketConnection>>>;

/// Joins the room on open; `flood:<n>` sends `n` messages of 64 KiB to the sender alone, any
/// other text goes to everyone in the room, both with `send_prepared` from `on_message`.
struct Member {
    room: Room,
    compression: Option<DeflateOptions>,
}

impl WebSocketHandler for Member {
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        self.compression.clone()
    }

    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        self.room.borrow_mut().push(ws.connection().clone());
        ws.write_text("joined").await?;
        Ok(())
    }

    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        let Message::Text(text) = message else {
            return Ok(());
        };
        if let Some(n) = text.strip_prefix("flood:") {
            let n: usize = n.parse().map_err(|_| HTTPError::new(400))?;
            for i in 0..n {
                let body = format!("{i:08}{}", "x".repeat(64 * 1024));
                ws.send_prepared(&PreparedMessage::new(Message::Text(body)))?;
            }
            return Ok(());
        }
        let prepared = PreparedMessage::new(Message::Text(text));
        for member in self.room.borrow().iter() {
            member.send_prepared(&prepared)?;
        }
        Ok(())
    }

    fn on_close(&mut self, _ws: &mut WebSocket<'_>) {
        // This connection is closed by now: it leaves, with any other that closed.
        self.room.borrow_mut().retain(|member| !member.is_closed());
    }
}

/// `/room` (default deflate: no context takeover) and `/room-takeover` (context takeover both
/// ways), one room.
fn app(room: &Room) -> Application {
    let (a, b) = (Rc::clone(room), Rc::clone(room));
    let takeover = DeflateOptions {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        ..DeflateOptions::default()
    };
    Application::with_settings(
        vec![
            websocket_route("/room", move || Member {
                room: Rc::clone(&a),
                compression: Some(DeflateOptions::default()),
            }),
            websocket_route("/room-takeover", move || Member {
                room: Rc::clone(&b),
                compression: Some(takeover.clone()),
            }),
        ],
        Settings::default(),
    )
}

#[test]
fn send_prepared_reaches_every_socket() {
    run_test(async {
        let room = Room::default();
        let (_s, addr) = serve(app(&room));
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut client = RawClient::connect(addr, "/room").await;
            assert_eq!(client.text().await, "joined");
            clients.push(client);
        }
        clients[1].send_text("hello, everyone").await;
        for client in &mut clients {
            assert_eq!(client.text().await, "hello, everyone");
        }
    });
}

#[test]
fn a_full_socket_gets_the_rest_in_the_background() {
    run_test(async {
        let room = Room::default();
        let (_s, addr) = serve(app(&room));
        let mut client = RawClient::connect(addr, "/room").await;
        assert_eq!(client.text().await, "joined");
        // 32 MiB queued in one go: far more than the socket buffers take; what they leave must
        // go out without anyone awaiting it.
        client.send_text("flood:512").await;
        for i in 0..512 {
            let text = client.text().await;
            assert_eq!(&text[..8], format!("{i:08}"), "in order");
            assert_eq!(text.len(), 8 + 64 * 1024);
        }
    });
}

#[test]
fn a_compressed_broadcast_decodes_with_and_without_context_takeover() {
    run_test(async {
        let room = Room::default();
        let (_s, addr) = serve(app(&room));
        let mut clients = Vec::new();
        for path in ["/room", "/room", "/room-takeover"] {
            let options = WebSocketClientOptions {
                compression: Some(DeflateOptions {
                    server_no_context_takeover: false,
                    client_no_context_takeover: false,
                    ..DeflateOptions::default()
                }),
                ..WebSocketClientOptions::default()
            };
            let url = format!("ws://{addr}{path}");
            let client = websocket_connect_with(url, options).await.expect("connect");
            assert_eq!(
                client.read_message().await,
                Some(Message::Text("joined".into()))
            );
            clients.push(client);
        }
        let text = "a message worth compressing, a message worth compressing".repeat(4);
        for round in 0..3 {
            let message = format!("{round} {text}");
            clients[0]
                .write_message(Message::Text(message.clone()))
                .await
                .expect("send");
            for client in &clients {
                assert_eq!(
                    client.read_message().await,
                    Some(Message::Text(message.clone()))
                );
            }
        }
    });
}
