//! [`WebSocketConnectError`]: why [`websocket_connect`](super::websocket_connect) failed.

use typhoon_httpclient::{HTTPClientError, TimeoutPhase};
use typhoon_httputil::{HTTPHeaders, HTTPInputError};
use typhoon_iostream::StreamError;

use crate::error::ProtocolError;

/// Why [`websocket_connect`](super::websocket_connect) failed: the URL, the connection, an HTTP
/// answer instead of the upgrade, or a `101` that breaks RFC 6455 §4.1 (each check is its own
/// variant, so callers and tests match on what went wrong).
///
/// `StreamError`, `HTTPInputError`, `HTTPClientError` and `TimeoutPhase` are Typhoon's own;
/// `StreamError` may carry a `rustls::Error` over TLS, which couples this type to rustls while
/// we do not publish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebSocketConnectError {
    /// The URL is not an absolute `ws`, `wss`, `http` or `https` URL with a host.
    #[error("invalid WebSocket URL {url:?}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
    },
    /// A URL scheme other than `ws`, `wss`, `http` or `https`.
    #[error("unsupported URL scheme {scheme:?}")]
    UnsupportedScheme {
        /// The scheme, lowercased.
        scheme: String,
    },
    /// A `wss` URL without the crate's `tls` feature.
    #[error("wss URLs need the tls feature of typhoon-websocket")]
    TlsUnavailable,
    /// A request header that cannot be sent (a CR or LF in a name or value).
    #[error("invalid request header {name:?}")]
    InvalidHeader {
        /// The header's name.
        name: String,
    },
    /// The TLS configuration for a `wss` URL could not be built from the request's
    /// `ca_certs` (the file cannot be read or holds no valid certificate).
    #[error("tls configuration error")]
    TlsConfig {
        /// typhoon-httpclient's error (`HTTPClientError::TlsConfig`, with the loader's error).
        #[source]
        source: HTTPClientError,
    },
    /// Resolving, connecting or the TLS handshake failed (Tornado's `IOError` from
    /// `websocket_connect`: connection refused, unreachable, a certificate not trusted).
    #[error("cannot connect to the WebSocket server")]
    Connect {
        /// The stream's error (a `rustls::Error` inside for a rejected certificate).
        #[source]
        source: StreamError,
    },
    /// The connection failed or closed while the handshake was sent or its answer read.
    #[error("the connection failed during the WebSocket handshake")]
    Stream {
        /// The stream's error; `None` if the server closed the connection cleanly.
        #[source]
        source: Option<StreamError>,
    },
    /// A deadline of the request passed (Tornado's `HTTPTimeoutError`): `Connect` past its
    /// `connect_timeout` (resolving, connecting, the TLS handshake), `Request` past its
    /// `request_timeout` (the whole handshake up to the `101`). Never `Queue`: a WebSocket
    /// connect is not queued.
    #[error("the WebSocket handshake timed out {0}")]
    Timeout(TimeoutPhase),
    /// The answer's head is not valid HTTP/1.
    #[error("invalid response to the WebSocket handshake")]
    InvalidResponse {
        /// The parser's error.
        #[source]
        source: HTTPInputError,
    },
    /// The server answered with an HTTP error or redirect instead of `101` (Tornado's
    /// `HTTPError(code)`; redirects are not followed).
    #[error("HTTP {status} in answer to the WebSocket handshake")]
    Http {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
        /// The response headers (boxed: the error stays small).
        headers: Box<HTTPHeaders>,
        /// The body when it was short (a `Content-Length` of at most 64 KiB), else empty.
        body: Vec<u8>,
    },
    /// A `2xx` answer other than `101` (Tornado's `WebSocketError("Non-websocket response")`).
    #[error("non-websocket response (HTTP {status})")]
    NotWebSocket {
        /// The status code.
        status: u16,
    },
    /// The `101`'s `Upgrade` header is not `websocket`.
    #[error("the handshake's Upgrade header is not websocket")]
    InvalidUpgrade {
        /// The header's value, if any.
        value: Option<String>,
    },
    /// The `101`'s `Connection` header lacks the `upgrade` token.
    #[error("the handshake's Connection header lacks the upgrade token")]
    InvalidConnection {
        /// The header's value, if any.
        value: Option<String>,
    },
    /// The `101`'s `Sec-WebSocket-Accept` is missing or not the one the key asks for.
    #[error("wrong Sec-WebSocket-Accept in the handshake")]
    InvalidAccept {
        /// The header's value, if any.
        value: Option<String>,
    },
    /// The server selected a subprotocol the client did not offer (or several).
    #[error("the server selected a subprotocol that was not offered: {protocol:?}")]
    UnexpectedSubprotocol {
        /// The `Sec-WebSocket-Protocol` value.
        protocol: String,
    },
    /// The server's `Sec-WebSocket-Extensions` names an extension that was not offered, or
    /// answers the permessage-deflate offer with parameters RFC 7692 forbids.
    #[error("the server's Sec-WebSocket-Extensions cannot be accepted")]
    InvalidExtensions {
        /// What was wrong with it.
        #[source]
        source: ProtocolError,
    },
}
