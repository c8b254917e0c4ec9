//! Run with: cargo run --example ioloop_echo -- --port=8888
//!
//! A line-echo TCP server on the bare event loop (no stream or HTTP layer): try it with
//! `nc 127.0.0.1 8888` and type lines. `--help` lists the options.

use std::net::{IpAddr, SocketAddr};

use typhoon_examples::echo::{EchoConfig, EchoServer};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address = define(
        OptionDef::new("address", IpAddr::from([127, 0, 0, 1])).help("address to listen on"),
    )?;
    let max_line = define(
        OptionDef::new("max_line", 64 * 1024_usize).help("longest line accepted, in bytes"),
    )?;
    let idle_timeout = define(
        OptionDef::new("idle_timeout", std::time::Duration::from_secs(60))
            .help("close connections silent for this long"),
    )?;
    // Also `--logging=debug` and friends (Tornado's logging options).
    parse_command_line()?;

    let config = EchoConfig {
        max_line: max_line.get(),
        idle_timeout: idle_timeout.get(),
        ..EchoConfig::default()
    };
    let addr = EchoServer::listen(SocketAddr::new(address.get(), port.get()), config)?;
    println!(
        "echo server listening on {addr} (nc {} {})",
        addr.ip(),
        addr.port()
    );
    IOLoop::current().start();
    Ok(())
}
