//! Run with: cargo run --release --example httpserver_hello -- --port=8888
//!
//! The HTTP server with no web layer: every request gets `Hello, world` as `text/plain`. The
//! peer of nginx, Tornado and hyper in `bench/http.sh`.

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let loops =
        define(OptionDef::new("loops", 1_usize).help("event loops (threads) sharing the port"))?;
    parse_command_line()?;

    let make_server = || {
        HTTPServer::new(|_request, mut response| async move {
            let _ = response.set_header("Content-Type", "text/plain");
            response.write(b"Hello, world");
        })
    };
    if loops.get() > 1 {
        let server =
            typhoon_httpserver::start_loops(loops.get(), port.get(), &address.get(), make_server)?;
        println!(
            "httpserver_hello listening on http://{} ({} loops)",
            server.local_addr(),
            server.loops()
        );
        loop {
            std::thread::park();
        }
    }
    let server = make_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("httpserver_hello listening on http://{addr}");
    }
    IOLoop::current().start();
    Ok(())
}
