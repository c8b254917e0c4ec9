//! Helpers shared by the ioloop integration tests.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use typhoon_ioloop::IOLoop;

/// Every test is bounded by this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `future` on a fresh loop, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    IOLoop::new()
        .run_sync_timeout(TEST_TIMEOUT, future)
        .expect("test timed out")
}

pub fn assert_send<T: Send>() {}
pub fn assert_sync<T: Sync>() {}

/// A buffer that collects formatted log lines.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a subscriber on this thread that records every event, and returns the log.
pub fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_target(true)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, buffer.contents())
}

/// Sets a flag when dropped: proves a future was dropped.
pub struct DropFlag(pub std::rc::Rc<std::cell::Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
