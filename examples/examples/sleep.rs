//! Run with: cargo run --release --example sleep -- --port=8888
//!
//! The synchronous-vs-asynchronous experiment from the Tornado performance articles (the app
//! is in `examples/src/sleep.rs`): a blocking sleep on the loop
//! next to the two ways out. Try, each in its own terminal while the first runs:
//!
//! ```text
//! curl -N http://127.0.0.1:8888/sync-sleep       # A: blocks the loop for 1 s
//! curl    http://127.0.0.1:8888/now              # C: waits for A to finish
//! curl -N http://127.0.0.1:8888/async-sleep      # B: a loop timer; C stays instant
//! curl -N http://127.0.0.1:8888/executor-sleep   # D: A's sleep on the pool; C stays instant
//! ```
//!
//! `--sleep=250ms` changes the sleep; `--loops=N` runs N loops (threads) on the one port, so up
//! to N A requests can sleep at once when the kernel gives their connections to different
//! loops. Ctrl-C (or SIGTERM) stops it.

use std::time::Duration;

use typhoon_examples::sleep::{DEFAULT_SLEEP, start};
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let loops =
        define(OptionDef::new("loops", 1_usize).help("event loops (threads) sharing the port"))?;
    let sleep = define(
        OptionDef::new("sleep", DEFAULT_SLEEP).help("how long the sleeping endpoints sleep"),
    )?;
    parse_command_line()?;
    if sleep.get() > Duration::from_secs(3600) {
        return Err("--sleep is at most 1h".into());
    }

    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    let server = start(loops.get().max(1), port.get(), &address.get(), sleep.get())?;
    let base = format!("http://{}", server.local_addr());
    println!(
        "sleep listening on {base} ({} loop(s), sleeping {:?})",
        server.loops(),
        sleep.get()
    );
    println!("  A {base}/sync-sleep  B {base}/async-sleep  C {base}/now  D {base}/executor-sleep");
    signals.forever().next();
    server.stop();
    Ok(())
}
