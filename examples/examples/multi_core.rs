//! Run with: cargo run --release --example multi_core -- --port=8888
//!
//! N event loops (threads) sharing one port through `SO_REUSEPORT` (the app is in
//! `examples/src/multi_core.rs`), one per CPU unless `--loops=N` says otherwise. Each answer
//! names the loop that served it; new connections land on different loops:
//!
//! ```text
//! for i in $(seq 8); do curl -s http://127.0.0.1:8888/; echo; done
//! ```
//!
//! Ctrl-C (or SIGTERM) stops every loop.

use typhoon_examples::multi_core::{default_loops, start};
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let loops = define(
        OptionDef::new("loops", default_loops()).help("event loops (threads) sharing the port"),
    )?;
    parse_command_line()?;

    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    let server = start(loops.get(), port.get(), &address.get())?;
    println!(
        "multi_core listening on http://{} ({} loops)",
        server.local_addr(),
        server.loops()
    );
    signals.forever().next();
    server.stop();
    Ok(())
}
