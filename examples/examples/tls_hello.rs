//! Run with: cargo run --release --example tls_hello -- --port=8888
//!
//! Hello world over HTTPS (the app is in `examples/src/tls_hello.rs`). By default it serves
//! the test certificate for `localhost` from `examples/fixtures`, so:
//!
//! ```text
//! curl --cacert examples/fixtures/ca.pem https://localhost:8888/
//! ```
//!
//! says `Hello, world (over https)`. `--certfile=chain.pem --keyfile=key.pem` serve your own.

use typhoon_examples::tls_hello::{default_certfile, default_keyfile, make_server, test_ca};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let certfile = define(
        OptionDef::new("certfile", default_certfile()).help("PEM certificate chain to serve"),
    )?;
    let keyfile =
        define(OptionDef::new("keyfile", default_keyfile()).help("PEM private key of --certfile"))?;
    parse_command_line()?;

    let server = make_server(certfile.get(), keyfile.get())?;
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!("tls_hello listening on https://{addr}");
    }
    if certfile.get() == default_certfile() {
        println!(
            "  (test certificate for localhost: curl --cacert {} https://localhost:{}/)",
            test_ca().display(),
            port.get()
        );
    }
    IOLoop::current().start();
    Ok(())
}
