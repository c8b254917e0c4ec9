//! Listening sockets inherited from the process that started this one: systemd's socket
//! activation (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDS_FIRST_FD`, as systemd and systemfd pass
//! them), and Typhoon's own re-exec on reload (`TYPHOON_LISTEN_FDS`, `TYPHOON_LISTEN_PID`).

use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// The variable naming the fds a reloading Typhoon process passes to its next self:
/// comma-separated fd numbers.
pub const TYPHOON_LISTEN_FDS: &str = "TYPHOON_LISTEN_FDS";
/// The pid `TYPHOON_LISTEN_FDS` is meant for (the same process, after `exec`).
pub const TYPHOON_LISTEN_PID: &str = "TYPHOON_LISTEN_PID";

/// Whether the environment's fds were taken already.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The listening sockets this process inherited, once: the first call takes them (later calls
/// return none), with close-on-exec set again.
///
/// Two protocols are read:
///
/// - **systemd's socket activation** (also systemfd's): `LISTEN_FDS=n` sockets starting at fd
///   `LISTEN_FDS_FIRST_FD` (default 3), for the process `LISTEN_PID`, which must be this one
///   (systemfd's `--no-pid`, which leaves it out, is not accepted: see below);
/// - **Typhoon's reload** (`typhoon-autoreload`): `TYPHOON_LISTEN_FDS=7,8` for the process
///   `TYPHOON_LISTEN_PID`, which must be this one (an `exec` keeps the pid).
///
/// Only fds that are open, listening TCP (IPv4 or IPv6) stream sockets are taken; anything
/// else named (a Unix-domain socket, a closed fd) is left alone. Both protocols name the
/// process the sockets are for: a child that inherits the variables but not the sockets (they
/// are close-on-exec again) is another pid and takes nothing, so no fd it opened itself can be
/// taken for an inherited one. The variables stay set (removing them is `unsafe` in this
/// edition); the pid check is what makes them harmless.
///
/// # Examples
///
/// ```
/// // Started without socket activation: nothing inherited.
/// assert!(typhoon_ioloop::take_inherited_listeners().is_empty());
/// ```
pub fn take_inherited_listeners() -> Vec<OwnedFd> {
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Vec::new();
    }
    let pid = rustix::process::getpid().as_raw_nonzero().get();
    let mut fds = Vec::new();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    // systemd's: LISTEN_PID must name this process. Without it, a child that inherited the
    // variables (but not the sockets) could take an fd of its own for an inherited one.
    if let Some(count) = var("LISTEN_FDS").and_then(|n| n.trim().parse::<RawFd>().ok())
        && var("LISTEN_PID").and_then(|p| p.trim().parse::<i32>().ok()) == Some(pid)
    {
        let first = var("LISTEN_FDS_FIRST_FD")
            .and_then(|n| n.trim().parse::<RawFd>().ok())
            .unwrap_or(3);
        fds.extend((0..count.clamp(0, 1024)).filter_map(|i| first.checked_add(i)));
    }
    // Typhoon's: always for this very process.
    if let Some(list) = var(TYPHOON_LISTEN_FDS)
        && var(TYPHOON_LISTEN_PID).and_then(|p| p.trim().parse::<i32>().ok()) == Some(pid)
    {
        fds.extend(
            list.split(',')
                .filter_map(|fd| fd.trim().parse::<RawFd>().ok()),
        );
    }
    fds.sort_unstable();
    fds.dedup();
    fds.into_iter()
        .filter_map(crate::sys::adopt_inherited_listener)
        .filter_map(|fd| {
            // Close-on-exec again: a child this process starts must not inherit it.
            let flags = rustix::io::fcntl_getfd(&fd).ok()?;
            rustix::io::fcntl_setfd(&fd, flags | rustix::io::FdFlags::CLOEXEC).ok()?;
            Some(fd)
        })
        .collect()
}
