//! systemd's socket activation (`LISTEN_FDS`, as systemd and systemfd pass it): the server
//! started with a listening socket serves on it instead of binding its own. The test keeps its
//! own copy of the socket open, so a server that tried to bind the port itself would fail with
//! "address in use" and exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
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

#[test]
fn a_socket_passed_by_systemd_is_served() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Inherited by the child: the one flag exec looks at.
    let flags = rustix::io::fcntl_getfd(&listener).expect("getfd");
    rustix::io::fcntl_setfd(&listener, flags - rustix::io::FdFlags::CLOEXEC).expect("setfd");
    // `LISTEN_PID` names the process the sockets are for: the shell's pid, which `exec` keeps,
    // as systemd-socket-activate does.
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"LISTEN_PID=$$ exec "$0" "$@""#)
        .arg(probe())
        .args([format!("--port={port}"), "--logging=warning".to_owned()])
        // systemd would put the socket at fd 3; `LISTEN_FDS_FIRST_FD` names where it is.
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDS_FIRST_FD", listener.as_raw_fd().to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the probe");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let answer = (|| -> std::io::Result<String> {
        let mut socket = TcpStream::connect(("127.0.0.1", port))?;
        socket.set_read_timeout(Some(Duration::from_secs(10)))?;
        socket.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut reply = String::new();
        socket.read_to_string(&mut reply)?;
        Ok(reply)
    })();
    let _ = child.kill();
    let status = child.wait().expect("wait");
    assert!(
        line.contains("listening"),
        "the probe did not start ({status}): {line:?}"
    );
    let answer = answer.expect("served on the passed socket");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
}
