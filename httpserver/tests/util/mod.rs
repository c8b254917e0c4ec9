//! Helpers shared by the httpserver integration tests: the raw-HTTP helpers of
//! `typhoon-testing`, under the names these tests use.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::future::Future;
use std::time::Duration;

pub use typhoon_testing::{
    RawResponse as Response, capture_logs, connect, open_fds, raw_request as raw,
    raw_request_and_end, read_response, rss_kib, status_of,
};

/// Every test is bounded by this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `future` on a fresh loop, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    typhoon_testing::run_test_with_timeout(TEST_TIMEOUT, future)
}

/// Runs `future` on a fresh loop, failing the test if it takes longer than `limit`.
pub fn run_with_timeout<F>(limit: Duration, future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    typhoon_testing::run_test_with_timeout(limit, future)
}
