//! The client's opening handshake (RFC 6455 §4.1): the URL, the `GET` with its upgrade
//! headers, and the checks of the server's answer.

use typhoon_httputil::h1::{Limits, ResponseHead, parse_response_head};
use typhoon_httputil::{HTTPHeaders, HTTPInputError};
use typhoon_iostream::{IOStream, StreamError};

use super::error::WebSocketConnectError as Error;
use crate::handshake::accept_key;

/// The largest answer head read (Tornado's `max_header_size` default, 64 KiB).
const MAX_HEAD: usize = 64 * 1024;

/// The largest error body kept in [`Error::Http`].
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Headers the handshake sets itself: a request's own values for them are dropped, as Tornado's
/// `request.headers.update(...)` overwrites them.
const OWN_HEADERS: [&str; 6] = [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// A `ws`/`wss` (or `http`/`https`) URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// Whether the connection uses TLS (`wss`, `https`).
    pub(super) tls: bool,
    /// The host: a name, an IPv4 literal, or an IPv6 literal without brackets.
    pub(super) host: String,
    /// The port, or the scheme's default.
    pub(super) port: u16,
    /// Path and query (at least `/`); the fragment is dropped.
    pub(super) path_and_query: String,
    /// The `Host` header's value.
    host_header: String,
}

impl Target {
    /// Parses an absolute URL; `ws:` is `http:` and `wss:` is `https:` (Tornado's rewrite), then
    /// it is split as the HTTP client splits its URLs.
    pub(super) fn parse(url: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidUrl {
            url: url.to_owned(),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let http_scheme = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => "http",
            "wss" | "https" => "https",
            _ => {
                return Err(Error::UnsupportedScheme {
                    scheme: scheme.to_ascii_lowercase(),
                });
            }
        };
        // Credentials in the URL are not sent (no Authorization from them here).
        let parsed = typhoon_httpclient::Url::parse(&format!("{http_scheme}://{rest}"))
            .map_err(|_| invalid())?;
        Ok(Self {
            tls: http_scheme == "https",
            host_header: parsed.host_header(),
            host: parsed.host,
            port: parsed.port,
            path_and_query: parsed.path_and_query,
        })
    }

    /// The `Host` header: the host, with the port unless it is the scheme's default.
    pub(super) fn host_header(&self) -> String {
        self.host_header.clone()
    }
}

/// The handshake request's head: `GET`, `Host` (unless the caller's headers have one), the
/// upgrade headers, then the caller's other headers.
pub(super) fn build_request(
    target: &Target,
    key: &str,
    subprotocols: &[String],
    extensions: Option<&str>,
    headers: &HTTPHeaders,
) -> Result<Vec<u8>, Error> {
    let mut head = format!("GET {} HTTP/1.1\r\n", target.path_and_query);
    if !headers.contains("Host") {
        head.push_str(&format!("Host: {}\r\n", target.host_header()));
    }
    head.push_str("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    head.push_str(&format!(
        "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    ));
    if !subprotocols.is_empty() {
        head.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            subprotocols.join(", ")
        ));
    }
    if let Some(offer) = extensions {
        head.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
    }
    for (name, value) in headers.iter() {
        if OWN_HEADERS.iter().any(|own| own.eq_ignore_ascii_case(name)) {
            continue;
        }
        if [name, value].iter().any(|s| s.contains(['\r', '\n'])) {
            return Err(Error::InvalidHeader {
                name: name.to_owned(),
            });
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}

/// The server's answer head, parsed.
pub(super) struct Answer {
    /// The status code.
    pub(super) status: u16,
    /// The reason phrase.
    pub(super) reason: String,
    /// The header fields.
    pub(super) headers: HTTPHeaders,
}

/// Reads the answer's head; what follows it stays in the stream's buffer (a `101`'s first
/// frames).
pub(super) async fn read_answer(stream: &IOStream) -> Result<Answer, Error> {
    let limits = Limits {
        max_header_size: MAX_HEAD,
        ..Limits::default()
    };
    let mut head = ResponseHead::new();
    loop {
        let parsed = parse_response_head(&stream.read_buffer(), &limits, &mut head);
        match parsed {
            Ok(Some(n)) => {
                stream.consume(n);
                return Ok(Answer {
                    status: head.code(),
                    reason: head.take_reason(),
                    headers: std::mem::take(head.headers_mut()),
                });
            }
            Ok(None) => {}
            Err(source) => return Err(Error::InvalidResponse { source }),
        }
        match stream.fill_buffer().await {
            Ok(0) => return Err(Error::Stream { source: None }),
            Ok(_) => {}
            Err(StreamError::BufferFull { .. }) => {
                return Err(Error::InvalidResponse {
                    source: HTTPInputError::HeaderTooLarge,
                });
            }
            Err(source) => {
                return Err(Error::Stream {
                    source: Some(source),
                });
            }
        }
    }
}

/// The error for a non-`101` answer: [`Error::NotWebSocket`] for a `2xx`, else
/// [`Error::Http`] with the body if it is short and already declared.
pub(super) async fn refusal(stream: &IOStream, answer: Answer) -> Error {
    if (200..300).contains(&answer.status) {
        return Error::NotWebSocket {
            status: answer.status,
        };
    }
    let length = answer
        .headers
        .get("Content-Length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n <= MAX_ERROR_BODY);
    let body = match length {
        Some(n) => stream.read_bytes(n, false).await.unwrap_or_default(),
        None => Vec::new(),
    };
    Error::Http {
        status: answer.status,
        reason: answer.reason,
        headers: Box::new(answer.headers),
        body,
    }
}

/// RFC 6455 §4.1's checks of a `101` (items 2–4): `Upgrade`, `Connection` and
/// `Sec-WebSocket-Accept`.
pub(super) fn check_upgrade(headers: &HTTPHeaders, key: &str) -> Result<(), Error> {
    let upgrade = headers.get("Upgrade");
    if !upgrade.is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket")) {
        return Err(Error::InvalidUpgrade {
            value: upgrade.map(str::to_owned),
        });
    }
    let has_token = headers.get_list("Connection").any(|value| {
        value
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
    });
    if !has_token {
        return Err(Error::InvalidConnection {
            value: headers.get("Connection").map(str::to_owned),
        });
    }
    let accept = headers.get("Sec-WebSocket-Accept").map(str::trim);
    if accept != Some(accept_key(key).as_str()) {
        return Err(Error::InvalidAccept {
            value: accept.map(str::to_owned),
        });
    }
    Ok(())
}

/// The subprotocol the server selected: one of those offered, or none (RFC 6455 §4.1 item 6).
pub(super) fn check_subprotocol(
    headers: &HTTPHeaders,
    offered: &[String],
) -> Result<Option<String>, Error> {
    let Some(value) = headers.get_joined("Sec-WebSocket-Protocol") else {
        return Ok(None);
    };
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if offered.iter().any(|p| p == value) {
        Ok(Some(value.to_owned()))
    } else {
        Err(Error::UnexpectedSubprotocol {
            protocol: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("ws://127.0.0.1:9001/runCase?case=1&agent=T").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path_and_query.as_str()),
            (false, "127.0.0.1", 9001, "/runCase?case=1&agent=T")
        );
        assert_eq!(t.host_header(), "127.0.0.1:9001");
        let t = Target::parse("WSS://Example.com?x#frag").unwrap();
        assert_eq!(
            (t.tls, t.port, t.path_and_query.as_str()),
            (true, 443, "/?x")
        );
        assert_eq!(t.host_header(), "example.com");
        let t = Target::parse("http://[::1]:8080").unwrap();
        assert_eq!((t.host.as_str(), t.path_and_query.as_str()), ("::1", "/"));
        assert_eq!(t.host_header(), "[::1]:8080");
        assert!(matches!(
            Target::parse("ftp://h/"),
            Err(Error::UnsupportedScheme { .. })
        ));
        for bad in ["ws://", "ws://h:99999/", "no scheme", "ws://h /"] {
            assert!(
                matches!(Target::parse(bad), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn request_head() {
        let target = Target::parse("ws://h:1/p").unwrap();
        let mut headers = HTTPHeaders::new();
        headers.add("X-Test", "hello").unwrap();
        headers.add("upgrade", "h2c").unwrap();
        let head = build_request(
            &target,
            "k",
            &["a".into(), "b".into()],
            Some("permessage-deflate"),
            &headers,
        )
        .unwrap();
        let head = String::from_utf8(head).unwrap();
        assert_eq!(
            head,
            "GET /p HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\
             X-Test: hello\r\n\r\n"
        );
    }

    #[test]
    fn upgrade_checks() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = HTTPHeaders::parse(
            "Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
        )
        .unwrap();
        assert!(check_upgrade(&ok, key).is_ok());
        let bad = |text: &str| HTTPHeaders::parse(text).unwrap();
        assert!(matches!(
            check_upgrade(&bad("Connection: upgrade\r\n"), key),
            Err(Error::InvalidUpgrade { value: None })
        ));
        assert!(matches!(
            check_upgrade(&bad("Upgrade: websocket\r\nConnection: close\r\n"), key),
            Err(Error::InvalidConnection { .. })
        ));
        assert!(matches!(
            check_upgrade(
                &bad("Upgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: x\r\n"),
                key
            ),
            Err(Error::InvalidAccept { .. })
        ));
        let offered = ["chat".to_owned()];
        let proto = |v: &str| bad(&format!("Sec-WebSocket-Protocol: {v}\r\n"));
        assert_eq!(
            check_subprotocol(&proto("chat"), &offered).unwrap(),
            Some("chat".to_owned())
        );
        assert!(matches!(
            check_subprotocol(&proto("other"), &offered),
            Err(Error::UnexpectedSubprotocol { .. })
        ));
        assert_eq!(
            check_subprotocol(&HTTPHeaders::new(), &offered).unwrap(),
            None
        );
    }
}
