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
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::{Duration, Instant};

use typhoon_httpclient::{HTTPRequest, TimeoutPhase};
use typhoon_httputil::HTTPHeaders;
use typhoon_ioloop::{deadline_after, timeout_at};
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

/// What to connect to: a URL (`ws`, `wss`, `http` or `https`) with headers, timeouts and, for
/// `wss`, the TLS settings. Built from a URL string or from a `typhoon_httpclient::HTTPRequest`
/// (Tornado's `websocket_connect(url)` takes either), then adjusted through its fields.
///
/// | Field | Default | From an `HTTPRequest` |
/// | --- | --- | --- |
/// | [`url`](Self::url) | (given) | `url` |
/// | [`headers`](Self::headers) | none | `headers` |
/// | [`connect_timeout`](Self::connect_timeout) | 20 s | `connect_timeout` |
/// | [`request_timeout`](Self::request_timeout) | 20 s | `request_timeout` |
/// | [`validate_cert`](Self::validate_cert) | on | `validate_cert` |
/// | [`ca_certs`](Self::ca_certs) | none (the webpki roots) | `ca_certs` |
/// | `tls_config` (feature `tls`) | none | (not an `HTTPRequest` setting) |
///
/// The TLS fields matter for `wss` (and `https`) URLs only. The method, the body and the
/// redirect settings of an `HTTPRequest` do not apply to a handshake.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_httpclient::HTTPRequest;
/// use typhoon_websocket::WebSocketRequest;
///
/// let mut plain = WebSocketRequest::from("ws://127.0.0.1:8888/websocket");
/// plain.request_timeout = Duration::from_secs(5);
/// let with_headers: WebSocketRequest = HTTPRequest::new("ws://127.0.0.1:8888/websocket")
///     .header("X-Test", "hello")
///     .connect_timeout(Duration::from_secs(2))
///     .request_timeout(Duration::from_secs(10))
///     .into();
/// assert_eq!(with_headers.headers.get("X-Test"), Some("hello"));
/// assert_eq!(with_headers.request_timeout, Duration::from_secs(10));
/// assert_eq!(plain.url, "ws://127.0.0.1:8888/websocket");
/// assert!(plain.validate_cert);
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketRequest {
    /// The URL; `ws:` is sent as `http:`, `wss:` as `https:`.
    pub url: String,
    /// Headers sent with the handshake (`Host` too if given; the upgrade headers are the
    /// handshake's own and replace any given here).
    pub headers: HTTPHeaders,
    /// Bounds resolving and connecting, with the TLS handshake for `wss` (Tornado's
    /// `connect_timeout`, default 20 s); past it the connect fails with
    /// [`Timeout(TimeoutPhase::Connect)`](WebSocketConnectError::Timeout).
    pub connect_timeout: Duration,
    /// Bounds the whole handshake, from the start of the connect up to the server's `101`
    /// (Tornado's `request_timeout`, default 20 s), so that a server which accepts but never
    /// answers cannot hold the caller forever; past it the connect fails with
    /// [`Timeout(TimeoutPhase::Request)`](WebSocketConnectError::Timeout). It does not bound
    /// the connection once open.
    pub request_timeout: Duration,
    /// For `wss`: check the server's certificate and name (Tornado's `validate_cert`, default
    /// on). **Off only in tests**: without it any server, or anyone between, can impersonate
    /// the host. Off wins over [`ca_certs`](Self::ca_certs).
    pub validate_cert: bool,
    /// For `wss`: a PEM file of CA certificates to trust instead of the webpki roots
    /// (Tornado's `ca_certs`).
    pub ca_certs: Option<std::path::PathBuf>,
    /// For `wss`: a rustls configuration of the caller's own, for what the settings above
    /// cannot say (client certificates, other roots or verifiers, protocol versions); when set
    /// it is used as given, and [`validate_cert`](Self::validate_cert) and
    /// [`ca_certs`](Self::ca_certs) are ignored (Tornado's `ssl_options` as an `SSLContext`).
    /// Its ALPN list should be empty or offer `http/1.1`: the handshake is HTTP/1.1. A rustls
    /// type, which couples this API to rustls while we do not publish.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl WebSocketRequest {
    /// A request for `url`, with the defaults in the table above.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: HTTPHeaders::new(),
            connect_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(20),
            validate_cert: true,
            ca_certs: None,
            #[cfg(feature = "tls")]
            tls_config: None,
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
    /// Keeps the URL, the headers, `connect_timeout`, `request_timeout`, `validate_cert` and
    /// `ca_certs`; the method, the body and the redirect settings do not apply to a handshake.
    fn from(request: HTTPRequest) -> Self {
        Self {
            connect_timeout: request.connect_timeout,
            request_timeout: request.request_timeout,
            validate_cert: request.validate_cert,
            ca_certs: request.ca_certs.clone(),
            #[cfg(feature = "tls")]
            tls_config: None,
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
/// [`WebSocketConnectError::InvalidUrl`], `UnsupportedScheme`, `TlsUnavailable` or
/// `TlsConfig` before connecting; `Connect` if the connection cannot be made (refused, TLS
/// failed, a certificate not trusted); `Timeout(TimeoutPhase::Connect)` past the request's
/// `connect_timeout`; `Stream` while sending the handshake or reading the answer;
/// `Timeout(TimeoutPhase::Request)` if the `101` has not arrived within its `request_timeout`; `Http` for an error or redirect status,
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
    // The whole handshake, connecting included, up to the 101 (Tornado's request_timeout).
    let deadline = deadline_after(Instant::now(), request.request_timeout);
    let target = Target::parse(&request.url)?;
    let stream = timeout_at(deadline, connect(&target, &request))
        .await
        .map_err(|_| WebSocketConnectError::Timeout(TimeoutPhase::Request))??;
    let stream = Rc::new(stream);
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
    let answer = timeout_at(deadline, exchange)
        .await
        .map_err(|_| WebSocketConnectError::Timeout(TimeoutPhase::Request))??;
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
    // The connect timeout is applied here, not by TCPClient, so that its expiry is told apart.
    let tcp =
        TCPClient::new()
            .connect_timeout(None)
            .stream_options(typhoon_iostream::StreamOptions {
                write_timeout: Some(SEND_TIMEOUT),
                ..typhoon_iostream::StreamOptions::default()
            });
    let deadline = deadline_after(Instant::now(), request.connect_timeout);
    if !target.tls {
        return bounded(deadline, tcp.connect(&target.host, target.port)).await;
    }
    #[cfg(feature = "tls")]
    {
        // The caller's own configuration wins; else httpclient's, so that validate_cert and
        // ca_certs mean what they mean for an HTTPRequest (ALPN http/1.1).
        let config = match &request.tls_config {
            Some(config) => Arc::clone(config),
            None => typhoon_httpclient::tls_client_config(
                request.validate_cert,
                request.ca_certs.as_deref(),
            )
            .map_err(|source| WebSocketConnectError::TlsConfig { source })?,
        };
        bounded(deadline, tcp.connect_tls(&target.host, target.port, config)).await
    }
    #[cfg(not(feature = "tls"))]
    Err(WebSocketConnectError::TlsUnavailable)
}

/// `connecting` within the connect timeout's `deadline`.
async fn bounded(
    deadline: Instant,
    connecting: impl Future<Output = Result<IOStream, typhoon_iostream::StreamError>>,
) -> Result<IOStream, WebSocketConnectError> {
    timeout_at(deadline, connecting)
        .await
        .map_err(|_| WebSocketConnectError::Timeout(TimeoutPhase::Connect))?
        .map_err(|source| WebSocketConnectError::Connect { source })
}
