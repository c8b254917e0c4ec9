//! Run with: cargo run --release --example fetch_bench -- --url=http://127.0.0.1:8888/ --requests=20000 --concurrency=16
//!
//! Client throughput: `--requests` GETs of `--url` over keep-alive with `--concurrency` requests
//! in flight, through `AsyncHTTPClient`; prints requests per second. `bench/client.sh` runs it
//! against nginx beside a hyper client and Tornado's `AsyncHTTPClient`.

use std::time::Instant;

use typhoon_examples::fetch_bench::fetch_many;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        define(OptionDef::new("url", "http://127.0.0.1:8888/".to_owned()).help("what to fetch"))?;
    let requests = define(OptionDef::new("requests", 20_000_usize).help("how many requests"))?;
    let concurrency = define(OptionDef::new("concurrency", 1_usize).help("requests in flight"))?;
    parse_command_line()?;

    let (url, total, concurrency) = (url.get(), requests.get(), concurrency.get().max(1));
    let start = Instant::now();
    let ok = IOLoop::current().run_sync(async move { fetch_many(&url, total, concurrency).await });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "typhoon: {ok}/{total} ok in {seconds:.2} s: {:.0} req/s (concurrency {concurrency})",
        ok as f64 / seconds
    );
    Ok(())
}
