//! Helpers shared by the ioloop integration tests.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::future::Future;
use std::time::Duration;

/// Every test is bounded by this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `future` on a fresh loop, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    typhoon_testing::run_test_with_timeout(TEST_TIMEOUT, future)
}

pub use typhoon_testing::{assert_send, assert_sync, capture_logs};

/// Sets a flag when dropped: proves a future was dropped.
pub struct DropFlag(pub std::rc::Rc<std::cell::Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
