//! Run with: cargo run --example webspider -- --base-url=http://127.0.0.1:8888/ --concurrency=10
//!
//! Tornado's `demos/webspider`: crawls every page linked under `--base-url` with
//! `--concurrency` workers, printing each URL as it is fetched and a summary at the end. The
//! crawler is in `examples/src/webspider.rs`. Without `--base-url` it serves a small linked
//! site of its own on a free loopback port and crawls that, so it needs no network.

use std::time::Duration;

use typhoon_examples::webspider::crawl;
use typhoon_ioloop::IOLoop;
use typhoon_options::{OptionDef, define, parse_command_line};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// A page of the built-in site: links to the next pages and one outside the base URL.
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let n: u32 = cx
            .path_args()
            .first()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let links: String = [n + 1, n + 2]
            .iter()
            .filter(|next| **next < 10)
            .map(|next| format!("<a href=\"/site/{next}\">page {next}</a> "))
            .collect();
        cx.write(format!(
            "<html><body>page {n}: {links}<a href=\"/elsewhere\">out</a></body></html>"
        ));
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = define(OptionDef::new("base_url", None::<String>).help("where to start"))?;
    let concurrency = define(OptionDef::new("concurrency", 10_usize).help("concurrent fetches"))?;
    parse_command_line()?;

    let ioloop = IOLoop::current();
    let (base_url, _server) = match base_url.get() {
        Some(url) => (url, None),
        None => {
            let server = Application::new(vec![route(r"/site/([0-9]+)", || Page)]).into_server();
            let addr = server.listen(0, Some("127.0.0.1"))?[0];
            (format!("http://{addr}/site/"), Some(server))
        }
    };
    let start = format!("{base_url}{}", if _server.is_some() { "0" } else { "" });
    let found = ioloop.run_sync(async move {
        let mut found = crawl(&start, concurrency.get(), Duration::from_secs(300), true).await?;
        // Tornado's demo starts at the base URL itself; the built-in site starts at page 0.
        found.fetching.retain(|url| url.starts_with(&base_url));
        Ok::<_, typhoon_ioloop::LoopError>(found)
    })?;
    println!("fetched: {:?}", found.fetched);
    Ok(())
}
