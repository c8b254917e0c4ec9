//! The server side (feature `server`): Tornado's `WebSocketHandler` on `typhoon-web`.
//!
//! A [`WebSocketHandler`] is routed with [`websocket_route`]. The request runs Tornado's
//! lifecycle up to the handshake (`prepare` first, so it may authenticate), then the
//! handshake's checks in Tornado's order (`Upgrade`, `Connection`, the origin, the version, the
//! key), the `101`, and the session: [`open`](WebSocketHandler::open), one
//! [`on_message`](WebSocketHandler::on_message) at a time (its future is awaited before the
//! next message is read: per-connection flow control, as in Tornado; pings are still answered
//! meanwhile, unlike Tornado), and [`on_close`](WebSocketHandler::on_close) exactly once.

mod handshake;
mod session;

use std::future::Future;
use std::ops::Deref;

use typhoon_httpserver::HTTPServerRequest;
use typhoon_web::{Context, CurrentUser, HTTPError, RequestHandler, Route, route};

use crate::connection::WebSocketConnection;
#[cfg(feature = "deflate")]
use crate::deflate::DeflateOptions;
use crate::message::Message;

/// A WebSocket endpoint (Tornado's `WebSocketHandler`): one value per connection, built by the
/// route's factory, so it may keep per-connection state in `self`.
///
/// # Examples
///
/// ```no_run
/// use typhoon_ioloop::IOLoop;
/// use typhoon_web::{Application, HTTPError};
/// use typhoon_websocket::{Message, WebSocket, WebSocketHandler, websocket_route};
///
/// /// Tornado's echo handler.
/// struct EchoWebSocket;
///
/// impl WebSocketHandler for EchoWebSocket {
///     async fn open(&mut self, _ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
///         println!("WebSocket opened");
///         Ok(())
///     }
///
///     async fn on_message(&mut self, ws: &mut WebSocket<'_>, message: Message) -> Result<(), HTTPError> {
///         if let Message::Text(text) = message {
///             ws.write_message(format!("You said: {text}")).await?;
///         }
///         Ok(())
///     }
///
///     fn on_close(&mut self, _ws: &mut WebSocket<'_>) {
///         println!("WebSocket closed");
///     }
/// }
///
/// fn main() -> std::io::Result<()> {
///     let app = Application::new(vec![websocket_route("/websocket", || EchoWebSocket)]);
///     app.listen(8888)?;
///     IOLoop::current().start();
///     Ok(())
/// }
/// ```
#[allow(async_fn_in_trait)] // connections run on one loop: their futures need not be Send
pub trait WebSocketHandler: 'static {
    /// Runs before the handshake (Tornado's `prepare`): it may be asynchronous, authenticate,
    /// and refuse the connection with an error (a 401, say), which is answered as HTTP.
    ///
    /// # Errors
    ///
    /// An error refuses the connection with its status.
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Ok(())
    }

    /// Loads the current user before [`prepare`](Self::prepare), as
    /// [`RequestHandler::get_current_user`]: it may await, and it sees the handler.
    ///
    /// # Errors
    ///
    /// An error refuses the connection with its status.
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        let _ = cx;
        Ok(None)
    }

    /// Whether to accept a connection from `origin` that looks cross-origin (Tornado 6.6's
    /// `check_origin`, asked only when the request's `Sec-Fetch-Site` or `Origin` says it comes
    /// from another site). The default accepts the origins of the application's
    /// `trusted_origins` setting ([`check_trusted_origin`]). Runs after
    /// [`prepare`](Self::prepare), so it may depend on what `prepare` found.
    fn check_origin(&self, cx: &Context, origin: &str) -> bool {
        check_trusted_origin(cx, origin)
    }

    /// Picks one of the subprotocols the client offered (Tornado's `select_subprotocol`;
    /// called once, with an empty list when none were offered). The default picks none.
    fn select_subprotocol(&mut self, subprotocols: &[String]) -> Option<String> {
        let _ = subprotocols;
        None
    }

    /// Enables permessage-deflate with these options, if the client offers it (Tornado's
    /// `get_compression_options`); the default (`None`) keeps compression off.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        None
    }

    /// Called once the connection is open (after the `101`); no message is handled before it
    /// returns.
    ///
    /// # Errors
    ///
    /// An error (or a panic) is logged and aborts the connection; `on_close` still runs.
    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        let _ = ws;
        Ok(())
    }

    /// Handles one message. The next message is read only when the returned future is done:
    /// that is the connection's flow control (a slow handler slows its peer down, through
    /// TCP). Pings are answered meanwhile.
    ///
    /// # Errors
    ///
    /// An error (or a panic) is logged and aborts the connection; `on_close` still runs.
    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError>;

    /// Called for a ping, after the automatic pong has been queued (Tornado's `on_ping`).
    fn on_ping(&mut self, ws: &mut WebSocket<'_>, data: &[u8]) {
        let _ = (ws, data);
    }

    /// Called for every pong (Tornado's `on_pong`).
    fn on_pong(&mut self, ws: &mut WebSocket<'_>, data: &[u8]) {
        let _ = (ws, data);
    }

    /// Called exactly once when the connection is over, whoever closed it and however (Tornado's
    /// `on_close`); [`close_code`](WebSocketConnection::close_code) tells the peer's code.
    fn on_close(&mut self, ws: &mut WebSocket<'_>) {
        let _ = ws;
    }
}

/// What a [`WebSocketHandler`]'s methods get: the open connection (through `Deref`:
/// [`write_message`](WebSocketConnection::write_message), [`ping`](WebSocketConnection::ping),
/// [`close`](WebSocketConnection::close), ...) and the request's [`Context`] (the request,
/// the route's captures, the settings, `render_string`). The HTTP response is over: the
/// context's writers answer `WebError::Finished`.
pub struct WebSocket<'a> {
    /// The connection.
    connection: WebSocketConnection,
    /// The request's context.
    cx: &'a mut Context,
}

impl WebSocket<'_> {
    /// The connection, as a handle that can be kept (to broadcast to it from other tasks).
    pub fn connection(&self) -> &WebSocketConnection {
        &self.connection
    }

    /// The request's context.
    pub fn context(&mut self) -> &mut Context {
        self.cx
    }

    /// The handshake's request.
    pub fn request(&self) -> &HTTPServerRequest {
        self.cx.request()
    }

    /// The route's positional captures (Tornado's `open(*args)`).
    pub fn path_args(&self) -> &[String] {
        self.cx.path_args()
    }
}

impl Deref for WebSocket<'_> {
    type Target = WebSocketConnection;

    fn deref(&self) -> &WebSocketConnection {
        &self.connection
    }
}

impl std::fmt::Debug for WebSocket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("connection", &self.connection)
            .field("uri", &self.cx.request().uri)
            .finish()
    }
}

/// Tornado 6.6's `check_trusted_origin`: whether `origin` is one of the application's
/// `trusted_origins`, exactly.
pub fn check_trusted_origin(cx: &Context, origin: &str) -> bool {
    cx.check_trusted_origin(origin)
}

/// A route for the WebSocket handler `factory` builds, one per connection (Tornado's
/// `(pattern, WebSocketHandlerSubclass)` rule). Methods other than `GET` get a 405.
///
/// # Panics
///
/// If `pattern` is not a valid regex, as [`route`].
pub fn websocket_route<H, F>(pattern: &str, factory: F) -> Route
where
    H: WebSocketHandler,
    F: Fn() -> H + 'static,
{
    route(pattern, move || WebSocketRequest {
        handler: factory(),
        accepted: None,
    })
}

/// The request half of a WebSocket route: Tornado's lifecycle up to the handshake.
struct WebSocketRequest<H> {
    /// The application's handler.
    handler: H,
    /// The connection, once the handshake has switched it.
    accepted: Option<handshake::Accepted>,
}

impl<H: WebSocketHandler> RequestHandler for WebSocketRequest<H> {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.handler.prepare(cx).await
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.accepted = handshake::accept(&mut self.handler, cx).await?;
        Ok(())
    }

    /// The session runs in a task of its own: the request's future ends after the handshake,
    /// so an idle WebSocket holds only the handler, the context and the connection's state.
    fn into_detached(self, cx: Context) -> Option<impl Future<Output = ()> + 'static> {
        let accepted = self.accepted?;
        Some(session::run_detached(self.handler, cx, accepted))
    }

    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        self.handler.get_current_user(cx).await
    }
}
