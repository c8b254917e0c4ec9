//! The handshake: Tornado's answers in Tornado's order, the origin rule of Tornado 6.6, the
//! subprotocol and the extension negotiation, and what the RFC asks beyond Tornado.

use typhoon_testing::{raw_request, run_test, status_of};
use typhoon_web::{Application, Context, HTTPError, Settings};
use typhoon_websocket::{Message, WebSocket, WebSocketHandler, websocket_route};

use crate::{RawClient, handshake_request, serve};

/// Echoes text; records nothing.
struct Echo;
impl WebSocketHandler for Echo {
    async fn on_message(
        &mut self,
        ws: &mut WebSocket<'_>,
        message: Message,
    ) -> Result<(), HTTPError> {
        ws.write_message(message).await?;
        Ok(())
    }
}

/// Accepts one origin besides the trusted ones (Tornado's `test_check_origin_override`), picks
/// `goodproto` when offered, and says in its first message what `prepare` saw.
struct Picky {
    /// A header `prepare` read.
    token: Option<String>,
}
impl WebSocketHandler for Picky {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.request().headers.get("X-Deny").is_some() {
            return Err(HTTPError::new(401));
        }
        self.token = cx.request().headers.get("X-Token").map(str::to_owned);
        Ok(())
    }

    fn check_origin(&self, _cx: &Context, origin: &str) -> bool {
        origin == "http://allowed.example" || self.token.as_deref() == Some("let-me-in")
    }

    fn select_subprotocol(&mut self, subprotocols: &[String]) -> Option<String> {
        subprotocols.iter().find(|p| *p == "goodproto").cloned()
    }

    async fn open(&mut self, ws: &mut WebSocket<'_>) -> Result<(), HTTPError> {
        let said = format!(
            "token={:?} protocol={:?} args={:?}",
            self.token,
            ws.selected_subprotocol(),
            ws.path_args()
        );
        ws.write_text(&said).await?;
        Ok(())
    }

    async fn on_message(&mut self, _ws: &mut WebSocket<'_>, _m: Message) -> Result<(), HTTPError> {
        Ok(())
    }
}

fn app() -> Application {
    Application::with_settings(
        vec![
            websocket_route("/echo", || Echo),
            websocket_route("/picky/(.*)", || Picky { token: None }),
        ],
        Settings {
            trusted_origins: vec!["https://trusted.example".to_owned()],
            ..Settings::default()
        },
    )
}

/// The status and body of a handshake refused with plain HTTP (the request asks the server to
/// close after answering, so the whole answer is read).
async fn refused(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    let (status, _head, body) = refused_with_head(addr, request).await;
    (status, body)
}

/// As [`refused`], with the response head.
async fn refused_with_head(addr: std::net::SocketAddr, request: &str) -> (u16, String, String) {
    let request = request.replace("Connection: Upgrade", "Connection: Upgrade, close");
    let bytes = raw_request(addr, request.as_bytes()).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        status_of(&bytes).unwrap_or(0),
        head.to_owned(),
        body.to_owned(),
    )
}

#[test]
fn test_http_request() {
    run_test(async {
        let (_s, addr) = serve(app());
        let (status, body) = refused(
            addr,
            "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (400, "Can \"Upgrade\" only to \"WebSocket\".")
        );
    });
}

#[test]
fn connection_must_name_upgrade() {
    run_test(async {
        let (_s, addr) = serve(app());
        let request =
            handshake_request("/echo", "").replace("Connection: Upgrade", "Connection: close");
        let (status, body) = refused(addr, &request).await;
        assert_eq!(
            (status, body.as_str()),
            (400, "\"Connection\" must be \"Upgrade\".")
        );
        // A token list naming it is fine (Firefox sends `keep-alive, Upgrade`).
        let request = handshake_request("/echo", "")
            .replace("Connection: Upgrade", "Connection: keep-alive, Upgrade");
        assert!(RawClient::open(addr, &request).await.is_ok());
    });
}

#[test]
fn test_missing_websocket_key() {
    run_test(async {
        let (_s, addr) = serve(app());
        let request = handshake_request("/echo", "")
            .replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
        let (status, body) = refused(addr, &request).await;
        assert_eq!(
            (status, body.as_str()),
            (400, "Missing/Invalid WebSocket headers")
        );
    });
}

#[test]
fn a_key_that_is_not_16_bytes_of_base64_is_refused() {
    // RFC 6455 §4.2.1 item 5; Tornado switches for `abc`.
    run_test(async {
        let (_s, addr) = serve(app());
        for key in ["abc", "dGhlIHNhbXBsZSBub25j", "not base64 at all!!!===="] {
            let request = handshake_request("/echo", "").replace("dGhlIHNhbXBsZSBub25jZQ==", key);
            assert_eq!(refused(addr, &request).await.0, 400, "{key}");
        }
    });
}

#[test]
fn test_bad_websocket_version() {
    run_test(async {
        let (_s, addr) = serve(app());
        // Checked before the key: a bad version without a key is a 426 too.
        let request = handshake_request("/echo", "")
            .replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 12")
            .replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
        let (status, head, _) = refused_with_head(addr, &request).await;
        assert_eq!(status, 426, "{head}");
        assert!(head.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{head}");
    });
}

#[test]
fn the_accept_key_and_headers_of_the_101() {
    run_test(async {
        let (_s, addr) = serve(app());
        let client = RawClient::connect(addr, "/echo").await;
        // RFC 6455 §1.3's example key.
        assert!(
            client
                .head
                .contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{}",
            client.head
        );
        assert!(client.head.contains("\r\nUpgrade: websocket\r\n"));
        assert!(client.head.contains("\r\nConnection: Upgrade\r\n"));
        assert!(!client.head.contains("Content-Type"), "{}", client.head);
        assert!(
            !client.head.contains("Sec-WebSocket-Protocol"),
            "none selected, none sent"
        );
    });
}

#[test]
fn only_get_is_a_websocket() {
    run_test(async {
        let (_s, addr) = serve(app());
        let request = handshake_request("/echo", "").replacen("GET", "POST", 1);
        assert_eq!(refused(addr, &request).await.0, 405);
    });
}

/// The origin a request carries, and whether it switches.
async fn origin_outcome(addr: std::net::SocketAddr, path: &str, headers: &str) -> u16 {
    match RawClient::open(addr, &handshake_request(path, headers)).await {
        Ok(_) => 101,
        Err(head) => status_of(head.as_bytes()).unwrap_or(0),
    }
}

#[test]
fn test_check_origin_valid_no_path() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(
            origin_outcome(addr, "/echo", "Origin: http://127.0.0.1\r\n").await,
            101
        );
    });
}

#[test]
fn test_check_origin_valid_with_path() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(
            origin_outcome(addr, "/echo", "Origin: http://127.0.0.1/something\r\n").await,
            101
        );
    });
}

#[test]
fn test_check_origin_invalid_partial_url() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(
            origin_outcome(addr, "/echo", "Origin: 127.0.0.1\r\n").await,
            403
        );
    });
}

#[test]
fn test_check_origin_invalid() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(
            origin_outcome(addr, "/echo", "Origin: http://somewhereelse.com\r\n").await,
            403
        );
    });
}

#[test]
fn test_check_origin_invalid_subdomains() {
    run_test(async {
        let (_s, addr) = serve(app());
        let request = handshake_request("/echo", "Origin: http://subtenant.localhost\r\n")
            .replace("Host: 127.0.0.1", "Host: localhost");
        assert_eq!(refused(addr, &request).await.0, 403);
    });
}

#[test]
fn test_no_origin() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(origin_outcome(addr, "/echo", "").await, 101);
    });
}

#[test]
fn test_trusted_origin() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(
            origin_outcome(addr, "/echo", "Origin: https://trusted.example\r\n").await,
            101
        );
    });
}

#[test]
fn test_trusted_origin_cross_site() {
    run_test(async {
        let (_s, addr) = serve(app());
        let headers = "Origin: https://trusted.example\r\nSec-Fetch-Site: cross-site\r\n";
        assert_eq!(origin_outcome(addr, "/echo", headers).await, 101);
    });
}

#[test]
fn test_sec_fetch_site_same_origin() {
    run_test(async {
        let (_s, addr) = serve(app());
        let headers = "Origin: http://elsewhere.example\r\nSec-Fetch-Site: same-origin\r\n";
        assert_eq!(origin_outcome(addr, "/echo", headers).await, 101);
    });
}

#[test]
fn test_sec_fetch_site_cross_site() {
    run_test(async {
        let (_s, addr) = serve(app());
        let headers = "Origin: http://127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n";
        assert_eq!(origin_outcome(addr, "/echo", headers).await, 403);
    });
}

#[test]
fn test_sec_fetch_site_same_site() {
    run_test(async {
        let (_s, addr) = serve(app());
        let headers = "Origin: http://other.127.0.0.1\r\nSec-Fetch-Site: same-site\r\n";
        assert_eq!(origin_outcome(addr, "/echo", headers).await, 403);
    });
}

#[test]
fn test_check_origin_override() {
    run_test(async {
        let (_s, addr) = serve(app());
        let headers = "Origin: http://allowed.example\r\nSec-Fetch-Site: cross-site\r\n";
        assert_eq!(origin_outcome(addr, "/picky/x", headers).await, 101);
    });
}

#[test]
fn test_mixed_case_upgrade_header() {
    run_test(async {
        let (_s, addr) = serve(app());
        let request = handshake_request("/echo", "Origin: http://evil.example\r\n")
            .replace("Upgrade: websocket", "Upgrade: WebSocket");
        assert_eq!(refused(addr, &request).await.0, 403);
    });
}

#[test]
fn test_check_origin_after_prepare() {
    run_test(async {
        let (_s, addr) = serve(app());
        let headers = "Origin: http://evil.example\r\nX-Token: let-me-in\r\n";
        assert_eq!(origin_outcome(addr, "/picky/x", headers).await, 101);
        let headers = "Origin: http://evil.example\r\nX-Token: wrong\r\n";
        assert_eq!(origin_outcome(addr, "/picky/x", headers).await, 403);
    });
}

#[test]
fn prepare_may_refuse_before_the_handshake() {
    run_test(async {
        let (_s, addr) = serve(app());
        assert_eq!(origin_outcome(addr, "/picky/x", "X-Deny: 1\r\n").await, 401);
    });
}

#[test]
fn test_subprotocols() {
    run_test(async {
        let (_s, addr) = serve(app());
        let request = handshake_request(
            "/picky/a",
            "Sec-WebSocket-Protocol: badproto, goodproto\r\n",
        );
        let mut client = RawClient::open(addr, &request).await.expect("101");
        assert!(
            client
                .head
                .contains("\r\nSec-WebSocket-Protocol: goodproto\r\n"),
            "{}",
            client.head
        );
        assert_eq!(
            client.text().await,
            "token=None protocol=Some(\"goodproto\") args=[\"a\"]"
        );
    });
}

#[test]
fn test_subprotocols_not_offered() {
    run_test(async {
        let (_s, addr) = serve(app());
        let mut client = RawClient::connect(addr, "/picky/b").await;
        assert!(
            !client.head.contains("Sec-WebSocket-Protocol"),
            "{}",
            client.head
        );
        assert_eq!(client.text().await, "token=None protocol=None args=[\"b\"]");
    });
}

#[test]
fn test_path_args() {
    run_test(async {
        let (_s, addr) = serve(app());
        let mut client = RawClient::connect(addr, "/picky/hello%20world").await;
        assert_eq!(
            client.text().await,
            "token=None protocol=None args=[\"hello world\"]"
        );
    });
}

#[test]
fn test_async_prepare() {
    // `prepare` runs (and may await) before the handshake: its finding reaches `open`.
    run_test(async {
        let (_s, addr) = serve(app());
        let request = handshake_request("/picky/p", "X-Token: abc\r\n");
        let mut client = RawClient::open(addr, &request).await.expect("101");
        assert_eq!(
            client.text().await,
            "token=Some(\"abc\") protocol=None args=[\"p\"]"
        );
    });
}

#[test]
fn a_large_message_echoes_whole() {
    // Past the size where the server hands its payload to the stream without a copy.
    run_test(async {
        let (_s, addr) = serve(app());
        let mut client = RawClient::connect(addr, "/echo").await;
        let text: String = (0..200_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        client.send_text(&text).await;
        assert_eq!(client.text().await, text);
        client.send_text("small after large").await;
        assert_eq!(client.text().await, "small after large");
    });
}
