//! The server's opening handshake, in Tornado's order and with its answers, stricter where RFC
//! 6455 says so (the key must be 16 bytes of base64).

use std::rc::Rc;

use typhoon_httpserver::Upgraded;
use typhoon_web::{Context, HTTPError};

use super::WebSocketHandler;
use crate::connection::{FrameReader, WebSocketConnection};
use crate::decoder::Decoder;
use crate::encoder::Encoder;
use crate::frame::Role;
use crate::handshake::{accept_key, is_valid_key};

/// An accepted handshake: the open connection and its reader.
pub(super) struct Accepted {
    /// The connection (the `101` has gone out).
    pub(super) connection: WebSocketConnection,
    /// The peer's frames.
    pub(super) reader: FrameReader,
    /// The HTTP connection handed over, which tells when the server shuts down.
    pub(super) upgraded: Upgraded,
}

/// Answers the handshake: `Ok(None)` when it was refused (the refusal is the response),
/// `Ok(Some)` once the `101` is out and the connection detached.
pub(super) async fn accept<H: WebSocketHandler>(
    handler: &mut H,
    cx: &mut Context,
) -> Result<Option<Accepted>, HTTPError> {
    let headers = &cx.request().headers;
    // Tornado's order: Upgrade, Connection, origin, version, then the other headers.
    if !headers
        .get("Upgrade")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    {
        return refuse(cx, 400, "Can \"Upgrade\" only to \"WebSocket\".");
    }
    let connection_upgrade = headers.get_list("Connection").any(|value| {
        value
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
    });
    if !connection_upgrade {
        return refuse(cx, 400, "\"Connection\" must be \"Upgrade\".");
    }
    if !cross_origin_allowed(handler, cx) {
        return refuse(cx, 403, "Cross origin websockets not allowed");
    }
    let headers = &cx.request().headers;
    if headers.get("Sec-WebSocket-Version").map(str::trim) != Some("13") {
        cx.set_status(426);
        cx.set_header("Sec-WebSocket-Version", "13")?;
        cx.write("Upgrade Required");
        tracing::debug!(target: "typhoon::general", "unsupported WebSocket version");
        return Ok(None);
    }
    let key = headers
        .get("Sec-WebSocket-Key")
        .map(str::trim)
        .unwrap_or("");
    let host = headers.get("Host").map(str::trim).unwrap_or("");
    if key.is_empty() || host.is_empty() || !is_valid_key(key) {
        return refuse(cx, 400, "Missing/Invalid WebSocket headers");
    }
    let accept = accept_key(key);

    let offered: Vec<String> = headers
        .get_list("Sec-WebSocket-Protocol")
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .collect();
    let subprotocol = handler
        .select_subprotocol(&offered)
        .filter(|chosen| offered.contains(chosen));
    #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
    let mut decoder = Decoder::new(Role::Server, cx.settings().websocket_max_message_size);
    #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
    let mut encoder = Encoder::new(Role::Server);
    #[cfg(feature = "deflate")]
    let extension = {
        let offers: Vec<&str> = headers.get_list("Sec-WebSocket-Extensions").collect();
        match handler.get_compression_options() {
            Some(options) if !offers.is_empty() => {
                crate::deflate::server_negotiate(&offers, &options).map(|(params, answer)| {
                    let (deflater, inflater) =
                        params.codec(Role::Server, options.compression_level);
                    encoder.set_deflater(deflater);
                    decoder.set_inflater(inflater);
                    answer
                })
            }
            _ => None,
        }
    };

    cx.set_status(101);
    cx.set_header("Upgrade", "websocket")?;
    cx.set_header("Connection", "Upgrade")?;
    cx.set_header("Sec-WebSocket-Accept", &accept)?;
    if let Some(protocol) = &subprotocol {
        cx.set_header("Sec-WebSocket-Protocol", protocol)?;
    }
    #[cfg(feature = "deflate")]
    if let Some(answer) = &extension {
        cx.set_header("Sec-WebSocket-Extensions", answer)?;
    }
    let Ok(upgraded) = cx.detach().await else {
        // The client went away during the handshake: nothing to answer.
        return Ok(None);
    };
    let stream = Rc::clone(upgraded.stream());
    // Messages are small writes that must not wait for Nagle's coalescing; asyncio sets
    // TCP_NODELAY on every connection, so Tornado's WebSockets have it too.
    let _ = stream.set_nodelay(true);
    Ok(Some(Accepted {
        connection: WebSocketConnection::new(stream, Role::Server, encoder, subprotocol),
        reader: FrameReader::new(decoder),
        upgraded,
    }))
}

/// Answers a refused handshake with `status` and Tornado's message.
fn refuse(cx: &mut Context, status: u16, message: &str) -> Result<Option<Accepted>, HTTPError> {
    tracing::debug!(target: "typhoon::general", status, "{message}");
    cx.set_status(status);
    cx.write(message);
    Ok(None)
}

/// Tornado 6.6's `_check_cross_origin` for WebSockets (always on), with `check_origin`:
/// the shared algorithm of [`Context::check_cross_origin`].
fn cross_origin_allowed<H: WebSocketHandler>(handler: &H, cx: &Context) -> bool {
    cx.check_cross_origin(|origin| handler.check_origin(cx, origin))
        .is_ok()
}
