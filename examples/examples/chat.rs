//! Run with: cargo run --release --example chat -- --port=8888
//!
//! Tornado's long-polling chat demo (the app is in `examples/src/chat.rs`, the page in
//! `examples/templates/chat/` and `examples/static/chat/`). Open http://127.0.0.1:8888/ in two
//! browsers, sign in with two names, and each sees the other's messages as they are posted.

use typhoon_examples::chat::{ChatConfig, MessageBuffer, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let debug = define(OptionDef::new("debug", false).help("reload templates, show tracebacks"))?;
    let cache_size =
        define(OptionDef::new("cache_size", 200_usize).help("how many messages the room keeps"))?;
    let cookie_secret = define(
        OptionDef::new("cookie_secret", String::new())
            .help("the key that signs the user cookie (random per run if empty)"),
    )?;
    let template_path = define(
        OptionDef::new("template_path", ChatConfig::default_template_path())
            .help("the directory of index.html, message.html and login.html"),
    )?;
    let static_path = define(
        OptionDef::new("static_path", ChatConfig::default_static_path())
            .help("the directory of chat.js and chat.css"),
    )?;
    parse_command_line()?;

    let config = ChatConfig {
        template_path: template_path.get(),
        static_path: static_path.get(),
        cookie_secret: match cookie_secret.get() {
            secret if secret.is_empty() => typhoon_examples::random::random_hex(32)?,
            secret => secret,
        },
        debug: debug.get(),
    };
    let buffer = MessageBuffer::new(cache_size.get());
    let server = make_app(config, &buffer).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("chat listening on http://{addr}");
    }
    IOLoop::current().start();
    Ok(())
}
