//! The reload over real sockets: a client that connects continuously while the probe's binary
//! is replaced three times sees no refused connection, no failed request, and the new build
//! answering after each swap.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The built `reload_probe` example, beside this test's binary (`target/<profile>/examples`):
/// `cargo test -p typhoon-autoreload` builds it; a run of one test target alone needs
/// `cargo build -p typhoon-autoreload --example reload_probe` first.
fn probe() -> PathBuf {
    let test = std::env::current_exe().expect("test binary");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    profile.join("examples").join("reload_probe")
}

/// A port free right now on 127.0.0.1.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// What the client saw.
#[derive(Default)]
struct Seen {
    /// The builds that answered, in order, each once.
    builds: Vec<String>,
    /// Requests answered with 200.
    ok: u64,
}

/// One `GET /` on a new connection: `Err` with what went wrong.
fn request(addr: SocketAddr) -> Result<String, String> {
    let mut socket = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connect: {e}"))?;
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    socket
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut reply = String::new();
    socket
        .read_to_string(&mut reply)
        .map_err(|e| format!("read: {e}"))?;
    if !reply.starts_with("HTTP/1.1 200 ") {
        return Err(format!("answer: {reply:?}"));
    }
    reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .ok_or_else(|| format!("no body: {reply:?}"))
}

/// Kills the probe however the test ends.
struct Probe(Child);
impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn zero_refused_connections_across_three_binary_swaps() {
    let built = std::fs::read(probe()).expect("the reload_probe example: build it with `cargo build -p typhoon-autoreload --example reload_probe`");
    let dir = std::env::temp_dir().join(format!("typhoon-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let exe = dir.join("reload_probe");
    // Each build differs in size (trailing bytes do not change what an ELF binary runs).
    let install = |extra: usize| {
        let next = dir.join("reload_probe.next");
        let mut bytes = built.clone();
        bytes.resize(built.len() + extra, 0);
        std::fs::write(&next, &bytes).expect("write");
        std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::rename(&next, &exe).expect("swap");
        bytes.len().to_string()
    };
    let first = install(0);
    let port = free_port();
    let mut child = Command::new(&exe)
        .args([format!("--port={port}"), "--check_ms=50".to_owned()])
        .arg("--logging=warning")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the probe");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let probe = Probe(child);
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the probe's first line");
    assert!(line.contains("listening"), "{line}");
    // Later generations print the same line into the pipe; nobody reads it any more, and a
    // few lines fit in the pipe's buffer.

    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let seen = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicU64::new(0));
    let client = {
        let (seen, failures, stop, attempts) = (
            Arc::clone(&seen),
            Arc::clone(&failures),
            Arc::clone(&stop),
            Arc::clone(&attempts),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                attempts.fetch_add(1, Ordering::SeqCst);
                match request(addr) {
                    Ok(build) => {
                        let (lock, changed) = &*seen;
                        let mut seen = lock.lock().expect("lock");
                        seen.ok += 1;
                        if seen.builds.last() != Some(&build) {
                            seen.builds.push(build);
                        }
                        changed.notify_all();
                    }
                    Err(failure) => failures.lock().expect("lock").push(failure),
                }
            }
        })
    };
    let wait_for = |build: &str| {
        let (lock, changed) = &*seen;
        let seen = lock.lock().expect("lock");
        let (seen, timeout) = changed
            .wait_timeout_while(seen, Duration::from_secs(60), |seen| {
                seen.builds.last().map(String::as_str) != Some(build)
            })
            .expect("lock");
        assert!(
            !timeout.timed_out(),
            "build {build} never answered; saw {:?}",
            seen.builds
        );
    };
    wait_for(&first);
    let mut expected = vec![first];
    for swap in 1..=3 {
        let build = install(swap * 4096);
        wait_for(&build);
        expected.push(build);
    }
    stop.store(true, Ordering::SeqCst);
    client.join().expect("client");
    drop(probe);
    let failures = failures.lock().expect("lock").clone();
    let seen = seen.0.lock().expect("lock");
    assert_eq!(failures, Vec::<String>::new(), "refused or failed requests");
    assert_eq!(seen.builds, expected, "each build answered, in order");
    assert_eq!(seen.ok, attempts.load(Ordering::SeqCst));
    assert!(
        seen.ok > 8,
        "the client kept connecting: {} requests",
        seen.ok
    );
    let _ = std::fs::remove_dir_all(&dir);
}
