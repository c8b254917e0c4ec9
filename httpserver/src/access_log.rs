//! The access log: Tornado's line (`200 GET / (127.0.0.1) 0.42ms`) on `typhoon::access`, or
//! the application's own [`LogFunction`] (Tornado's `log_function` setting).

use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_httputil::h1::RequestHead;

/// What the access log knows of one finished request, for a [`LogFunction`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AccessRecord<'a> {
    /// The response's status (500 when the handler failed before answering).
    pub status: u16,
    /// The request's method.
    pub method: &'a str,
    /// The request's target, as sent (path and query).
    pub uri: &'a str,
    /// The client's address (after `xheaders`).
    pub remote_ip: &'a str,
    /// From the request's head being read to the response being finished.
    pub request_time: Duration,
}

impl AccessRecord<'_> {
    /// The `tracing` level Tornado logs this request at: info below 400, warn below 500,
    /// else error.
    pub fn level(&self) -> tracing::Level {
        match self.status {
            0..400 => tracing::Level::INFO,
            400..500 => tracing::Level::WARN,
            _ => tracing::Level::ERROR,
        }
    }
}

/// Tornado's access line: `200 GET / (127.0.0.1) 0.42ms`.
impl fmt::Display for AccessRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Milliseconds with two decimals (Tornado's `%.2fms`) in integer arithmetic, rounded
        // half up: float formatting was a third of the line's cost.
        let hundredths = (self.request_time.as_nanos() + 5_000) / 10_000;
        write!(
            f,
            "{} {} {} ({}) {}.{:02}ms",
            self.status,
            self.method,
            self.uri,
            self.remote_ip,
            hundredths / 100,
            hundredths % 100
        )
    }
}

/// Replaces the access log line (Tornado's `log_function` setting): called once per request
/// when its response is finished, instead of the `typhoon::access` event. It runs on the
/// request's loop, on the path of every request: keep it cheap.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use typhoon_httpserver::{AccessRecord, HTTPServerOptions};
///
/// let options = HTTPServerOptions {
///     log_function: Some(Rc::new(|record: &AccessRecord<'_>| {
///         if record.status >= 500 {
///             eprintln!("{record}"); // Tornado's line
///         }
///     })),
///     ..HTTPServerOptions::default()
/// };
/// # drop(options);
/// ```
pub type LogFunction = Rc<dyn Fn(&AccessRecord<'_>)>;

/// Logs a finished request: through `log_function` if the application set one, else as
/// Tornado's line at the level of its status, computed only when a subscriber listens there.
/// The event also carries the line's parts as fields, for structured subscribers (the
/// Tornado formatter of `typhoon-options` prints only the line).
pub(crate) fn log_access(
    log_function: Option<&LogFunction>,
    status: u16,
    head: &RequestHead,
    remote_ip: &str,
    start: Instant,
) {
    let record = |start: Instant| AccessRecord {
        status,
        method: head.method(),
        uri: head.target(),
        remote_ip,
        request_time: start.elapsed(),
    };
    if let Some(log_function) = log_function {
        log_function(&record(start));
        return;
    }
    let enabled = match status {
        0..400 => tracing::enabled!(target: "typhoon::access", tracing::Level::INFO),
        400..500 => tracing::enabled!(target: "typhoon::access", tracing::Level::WARN),
        _ => tracing::enabled!(target: "typhoon::access", tracing::Level::ERROR),
    };
    if !enabled {
        return;
    }
    let record = record(start);
    let (method, uri) = (record.method, record.uri);
    let ms = record.request_time.as_secs_f64() * 1000.0;
    match status {
        0..400 => {
            tracing::info!(target: "typhoon::access", status, method, uri, remote_ip, request_time_ms = ms, "{record}");
        }
        400..500 => {
            tracing::warn!(target: "typhoon::access", status, method, uri, remote_ip, request_time_ms = ms, "{record}");
        }
        _ => {
            tracing::error!(target: "typhoon::access", status, method, uri, remote_ip, request_time_ms = ms, "{record}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(request_time: Duration) -> String {
        AccessRecord {
            status: 200,
            method: "GET",
            uri: "/a?b=1",
            remote_ip: "127.0.0.1",
            request_time,
        }
        .to_string()
    }

    #[test]
    fn access_line_is_tornados_with_milliseconds_to_two_decimals() {
        assert_eq!(
            line(Duration::from_micros(420)),
            "200 GET /a?b=1 (127.0.0.1) 0.42ms"
        );
        assert_eq!(line(Duration::ZERO), "200 GET /a?b=1 (127.0.0.1) 0.00ms");
        assert_eq!(
            line(Duration::from_nanos(4_999)),
            "200 GET /a?b=1 (127.0.0.1) 0.00ms"
        );
        assert_eq!(
            line(Duration::from_nanos(5_000)),
            "200 GET /a?b=1 (127.0.0.1) 0.01ms"
        );
        assert_eq!(
            line(Duration::from_nanos(1_234_567_000)),
            "200 GET /a?b=1 (127.0.0.1) 1234.57ms"
        );
        assert_eq!(
            line(Duration::from_millis(7)),
            "200 GET /a?b=1 (127.0.0.1) 7.00ms"
        );
    }
}
