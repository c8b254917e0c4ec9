//! `wss://` against a typhoon-web server with the test certificate (`typhoon_testing::tls`: a
//! `localhost` certificate signed by a test CA no system trusts): refused by default, accepted
//! with `validate_cert(false)`, with `ca_certs`, or with a `tls_config` of the caller's own.

use std::rc::Rc;

use typhoon_httpclient::{HTTPClientError, HTTPRequest};
use typhoon_iostream::StreamError;
use typhoon_testing::{AsyncHTTPTestServer, run_test, tls};
use typhoon_web::Application;
use typhoon_websocket::{
    Message, WebSocketClientConnection, WebSocketConnectError, WebSocketRequest, websocket_connect,
    websocket_route,
};

use super::{EchoHandler, Seen};

/// An echo server over TLS with the test certificate, and its `wss://localhost:PORT/echo`.
fn tls_server() -> (AsyncHTTPTestServer, String) {
    let seen = Rc::new(Seen::default());
    let app = Application::new(vec![websocket_route("/echo", move || EchoHandler {
        seen: seen.clone(),
        compress: false,
    })]);
    let server = AsyncHTTPTestServer::new_tls(app);
    let url = format!("wss://localhost:{}/echo", server.port());
    (server, url)
}

/// One echo round trip over `ws`.
async fn assert_echoes(ws: &WebSocketClientConnection) {
    ws.write_message("over tls").await.unwrap();
    assert_eq!(
        ws.read_message().await,
        Some(Message::Text("over tls".into()))
    );
}

/// Whether `error` is the TLS handshake's refusal of the server's certificate (the stream
/// closes with the rustls error inside its `io::Error`).
fn is_certificate_error(error: &WebSocketConnectError) -> bool {
    let WebSocketConnectError::Connect { source } = error else {
        return false;
    };
    let tls = match source {
        StreamError::Tls(tls) => Some(tls),
        StreamError::Closed {
            source: Some(source),
        } => source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    matches!(tls, Some(rustls::Error::InvalidCertificate(_)))
}

#[test]
fn wss_untrusted_certificate_fails_by_default() {
    run_test(async {
        let (_server, url) = tls_server();
        let error = websocket_connect(url).await.unwrap_err();
        assert!(is_certificate_error(&error), "{error:?}");
    });
}

#[test]
fn wss_validate_cert_false_from_http_request() {
    run_test(async {
        let (_server, url) = tls_server();
        let ws = websocket_connect(HTTPRequest::new(url).validate_cert(false))
            .await
            .unwrap();
        assert_echoes(&ws).await;
    });
}

#[test]
fn wss_validate_cert_false_field() {
    run_test(async {
        let (_server, url) = tls_server();
        let mut request = WebSocketRequest::new(url);
        request.validate_cert = false;
        let ws = websocket_connect(request).await.unwrap();
        assert_echoes(&ws).await;
    });
}

#[test]
fn wss_with_the_request_ca() {
    run_test(async {
        let (_server, url) = tls_server();
        let ws = websocket_connect(HTTPRequest::new(url).ca_certs(tls::ca_file()))
            .await
            .unwrap();
        assert_echoes(&ws).await;
    });
}

#[test]
fn wss_unreadable_ca_file_is_a_tls_config_error() {
    run_test(async {
        let (_server, url) = tls_server();
        let request = HTTPRequest::new(url).ca_certs("/nonexistent/typhoon-test-ca.pem");
        let error = websocket_connect(request).await.unwrap_err();
        assert!(
            matches!(
                error,
                WebSocketConnectError::TlsConfig {
                    source: HTTPClientError::TlsConfig { .. }
                }
            ),
            "{error:?}"
        );
    });
}

#[test]
fn wss_custom_tls_config() {
    run_test(async {
        let (_server, url) = tls_server();
        let mut request = WebSocketRequest::new(url);
        // Trusts the test CA; the unreadable ca_certs shows the configuration wins over it.
        request.tls_config = Some(tls::client_config());
        request.ca_certs = Some("/nonexistent/typhoon-test-ca.pem".into());
        let ws = websocket_connect(request).await.unwrap();
        assert_echoes(&ws).await;
    });
}

#[test]
fn wss_custom_tls_config_wins_over_validate_cert() {
    run_test(async {
        let (_server, url) = tls_server();
        // A configuration trusting the webpki roots only refuses the test certificate, even
        // with validate_cert off: the caller's configuration is used as given.
        let mut request: WebSocketRequest = HTTPRequest::new(url).validate_cert(false).into();
        request.tls_config =
            Some(typhoon_iostream::tls::client_config_webpki_roots(&[b"http/1.1"]).unwrap());
        let error = websocket_connect(request).await.unwrap_err();
        assert!(is_certificate_error(&error), "{error:?}");
    });
}
