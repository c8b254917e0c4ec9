//! The WebSocket echo server the Autobahn cases run against (`kosoku 127.0.0.1:PORT`): every
//! text and binary message comes back as it came, permessage-deflate is offered, and the server
//! sends no pings (a ping ends an Autobahn case).
//!
//! It also serves the broadcast benchmark's rooms (`bench/websocket.sh`): on
//! `/broadcast/<how>` every text message goes to every socket of that path's room, in one of
//! three ways: `prepared` frames it once and sends it from the sender's task without waiting
//! ([`WebSocketConnection::send_prepared`]); `naive` is the per-handler loop, awaiting
//! `write_message` for each socket in turn; `spawn` starts a task per socket, each awaiting its
//! `write_message`.

use std::cell::RefCell;
use std::rc::Rc;

use typhoon_ioloop::IOLoop;
use typhoon_web::{Application, HTTPError, Settings};
use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{
    Message, PreparedMessage, WebSocket, WebSocketConnection, WebSocketHandler, websocket_route,
};

/// Echoes every message.
#[derive(Debug)]
pub struct EchoWebSocket;

impl WebSocketHandler for EchoWebSocket {
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        Some(DeflateOptions::default())
    }

    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        // A peer that closed meanwhile is not an error of ours.
        let _ = ws.write_message(message).await;
        Ok(())
    }
}

/// How a room sends a message to its sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// A [`PreparedMessage`], sent to each socket with `send_prepared`.
    Prepared,
    /// `write_message(..).await` for each socket in turn.
    Naive,
    /// A task per socket, each awaiting its `write_message`.
    Spawn,
}

/// The open sockets of one room.
type Room = Rc<RefCell<Vec<WebSocketConnection>>>;

/// A member of a broadcast room.
#[derive(Debug)]
pub struct BroadcastWebSocket {
    /// The room's sockets.
    room: Room,
    /// How the room sends.
    how: Broadcast,
}

impl WebSocketHandler for BroadcastWebSocket {
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        Some(DeflateOptions::default())
    }

    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        self.room.borrow_mut().push(ws.connection().clone());
        Ok(())
    }

    async fn on_message(
        &mut self,
        _ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        match self.how {
            Broadcast::Prepared => {
                let prepared = PreparedMessage::new(message);
                for member in self.room.borrow().iter() {
                    // A member that closed meanwhile is not an error of ours.
                    let _ = member.send_prepared(&prepared);
                }
            }
            Broadcast::Naive => {
                let members = self.room.borrow().clone();
                for member in &members {
                    let _ = member.write_message(message.clone()).await;
                }
            }
            Broadcast::Spawn => {
                for member in self.room.borrow().iter() {
                    let (member, message) = (member.clone(), message.clone());
                    IOLoop::current()
                        .spawn(async move {
                            let _ = member.write_message(message).await;
                        })
                        .detach();
                }
            }
        }
        Ok(())
    }

    fn on_close(&mut self, _ws: &mut WebSocket<'_>) {
        self.room.borrow_mut().retain(|member| !member.is_closed());
    }
}

/// The echo application: the broadcast rooms on `/broadcast/{prepared,naive,spawn}` and the
/// echo handler on every other path, messages up to `max_message_size` bytes (Autobahn's group
/// 9 sends 16 MiB).
pub fn make_app(max_message_size: usize) -> Application {
    let mut routes = Vec::new();
    for (path, how) in [
        ("/broadcast/prepared", Broadcast::Prepared),
        ("/broadcast/naive", Broadcast::Naive),
        ("/broadcast/spawn", Broadcast::Spawn),
    ] {
        let room = Room::default();
        routes.push(websocket_route(path, move || BroadcastWebSocket {
            room: Rc::clone(&room),
            how,
        }));
    }
    routes.push(websocket_route("/.*", || EchoWebSocket));
    Application::with_settings(
        routes,
        Settings {
            websocket_max_message_size: max_message_size,
            ..Settings::default()
        },
    )
}
