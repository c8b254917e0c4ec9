//! Tornado's pre-fork model (`tornado.process`): one supervisor, n worker processes, workers
//! restarted when they die.
//!
//! Rust cannot soundly `fork()` a process that may already run threads (and `fork` is `unsafe`),
//! so Typhoon gets the same topology by re-executing the current program n times with
//! `TYPHOON_TASK_ID` set: the supervisor only watches its children, each child serves on its own
//! loop. Children share the port with `SO_REUSEPORT` (bind with
//! [`BindOptions::reuse_port`](crate::netutil::BindOptions)), so the port must be
//! fixed, not 0. Inside one process, [`start_loops`](crate::start_loops) (threads) is usually the
//! better tool.

use std::io;
use std::process::{Child, Command};
use std::time::Duration;

/// The environment variable that carries a worker's task id.
pub const TASK_ID_ENV: &str = "TYPHOON_TASK_ID";

/// How often the supervisor checks its children.
const SUPERVISE_EVERY: Duration = Duration::from_millis(50);

/// This worker's task id (0..n), or `None` in a process not started by [`fork_processes`]
/// (Tornado's `task_id()`).
pub fn task_id() -> Option<usize> {
    std::env::var(TASK_ID_ENV).ok()?.parse().ok()
}

/// Starts `n` worker processes (0: one per CPU) running this same program, and returns the
/// worker's task id in each of them (Tornado's `fork_processes`). The calling process becomes
/// the supervisor and never returns: it restarts a worker that dies abnormally (a signal or a
/// non-zero exit), at most `max_restarts` times in all, and exits with status 0 once every
/// worker has exited cleanly.
///
/// Call it at the start of `main`, before creating loops, binding sockets or starting threads:
/// the workers re-run `main` from the top, and only they get past this call.
///
/// # Errors
///
/// In the supervisor only: a worker could not be started, or the restart budget ran out.
pub fn fork_processes(n: usize, max_restarts: usize) -> io::Result<usize> {
    if let Some(id) = task_id() {
        return Ok(id);
    }
    let n = if n == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        n
    };
    let mut children: Vec<Option<Child>> = Vec::with_capacity(n);
    for id in 0..n {
        children.push(Some(spawn_worker(id)?));
    }
    let mut restarts = 0;
    loop {
        let mut alive = 0;
        for (id, slot) in children.iter_mut().enumerate() {
            let Some(child) = slot else { continue };
            match child.try_wait()? {
                None => alive += 1,
                Some(status) if status.success() => {
                    tracing::info!(target: "typhoon::general", task_id = id, "worker exited");
                    *slot = None;
                }
                Some(status) => {
                    restarts += 1;
                    tracing::warn!(target: "typhoon::general", task_id = id, %status, restarts, "worker died; restarting");
                    if restarts > max_restarts {
                        return Err(io::Error::other(format!(
                            "worker {id} died ({status}) and the restart budget of {max_restarts} is spent"
                        )));
                    }
                    *slot = Some(spawn_worker(id)?);
                    alive += 1;
                }
            }
        }
        if alive == 0 {
            std::process::exit(0);
        }
        std::thread::sleep(SUPERVISE_EVERY);
    }
}

/// Runs this program again as worker `id`.
fn spawn_worker(id: usize) -> io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env(TASK_ID_ENV, id.to_string())
        .spawn()
}
