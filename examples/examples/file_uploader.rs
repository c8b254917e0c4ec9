//! Run with: cargo run --release --example file_uploader -- --url=http://127.0.0.1:8888/upload FILE...
//!
//! Tornado's `demos/file_upload/file_uploader.py`: uploads files to the `file_upload` example,
//! as one `multipart/form-data` POST (default) or, with `--put`, one streamed PUT per file to
//! `<url>/<file name>`. Either way the body is read from the files in 64 KiB pieces as the
//! connection takes them (the requests are built in `examples/src/file_upload.rs`), so a file
//! larger than memory uploads fine. (`--port` and `--address` are the server's, used when
//! `--url` is not given.)

use std::path::PathBuf;

use typhoon_examples::file_upload::{multipart_request, put_request, safe_file_name};
use typhoon_httpclient::AsyncHTTPClient;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("the server's port"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("the server's address"))?;
    let url = define(
        OptionDef::new("url", None::<String>)
            .help("upload URL (default http://ADDRESS:PORT/upload)"),
    )?;
    let put = define(OptionDef::new("put", false).help("one streamed PUT per file, not a POST"))?;
    let files: Vec<PathBuf> = parse_command_line()?
        .into_iter()
        .map(PathBuf::from)
        .collect();
    if files.is_empty() {
        return Err("name at least one file to upload".into());
    }
    let url = url
        .get()
        .unwrap_or_else(|| format!("http://{}:{}/upload", address.get(), port.get()));

    IOLoop::current().run_sync(async move {
        let client = AsyncHTTPClient::new();
        if put.get() {
            for path in &files {
                // The server sanitises names anyway; doing it here keeps the URL plain.
                let name = path
                    .file_name()
                    .map(|n| safe_file_name(&n.to_string_lossy()))
                    .ok_or("a file name is needed")?;
                let target = format!("{}/{name}", url.trim_end_matches('/'));
                let response = client.fetch(put_request(&target, path)?).await?;
                println!("PUT {target}: {} {}", response.code, response.text());
            }
        } else {
            let response = client.fetch(multipart_request(&url, &files)?).await?;
            println!("POST {url}: {} {}", response.code, response.text());
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
