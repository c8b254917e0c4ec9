//! hyper 1.x client (hyper-util's pooled legacy client) on a current_thread runtime: the peer of
//! `examples/fetch_bench`. Usage: hyper-client URL REQUESTS CONCURRENCY

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

fn main() {
    let mut args = std::env::args().skip(1);
    let url: hyper::Uri = args.next().expect("URL").parse().expect("valid URL");
    let total: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let start = Instant::now();
    let ok: usize = local.block_on(&rt, async move {
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(concurrency)
            .build_http::<Empty<Bytes>>();
        let mut workers = Vec::new();
        for worker in 0..concurrency {
            let (client, url) = (client.clone(), url.clone());
            let count = total / concurrency + usize::from(worker < total % concurrency);
            workers.push(tokio::task::spawn_local(async move {
                let mut ok = 0usize;
                for _ in 0..count {
                    if let Ok(response) = client.get(url.clone()).await
                        && response.into_body().collect().await.is_ok()
                    {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut ok = 0;
        for worker in workers {
            ok += worker.await.unwrap_or(0);
        }
        ok
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "hyper: {ok}/{total} ok in {seconds:.2} s: {:.0} req/s (concurrency {concurrency})",
        ok as f64 / seconds
    );
}
