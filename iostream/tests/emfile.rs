//! The accept loop under `EMFILE`: a test binary of its own, because it lowers this process's
//! file-descriptor limit and then uses up every descriptor.

mod util;

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use typhoon_ioloop::{IOLoop, sleep};
use typhoon_iostream::TCPServer;

/// CPU time (user + system) this process has used.
fn cpu_time() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

#[test]
fn accept_survives_emfile_without_spinning() {
    let (result, log) = typhoon_testing::capture_logs(|| {
        typhoon_testing::run_test(async {
            let server = TCPServer::new(|stream, _peer| async move {
                if let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
                    let _ = stream.write(&line).await;
                }
            });
            let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];

            // Clients connect first (the kernel completes the handshakes in the backlog)...
            let mut clients: Vec<TcpStream> = (0..5)
                .map(|_| TcpStream::connect(addr).expect("connect"))
                .collect();
            // ...then every descriptor the process may open is taken.
            let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
            let cap = 256;
            rustix::process::setrlimit(
                rustix::process::Resource::Nofile,
                rustix::process::Rlimit {
                    current: Some(cap),
                    maximum: limit.maximum,
                },
            )
            .expect("lower the fd limit");
            let mut hogs = Vec::new();
            while let Ok(file) = File::open("/dev/null") {
                hogs.push(file);
                assert!(hogs.len() < 10_000, "the fd limit did not apply");
            }

            // While out of descriptors the loop backs off instead of spinning on accept.
            let cpu_before = cpu_time();
            sleep(Duration::from_millis(500)).await;
            let cpu_used = cpu_time() - cpu_before;

            // Free the descriptors: the waiting connections are accepted and served.
            drop(hogs);
            for (i, client) in clients.iter_mut().enumerate() {
                client
                    .set_read_timeout(Some(Duration::from_secs(1)))
                    .expect("timeout");
                writeln!(client, "client {i}").expect("write");
            }
            let mut answers = Vec::new();
            for client in clients.iter_mut() {
                let mut answer = String::new();
                // The blocking read runs on the executor so the loop can serve meanwhile.
                let mut socket = client.try_clone().expect("clone");
                let read = IOLoop::current().run_in_executor(move || {
                    socket
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("timeout");
                    let mut text = String::new();
                    let _ = socket.read_to_string(&mut text);
                    text
                });
                answer.push_str(&read.await.expect("reader"));
                answers.push(answer);
            }
            server.stop();
            (cpu_used, answers)
        })
    });
    let (cpu_used, answers) = result;
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer, &format!("client {i}\n"));
    }
    assert!(
        cpu_used < Duration::from_millis(250),
        "the accept loop spun while out of fds: {cpu_used:?} CPU in 500 ms"
    );
    assert!(log.contains("out of file descriptors"), "{log}");
    assert_eq!(
        log.matches("pausing accepts").count(),
        1,
        "one warning per burst: {log}"
    );
}
