//! The synchronous-vs-asynchronous experiment from the Tornado performance articles: what a
//! blocking call does to an event loop, and the two ways out.
//!
//! Four endpoints, all on one loop unless `--loops=N` is given:
//!
//! | path | what it does | effect on the loop |
//! |---|---|---|
//! | `/sync-sleep` (A) | `std::thread::sleep` on the loop's thread | blocks it: every other request waits, A requests run one at a time |
//! | `/async-sleep` (B) | [`typhoon_ioloop::sleep`] | none: any number overlap, each takes one sleep |
//! | `/now` (C) | answers at once with the current time | the probe: it is slow exactly when the loop is blocked |
//! | `/executor-sleep` (D) | the blocking sleep moved to [`IOLoop::run_in_executor`] | none: the loop waits for the pool without blocking |
//!
//! The sleeping endpoints flush a first line (`sleeping ...`) before they sleep and write a
//! second (`slept ...`) after, so `curl -N` shows when the sleep starts, and a client knows the
//! server is inside the sleep once the first line has arrived (the tests use that to order
//! their probes without guessing).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::IOLoop;
use typhoon_iostream::{MultiLoopServer, start_loops};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// How long the sleeping endpoints sleep when `--sleep` is not given (the articles' 1 s).
pub const DEFAULT_SLEEP: Duration = Duration::from_secs(1);

/// The `/sync-sleep` handler (A): sleeps on the loop's own thread, blocking the loop.
#[derive(Debug)]
pub struct SyncSleepHandler {
    /// How long to sleep.
    pub sleep: Duration,
}

impl RequestHandler for SyncSleepHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        begin(cx, self.sleep, "on the loop's thread (blocking it)").await?;
        // The harm on purpose: nothing else runs on this loop until the sleep is over.
        std::thread::sleep(self.sleep);
        end(cx, self.sleep);
        Ok(())
    }
}

/// The `/async-sleep` handler (B): a loop timer; the loop serves others meanwhile.
#[derive(Debug)]
pub struct AsyncSleepHandler {
    /// How long to sleep.
    pub sleep: Duration,
}

impl RequestHandler for AsyncSleepHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        begin(cx, self.sleep, "on a loop timer").await?;
        typhoon_ioloop::sleep(self.sleep).await;
        end(cx, self.sleep);
        Ok(())
    }
}

/// The `/executor-sleep` handler (D): the same blocking sleep as A, on the loop's thread pool.
#[derive(Debug)]
pub struct ExecutorSleepHandler {
    /// How long to sleep.
    pub sleep: Duration,
}

impl RequestHandler for ExecutorSleepHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        begin(cx, self.sleep, "on the executor pool").await?;
        let sleep = self.sleep;
        // Blocking code (a sync database driver, say) belongs here: the loop awaits the pool.
        IOLoop::current()
            .run_in_executor(move || std::thread::sleep(sleep))
            .await?;
        end(cx, self.sleep);
        Ok(())
    }
}

/// The `/now` handler (C): the current time, at once.
#[derive(Debug)]
pub struct NowHandler;

impl RequestHandler for NowHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let now = SystemTime::now();
        let unix = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        cx.set_header("Content-Type", "text/plain; charset=UTF-8")?;
        cx.write(format!(
            "{} ({:.3} s since the epoch, served by {})\n",
            typhoon_httputil::format_timestamp(now),
            unix.as_secs_f64(),
            std::thread::current().name().unwrap_or("an unnamed thread"),
        ));
        Ok(())
    }
}

/// Sends the first line before a sleep, so the client sees the sleep begin.
async fn begin(cx: &mut Context, sleep: Duration, how: &str) -> Result<(), HTTPError> {
    cx.set_header("Content-Type", "text/plain; charset=UTF-8")?;
    cx.write(format!("sleeping {sleep:?} {how}\n"));
    cx.flush().await?;
    Ok(())
}

/// The line after a sleep.
fn end(cx: &mut Context, sleep: Duration) {
    cx.write(format!("slept {sleep:?}\n"));
}

/// The `sleep` example's application, its endpoints sleeping `sleep` each.
pub fn make_app(sleep: Duration) -> Application {
    Application::new(vec![
        route("/sync-sleep", move || SyncSleepHandler { sleep }),
        route("/async-sleep", move || AsyncSleepHandler { sleep }),
        route("/executor-sleep", move || ExecutorSleepHandler { sleep }),
        route("/now", || NowHandler),
    ])
}

/// Threads for `/executor-sleep`'s blocking sleeps: enough for the experiment's 40 concurrent
/// clients to sleep at once. The pool's default, 5 per CPU (10 on 2 CPUs; Tornado's is
/// `min(32, CPUs + 4)`), would make D queue: 40 one-second sleeps on 10 threads take 4 s.
pub const EXECUTOR_THREADS: usize = 64;

/// The application as a server on the current loop (what each loop of [`start`] runs); it
/// sizes that loop's executor to [`EXECUTOR_THREADS`].
pub fn make_server(sleep: Duration) -> HTTPServer {
    IOLoop::current().set_executor_threads(EXECUTOR_THREADS);
    make_app(sleep).into_server()
}

/// Serves the application on `loops` loops (threads) sharing `address:port` (port 0 picks a
/// free one), each loop with its own application; the caller's thread is not used.
///
/// With one loop, A blocks everything; with `n`, up to `n` A requests can sleep at once, if the
/// kernel spreads their connections over different loops (it hashes each connection, so it
/// may not).
///
/// # Errors
///
/// If binding fails or a loop's thread cannot start.
pub fn start(
    loops: usize,
    port: u16,
    address: &str,
    sleep: Duration,
) -> std::io::Result<MultiLoopServer<HTTPServer>> {
    start_loops(loops, port, address, move || make_server(sleep))
}
