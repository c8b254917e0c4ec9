//! Run with: cargo run --example reload_probe -p typhoon-autoreload -- --port=8888
//!
//! A server that reloads itself when its binary changes, answering every request with the size
//! of the binary it runs from, so a client can tell which build served it. The reload test
//! (`tests/reload.rs`) swaps its binary three times under a client that never stops
//! connecting; try it by hand with `cargo build --example reload_probe -p typhoon-autoreload`
//! after an edit while it runs.

use std::time::Duration;

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let check_ms =
        define(OptionDef::new("check_ms", 500_u64).help("how often to check the binary"))?;
    parse_command_line()?;

    let size = std::fs::metadata(std::env::current_exe()?)?.len();
    let server = HTTPServer::new(move |_request, mut response| async move {
        response.write(size.to_string().as_bytes());
    });
    let addrs = server.listen(port.get(), Some("127.0.0.1"))?;
    typhoon_autoreload::serve(&server);
    typhoon_autoreload::set_drain_grace(Duration::from_secs(2));
    typhoon_autoreload::start(Duration::from_millis(check_ms.get()))?;
    println!("reload_probe {size} listening on http://{}", addrs[0]);
    IOLoop::current().start();
    Ok(())
}
