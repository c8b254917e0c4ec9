//! Run with: cargo run --release --example websocket_client_autobahn -- --url=ws://127.0.0.1:9001
//!
//! The WebSocket client under test of the Autobahn cases: start kosoku's fuzzing server first,
//! `kosoku -m fuzzingserver -x '12.*' -x '13.*' -o /tmp/reports-client 127.0.0.1:9001`, then
//! this; it runs every case (echoing each message, compression offered) and asks for the
//! reports, after which kosoku exits with 0 if every case passed.

use std::time::Instant;

use typhoon_examples::websocket_client_autobahn::{case_count, run_case, update_reports};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = define(
        OptionDef::new("url", "ws://127.0.0.1:9001".to_owned())
            .help("the fuzzing server's base URL"),
    )?;
    let max_message_size = define(
        OptionDef::new("max_message_size", 32_usize * 1024 * 1024)
            .help("the largest message, in bytes"),
    )?;
    parse_command_line()?;
    let base = url.get().trim_end_matches('/').to_owned();
    let max_message_size = max_message_size.get();

    IOLoop::new().run_sync(async move {
        let started = Instant::now();
        let count = case_count(&base).await?;
        println!("{count} cases");
        for case in 1..=count {
            if let Err(error) = run_case(&base, case, max_message_size).await {
                eprintln!("case {case}: {error}");
            }
        }
        update_reports(&base).await?;
        println!("ran {count} cases in {:.1?}", started.elapsed());
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
