//! Calls per second through typhoon-platform's bridge (a Typhoon loop awaiting a trivial future
//! run on the bridge's one-worker tokio runtime), at 1 and 64 calls in flight, against the
//! same calls made from a task of that tokio runtime itself (`tokio::spawn(..).await`), the
//! direct call the issue compares with. Prints `key=value` lines for bench/platform.sh.
//!
//! Usage: `platform-bridge CALLS`.

use std::time::Instant;

use typhoon_ioloop::{IOLoop, join_all};
use typhoon_platform::TokioBridge;

/// Rounds of `in_flight` concurrent calls, `calls` in all; returns seconds.
async fn bridged(bridge: &TokioBridge, calls: usize, in_flight: usize) -> f64 {
    let start = Instant::now();
    for round in 0..calls / in_flight {
        let results =
            join_all((0..in_flight).map(|i| bridge.spawn(async move { round + i }))).await;
        assert!(results.iter().all(Result::is_ok));
    }
    start.elapsed().as_secs_f64()
}

/// The same rounds from a task of the tokio runtime.
async fn direct(calls: usize, in_flight: usize) -> f64 {
    let start = Instant::now();
    for round in 0..calls / in_flight {
        let handles: Vec<_> = (0..in_flight)
            .map(|i| tokio::spawn(async move { round + i }))
            .collect();
        for handle in handles {
            assert!(handle.await.is_ok());
        }
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let bridge = TokioBridge::from_handle(runtime.handle().clone());
    for in_flight in [1, 64] {
        // Warm-up, then the measured run, for each side.
        let typhoon = IOLoop::new();
        let b = bridge.clone();
        typhoon.run_sync(async move { bridged(&b, calls / 10, in_flight).await });
        let b = bridge.clone();
        let via_bridge = typhoon.run_sync(async move { bridged(&b, calls, in_flight).await });
        let via_tokio = runtime.block_on(async move {
            tokio::spawn(async move {
                direct(calls / 10, in_flight).await;
                direct(calls, in_flight).await
            })
            .await
            .expect("direct")
        });
        println!(
            "in_flight={in_flight} bridge_us_per_call={:.2} bridge_calls_per_sec={:.0} tokio_us_per_call={:.2} tokio_calls_per_sec={:.0}",
            via_bridge * 1e6 / calls as f64,
            calls as f64 / via_bridge,
            via_tokio * 1e6 / calls as f64,
            calls as f64 / via_tokio
        );
    }
}
