//! The client side (feature `client`): Tornado's `websocket_connect` and
//! `WebSocketClientConnection`.
//!
//! [`websocket_connect`] connects with typhoon-iostream's `TCPClient` (TLS for `wss` with the
//! `tls` feature), sends the opening handshake, checks the `101` (RFC 6455 §4.1), and returns a
//! [`WebSocketClientConnection`] over the same [`WebSocketConnection`] engine as the server.
//! Redirects are not followed (Tornado forces `follow_redirects=False`).

mod connection;
mod error;
mod handshake;

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpclient::HTTPRequest;
use typhoon_httputil::HTTPHeaders;
use typhoon_ioloop::timeout;
use typhoon_iostream::{IOStream, TCPClient};

pub use connection::{ControlHook, WebSocketClientConnection};
pub use error::WebSocketConnectError;

use crate::connection::{FrameReader, WebSocketConnection};
use crate::decoder::{DEFAULT_MAX_MESSAGE_SIZE, Decoder};
#[cfg(feature = "deflate")]
use crate::deflate::DeflateOptions;
use crate::encoder::Encoder;
use crate::frame::Role;
use handshake::Target;

/// How long a write may wait for a server that does not read before the connection fails
/// (the HTTP server's default `send_timeout`, for the same reason).
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// What to connect to: a URL (`ws`, `wss`, `http` or `https`) with headers, a connect timeout
/// and, for `wss`, the CA file to trust. Built from a URL string or from a
/// `typhoon_httpclient::HTTPRequest` (Tornado's `websocket_connect(url)` takes either).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_httpclient::HTTPRequest;
/// use typhoon_websocket::WebSocketRequest;
///
/// let plain = WebSocketRequest::from("ws://127.0.0.1:8888/websocket");
/// let with_headers: WebSocketRequest = HTTPRequest::new("ws://127.0.0.1:8888/websocket")
///     .header("X-Test", "hello")
///     .connect_timeout(Duration::from_secs(2))
///     .into();
/// assert_eq!(with_headers.headers.get("X-Test"), Some("hello"));
/// assert_eq!(plain.url, "ws://127.0.0.1:8888/websocket");
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketRequest {
    /// The URL; `ws:` is sent as `http:`, `wss:` as `https:`.
    pub url: String,
    /// Headers sent with the handshake (`Host` too if given; the upgrade headers are the
    /// handshake's own and replace any given here).
    pub headers: HTTPHeaders,
    /// Bounds connecting (with the TLS handshake), and then again the wait for the answer
    /// (default 20 s, as `HTTPRequest`'s).
    pub connect_timeout: Duration,
    /// For `wss`: a PEM file of CA certificates to trust instead of the webpki roots.
    pub ca_certs: Option<std::path::PathBuf>,
}

impl WebSocketRequest {
    /// A request for `url`, with no extra headers and a 20 s connect timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: HTTPHeaders::new(),
            connect_timeout: Duration::from_secs(20),
            ca_certs: None,
        }
    }
}

impl From<&str> for WebSocketRequest {
    fn from(url: &str) -> Self {
        Self::new(url)
    }
}

impl From<String> for WebSocketRequest {
    fn from(url: String) -> Self {
        Self::new(url)
    }
}

impl From<HTTPRequest> for WebSocketRequest {
    /// Keeps the URL, the headers, `connect_timeout` and `ca_certs`; the method, the body and
    /// the redirect settings do not apply to a handshake.
    fn from(request: HTTPRequest) -> Self {
        Self {
            connect_timeout: request.connect_timeout,
            ca_certs: request.ca_certs.clone(),
            url: request.url,
            headers: request.headers,
        }
    }
}

/// The options of [`websocket_connect_with`] (Tornado's keyword arguments of
/// `websocket_connect`), with `Default` for `..Default::default()`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_websocket::WebSocketClientOptions;
///
/// let options = WebSocketClientOptions {
///     subprotocols: vec!["chat".into()],
///     ping_interval: Some(Duration::from_secs(10)),
///     on_pong: Some(Box::new(|data: &[u8]| println!("pong {data:?}"))),
///     ..Default::default()
/// };
/// assert_eq!(options.max_message_size, 10 * 1024 * 1024);
/// ```
pub struct WebSocketClientOptions {
    /// Subprotocols to offer, in order of preference (Tornado's `subprotocols`); the server's
    /// choice is [`selected_subprotocol`](WebSocketConnection::selected_subprotocol).
    pub subprotocols: Vec<String>,
    /// Offer permessage-deflate with these options (Tornado's `compression_options`; `None`,
    /// the default, offers nothing).
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub compression: Option<DeflateOptions>,
    /// Ping the server this often (Tornado's `ping_interval`; `None` or zero: never).
    pub ping_interval: Option<Duration>,
    /// Close the connection if no pong arrives this long after a ping (Tornado's
    /// `ping_timeout`; `None`: the interval; capped at the interval; zero: no deadline).
    pub ping_timeout: Option<Duration>,
    /// The largest message accepted, in bytes, after decompression (Tornado's
    /// `max_message_size`, 10 MiB); a larger one closes the connection with 1009.
    pub max_message_size: usize,
    /// Called with each ping's payload, after the pong is sent (Tornado's `on_ping`).
    pub on_ping: Option<ControlHook>,
    /// Called with each pong's payload (Tornado's `on_pong`).
    pub on_pong: Option<ControlHook>,
}

impl Default for WebSocketClientOptions {
    fn default() -> Self {
        Self {
            subprotocols: Vec::new(),
            #[cfg(feature = "deflate")]
            compression: None,
            ping_interval: None,
            ping_timeout: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            on_ping: None,
            on_pong: None,
        }
    }
}

impl fmt::Debug for WebSocketClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("WebSocketClientOptions");
        d.field("subprotocols", &self.subprotocols);
        #[cfg(feature = "deflate")]
        d.field("compression", &self.compression);
        d.field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("on_ping", &self.on_ping.is_some())
            .field("on_pong", &self.on_pong.is_some())
            .finish()
    }
}

/// Connects to a WebSocket server with the default options (Tornado's `websocket_connect`).
///
/// # Errors
///
/// See [`websocket_connect_with`].
///
/// # Cancel safety
///
/// Cancel-safe: a dropped connect closes its socket.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "server")] {
/// # use typhoon_websocket::{Message, WebSocket, WebSocketHandler, websocket_route};
/// # struct Echo;
/// # impl WebSocketHandler for Echo {
/// #     async fn on_message(&mut self, ws: &mut WebSocket<'_>, m: Message)
/// #         -> Result<(), typhoon_web::HTTPError> { let _ = ws.write_message(m).await; Ok(()) }
/// # }
/// use typhoon_websocket::websocket_connect;
///
/// typhoon_testing::run_test(async {
///     let app = typhoon_web::Application::new(vec![websocket_route("/echo", || Echo)]);
///     let server = typhoon_testing::AsyncHTTPTestServer::new(app);
///     let url = format!("ws://127.0.0.1:{}/echo", server.port());
///     let client = websocket_connect(url).await?;
///     client.write_message("hello").await?;
///     assert_eq!(client.read_message().await, Some(Message::Text("hello".into())));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn websocket_connect(
    request: impl Into<WebSocketRequest>,
) -> Result<WebSocketClientConnection, WebSocketConnectError> {
    websocket_connect_with(request, WebSocketClientOptions::default()).await
}

/// Connects to a WebSocket server with `options`: TCP (and TLS for `wss`), the handshake
/// `GET` with a fresh `Sec-WebSocket-Key`, the offered subprotocols and compression and the
/// request's headers, then the checks of the `101`. Bytes the server sent after its `101` are
/// the connection's first frames.
///
/// Where it differs from Tornado: `Connection` needs the `upgrade` token (RFC 6455), where
/// Tornado asserts the whole value equals `upgrade` (`Upgrade, keep-alive` fails there); a
/// selected subprotocol that was not offered, and an extension header when compression was not
/// offered, fail the connection (RFC 6455 §4.1); the checks are typed errors, not `assert`s.
///
/// # Errors
///
/// [`WebSocketConnectError::InvalidUrl`], `UnsupportedScheme` or `TlsUnavailable` before
/// connecting; `Connect` if the connection cannot be made (refused, timed out, TLS failed);
/// `Stream` or `Timeout` while waiting for the answer; `Http` for an error or redirect status,
/// `NotWebSocket` for another `2xx`; `InvalidUpgrade`, `InvalidConnection`, `InvalidAccept`,
/// `UnexpectedSubprotocol` or `InvalidExtensions` for a `101` that breaks RFC 6455 §4.1.
///
/// # Cancel safety
///
/// Cancel-safe: a dropped connect closes its socket.
pub async fn websocket_connect_with(
    request: impl Into<WebSocketRequest>,
    options: WebSocketClientOptions,
) -> Result<WebSocketClientConnection, WebSocketConnectError> {
    let request = request.into();
    let target = Target::parse(&request.url)?;
    let stream = Rc::new(connect(&target, &request).await?);
    // Small frames (pongs, pings, chat messages) go out at once, as on the server.
    let _ = stream.set_nodelay(true);
    let key = crate::handshake::generate_key();
    #[cfg(feature = "deflate")]
    let offer = options
        .compression
        .as_ref()
        .map(crate::deflate::client_offer);
    #[cfg(not(feature = "deflate"))]
    let offer: Option<String> = None;
    let head = handshake::build_request(
        &target,
        &key,
        &options.subprotocols,
        offer.as_deref(),
        &request.headers,
    )?;
    let exchange = async {
        stream
            .write(&head)
            .await
            .map_err(|source| WebSocketConnectError::Stream {
                source: Some(source),
            })?;
        let answer = handshake::read_answer(&stream).await?;
        if answer.status != 101 {
            return Err(handshake::refusal(&stream, answer).await);
        }
        Ok(answer)
    };
    let answer = timeout(request.connect_timeout, exchange)
        .await
        .map_err(|_| WebSocketConnectError::Timeout)??;
    handshake::check_upgrade(&answer.headers, &key)?;
    let subprotocol = handshake::check_subprotocol(&answer.headers, &options.subprotocols)?;

    let mut encoder = Encoder::new(Role::Client);
    let mut decoder = Decoder::new(Role::Client, options.max_message_size);
    accept_extensions(&answer.headers, &options, &mut encoder, &mut decoder)?;

    let ping = options
        .ping_interval
        .filter(|interval| !interval.is_zero())
        .map(|interval| {
            let timeout = options.ping_timeout.unwrap_or(interval).min(interval);
            (interval, timeout)
        });
    let connection = WebSocketConnection::new(stream, Role::Client, encoder, subprotocol);
    Ok(WebSocketClientConnection::start(
        connection,
        FrameReader::new(decoder),
        answer.headers,
        (options.on_ping, options.on_pong),
        ping,
    ))
}

/// Checks the `101`'s `Sec-WebSocket-Extensions` against the offer (RFC 6455 §4.1 item 5,
/// RFC 7692 §7.1) and sets up the codec it agrees on. Nothing, or an empty value, means no
/// extension; anything when nothing was offered fails.
fn accept_extensions(
    headers: &HTTPHeaders,
    options: &WebSocketClientOptions,
    encoder: &mut Encoder,
    decoder: &mut Decoder,
) -> Result<(), WebSocketConnectError> {
    let Some(extensions) = headers.get_joined("Sec-WebSocket-Extensions") else {
        return Ok(());
    };
    let extensions = extensions.trim();
    if extensions.is_empty() {
        return Ok(());
    }
    let unexpected = || WebSocketConnectError::InvalidExtensions {
        source: crate::ProtocolError::UnexpectedExtension(extensions.to_owned()),
    };
    #[cfg(feature = "deflate")]
    {
        let compression = options.compression.as_ref().ok_or_else(unexpected)?;
        let params = crate::deflate::client_accept(extensions, compression)
            .map_err(|source| WebSocketConnectError::InvalidExtensions { source })?;
        let (deflater, inflater) = params.codec(Role::Client, compression.compression_level);
        encoder.set_deflater(deflater);
        decoder.set_inflater(inflater);
        Ok(())
    }
    #[cfg(not(feature = "deflate"))]
    {
        let _ = (options, encoder, decoder);
        Err(unexpected())
    }
}

/// Opens the TCP (or TLS) connection, bounded by the request's connect timeout.
async fn connect(
    target: &Target,
    request: &WebSocketRequest,
) -> Result<IOStream, WebSocketConnectError> {
    // Writes to a server that stops reading fail after SEND_TIMEOUT instead of waiting forever.
    let tcp = TCPClient::new()
        .connect_timeout(Some(request.connect_timeout))
        .stream_options(typhoon_iostream::StreamOptions {
            write_timeout: Some(SEND_TIMEOUT),
            ..typhoon_iostream::StreamOptions::default()
        });
    let to_error = |source| WebSocketConnectError::Connect { source };
    if !target.tls {
        return tcp
            .connect(&target.host, target.port)
            .await
            .map_err(to_error);
    }
    #[cfg(feature = "tls")]
    {
        let alpn: &[&[u8]] = &[b"http/1.1"];
        let config = match &request.ca_certs {
            Some(path) => typhoon_iostream::tls::client_config_with_ca_file(path, alpn),
            None => typhoon_iostream::tls::client_config_webpki_roots(alpn),
        }
        .map_err(to_error)?;
        tcp.connect_tls(&target.host, target.port, config)
            .await
            .map_err(to_error)
    }
    #[cfg(not(feature = "tls"))]
    Err(WebSocketConnectError::TlsUnavailable)
}
