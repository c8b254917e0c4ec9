//! Run with: cargo run --example helloworld -- --port=8888 (add `--debug` to reload on rebuild)
//!
//! Tornado's hello world, ported line for line (the handler and the app are in
//! `examples/src/helloworld.rs`): `curl http://127.0.0.1:8888/` says `Hello, world`.

use typhoon_examples::helloworld::make_app_with;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};
use typhoon_web::Settings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let debug = define(
        OptionDef::new("debug", false).help(
            "debug mode: reload when the binary is rebuilt (`cargo build --example helloworld`), error chains on 500 pages",
        ),
    )?;
    parse_command_line()?;

    let app = make_app_with(Settings {
        debug: debug.get(),
        ..Settings::default()
    });
    let server = app.into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("helloworld listening on http://{addr}");
    }
    IOLoop::current().start();
    Ok(())
}
