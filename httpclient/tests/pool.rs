//! The keep-alive pool shrinks: idle connections expire on a timer, an origin is forgotten with
//! its last idle connection, a dropped client closes what it pooled.

mod util;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpclient::{AsyncHTTPClient, ClientOptions, HTTPRequest};
use typhoon_ioloop::queues::Queue;
use typhoon_ioloop::{Async, spawn};
use typhoon_iostream::IOStream;
use typhoon_testing::run_test;

/// How long a test waits for the servers to see the client's connections close (far more
/// than the 50 ms idle timeout the expiry tests use; reached only if they never close).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A raw keep-alive HTTP/1.1 server on the current loop, on 127.0.0.1:0: answers every request
/// of a connection with `200 ok`, and puts its port in `closed` when the client closes a
/// connection (the server reads EOF). Returns the port.
fn keep_alive_server(closed: &Rc<Queue<u16>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let listener = Async::new(listener).expect("register the listener");
    let closed = Rc::clone(closed);
    spawn(async move {
        while let Ok((socket, _)) = listener.read_with(|l| l.accept()).await {
            let closed = Rc::clone(&closed);
            spawn(async move {
                let stream = IOStream::new(socket).expect("register the connection");
                while stream
                    .read_until(b"\r\n\r\n", Some(64 * 1024))
                    .await
                    .is_ok()
                {
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    if stream.write(answer).await.is_err() {
                        break;
                    }
                }
                let _ = closed.put_nowait(port);
            })
            .detach();
        }
    })
    .detach();
    port
}

/// Waits until `count` connections have been closed by the client; returns their ports.
async fn closed_ports(closed: &Queue<u16>, count: usize) -> BTreeSet<u16> {
    let mut ports = BTreeSet::new();
    for seen in 0..count {
        let port = closed.get_timeout(CLOSE_WAIT).await.unwrap_or_else(|_| {
            panic!("the servers saw {seen} of {count} connections close within {CLOSE_WAIT:?}")
        });
        ports.insert(port);
    }
    ports
}

fn client(idle_timeout: Duration) -> AsyncHTTPClient {
    AsyncHTTPClient::with_options(ClientOptions {
        idle_timeout,
        ..ClientOptions::default()
    })
}

async fn fetch_ok(client: &AsyncHTTPClient, port: u16) {
    let response = client
        .fetch(format!("http://127.0.0.1:{port}/"))
        .await
        .expect("fetch");
    assert_eq!(response.body, b"ok");
}

#[test]
fn idle_connections_expire_and_origins_are_forgotten() {
    run_test(async {
        const ORIGINS: usize = 20;
        let closed = Rc::new(Queue::new(0));
        let ports: Vec<u16> = (0..ORIGINS).map(|_| keep_alive_server(&closed)).collect();
        let client = client(Duration::from_millis(50));
        for &port in &ports {
            fetch_ok(&client, port).await;
        }
        let stats = client.stats();
        assert_eq!((stats.idle, stats.hosts), (ORIGINS, ORIGINS), "{stats:?}");

        // Nobody checks these origins out again: the pool's timer closes every connection...
        let seen = closed_ports(&closed, ORIGINS).await;
        assert_eq!(
            seen,
            ports.iter().copied().collect(),
            "each origin's socket closed"
        );
        // ...and forgets every origin.
        let stats = client.stats();
        assert_eq!((stats.idle, stats.hosts), (0, 0), "{stats:?}");

        // The pool works on after a sweep.
        fetch_ok(&client, ports[0]).await;
        let stats = client.stats();
        assert_eq!((stats.idle, stats.hosts), (1, 1), "{stats:?}");
        assert_eq!(stats.connections_opened, ORIGINS as u64 + 1, "{stats:?}");
    });
}

#[test]
fn checkout_of_the_last_connection_forgets_the_origin() {
    run_test(async {
        let closed = Rc::new(Queue::new(0));
        let port = keep_alive_server(&closed);
        let client = client(Duration::from_secs(3600));
        fetch_ok(&client, port).await;
        assert_eq!(client.stats().hosts, 1);

        // While the second request holds the origin's only connection, the origin is not in
        // the pool at all (the header callback runs in the middle of that exchange).
        let hosts_in_flight = Rc::new(Cell::new(usize::MAX));
        let request = {
            let (client, hosts) = (client.clone(), Rc::clone(&hosts_in_flight));
            HTTPRequest::new(format!("http://127.0.0.1:{port}/"))
                .header_callback(move |_line| hosts.set(client.stats().hosts))
        };
        let response = client.fetch(request).await.expect("fetch");
        assert_eq!(response.body, b"ok");
        assert_eq!(
            hosts_in_flight.get(),
            0,
            "the entry went with its last connection"
        );
        let stats = client.stats();
        assert_eq!((stats.connections_reused, stats.hosts), (1, 1), "{stats:?}");
    });
}

#[test]
fn dropped_client_closes_its_idle_connections() {
    run_test(async {
        let closed = Rc::new(Queue::new(0));
        let ports = [keep_alive_server(&closed), keep_alive_server(&closed)];
        // A timeout that never comes during the test: only dropping the client can close them.
        let client = client(Duration::from_secs(3600));
        for port in ports {
            fetch_ok(&client, port).await;
        }
        assert_eq!(client.stats().idle, 2);
        // The armed timer holds the pool weakly: dropping the last handle frees it at once.
        drop(client);
        assert_eq!(closed_ports(&closed, 2).await, ports.into_iter().collect());
    });
}

#[test]
fn max_idle_per_host_zero_pools_nothing() {
    run_test(async {
        let closed = Rc::new(Queue::new(0));
        let port = keep_alive_server(&closed);
        let client = AsyncHTTPClient::with_options(ClientOptions {
            max_idle_per_host: 0,
            ..ClientOptions::default()
        });
        fetch_ok(&client, port).await;
        let stats = client.stats();
        assert_eq!((stats.idle, stats.hosts), (0, 0), "{stats:?}");
        assert_eq!(closed_ports(&closed, 1).await.len(), 1);
    });
}
