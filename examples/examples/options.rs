//! Run with: cargo run --release --example options -- --port=8888
//!
//! `typhoon-options` at work (the definitions are in `examples/src/options.rs`): typed options
//! from the command line and a TOML file, and a page showing their effective values as JSON.
//!
//! ```text
//! cargo run --example options -- --help
//! printf 'debug = true\ntags = ["blue", "green"]\nrequest_timeout = "1m30s"\n' > /tmp/demo.toml
//! cargo run --example options -- --config=/tmp/demo.toml --port=8888 --tags=red
//! curl http://127.0.0.1:8888/    # {"debug":true,"request_timeout":"1m30s","tags":["red"],...}
//! ```
//!
//! The process-wide parser also has Tornado's logging options (`--logging=debug`, ...), which
//! the page shows too.

use typhoon_examples::options::{define_options, make_app, parse_args};
use typhoon_ioloop::IOLoop;
use typhoon_options::ParseOutcome;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let parser = typhoon_options::options();
    let options = define_options(parser)?;
    let args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let outcome = match parse_args(parser, &options, args) {
        Ok(outcome) => outcome,
        Err(error) => {
            // The error chain, not Debug: "unrecognized option `prot`; did you mean `port`?"
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    match outcome {
        ParseOutcome::Help(text) => {
            eprint!("{text}");
            return Ok(());
        }
        ParseOutcome::Remaining(rest) if !rest.is_empty() => {
            return Err(format!("unexpected arguments: {rest:?}").into());
        }
        ParseOutcome::Remaining(_) => {}
    }

    let server = make_app(parser, &options).into_server();
    for addr in server.listen(options.port.get(), Some(&options.address.get()))? {
        println!("options listening on http://{addr}");
    }
    IOLoop::current().start();
    Ok(())
}
