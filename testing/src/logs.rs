//! Capturing what Typhoon logs (Tornado's `ExpectLog`, as a capture to assert on).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use regex::Regex;

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

/// The message of a formatted line if it was logged on `target`: the text after
/// `target: ` (span names may come before it).
fn message_on<'a>(line: &'a str, target: &str) -> Option<&'a str> {
    let marker = format!(" {target}: ");
    line.find(&marker).map(|at| &line[at + marker.len()..])
}

/// Compiles a test's pattern.
fn compile(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(regex) => regex,
        Err(error) => panic!("invalid log pattern {pattern:?}: {error}"),
    }
}

/// Runs `f` and checks that it logged a message on `target` matching the regular expression
/// `pattern` (Tornado's `ExpectLog(logger, regex)`); returns `f`'s result.
///
/// The pattern is searched for in each message (with its `key=value` fields), as
/// `Regex::is_match` does; anchor it with `^` for Tornado's `re.match`. A plain string with no
/// regex syntax matches as a substring.
///
/// # Panics
///
/// If no such message was logged (the panic shows what was), or if `pattern` is not a valid
/// regular expression.
///
/// # Examples
///
/// ```
/// use typhoon_testing::expect_log;
///
/// expect_log("typhoon::general", r"^connection from 127\.0\.0\.1:\d+ closed", || {
///     tracing::info!(target: "typhoon::general", "connection from 127.0.0.1:5678 closed");
/// });
/// ```
pub fn expect_log<R>(target: &str, pattern: &str, f: impl FnOnce() -> R) -> R {
    let regex = compile(pattern);
    let (result, log) = capture_logs(f);
    let found = log
        .lines()
        .filter_map(|line| message_on(line, target))
        .any(|message| regex.is_match(message));
    assert!(
        found,
        "expected a log message on {target} matching {pattern:?}; got:\n{log}"
    );
    result
}

/// Runs `f` and checks that it logged no message on `target` matching the regular expression
/// `pattern` (Tornado's `ExpectLog(..., required=False)` turned around: the line must not be
/// there).
///
/// # Panics
///
/// If such a message was logged, or if `pattern` is not a valid regular expression.
pub fn expect_no_log<R>(target: &str, pattern: &str, f: impl FnOnce() -> R) -> R {
    let regex = compile(pattern);
    let (result, log) = capture_logs(f);
    let found = log
        .lines()
        .find(|line| message_on(line, target).is_some_and(|message| regex.is_match(message)));
    assert!(
        found.is_none(),
        "unexpected log message on {target}: {found:?}"
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

    #[test]
    fn expect_log_matches_a_regex() {
        expect_log("typhoon::general", r"^Uncaught exception GET /\d+", || {
            tracing::error!(target: "typhoon::general", "Uncaught exception GET /42 (127.0.0.1)");
        });
        // Anchored: the pattern must start the message, not the line's prefix.
        let missed = std::panic::catch_unwind(|| {
            expect_log("typhoon::general", r"^exception", || {
                tracing::error!(target: "typhoon::general", "Uncaught exception");
            });
        });
        assert!(missed.is_err());
        // Regex syntax is not taken literally.
        let missed = std::panic::catch_unwind(|| {
            expect_log("typhoon::general", r"a.c", || {
                tracing::info!(target: "typhoon::general", "abd");
            });
        });
        assert!(missed.is_err());
        expect_log("typhoon::general", r"a.c", || {
            tracing::info!(target: "typhoon::general", "xabcx");
        });
    }

    #[test]
    fn expect_log_checks_the_target() {
        let missed = std::panic::catch_unwind(|| {
            expect_log("typhoon::general", "hello", || {
                tracing::info!(target: "typhoon::access", "hello");
            });
        });
        assert!(missed.is_err());
    }

    #[test]
    fn expect_no_log_fails_on_a_match() {
        let found = std::panic::catch_unwind(|| {
            expect_no_log("typhoon::general", r"\d{3}", || {
                tracing::warn!(target: "typhoon::general", "status 500");
            });
        });
        assert!(found.is_err());
    }

    #[test]
    #[should_panic(expected = "invalid log pattern")]
    fn invalid_pattern_panics() {
        expect_log("typhoon::general", "(", || {});
    }
}
