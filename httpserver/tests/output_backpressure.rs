//! A client that pipelines 100,000 GETs and never reads a byte: the server stops reading once
//! `max_output_buffer` is queued for it, so its memory stays bounded.
//!
//! The test reads this process's resident memory, so it is alone in this binary.

use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_ioloop::{IOLoop, timeout};
use typhoon_testing::{rss_kib, run_test};

/// What a client that pipelines 100,000 GETs and never reads a byte costs the server: how many
/// requests it got in, and how much the process's memory grew meanwhile (KiB).
fn pipelining_flood(max_output_buffer: usize) -> (usize, u64) {
    use std::io::Write;
    run_test(async move {
        let options = HTTPServerOptions {
            max_output_buffer,
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            |_request, mut response| async move {
                response.write(&[b'x'; 16 * 1024]);
            },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let flood = request.repeat(100_000);
        let before = rss_kib();
        // A blocking client on its own thread: it writes all 100,000 requests, or as many as the
        // server reads before its output backs up, and never reads a byte.
        let client = std::thread::spawn(move || {
            // Small kernel buffers on the client's side, so the server's output backs up after
            // a few KiB instead of the megabytes loopback would otherwise absorb.
            let raw = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                .expect("socket");
            raw.set_recv_buffer_size(16 * 1024).expect("rcvbuf");
            raw.set_send_buffer_size(16 * 1024).expect("sndbuf");
            raw.connect(&addr.into()).expect("connect");
            let mut socket: std::net::TcpStream = raw.into();
            socket
                .set_write_timeout(Some(Duration::from_millis(500)))
                .expect("timeout");
            let mut sent = 0;
            while sent < flood.len() {
                match socket.write(&flood[sent..]) {
                    Ok(n) => sent += n,
                    Err(_) => break,
                }
            }
            (socket, sent / request.len())
        });
        // Wait for the client on the loop's executor, so the loop serves meanwhile.
        let (socket, sent) = IOLoop::current()
            .run_in_executor(move || client.join().expect("client"))
            .await
            .expect("no panic");
        let grown = rss_kib().saturating_sub(before);
        drop(socket);
        timeout(Duration::from_secs(10), server.connections_closed())
            .await
            .expect("the connection closes");
        (sent, grown)
    })
}

#[test]
fn pipelining_client_that_never_reads_keeps_memory_bounded() {
    let (sent, grown) = pipelining_flood(HTTPServerOptions::default().max_output_buffer);
    println!(
        "max_output_buffer 1 MiB: {sent} of 100,000 pipelined requests read; RSS +{grown} KiB"
    );
    // The server stopped reading once its output backed up: 100,000 responses of 16 KiB
    // (1.6 GB) were never made.
    assert!(
        sent < 100_000,
        "the server read every request of a client that never reads"
    );
    assert!(grown < 4 * 1024, "RSS grew by {grown} KiB");
    // Without the bound the server answers every request of one read before it sends anything:
    // thousands of responses queued at once. The setting is what holds it.
    let (sent, grown) = pipelining_flood(usize::MAX);
    println!("max_output_buffer unbounded: {sent} read; RSS +{grown} KiB");
    assert!(grown > 6 * 1024, "{sent} read, RSS +{grown} KiB");
}
