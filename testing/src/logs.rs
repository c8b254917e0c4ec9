//! Capturing what Typhoon logs (Tornado's `ExpectLog`, as a capture to assert on).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// A shared buffer that collects formatted log lines.
#[derive(Clone, Debug, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything logged so far.
    pub fn contents(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a subscriber on this thread that records every event (all levels, with their
/// targets), and returns `f`'s result and the log text.
///
/// `tracing` caches per call site whether anyone listens; a test binary whose other tests run
/// call sites on other threads with no subscriber can race that cache, so keep log-asserting
/// tests in a test binary of their own when they must not flake.
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

/// Runs `f` and checks that it logged a line on `target` containing `needle` (Tornado's
/// `ExpectLog`); returns `f`'s result.
///
/// # Panics
///
/// If no such line was logged (the message shows what was).
pub fn expect_log<R>(target: &str, needle: &str, f: impl FnOnce() -> R) -> R {
    let (result, log) = capture_logs(f);
    let found = log
        .lines()
        .any(|line| line.contains(target) && line.contains(needle));
    assert!(
        found,
        "expected a log line on {target} containing {needle:?}; got:\n{log}"
    );
    result
}

/// Runs `f` and checks that it logged nothing on `target` containing `needle`.
///
/// # Panics
///
/// If such a line was logged.
pub fn expect_no_log<R>(target: &str, needle: &str, f: impl FnOnce() -> R) -> R {
    let (result, log) = capture_logs(f);
    let found = log
        .lines()
        .find(|line| line.contains(target) && line.contains(needle));
    assert!(
        found.is_none(),
        "unexpected log line on {target}: {found:?}"
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_log_finds_and_misses() {
        expect_log("typhoon::general", "hello", || {
            tracing::info!(target: "typhoon::general", "hello there");
        });
        expect_no_log("typhoon::general", "hello", || {
            tracing::info!(target: "typhoon::access", "hello elsewhere");
        });
        let missed = std::panic::catch_unwind(|| {
            expect_log("typhoon::general", "absent", || {});
        });
        assert!(missed.is_err());
    }
}
