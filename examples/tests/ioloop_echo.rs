//! The `ioloop_echo` example's server, driven over real loopback sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use typhoon_examples::echo::{EchoConfig, EchoServer};

fn start(config: EchoConfig) -> (EchoServer, std::net::SocketAddr) {
    EchoServer::spawn_thread("127.0.0.1:0".parse().expect("addr"), config).expect("server")
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    // Bounds every blocking read of the test.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

#[test]
fn echoes_lines_split_across_packets() {
    let (server, addr) = start(EchoConfig::default());
    let mut client = connect(addr);
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    client.write_all(b"hel").expect("write");
    client.flush().expect("flush");
    client.write_all(b"lo\nwor").expect("write");
    client.write_all(b"ld\n").expect("write");
    let mut line = String::new();
    reader.read_line(&mut line).expect("read");
    assert_eq!(line, "hello\n");
    line.clear();
    reader.read_line(&mut line).expect("read");
    assert_eq!(line, "world\n");
    client.shutdown(Shutdown::Write).expect("shutdown");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).expect("eof");
    assert!(rest.is_empty());
    server.stop();
}

#[test]
fn over_long_line_is_refused_and_others_are_still_served() {
    let config = EchoConfig {
        max_line: 1024,
        ..EchoConfig::default()
    };
    let (server, addr) = start(config);
    let mut good = connect(addr);
    let mut bad = connect(addr);
    bad.write_all(&[b'x'; 4096]).expect("write");
    let mut answer = Vec::new();
    // The server answers, then closes: read to EOF (a reset after the answer is fine too).
    let _ = bad.read_to_end(&mut answer);
    assert!(answer.starts_with(b"error: line too long\n"), "{answer:?}");
    good.write_all(b"still here\n").expect("write");
    let mut line = String::new();
    BufReader::new(&good).read_line(&mut line).expect("read");
    assert_eq!(line, "still here\n");
    server.stop();
}

#[test]
fn idle_connections_are_closed() {
    let config = EchoConfig {
        idle_timeout: Duration::from_millis(50),
        ..EchoConfig::default()
    };
    let (server, addr) = start(config);
    let mut client = connect(addr);
    let mut buf = [0u8; 1];
    // EOF once the idle timeout closes the connection.
    assert_eq!(client.read(&mut buf).expect("read"), 0);
    server.stop();
}

#[test]
fn hundred_concurrent_clients() {
    let (server, addr) = start(EchoConfig::default());
    let mut clients: Vec<TcpStream> = (0..100).map(|_| connect(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        writeln!(client, "client {i}").expect("write");
    }
    for (i, client) in clients.iter().enumerate() {
        let mut line = String::new();
        BufReader::new(client).read_line(&mut line).expect("read");
        assert_eq!(line, format!("client {i}\n"));
    }
    server.stop();
}
