//! Helpers shared by the iostream integration tests.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use typhoon_ioloop::{Async, IOLoop};
use typhoon_iostream::{IOStream, StreamOptions, TCPClient};

/// The transports the shared suite runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Unix,
    Tls,
}

/// A connected pair of streams `(client, server)` over `kind`.
pub async fn pair(kind: Kind) -> (IOStream, IOStream) {
    pair_with(kind, StreamOptions::default()).await
}

/// Like [`pair`], with the given options on both ends.
pub async fn pair_with(kind: Kind, options: StreamOptions) -> (IOStream, IOStream) {
    match kind {
        Kind::Unix => {
            let (a, b) = UnixStream::pair().expect("socketpair");
            (
                IOStream::from_unix_with_options(a, options.clone()).expect("a"),
                IOStream::from_unix_with_options(b, options).expect("b"),
            )
        }
        Kind::Tcp => tcp_pair(options).await,
        Kind::Tls => tls_pair(options).await,
    }
}

async fn tcp_pair(options: StreamOptions) -> (IOStream, IOStream) {
    let listener = Async::new(TcpListener::bind("127.0.0.1:0").expect("bind")).expect("listener");
    let port = listener.get_ref().local_addr().expect("addr").port();
    let client = TCPClient::new()
        .stream_options(options.clone())
        .connect("127.0.0.1", port)
        .await
        .expect("connect");
    let (server, _) = listener.read_with(|l| l.accept()).await.expect("accept");
    (
        client,
        IOStream::with_options(server, options).expect("server"),
    )
}

#[cfg(feature = "tls")]
async fn tls_pair(options: StreamOptions) -> (IOStream, IOStream) {
    use typhoon_testing::tls;
    let (client, server) = tcp_pair(options).await;
    let server = IOLoop::current().spawn(server.start_tls_server(tls::server_config()));
    let client = client
        .start_tls_client(tls::client_config(), "localhost")
        .await
        .expect("client handshake");
    let server = server
        .await
        .expect("server task")
        .expect("server handshake");
    (client, server)
}

#[cfg(not(feature = "tls"))]
async fn tls_pair(_options: StreamOptions) -> (IOStream, IOStream) {
    unreachable!("the TLS suite is compiled only with the tls feature")
}

/// Raises this process's soft fd limit to at least `want` (bounded by the hard limit).
pub fn raise_fd_limit(want: u64) {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let current = limit.current.unwrap_or(u64::MAX);
    if current < want {
        let _ = rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(want.min(hard)),
                maximum: limit.maximum,
            },
        );
    }
}
