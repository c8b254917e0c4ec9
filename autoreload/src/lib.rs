//! Tornado's `tornado.autoreload` for Typhoon: when the running binary is rebuilt (or a
//! watched file changes), the process re-executes itself, and no client notices.
//!
//! Tornado closes its sockets and re-execs, so connections are refused and requests in progress
//! are aborted while it restarts. Typhoon keeps the listening sockets open across the `exec`
//! and passes them to the new program (the protocol of systemd's socket activation, under
//! `TYPHOON_LISTEN_FDS`), so connections made meanwhile wait in the kernel's backlog; before
//! the `exec`, the old program stops accepting and lets requests in flight finish
//! ([`HTTPServer::shutdown`]). The new program's
//! [`bind_sockets`](typhoon_iostream::netutil::bind_sockets) adopts the sockets of its ports.
//!
//! The developer's loop: run the app with `--debug` (which turns this on in `typhoon-web`),
//! and rebuild on every edit in another terminal (`cargo watch -x build`, `bacon`,
//! `watchexec -e rs cargo build`). The old binary serves while cargo compiles; when cargo
//! replaces it, the new one takes over. Templates and static files reload without a restart
//! in debug mode already.
//!
//! It stays off in children of `fork_processes` (as Tornado's), and it serves the servers
//! of the loop that called [`start`]: one loop per process.
//!
//! # Examples
//!
//! ```no_run
//! use std::time::Duration;
//! use typhoon_httpserver::HTTPServer;
//! use typhoon_ioloop::IOLoop;
//!
//! let server = HTTPServer::new(|_request, mut response| async move { response.write(b"v1") });
//! server.listen(8888, Some("127.0.0.1"))?;
//! typhoon_autoreload::serve(&server); // its sockets pass on, its requests finish first
//! typhoon_autoreload::watch("config.toml"); // also restart when this changes
//! typhoon_autoreload::add_reload_hook(|| println!("restarting"));
//! typhoon_autoreload::start(Duration::from_millis(500))?;
//! IOLoop::current().start();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | (none) | the crate has no optional parts; `typhoon-web`'s `autoreload` feature uses it for `Settings::debug` | |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod reexec;
mod watch;

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::{IOLoop, PeriodicCallback};

pub use crate::error::AutoreloadError;
use crate::reexec::NextProcess;
use crate::watch::{Stamp, Watched};

/// How long the old program lets requests in flight finish before the `exec`
/// ([`set_drain_grace`]): short, since connections made meanwhile wait for the new program, and
/// a long-poll or a WebSocket (closed with 1001 by the drain) should not hold every reload.
pub const DEFAULT_DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Whether a loop of this process runs the checks.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Whether [`disable`] was called.
static DISABLED: AtomicBool = AtomicBool::new(false);

/// What this loop's autoreload knows.
#[derive(Default)]
struct State {
    /// Files added with [`watch`], before or after [`start`].
    files: Vec<Watched>,
    /// Servers whose sockets pass on and whose connections drain.
    servers: Vec<HTTPServer>,
    /// Run before the `exec`.
    hooks: Vec<Box<dyn FnOnce()>>,
    /// The drain's grace.
    grace: Option<Duration>,
    /// The checks, once started.
    checker: Option<PeriodicCallback>,
    /// A reload is under way.
    reloading: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Also restarts when the file at `path` changes (Tornado's `watch`); the running
/// executable is always watched.
pub fn watch(path: impl AsRef<Path>) {
    let path = path.as_ref().to_path_buf();
    STATE.with_borrow_mut(|state| {
        if !state.files.iter().any(|file| file.path == path) {
            state.files.push(Watched::new(path));
        }
    });
}

/// Runs `hook` just before the process re-executes (Tornado's `add_reload_hook`), after the
/// servers have drained: to flush a file, say.
pub fn add_reload_hook(hook: impl FnOnce() + 'static) {
    STATE.with_borrow_mut(|state| state.hooks.push(Box::new(hook)));
}

/// Passes `server`'s listening sockets to the next program, and lets its requests in flight
/// finish before the `exec`. Register every server of the loop that calls [`start`]; a server
/// registered twice counts once.
pub fn serve(server: &HTTPServer) {
    STATE.with_borrow_mut(|state| {
        if !state.servers.contains(server) {
            state.servers.push(server.clone());
        }
    });
}

/// Turns autoreload off for this process: [`start`] does nothing from now on. Test harnesses
/// call it (`typhoon-testing` does), since a test binary is no program to re-execute even when
/// the app under test is in debug mode.
pub fn disable() {
    DISABLED.store(true, Ordering::SeqCst);
}

/// How long requests in flight may take to finish before the `exec` (default
/// [`DEFAULT_DRAIN_GRACE`]); what outlasts it is cut.
pub fn set_drain_grace(grace: Duration) {
    STATE.with_borrow_mut(|state| state.grace = Some(grace));
}

/// Whether autoreload is checking, in this process.
pub fn is_running() -> bool {
    STARTED.load(Ordering::SeqCst) && !DISABLED.load(Ordering::SeqCst)
}

/// Starts checking, every `check_time` on the current loop, whether the running executable
/// or a [`watch`]ed file changed (Tornado's `start(check_time=500)`); on a change that has
/// settled (the same on two checks, so a build is done writing), reloads. Starting again on
/// the same loop does nothing; in a child of `fork_processes` it does nothing either.
///
/// If the new program cannot be executed after the servers drained, the error is logged and
/// the process exits with status 1 (it no longer serves).
///
/// # Errors
///
/// [`AutoreloadError::CurrentExe`] when the executable's path is unknown,
/// [`AutoreloadError::OtherThread`] when another thread of this process started it.
pub fn start(check_time: Duration) -> Result<(), AutoreloadError> {
    if DISABLED.load(Ordering::SeqCst) {
        return Ok(());
    }
    if typhoon_iostream::process::task_id().is_some() {
        tracing::info!(target: "typhoon::general", "autoreload is off in forked children");
        return Ok(());
    }
    if STATE.with_borrow(|state| state.checker.is_some()) {
        return Ok(());
    }
    if STARTED.swap(true, Ordering::SeqCst) {
        return Err(AutoreloadError::OtherThread);
    }
    let exe = match current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            STARTED.store(false, Ordering::SeqCst);
            return Err(error);
        }
    };
    let next = std::rc::Rc::new(NextProcess {
        exe: exe.clone(),
        args: std::env::args_os().skip(1).collect::<Vec<OsString>>(),
    });
    let mut binary = Watched::new(exe);
    let checker = PeriodicCallback::new(
        move || {
            let mut changed: Option<PathBuf> = None;
            if binary.changed(Stamp::of(&binary.path)) {
                changed = Some(binary.path.clone());
            }
            STATE.with_borrow_mut(|state| {
                for file in &mut state.files {
                    if file.changed(Stamp::of(&file.path)) && changed.is_none() {
                        changed = Some(file.path.clone());
                    }
                }
            });
            let Some(path) = changed else { return };
            begin_reload(&path, &next);
        },
        check_time,
    );
    checker.start();
    STATE.with_borrow_mut(|state| state.checker = Some(checker));
    Ok(())
}

/// Starts the reload, once.
fn begin_reload(path: &Path, next: &std::rc::Rc<NextProcess>) {
    let taken = STATE.with_borrow_mut(|state| {
        if state.reloading {
            return None;
        }
        state.reloading = true;
        Some((
            std::mem::take(&mut state.servers),
            std::mem::take(&mut state.hooks),
            state.grace.unwrap_or(DEFAULT_DRAIN_GRACE),
        ))
    });
    let Some((servers, hooks, grace)) = taken else {
        return;
    };
    tracing::info!(target: "typhoon::general", "{} modified; restarting server", path.display());
    let next = std::rc::Rc::clone(next);
    IOLoop::current()
        .spawn(async move {
            let error = reexec::reload(servers, grace, hooks, &next).await;
            tracing::error!(target: "typhoon::general", error = %error, cause = ?std::error::Error::source(&error), "autoreload failed; exiting");
            std::process::exit(1);
        })
        .detach();
}

/// The running executable's path as it was started: Linux reports a replaced binary as
/// `"<path> (deleted)"` (rust-lang/rust#69343), which names the file cargo put in its place.
fn current_exe() -> Result<PathBuf, AutoreloadError> {
    let exe = std::env::current_exe().map_err(AutoreloadError::CurrentExe)?;
    let text = exe.to_string_lossy();
    Ok(match text.strip_suffix(" (deleted)") {
        Some(original) => PathBuf::from(original),
        None => exe,
    })
}
