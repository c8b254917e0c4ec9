//! HTTPS against an `HTTPServer` with the iostream test certificate for `localhost`.

mod util;

use std::time::Duration;
use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest};
use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_testing::tls;

use typhoon_httpclient::TimeoutPhase;
use typhoon_testing::run_test;
use util::{never_answer, raw_server};

/// An HTTPS server on 127.0.0.1:0; returns it and its port.
fn https_server() -> (HTTPServer, u16) {
    let options = HTTPServerOptions {
        tls: Some(tls::server_config()),
        ..HTTPServerOptions::default()
    };
    let server = HTTPServer::with_options(
        |request, mut response| async move {
            response.write(format!("{} {}", request.protocol, request.uri).as_bytes());
        },
        options,
    );
    let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
    (server, port)
}

#[test]
fn https_with_a_custom_ca_keeps_alive() {
    run_test(async {
        let (_server, port) = https_server();
        let client = AsyncHTTPClient::new();
        for _ in 0..3 {
            let request = HTTPRequest::new(format!("https://localhost:{port}/secure?x=1"))
                .ca_certs(tls::ca_file());
            let response = client.fetch(request).await.expect("fetch");
            assert_eq!(response.text(), "https /secure?x=1");
        }
        assert_eq!(client.stats().connections_opened, 1);
    });
}

#[test]
fn https_default_roots_reject_the_test_ca() {
    run_test(async {
        let (_server, port) = https_server();
        let result = AsyncHTTPClient::new()
            .fetch(format!("https://localhost:{port}/"))
            .await;
        assert!(
            matches!(result, Err(HTTPClientError::Connect { .. })),
            "{result:?}"
        );
    });
}

#[test]
fn https_ip_san_and_validation_off() {
    run_test(async {
        let (_server, port) = https_server();
        let client = AsyncHTTPClient::new();
        // The certificate names 127.0.0.1 too: checked without SNI.
        let request =
            HTTPRequest::new(format!("https://127.0.0.1:{port}/ip")).ca_certs(tls::ca_file());
        assert_eq!(
            client.fetch(request).await.expect("fetch").text(),
            "https /ip"
        );
        // An untrusted CA is accepted only with validation off (tests only).
        let request =
            HTTPRequest::new(format!("https://localhost:{port}/insecure")).validate_cert(false);
        let response = client
            .fetch(request)
            .await
            .expect("fetch without validation");
        assert_eq!(response.text(), "https /insecure");
        // Different trust settings never share a pooled connection.
        assert_eq!(client.stats().connections_opened, 2);
    });
}

#[test]
fn missing_ca_file_is_a_tls_config_error() {
    run_test(async {
        let request = HTTPRequest::new("https://localhost:1/").ca_certs("/nonexistent/ca.pem");
        assert!(matches!(
            AsyncHTTPClient::new().fetch(request).await,
            Err(HTTPClientError::TlsConfig { .. })
        ));
    });
}

#[test]
fn tls_handshake_counts_against_connect_timeout() {
    // Accepts the TCP connection, then never answers the ClientHello.
    let base = raw_server(never_answer).replace("http://", "https://");
    run_test(async move {
        let request = HTTPRequest::new(format!("{base}/"))
            .validate_cert(false)
            .connect_timeout(Duration::from_millis(100));
        let error = AsyncHTTPClient::new().fetch(request).await.unwrap_err();
        assert!(
            matches!(error, HTTPClientError::Timeout(TimeoutPhase::Connect)),
            "{error:?}"
        );
    });
}
