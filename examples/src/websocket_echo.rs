//! The WebSocket echo server the Autobahn cases run against (`kosoku 127.0.0.1:PORT`): every
//! text and binary message comes back as it came, permessage-deflate is offered, and the server
//! sends no pings (a ping ends an Autobahn case).

use typhoon_web::{Application, HTTPError, Settings};
use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{Message, WebSocket, WebSocketHandler, websocket_route};

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

/// The echo application: the handler on every path, messages up to `max_message_size` bytes
/// (Autobahn's group 9 sends 16 MiB).
pub fn make_app(max_message_size: usize) -> Application {
    Application::with_settings(
        vec![websocket_route("/.*", || EchoWebSocket)],
        Settings {
            websocket_max_message_size: max_message_size,
            ..Settings::default()
        },
    )
}
