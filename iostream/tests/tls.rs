//! TLS-specific cases (Tornado's `SSLIOStream` tests): bad handshakes are one connection's
//! problem only, `start_tls`, ALPN, certificate checks, PEM loading.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use typhoon_ioloop::IOLoop;
use typhoon_iostream::{StreamError, TCPClient, TCPServer, tls};
use typhoon_testing::run_test;
use typhoon_testing::tls::{
    ca_file, client_config, server_cert_file, server_config, server_key_file,
};

fn tls_echo_server(handshake_timeout: Duration) -> TCPServer {
    TCPServer::new(|stream, _peer| async move {
        while let Ok(line) = stream.read_until(b"\n", Some(4096)).await {
            if stream.write(&line).await.is_err() {
                break;
            }
        }
    })
    .tls(server_config())
    .handshake_timeout(handshake_timeout)
}

/// Checks a proper TLS client is served by the server on `port`.
async fn assert_served(port: u16) {
    let client = TCPClient::new()
        .connect_tls("localhost", port, client_config())
        .await
        .expect("tls connect");
    assert_eq!(client.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
    assert!(client.is_tls());
    client.write(b"secure\n").await.expect("write");
    assert_eq!(
        client.read_until(b"\n", None).await.expect("read"),
        b"secure\n"
    );
}

/// Reads from a blocking socket on the executor until EOF or error; returns what arrived.
async fn read_to_end_off_loop(mut socket: TcpStream) -> Vec<u8> {
    IOLoop::current()
        .run_in_executor(move || {
            socket
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut data = Vec::new();
            let _ = socket.read_to_end(&mut data);
            data
        })
        .await
        .expect("reader")
}

#[test]
fn handshake_with_garbage_fails_that_connection_only() {
    run_test(async {
        let server = tls_echo_server(Duration::from_secs(10));
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let mut garbage = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        garbage
            .write_all(b"GET / HTTP/1.0\r\n\r\n")
            .expect("write garbage");
        let reply = read_to_end_off_loop(garbage).await;
        // Either an alert record (content type 21) or a bare close: never an echo.
        assert!(reply.is_empty() || reply[0] == 21, "{reply:?}");
        assert_served(port).await;
        server.stop();
    });
}

#[test]
fn client_that_sends_nothing_is_dropped_after_the_handshake_timeout() {
    run_test(async {
        let server = tls_echo_server(Duration::from_millis(200));
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let silent = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let silent = IOLoop::current().spawn(read_to_end_off_loop(silent));
        // Meanwhile others are served at once.
        assert_served(port).await;
        assert!(
            silent.await.expect("silent").is_empty(),
            "dropped without a reply"
        );
        server.stop();
    });
}

#[test]
fn start_tls_on_an_established_stream() {
    run_test(async {
        let server = TCPServer::new(|stream, _peer| async move {
            let Ok(line) = stream.read_until(b"\n", None).await else {
                return;
            };
            assert_eq!(line, b"STARTTLS\n");
            stream.write(b"GO\n").await.expect("write");
            let stream = stream
                .start_tls_server(server_config())
                .await
                .expect("server start_tls");
            let secret = stream.read_until(b"\n", None).await.expect("read");
            stream.write(&secret).await.expect("write");
        });
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        let plain = TCPClient::new()
            .connect("127.0.0.1", port)
            .await
            .expect("connect");
        plain.write(b"STARTTLS\n").await.expect("write");
        assert_eq!(plain.read_until(b"\n", None).await.expect("read"), b"GO\n");
        let secure = plain
            .start_tls_client(client_config(), "localhost")
            .await
            .expect("client start_tls");
        secure.write(b"secret\n").await.expect("write");
        assert_eq!(
            secure.read_until(b"\n", None).await.expect("read"),
            b"secret\n"
        );
        server.stop();
    });
}

#[test]
fn untrusted_certificate_is_rejected() {
    run_test(async {
        let server = tls_echo_server(Duration::from_secs(10));
        let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
        // The test CA is not among the webpki roots.
        let config = tls::client_config_webpki_roots(&[]).expect("config");
        let result = TCPClient::new()
            .connect_tls("localhost", port, config)
            .await;
        assert!(
            matches!(&result, Err(StreamError::Closed { source: Some(e) }) if e.kind() == std::io::ErrorKind::InvalidData),
            "{result:?}"
        );
        // The wrong name is rejected too.
        let wrong_name = TCPClient::new()
            .connect("127.0.0.1", port)
            .await
            .expect("connect")
            .start_tls_client(client_config(), "example.com")
            .await;
        assert!(wrong_name.is_err());
        assert_served(port).await;
        server.stop();
    });
}

#[test]
fn pem_loading_errors() {
    let missing = std::env::temp_dir().join("typhoon-iostream-no-such-cert.pem");
    assert!(tls::load_certificates(missing).is_err());
    assert!(
        tls::load_certificates(server_key_file()).is_err(),
        "a key is not a certificate"
    );
    assert!(
        tls::load_private_key(ca_file()).is_err(),
        "a certificate is not a key"
    );
    assert_eq!(
        tls::load_certificates(server_cert_file())
            .expect("certs")
            .len(),
        1
    );
    // A key that does not match the certificate is refused when the config is built.
    let mismatched = tls::server_config(
        tls::load_certificates(ca_file()).expect("ca"),
        tls::load_private_key(server_key_file()).expect("key"),
        &[],
    );
    assert!(mismatched.is_err());
}
