//! Run with: cargo run --release --example static_server -- --port=8888 --root=.
//!
//! Serves a directory over HTTP (the app is in `examples/src/static_server.rs`):
//! `curl -O http://127.0.0.1:8888/big.iso` streams with `sendfile(2)`, `curl -r 0-99` gets a
//! range, a second `curl -H 'If-None-Match: <etag>'` a 304. `bench/static.sh` compares it with
//! nginx serving the same file.

use typhoon_examples::static_server::make_app;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let root = define(OptionDef::new("root", ".".to_owned()).help("the directory to serve"))?;
    let gzip = define(OptionDef::new("gzip", false).help("gzip compressible files"))?;
    parse_command_line()?;

    let root = std::fs::canonicalize(root.get())?;
    let server = make_app(&root, gzip.get()).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("serving {} on http://{addr}/", root.display());
    }
    IOLoop::current().start();
    Ok(())
}
