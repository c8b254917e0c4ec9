//! Run with: cargo run --example websocket_chat -- --port=8888
//!
//! Tornado's WebSocket chat demo: open http://127.0.0.1:8888/ in two browsers and talk.

use typhoon_examples::websocket_chat::{ChatRoom, WebSocketChatConfig, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    parse_command_line()?;

    let server = make_app(WebSocketChatConfig::default(), &ChatRoom::default()).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("websocket_chat listening on http://{addr}/");
    }
    IOLoop::current().start();
    Ok(())
}
