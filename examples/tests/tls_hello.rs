//! The `tls_hello` example over real TLS: the HTTP client trusting the test CA gets the
//! greeting; one that does not trust it, or speaks plain HTTP, does not.

use std::time::Duration;

use typhoon_examples::tls_hello::{
    default_certfile, default_keyfile, make_app, make_server, test_ca,
};
use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest};
use typhoon_testing::{AsyncHTTPTestServer, run_test_with_timeout};

fn run<F: std::future::Future<Output = ()> + 'static>(future: F) {
    run_test_with_timeout(Duration::from_secs(20), future);
}

#[test]
fn hello_over_https_with_the_fixture_certificate() {
    run(async {
        let server = make_server(default_certfile(), default_keyfile()).expect("tls server");
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let client = AsyncHTTPClient::new();
        let request = HTTPRequest::new(format!("https://localhost:{port}/")).ca_certs(test_ca());
        let response = client.fetch(request).await.expect("https fetch");
        assert_eq!(response.code, 200);
        assert_eq!(response.text(), "Hello, world (over https)\n");

        // The webpki roots do not include the test CA: the handshake is refused.
        let untrusted = client.fetch(format!("https://localhost:{port}/")).await;
        assert!(
            matches!(untrusted, Err(HTTPClientError::Connect { .. })),
            "{untrusted:?}"
        );
        // Plain HTTP to the TLS port gets no HTTP answer.
        let plain = client
            .fetch(
                HTTPRequest::new(format!("http://127.0.0.1:{port}/"))
                    .request_timeout(Duration::from_secs(5)),
            )
            .await;
        assert!(plain.is_err(), "{plain:?}");
        server.stop();
    });
}

#[test]
fn the_app_under_the_https_test_server() {
    run(async {
        let server = AsyncHTTPTestServer::new_tls(make_app());
        let response = server.fetch("/").await.expect("fetch");
        assert_eq!(response.text(), "Hello, world (over https)\n");
    });
}

#[test]
fn a_missing_key_file_is_an_error() {
    let missing = std::env::temp_dir().join("typhoon-no-such-key.pem");
    assert!(make_server(default_certfile(), missing).is_err());
}
