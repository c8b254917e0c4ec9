//! Timeouts: idle, body and send deadlines, including after the loop stalls, and
//! `Duration::MAX` as no deadline.

use super::*;

/// A blocking client: one keep-alive connection, a request whenever asked.
fn blocking_get(stream: &mut std::net::TcpStream, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return Ok(text.into_owned());
            }
        }
    }
}

/// Two clients whose requests block the server's loop: the first over 0.2-1.4 s; the second
/// waits on a 0.7 s timer (due before a 1 s deadline armed at the start), so in the iteration
/// after the first block it runs ahead of that deadline's task and blocks over 1.4-2.6 s.
fn stall_the_loop(
    ioloop: &IOLoop,
    addr: SocketAddr,
) -> Vec<typhoon_ioloop::JoinHandle<std::io::Result<String>>> {
    ["/block?at=200&for=1200", "/block?at=700&for=1200"]
        .into_iter()
        .map(|path| {
            ioloop.run_in_executor(move || {
                let mut a = std::net::TcpStream::connect(addr)?;
                blocking_get(&mut a, path)
            })
        })
        .collect()
}

/// Waits for [`stall_the_loop`]'s two clients: each was answered once the loop was free.
async fn blockers_answered(blockers: Vec<typhoon_ioloop::JoinHandle<std::io::Result<String>>>) {
    for blocker in blockers {
        let answer = blocker.await.expect("thread").expect("blocker answered");
        assert!(answer.ends_with("unblocked"), "{answer}");
    }
}

#[test]
fn idle_timeout_after_a_stalled_loop_does_not_drop_a_request_that_arrived() {
    // The race: a connection's idle timer and a blocking task come due in the same loop
    // iteration, the blocking task runs first, and the connection's next request arrives
    // while it blocks. The timer must not win over data that is already in the socket.
    run_test(async {
        let options = HTTPServerOptions {
            idle_connection_timeout: Duration::from_millis(1000),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let ioloop = IOLoop::current();
        // B: one request now, then idle (its deadline: about 1.0 s from now).
        let client_b = ioloop.run_in_executor(move || {
            let mut b = std::net::TcpStream::connect(addr)?;
            let first = blocking_get(&mut b, "/first")?;
            let started = std::time::Instant::now();
            // A1 blocks the loop over B's deadline (0.2-1.4 s); A2's timer (0.7 s) is due
            // before B's, so in the iteration after A1 it runs first and blocks 1.4-2.6 s.
            // B's next request arrives in the middle of that.
            std::thread::sleep(Duration::from_millis(2000).saturating_sub(started.elapsed()));
            let second = blocking_get(&mut b, "/second")?;
            Ok::<_, std::io::Error>((first, second))
        });
        let blockers = stall_the_loop(&ioloop, addr);
        let (first, second) = client_b
            .await
            .expect("client thread")
            .expect("B's second request is served, not dropped by its idle timer");
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        assert!(
            second.starts_with("HTTP/1.1 200") && second.contains("/second"),
            "{second}"
        );
        blockers_answered(blockers).await;
        server.stop();
    });
}

#[test]
fn send_timeout_after_a_stalled_loop_does_not_cut_a_client_that_read() {
    // As the idle case above, for a send waiting on a client that does read, whose reading
    // happens while the loop is blocked.
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(1000),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let ioloop = IOLoop::current();
        let client_b = ioloop.run_in_executor(move || {
            use std::io::{Read, Write};
            let mut b = std::net::TcpStream::connect(addr)?;
            let started = std::time::Instant::now();
            b.write_all(b"GET /big-file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            // The send fills the socket buffers at once; B starts reading while the second
            // blocker holds the loop (1.4-2.6 s), past the send deadline (about 1.0 s).
            std::thread::sleep(Duration::from_millis(2000).saturating_sub(started.elapsed()));
            let mut all = Vec::new();
            b.read_to_end(&mut all)?;
            Ok::<_, std::io::Error>(all)
        });
        let blockers = stall_the_loop(&ioloop, addr);
        let all = client_b.await.expect("client thread").expect("read");
        assert_eq!(
            split_head(&all).1.len() as u64,
            BIG_FILE_LEN,
            "the whole file reached a client that read it"
        );
        blockers_answered(blockers).await;
        server.stop();
    });
}

#[test]
fn body_timeout_after_a_stalled_loop_does_not_drop_a_body_that_arrived() {
    // As the idle case above, for the wait for the rest of a request body.
    run_test(async {
        let options = HTTPServerOptions {
            body_inactivity_timeout: Duration::from_millis(1000),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let ioloop = IOLoop::current();
        let client_b = ioloop.run_in_executor(move || {
            use std::io::{Read, Write};
            let mut b = std::net::TcpStream::connect(addr)?;
            let started = std::time::Instant::now();
            b.write_all(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")?;
            // The rest arrives while the second blocker holds the loop (1.4-2.6 s).
            std::thread::sleep(Duration::from_millis(2000).saturating_sub(started.elapsed()));
            b.write_all(b"world")?;
            b.shutdown(std::net::Shutdown::Write)?;
            let mut reply = String::new();
            b.read_to_string(&mut reply)?;
            Ok::<_, std::io::Error>(reply)
        });
        let blockers = stall_the_loop(&ioloop, addr);
        let reply = client_b.await.expect("client thread").expect("reply");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("POST /body  helloworld"), "{reply}");
        blockers_answered(blockers).await;
        server.stop();
    });
}

#[test]
fn timeouts_close_slow_clients() {
    run_test(async {
        let options = HTTPServerOptions {
            idle_connection_timeout: Duration::from_millis(100),
            header_timeout: Duration::from_millis(100),
            body_inactivity_timeout: Duration::from_millis(100),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        // Idle: connects, sends nothing.
        let idle = connect(addr).await;
        assert!(idle.read_until_close().await.expect("closed").is_empty());
        // Slowloris: half a head, never finished.
        let slow = connect(addr).await;
        slow.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        assert!(slow.read_until_close().await.expect("closed").is_empty());
        // Body stalls: 408.
        let stall = connect(addr).await;
        stall
            .write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            .await
            .expect("write");
        let reply = stall.read_until_close().await.unwrap_or_default();
        assert_eq!(
            status_of(&reply),
            Some(408),
            "{}",
            String::from_utf8_lossy(&reply)
        );
        server.stop();
    });
}

#[test]
fn a_connection_idle_past_the_buffer_release_serves_on_and_still_times_out() {
    // After a second idle a keep-alive connection gives back every buffer it kept for the
    // next request; the next request must find them again, and the idle timeout must still
    // end the connection afterwards (not be taken for another release).
    run_test(async {
        let options = HTTPServerOptions {
            idle_connection_timeout: Duration::from_millis(2500),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let stream = connect(addr).await;
        for (i, path) in ["/first", "/after-release"].into_iter().enumerate() {
            if i > 0 {
                sleep(Duration::from_millis(1300)).await; // past the release, not the timeout
            }
            stream
                .write(
                    format!(
                        "GET {path}?q={i} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
                        "p".repeat(300)
                    )
                    .as_bytes(),
                )
                .await
                .expect("write");
            let response = read_response(&stream, false).await;
            assert_eq!(response.status, 200);
            assert_eq!(
                String::from_utf8_lossy(&response.body),
                format!("GET {path} q={i} ")
            );
        }
        let idle_since = std::time::Instant::now();
        let rest = timeout(Duration::from_secs(10), stream.read_until_close())
            .await
            .expect("the idle timeout closes the connection");
        assert!(rest.expect("clean close").is_empty());
        let waited = idle_since.elapsed();
        assert!(
            waited >= Duration::from_millis(2000),
            "closed by the idle timeout, not at the release: {waited:?}"
        );
        server.stop();
    });
}

#[test]
fn duration_max_means_no_deadline_for_every_timeout_and_the_shutdown_grace() {
    // `Duration::MAX` overflowed `Instant` arithmetic: a panic in every connection, and a
    // multi-loop shutdown that never returned.
    let forever = Duration::MAX;
    let options = move || HTTPServerOptions {
        idle_connection_timeout: forever,
        header_timeout: forever,
        body_inactivity_timeout: forever,
        body_timeout: Some(forever),
        send_timeout: forever,
        ..HTTPServerOptions::default()
    };
    run_test(async move {
        let (server, addr) = serve(options());
        let stream = connect(addr).await;
        stream
            .write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(String::from_utf8_lossy(&response.body), "POST /echo  hi");
        drop(stream);
        assert_eq!(server.shutdown(forever).await, 0);
    });
    let loops = typhoon_iostream::start_loops(2, 0, "127.0.0.1", move || {
        HTTPServer::with_options(app, options())
    })
    .expect("start_loops");
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(loops.shutdown(forever));
    });
    assert_eq!(
        finished.recv_timeout(Duration::from_secs(10)).ok(),
        Some(0),
        "the shutdown of idle loops returns at once"
    );
}

#[test]
fn send_timeout_closes_a_client_that_never_reads() {
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(200),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            |_request, mut response| async move {
                // Far more than the socket buffers hold.
                response.write(&vec![b'x'; 32 << 20]);
            },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        // The client reads nothing: the server gives up on it, and that is what the test
        // waits for (a fixed sleep raced the server under load: when the sleep ended first,
        // the client read everything and the keep-alive connection never closed).
        while server.connection_count() == 0 {
            typhoon_ioloop::yield_now().await;
        }
        timeout(Duration::from_secs(20), server.connections_closed())
            .await
            .expect("the send timeout never closed the connection");
        let received = client
            .read_until_close()
            .await
            .map(|d| d.len())
            .unwrap_or(0);
        assert!(
            received < 32 << 20,
            "the whole body was delivered to a client that never read"
        );
        assert_eq!(server.connection_count(), 0, "the connection was closed");
        server.stop();
    });
}

#[test]
fn send_timeout_covers_handler_flushes_and_send_file() {
    // Before, only the server's own flushes had a send timeout: a handler's `flush` or
    // `send_file` to a client that stopped reading waited for ever.
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(200),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        for path in ["/stream-big", "/big-file"] {
            let failed = SEND_FAILED.with(Clone::clone);
            failed.clear();
            let client = connect(addr).await;
            client
                .write(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .expect("write");
            // The client reads nothing: the handler's wait fails after the send timeout.
            timeout(Duration::from_secs(10), failed.wait())
                .await
                .unwrap_or_else(|_| panic!("{path}: the handler's send never timed out"));
            let received = timeout(Duration::from_secs(10), client.read_until_close())
                .await
                .expect("the connection closes")
                .map_or(0, |d| d.len());
            assert!(received < 64 << 20, "{path}: cut short, {received} bytes");
        }
        assert_eq!(server.connection_count(), 0, "the connections were closed");
        server.stop();
    });
}

#[test]
fn send_timeout_spares_a_slow_reader_that_keeps_reading() {
    // The send timeout runs between successive writes (nginx's), not over the response:
    // a client taking 1 MiB every 40 ms needs far longer than 200 ms for 16 MiB in all.
    // Before, the server's own flush of a buffered response had 200 ms in all.
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(200),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let reader = IOLoop::current().run_in_executor(move || {
            use std::io::{Read, Write};
            let mut socket = std::net::TcpStream::connect(addr)?;
            socket
                .write_all(b"GET /big-buffered HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let started = std::time::Instant::now();
            let mut all = Vec::new();
            let mut piece = vec![0u8; 1 << 20];
            loop {
                let mut filled = 0;
                while filled < piece.len() {
                    let n = socket.read(&mut piece[filled..])?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                all.extend_from_slice(&piece[..filled]);
                if filled < piece.len() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(40));
            }
            Ok::<_, std::io::Error>((all, started.elapsed()))
        });
        let (all, took) = reader.await.expect("thread").expect("read");
        assert!(all.starts_with(b"HTTP/1.1 200"));
        let body = split_head(&all).1;
        assert_eq!(body.len(), 16 << 20, "the whole body arrived");
        assert!(body.iter().all(|&b| b == b'c'));
        assert!(
            took > Duration::from_millis(400),
            "the transfer outlasted the limit: {took:?}"
        );
        server.stop();
    });
}
