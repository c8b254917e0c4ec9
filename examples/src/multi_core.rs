//! Several event loops on one port: one loop per thread, each with its own listening socket
//! (`SO_REUSEPORT`) and its own application, the kernel spreading connections among them.
//! This is Typhoon's answer to Tornado's multi-process `server.start(n)`, in one process.
//!
//! Every answer names the loop (and thread) that served it, so repeated requests on new
//! connections show the spread.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use typhoon_httpserver::HTTPServer;
use typhoon_iostream::{MultiLoopServer, start_loops};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// How many loops to run by default: one per CPU.
pub fn default_loops() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Answers `GET /` with JSON naming the loop that served the request.
#[derive(Debug)]
pub struct WhoHandler {
    /// This loop's index, from 0.
    pub loop_id: usize,
    /// How many loops serve the port.
    pub loops: usize,
}

impl RequestHandler for WhoHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let thread = std::thread::current();
        cx.write_json(&json!({
            "loop": self.loop_id,
            "loops": self.loops,
            "thread": thread.name().unwrap_or("unnamed"),
            "pid": std::process::id(),
        }))?;
        Ok(())
    }
}

/// The application of loop `loop_id` of `loops`.
pub fn make_app(loop_id: usize, loops: usize) -> Application {
    Application::new(vec![route("/", move || WhoHandler { loop_id, loops })])
}

/// Serves on `loops` loops (at least one), in threads of their own, sharing `address:port`
/// (port 0 picks a free one); each loop builds its own application, numbered from 0.
///
/// # Errors
///
/// If binding fails or a loop's thread cannot start.
pub fn start(
    loops: usize,
    port: u16,
    address: &str,
) -> std::io::Result<MultiLoopServer<HTTPServer>> {
    let loops = loops.max(1);
    let next = Arc::new(AtomicUsize::new(0));
    start_loops(loops, port, address, move || {
        // start_loops builds the loops' servers one after the other, so ids are 0..loops.
        let loop_id = next.fetch_add(1, Ordering::Relaxed) % loops;
        make_app(loop_id, loops).into_server()
    })
}
