//! Run with: cargo run --example tower_api -- --port=8888
//!
//! Typhoon handlers beside an axum `Router` under `/api`, on one server and one loop (the app
//! is in `examples/src/tower_api.rs`). Try:
//!
//! ```text
//! curl -d '{"text":"hello"}' -H 'Content-Type: application/json' http://127.0.0.1:8888/api/notes
//! curl http://127.0.0.1:8888/api/notes          # axum: [{"id":1,"text":"hello"}]
//! curl http://127.0.0.1:8888/                   # Typhoon: the same notes as a page
//! curl -T big.file http://127.0.0.1:8888/api/echo -X POST   # streamed back (1 MiB limit: 413)
//! curl 'http://127.0.0.1:8888/api/wait?ms=200'  # a tokio timer, through the bridge
//! ```

use typhoon_examples::tower_api::{Notes, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    parse_command_line()?;

    let server = make_app(Notes::default()).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("tower_api listening on http://{addr} (axum under /api)");
    }
    IOLoop::current().start();
    Ok(())
}
