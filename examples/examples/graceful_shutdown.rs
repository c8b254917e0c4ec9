//! Run with: cargo run --release --example graceful_shutdown -- --port=8888
//!
//! A web app that shuts down gracefully on SIGTERM or SIGINT (Ctrl-C); the logic is in
//! `examples/src/graceful_shutdown.rs`. Try:
//!
//! ```text
//! curl -N http://127.0.0.1:8888/slow &      # "started", then 5 s later "finished ..."
//! kill -TERM $(pgrep -n graceful_shutdown)  # while /slow runs
//! curl http://127.0.0.1:8888/               # refused: no new connections
//! ```
//!
//! The `/slow` request still completes (within `--grace`, default 10 s), then the program
//! exits and says how many connections it had to cut. `--slow=2s` changes `/slow`'s delay.

use std::time::Duration;

use typhoon_examples::graceful_shutdown::{DEFAULT_GRACE, DEFAULT_SLOW, make_app, serve_until};
use typhoon_ioloop::IOLoop;
use typhoon_ioloop::locks::Event;
use typhoon_options::{OptionDef, define, parse_command_line};

thread_local! {
    /// Set on the loop's thread when a termination signal arrives.
    static SHUTDOWN: Event = Event::new();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let grace = define(
        OptionDef::new("grace", DEFAULT_GRACE).help("how long requests in flight may finish"),
    )?;
    let slow = define(OptionDef::new("slow", DEFAULT_SLOW).help("how long /slow takes"))?;
    parse_command_line()?;
    if slow.get() > Duration::from_secs(3600) {
        return Err("--slow is at most 1h".into());
    }

    let ioloop = IOLoop::current();
    let server = make_app(slow.get()).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!(
            "graceful_shutdown listening on http://{addr} (pid {})",
            std::process::id()
        );
    }
    // Signals arrive on a thread of their own; the loop is told through its handle.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    let handle = ioloop.handle();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            println!("signal {signal}: shutting down gracefully");
            handle.add_callback(|| SHUTDOWN.with(Event::set));
        }
    });
    let grace = grace.get();
    let cut = ioloop.run_sync(async move {
        let stop = SHUTDOWN.with(Event::clone);
        serve_until(&server, async move { stop.wait().await }, grace).await
    });
    println!("graceful_shutdown stopped ({cut} connection(s) cut after the grace period)");
    Ok(())
}
