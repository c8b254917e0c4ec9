//! Run with: cargo run --release --example websocket_echo -- --port=9001
//!
//! A WebSocket echo server (text and binary, permessage-deflate offered, no pings, messages up
//! to 32 MiB): the server under test of the Autobahn cases, `kosoku 127.0.0.1:9001`.

use typhoon_examples::websocket_echo::make_app;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 9001_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let max_message_size = define(
        OptionDef::new("max_message_size", 32_usize * 1024 * 1024)
            .help("the largest message, in bytes"),
    )?;
    parse_command_line()?;

    let server = make_app(max_message_size.get()).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("websocket_echo listening on ws://{addr}/");
    }
    IOLoop::current().start();
    Ok(())
}
