//! The `tcpecho` example's server over real loopback sockets, plain and TLS.

use typhoon_examples::tcpecho;
use typhoon_iostream::{StreamError, TCPClient};

use typhoon_testing::run_test as run;

#[test]
fn echoes_lines_over_tcp() {
    run(async {
        let (server, addrs) = tcpecho::listen(0, "127.0.0.1", None).expect("listen");
        let client = TCPClient::new()
            .connect("127.0.0.1", addrs[0].port())
            .await
            .expect("connect");
        client.write(b"first\nsecond\n").await.expect("write");
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"first\n"
        );
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"second\n"
        );
        // A line past the limit ends that connection only.
        let greedy = TCPClient::new()
            .connect("127.0.0.1", addrs[0].port())
            .await
            .expect("connect");
        greedy
            .write(&vec![b'x'; tcpecho::MAX_LINE + 1])
            .await
            .expect("write");
        assert!(matches!(
            greedy.read_bytes(1, false).await,
            Err(StreamError::Closed { .. })
        ));
        client.write(b"third\n").await.expect("write");
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"third\n"
        );
        server.stop();
    });
}

#[test]
fn echoes_lines_over_tls() {
    run(async {
        let config = typhoon_testing::tls::server_config();
        let (server, addrs) = tcpecho::listen(0, "127.0.0.1", Some(config)).expect("listen");
        let client = TCPClient::new()
            .connect_tls(
                "localhost",
                addrs[0].port(),
                typhoon_testing::tls::client_config(),
            )
            .await
            .expect("tls connect");
        client.write(b"over tls\n").await.expect("write");
        assert_eq!(
            client.read_until(b"\n", None).await.expect("read"),
            b"over tls\n"
        );
        server.stop();
    });
}
