//! Run with: cargo run --example tcpecho -- --port=8888
//!
//! Tornado's `tcpecho` demo: every line a client sends comes back. With
//! `--certfile=cert.pem --keyfile=key.pem` (and the `tls` feature, on by default for the
//! examples) it serves TLS; try `openssl s_client -connect 127.0.0.1:8888`.

use typhoon_examples::tcpecho;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let certfile = define(
        OptionDef::new("certfile", None::<std::path::PathBuf>)
            .help("PEM certificate chain: serve TLS"),
    )?;
    let keyfile = define(
        OptionDef::new("keyfile", None::<std::path::PathBuf>)
            .help("PEM private key for --certfile"),
    )?;
    parse_command_line()?;

    let tls = match (certfile.get(), keyfile.get()) {
        (Some(cert), Some(key)) => Some(typhoon_iostream::tls::server_config_from_pem_files(
            cert,
            key,
            &[],
        )?),
        (None, None) => None,
        _ => return Err("--certfile and --keyfile go together".into()),
    };
    let scheme = if tls.is_some() { "tls" } else { "tcp" };
    let (_server, addrs) = tcpecho::listen(port.get(), &address.get(), tls)?;
    for addr in addrs {
        println!("tcpecho listening on {scheme}://{addr}");
    }
    IOLoop::current().start();
    Ok(())
}
