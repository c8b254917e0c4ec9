//! Run with: cargo run --release --example file_upload -- --port=8888
//!
//! Tornado's `demos/file_upload` server, streamed (the app is in
//! `examples/src/file_upload.rs`): uploads go to `--dir` (default: a new private
//! `typhoon-uploads-<random>` directory in the temp directory) piece by piece, never whole in memory, and each answer is a JSON summary
//! with sizes and SHA-256s.
//!
//! ```text
//! curl -F file=@README.md -F note=hi http://127.0.0.1:8888/upload    # multipart POST
//! curl -T README.md http://127.0.0.1:8888/upload/                     # streamed PUT
//! ```
//!
//! The 1 GiB check, by hand: the server's memory stays flat while a big body streams through.
//!
//! ```text
//! head -c 1G /dev/urandom > /tmp/big.bin
//! curl -T /tmp/big.bin http://127.0.0.1:8888/upload/ &
//! ps -o rss= -p $(pgrep -n file_upload)     # a few MiB, however far the upload is
//! sha256sum /tmp/big.bin                    # matches the "sha256" curl prints
//! ```
//!
//! The `file_uploader` example is the matching client.

use std::path::PathBuf;

use typhoon_examples::file_upload::{DEFAULT_MAX_BODY_SIZE, UploadConfig, make_app};
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let dir = define(OptionDef::new("dir", String::new()).help(
        "directory uploads are written to, created if missing (default: a new private \
             directory in the temp directory)",
    ))?;
    let max_body_size = define(
        OptionDef::new("max_body_size", DEFAULT_MAX_BODY_SIZE).help("largest upload, in bytes"),
    )?;
    parse_command_line()?;

    let dir: PathBuf = match dir.get() {
        // Never a fixed path in a shared temp directory: someone else could make it first.
        none if none.is_empty() => typhoon_examples::random::private_temp_dir("typhoon-uploads")?,
        dir => {
            std::fs::create_dir_all(&dir)?;
            PathBuf::from(dir)
        }
    };
    let config = UploadConfig {
        dir: dir.clone(),
        max_body_size: max_body_size.get(),
    };
    let server = make_app(config).into_server();
    for addr in server.listen(port.get(), Some(&address.get()))? {
        println!(
            "file_upload listening on http://{addr}, writing to {}",
            dir.display()
        );
    }
    IOLoop::current().start();
    Ok(())
}
