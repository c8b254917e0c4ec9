//! Run with: cargo run --release --example demo
//!
//! The README's demo server (the app is in `examples/src/demo.rs`): http://127.0.0.1:8888/ links
//! Tornado's hello world, the sleep experiment, the chat, the file upload, the blog and the
//! WebSocket chat, all served by this process. `--port=N` (the chat, upload, blog and WebSocket
//! chat take the next four ports),
//! `--address`, `--loops=N` (loops for the main port), `--sleep=1s`,
//! `--certfile`/`--keyfile` for HTTPS on every port, and `--debug` to reload when the binary is
//! rebuilt, refusing no connection. Ctrl-C or SIGTERM stops it.

use std::path::PathBuf;
use std::time::Duration;

use typhoon_examples::demo::{DemoConfig, start};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(
        OptionDef::new("port", 8888_u16)
            .help("the main port (chat, upload, blog, WebSocket chat: the next four)"),
    )?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let loops = define(
        OptionDef::new("loops", 1_usize).help("event loops (threads) for the main port's app"),
    )?;
    let sleep = define(
        OptionDef::new("sleep", typhoon_examples::sleep::DEFAULT_SLEEP)
            .help("how long the sleep endpoints sleep"),
    )?;
    let certfile = define(
        OptionDef::new("certfile", PathBuf::new()).help("PEM certificate chain: serve HTTPS"),
    )?;
    let keyfile = define(OptionDef::new("keyfile", PathBuf::new()).help("PEM private key"))?;
    let debug = define(OptionDef::new("debug", false).help(
        "reload when the binary is rebuilt (run `cargo build --example demo` after an edit)",
    ))?;
    parse_command_line()?;
    if sleep.get() > Duration::from_secs(3600) {
        return Err("--sleep is at most 1h".into());
    }

    let mut config = DemoConfig::new()?;
    config.loops = loops.get().max(1);
    config.sleep = sleep.get();
    config.debug = debug.get();
    if !certfile.get().as_os_str().is_empty() {
        config.tls = Some(typhoon_iostream::tls::server_config_from_pem_files(
            certfile.get(),
            keyfile.get(),
            &[b"http/1.1"],
        )?);
    }
    let demo = start(&address.get(), port.get(), &config)?;
    if debug.get() {
        demo.autoreload()?;
        println!(
            "debug: reloading when {} is rebuilt",
            std::env::current_exe()?.display()
        );
    }
    let urls = &demo.urls;
    println!("Typhoon demo on {}/", urls.main);
    println!("  hello world   {}/hello", urls.main);
    println!(
        "  sleep A/B/C/D {0}/sync-sleep {0}/async-sleep {0}/now {0}/executor-sleep",
        urls.main
    );
    println!("  chat          {}/", urls.chat);
    println!("  websocket     {}/", urls.websocket_chat);
    println!(
        "  upload        {}/  (files go to {})",
        urls.upload,
        config.upload_dir.display()
    );
    println!(
        "  blog          {}/  (sign in as demo / {})",
        urls.blog, config.blog_password
    );

    // SIGTERM/SIGINT: stop accepting and leave the loop (requests in flight are cut).
    let handle = IOLoop::current().handle();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            handle.stop();
        }
    });
    IOLoop::current().start();
    demo.stop();
    let _ = std::fs::remove_dir_all(&config.upload_dir);
    println!("demo stopped");
    Ok(())
}
