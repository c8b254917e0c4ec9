//! HTTPS: an `HTTPServer` with a rustls configuration, driven by a TLS client.

use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_iostream::TCPClient;
use typhoon_testing::tls;
use typhoon_testing::{read_response, run_test};

#[test]
fn https_requests_say_https() {
    run_test(async {
        let options = HTTPServerOptions {
            tls: Some(tls::server_config()),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            |request, mut response| async move {
                response.write(format!("{} {}", request.protocol, request.full_url()).as_bytes());
            },
            options,
        );
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let client_config = tls::client_config();
        let stream = TCPClient::new()
            .connect_tls("localhost", port, client_config)
            .await
            .expect("tls connect");
        assert_eq!(stream.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
        for _ in 0..2 {
            stream
                .write(b"GET /secure?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .await
                .expect("write");
            let response = read_response(&stream, false).await;
            assert_eq!(response.status, 200);
            assert_eq!(
                String::from_utf8_lossy(&response.body),
                "https https://localhost/secure?x=1"
            );
        }
        // A plain-HTTP client on the TLS port gets no HTTP answer.
        let plain = TCPClient::new()
            .connect("127.0.0.1", port)
            .await
            .expect("connect");
        plain
            .write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let reply = plain.read_until_close().await.unwrap_or_default();
        assert!(!reply.starts_with(b"HTTP/"), "{reply:?}");
        server.stop();
    });
}
