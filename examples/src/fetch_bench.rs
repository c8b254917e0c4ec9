//! The `fetch_bench` client: many keep-alive GETs through `AsyncHTTPClient`, a set number in
//! flight at once.

use std::rc::Rc;

use typhoon_httpclient::{AsyncHTTPClient, ClientOptions};
use typhoon_ioloop::IOLoop;

/// Fetches `url` `total` times with `concurrency` requests in flight (on the current loop's
/// tasks, one keep-alive connection each); returns how many answered 200.
pub async fn fetch_many(url: &str, total: usize, concurrency: usize) -> usize {
    let concurrency = concurrency.max(1);
    let client = Rc::new(AsyncHTTPClient::with_options(ClientOptions {
        max_clients: concurrency,
        max_idle_per_host: concurrency,
        ..ClientOptions::default()
    }));
    let ioloop = IOLoop::current();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, url) = (Rc::clone(&client), url.to_owned());
            let count = total / concurrency + usize::from(worker < total % concurrency);
            ioloop.spawn(async move {
                let mut ok = 0usize;
                for _ in 0..count {
                    if client.fetch(url.as_str()).await.is_ok() {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let mut ok = 0;
    for worker in workers {
        ok += worker.await.unwrap_or(0);
    }
    ok
}
