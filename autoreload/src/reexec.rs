//! The reload itself: keep the listening sockets, drain the servers, run the hooks, and
//! `exec` the new binary with the sockets named in its environment.

use std::ffi::OsString;
use std::io::Write;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::{TYPHOON_LISTEN_FDS, TYPHOON_LISTEN_PID, join_all, sleep};

use crate::error::AutoreloadError;

/// How many times `exec` is tried before giving up (a binary still held open for writing
/// fails with `ETXTBSY` for a moment).
const EXEC_ATTEMPTS: u32 = 20;
/// The pause between two attempts.
const EXEC_RETRY: Duration = Duration::from_millis(100);

/// What the next process is started with.
pub(crate) struct NextProcess {
    /// The executable.
    pub(crate) exe: PathBuf,
    /// Its arguments (without the program name).
    pub(crate) args: Vec<OsString>,
}

/// Keeps the servers' listening sockets open, drains the servers within `grace`, runs
/// `hooks`, and replaces this process with `next`, which inherits the sockets. Returns only
/// if `exec` kept failing.
pub(crate) async fn reload(
    servers: Vec<HTTPServer>,
    grace: Duration,
    hooks: Vec<Box<dyn FnOnce()>>,
    next: &NextProcess,
) -> AutoreloadError {
    // Duplicates first: they keep each socket listening (connections queue in its backlog)
    // while the servers stop accepting and close their own descriptors.
    let mut sockets: Vec<TcpListener> = Vec::new();
    for server in &servers {
        match server.tcp_server().listening_sockets() {
            Ok(more) => sockets.extend(more),
            Err(source) => return AutoreloadError::Sockets(source),
        }
    }
    // All at once: the reload waits for the slowest server, at most `grace`.
    let cut: usize = join_all(servers.iter().map(|server| server.shutdown(grace)))
        .await
        .into_iter()
        .sum();
    if cut > 0 {
        tracing::warn!(target: "typhoon::general", cut, "reload: connections cut after the grace");
    }
    for hook in hooks {
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook));
        if unwound.is_err() {
            tracing::error!(target: "typhoon::application", "a reload hook panicked");
        }
    }
    let fds: Vec<String> = sockets
        .iter()
        .map(|socket| socket.as_raw_fd().to_string())
        .collect();
    let pid = std::process::id().to_string();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let mut last = None;
    for _ in 0..EXEC_ATTEMPTS {
        // Inherited by the next program (the one flag `exec` looks at), and only for the
        // attempt: between attempts the loop runs, and a program it starts must not get them.
        if let Err(errno) = set_inheritable(&sockets, true) {
            return AutoreloadError::Sockets(errno.into());
        }
        let error = Command::new(&next.exe)
            .args(&next.args)
            .env(TYPHOON_LISTEN_FDS, fds.join(","))
            .env(TYPHOON_LISTEN_PID, &pid)
            // systemd's variables described the first process's fds, not these.
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDS_FIRST_FD")
            .exec();
        tracing::debug!(target: "typhoon::general", %error, "reload: exec failed; retrying");
        last = Some(error);
        if let Err(errno) = set_inheritable(&sockets, false) {
            return AutoreloadError::Sockets(errno.into());
        }
        sleep(EXEC_RETRY).await;
    }
    drop(sockets);
    AutoreloadError::Exec {
        exe: next.exe.clone(),
        source: last.unwrap_or_else(|| std::io::Error::other("no attempt made")),
    }
}

/// Clears (`true`) or sets again (`false`) close-on-exec on `sockets`.
fn set_inheritable(sockets: &[TcpListener], inheritable: bool) -> rustix::io::Result<()> {
    for socket in sockets {
        let flags = rustix::io::fcntl_getfd(socket)?;
        let flags = if inheritable {
            flags - rustix::io::FdFlags::CLOEXEC
        } else {
            flags | rustix::io::FdFlags::CLOEXEC
        };
        rustix::io::fcntl_setfd(socket, flags)?;
    }
    Ok(())
}
