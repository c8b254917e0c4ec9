//! The access log as users run it, over real sockets against the built examples: lines are
//! batched per loop, yet each is in the log file before the loop waits again, every line is
//! there after a SIGTERM, whether the app handles it (a graceful stop) or not (the default
//! action), and lines from several loops never interleave.
//!
//! The examples are built beside this test's binary (`target/<profile>/examples`) by
//! `cargo test -p typhoon-examples`; a run of this target alone needs
//! `cargo build -p typhoon-examples --examples` first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// A built example.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("test binary");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    profile.join("examples").join(name)
}

/// A fresh directory for one test's log files.
fn log_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("typhoon-access-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// A running example, killed however the test ends.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `name` on a port of its own choosing (`--port=0`), logging to `log`, and waits
    /// for its "listening on http://ADDR" line.
    fn start(name: &str, log: &Path, extra: &[&str]) -> Self {
        let path = example(name);
        assert!(
            path.exists(),
            "{} is not built: cargo build -p typhoon-examples --examples",
            path.display()
        );
        let mut child = Command::new(path)
            .arg("--port=0")
            .arg(format!("--log_file_prefix={}", log.display()))
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the example");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the listening line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        // The rest of stdout is drained so the example never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self { child, addr }
    }

    /// Sends SIGTERM and waits for the process to end.
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive `GET path` on `socket`, returning the body (the examples answer with a
/// Content-Length).
fn get(socket: &mut TcpStream, path: &str) -> String {
    write!(socket, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).expect("response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("ascii head");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    let mut body = vec![0u8; length];
    socket.read_exact(&mut body).expect("body");
    String::from_utf8(body).expect("utf-8 body")
}

fn connect(addr: SocketAddr) -> TcpStream {
    let socket = TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    socket
}

/// The access lines in the log, each checked whole: `[I yymmdd hh:mm:ss web:N] 200 GET
/// <path> (127.0.0.1) N.NNms`.
fn access_lines(log: &Path, path: &str) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut count = 0;
    for line in text.lines() {
        if !line.contains("] 200 GET ") {
            continue;
        }
        assert!(line.starts_with("[I "), "{line:?}");
        let message = line.split_once("] ").map(|(_, m)| m).expect("prefix");
        let rest = message
            .strip_prefix(&format!("200 GET {path} (127.0.0.1) "))
            .unwrap_or_else(|| panic!("not whole: {line:?}"));
        let ms = rest.strip_suffix("ms").expect("ms");
        assert!(ms.parse::<f64>().is_ok(), "{line:?}");
        count += 1;
    }
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a partial last line"
    );
    count
}

#[test]
fn each_line_is_written_before_the_loop_waits_and_sigterm_keeps_the_default_action() {
    let dir = log_dir("helloworld");
    let log = dir.join("app.log");
    let mut server = Server::start("helloworld", &log, &[]);
    let mut first = connect(server.addr);
    for _ in 0..50 {
        assert_eq!(get(&mut first, "/"), "Hello, world");
    }
    // The loop learns of a new connection only from a wait for events, before which it
    // writes what it logged: after this answer, the first 50 lines are in the file.
    let mut second = connect(server.addr);
    assert_eq!(get(&mut second, "/"), "Hello, world");
    let written = access_lines(&log, "/");
    assert!(written >= 50, "{written} of 50 lines written");
    // helloworld does not handle SIGTERM: it still ends the process by the signal, and the
    // lines already written stay whole.
    let status = server.terminate();
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert!(access_lines(&log, "/") >= 50);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_graceful_stop_on_sigterm_writes_every_line() {
    let dir = log_dir("graceful");
    let log = dir.join("app.log");
    let mut server = Server::start("graceful_shutdown", &log, &[]);
    let mut socket = connect(server.addr);
    for _ in 0..200 {
        get(&mut socket, "/");
    }
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert_eq!(access_lines(&log, "/"), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lines_from_several_loops_never_interleave() {
    let dir = log_dir("loops");
    let log = dir.join("app.log");
    let mut server = Server::start("multi_core", &log, &["--loops=3"]);
    let addr = server.addr;
    let clients: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..25 {
                    // New connections spread over the loops.
                    let mut socket = connect(addr);
                    for _ in 0..10 {
                        get(&mut socket, "/");
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client");
    }
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert_eq!(access_lines(&log, "/"), 1000);
    let _ = std::fs::remove_dir_all(&dir);
}
