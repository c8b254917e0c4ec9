//! Tornado's logging options and `enable_pretty_logging`, on `tracing` (Tornado's
//! `tornado.log`).
//!
//! [`define_logging_options`] adds `--logging=debug|info|warning|error|none`,
//! `--log-to-stderr`, `--log-file-prefix=PATH`, `--log-file-max-size`,
//! `--log-file-num-backups`, `--log-rotate-mode=size|time`, `--log-rotate-when` and
//! `--log-rotate-interval` and `--log_buffer_size` to a parser, with a parse callback that calls
//! [`enable_pretty_logging`]; the process-wide [`options()`](crate::options) has them already.
//! Lines look like Tornado's:
//!
//! ```text
//! [I 261126 05:40:00 server:42] listening on port 8888
//! ```
//!
//! level letter, local date and time (`%y%m%d %H:%M:%S`), the last segment of the module path
//! and the line, then the message and any other fields as `key=value` (but for the access
//! log, `typhoon::access`, whose fields repeat its line: only the line). On a terminal the
//! bracketed prefix is coloured by level, as Tornado does.
//!
//! The log file rotates by size (the default, Python's `RotatingFileHandler`) or, with
//! `--log-rotate-mode=time`, every `--log-rotate-interval` units of `--log-rotate-when`
//! (`S`, `M`, `H`, `D`, `midnight`, `W0`-`W6`; Python's `TimedRotatingFileHandler`), keeping
//! `--log-file-num-backups` rotated files either way.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use std::borrow::Cow;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

use crate::error::Result;
use crate::parser::{OptionDef, OptionParser};
use crate::types::{OptionType, Value};

mod batched;
mod rotate;

use crate::line_batch::LineSink;
use batched::{BatchedWriter, Stderr};
use std::sync::Arc;

pub use rotate::{LogRotateMode, RotateWhen};
use rotate::{RotatingFile, Rotation};

/// The value of `--logging`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLevel {
    /// `debug`: everything but `TRACE`.
    Debug,
    /// `info` (the default).
    Info,
    /// `warning` (also `warn`).
    Warning,
    /// `error` (also `critical`).
    Error,
    /// `none`: leave logging alone; no subscriber is installed.
    None,
}

impl LogLevel {
    /// The level's name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::None => "none",
        }
    }

    /// The `tracing` filter for this level; `None` for [`LogLevel::None`].
    pub fn to_level_filter(self) -> Option<LevelFilter> {
        match self {
            Self::Debug => Some(LevelFilter::DEBUG),
            Self::Info => Some(LevelFilter::INFO),
            Self::Warning => Some(LevelFilter::WARN),
            Self::Error => Some(LevelFilter::ERROR),
            Self::None => None,
        }
    }
}

impl OptionType for LogLevel {
    fn type_name() -> Cow<'static, str> {
        "log level (debug|info|warning|error|none)".into()
    }

    fn parse(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "debug" => Ok(Self::Debug),
            "info" => Ok(Self::Info),
            "warning" | "warn" => Ok(Self::Warning),
            "error" | "critical" => Ok(Self::Error),
            "none" => Ok(Self::None),
            _ => Err("unknown log level".into()),
        }
    }

    fn to_value(&self) -> Value {
        Value::Str(self.as_str().to_owned())
    }
}

/// Adds Tornado's logging options to `parser`, and a parse callback that calls
/// [`enable_pretty_logging`] at the end of each final parse.
///
/// Only needed for parsers you create; the process-wide [`options()`](crate::options) has them.
///
/// # Errors
///
/// [`OptionsError::AlreadyDefined`](crate::OptionsError::AlreadyDefined) if any of the names is taken.
pub fn define_logging_options(parser: &OptionParser) -> Result<()> {
    const GROUP: &str = "logging";
    parser.define(
        OptionDef::new("logging", LogLevel::Info)
            .help("Set the log level. If 'none', typhoon won't touch the logging configuration.")
            .metavar("debug|info|warning|error|none")
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_to_stderr", None::<bool>)
            .help(
                "Send log output to stderr (colorized if possible). By default use stderr if \
                 --log_file_prefix is not set and no other logging is configured.",
            )
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_file_prefix", None::<PathBuf>)
            .metavar("PATH")
            .help(
                "Path prefix for log files. Note that if you are running multiple typhoon \
                 processes, log_file_prefix must be different for each of them (e.g. include \
                 the port number)",
            )
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_file_max_size", 100_000_000_u64)
            .help("max size of log files before rollover")
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_file_num_backups", 10_u32)
            .help("number of log files to keep")
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_rotate_mode", LogRotateMode::Size)
            .help("The mode of rotating files(time or size)")
            .metavar("size|time")
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_rotate_when", RotateWhen::Midnight)
            .help(
                "specify the type of TimedRotatingFileHandler interval other options:('S', \
                 'M', 'H', 'D', 'W0'-'W6')",
            )
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_rotate_interval", 1_u32)
            .help("The interval value of timed rotating")
            .group(GROUP),
    )?;
    parser.define(
        OptionDef::new("log_buffer_size", DEFAULT_LOG_BUFFER_SIZE)
            .help(
                "bytes of log lines a thread running an event loop holds before writing them; \
                 they are written before the loop waits for events, so none is held past the \
                 iteration that logged it. 0 writes each line at once",
            )
            .group(GROUP),
    )?;
    parser.add_parse_callback(|parser| enable_pretty_logging(parser).map(drop));
    Ok(())
}

/// The default of `--log_buffer_size`: nginx's `access_log ... buffer=64k`.
pub const DEFAULT_LOG_BUFFER_SIZE: usize = 64 * 1024;

/// A boxed subscriber, as built by [`pretty_logging_subscriber`].
pub type BoxSubscriber = Box<dyn Subscriber + Send + Sync + 'static>;

/// Builds the subscriber that [`enable_pretty_logging`] installs, without installing it:
/// `None` for `--logging=none`. Use it with `tracing::subscriber::with_default` to scope it.
///
/// Writes to the file `--log-file-prefix` (rotated by size, or by time with
/// `--log-rotate-mode=time`) if set, and to stderr if
/// `--log-to-stderr` is true, or unset and there is no log file. On a thread running an event
/// loop, lines are batched up to `--log_buffer_size` bytes and written before the loop waits
/// (see [`crate::line_batch`]).
///
/// # Errors
///
/// [`OptionsError::UnknownOption`](crate::OptionsError::UnknownOption) or
/// [`OptionsError::WrongType`](crate::OptionsError::WrongType) if `parser` lacks the
/// logging options; [`OptionsError::LogFile`](crate::OptionsError::LogFile) if the log file cannot be opened.
pub fn pretty_logging_subscriber(parser: &OptionParser) -> Result<Option<BoxSubscriber>> {
    let level: LogLevel = parser.get("logging")?;
    let Some(filter) = level.to_level_filter() else {
        return Ok(None);
    };
    let prefix = parser
        .get::<Option<PathBuf>>("log_file_prefix")?
        .filter(|p| !p.as_os_str().is_empty());
    let to_stderr: Option<bool> = parser.get("log_to_stderr")?;
    let max_size: u64 = parser.get("log_file_max_size")?;
    let backups: u32 = parser.get("log_file_num_backups")?;
    let rotation = match parser.get::<LogRotateMode>("log_rotate_mode")? {
        LogRotateMode::Size => Rotation::Size(max_size),
        LogRotateMode::Time => Rotation::Time {
            when: parser.get("log_rotate_when")?,
            interval: parser.get("log_rotate_interval")?,
        },
    };

    let buffer_size: usize = parser.get("log_buffer_size")?;

    let file_layer = match &prefix {
        Some(path) => {
            let file: Arc<dyn LineSink> = Arc::new(RotatingFile::open(path, rotation, backups)?);
            Some(
                tracing_subscriber::fmt::layer()
                    .event_format(LogFormatter::new(false))
                    .with_writer(BatchedWriter::new(file, buffer_size)),
            )
        }
        None => None,
    };
    let stderr_layer = to_stderr.unwrap_or(prefix.is_none()).then(|| {
        tracing_subscriber::fmt::layer()
            .event_format(LogFormatter::new(io::stderr().is_terminal()))
            .with_writer(BatchedWriter::new(Arc::new(Stderr), buffer_size))
    });
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer);
    Ok(Some(Box::new(subscriber)))
}

/// Installs Tornado-style logging as configured by `parser`'s logging options, as the
/// process's global `tracing` subscriber, in one call.
///
/// Returns `Ok(true)` if it installed one, `Ok(false)` for `--logging=none` or when a global
/// subscriber is already installed (logging configured elsewhere, or an earlier final parse);
/// libraries and repeated parses thus never fail here.
///
/// # Errors
///
/// As [`pretty_logging_subscriber`].
pub fn enable_pretty_logging(parser: &OptionParser) -> Result<bool> {
    // Not `tracing::dispatcher::has_been_set()`: it is also true once any thread has set a
    // scoped default (`with_default`), which would leave the process without its global
    // subscriber. `set_global_default` itself says whether one is installed.
    match pretty_logging_subscriber(parser)? {
        Some(subscriber) => Ok(tracing::subscriber::set_global_default(subscriber).is_ok()),
        None => Ok(false),
    }
}

/// The access log's target: its events' fields repeat the message.
const ACCESS_TARGET: &str = "typhoon::access";

/// Records an event's message and nothing else.
struct MessageOnly<'a, 'w>(&'a mut Writer<'w>, fmt::Result);

impl tracing::field::Visit for MessageOnly<'_, '_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" && self.1.is_ok() {
            self.1 = write!(Indented(self.0), "{value:?}");
        }
    }
}

/// Writes through to the line, indenting continuation lines as Tornado does (`\n` becomes
/// `\n` and four spaces), without an intermediate `String`.
struct Indented<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Indented<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !s.as_bytes().contains(&b'\n') {
            return self.0.write_str(s);
        }
        let mut parts = s.split('\n');
        if let Some(first) = parts.next() {
            self.0.write_str(first)?;
        }
        for part in parts {
            self.0.write_str("\n    ")?;
            self.0.write_str(part)?;
        }
        Ok(())
    }
}

thread_local! {
    /// The formatted local time of the last line this thread wrote, and its second since
    /// the epoch: the clock is read per line, the local time computed once a second.
    static STAMP: Cell<(u64, [u8; 15])> = const { Cell::new((u64::MAX, [b' '; 15])) };
}

/// Local date and time as Tornado writes them (`%y%m%d %H:%M:%S`), cached per second.
fn local_stamp() -> [u8; 15] {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    STAMP.with(|cached| {
        let (at, stamp) = cached.get();
        if at == second {
            return stamp;
        }
        let mut stamp = [b' '; 15];
        let text = chrono::DateTime::<chrono::Local>::from(now)
            .format("%y%m%d %H:%M:%S")
            .to_string();
        if text.len() == stamp.len() {
            stamp.copy_from_slice(text.as_bytes());
        }
        cached.set((second, stamp));
        stamp
    })
}

/// Formats events as Tornado's `LogFormatter`: `[I 261126 05:40:00 module:line] message`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFormatter {
    /// Wrap the prefix in ANSI colours (Tornado colours only on a terminal).
    color: bool,
}

impl LogFormatter {
    /// A formatter; `color` adds ANSI colours to the prefix by level.
    pub fn new(color: bool) -> Self {
        Self { color }
    }
}

fn level_letter_and_color(level: Level) -> (char, u8) {
    // Tornado's letters are the first of the Python level name, its colours curses numbers.
    match level {
        Level::TRACE => ('T', 4),
        Level::DEBUG => ('D', 4),
        Level::INFO => ('I', 2),
        Level::WARN => ('W', 3),
        Level::ERROR => ('E', 1),
    }
}

impl<S, N> FormatEvent<S, N> for LogFormatter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let (letter, color) = level_letter_and_color(*meta.level());
        let module = meta
            .module_path()
            .and_then(|m| m.rsplit("::").next())
            .unwrap_or_else(|| meta.target());
        let stamp = local_stamp();
        let time = std::str::from_utf8(&stamp).unwrap_or("");
        let line = meta.line().unwrap_or(0);
        if self.color {
            write!(writer, "\x1b[3{color}m")?;
        }
        write!(writer, "[{letter} {time} {module}:{line}]")?;
        if self.color {
            writer.write_str("\x1b[0m")?;
        }
        writer.write_char(' ')?;
        if meta.target() == ACCESS_TARGET {
            // The access line already says everything its fields carry (they are there for
            // structured subscribers): print it once, as Tornado does.
            let mut message = MessageOnly(&mut writer, Ok(()));
            event.record(&mut message);
            message.1?;
        } else {
            let mut fields = String::new();
            ctx.format_fields(Writer::new(&mut fields), event)?;
            fmt::Write::write_str(&mut Indented(&mut writer), &fields)?;
        }
        writer.write_char('\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8")
        }
    }

    fn is_tornado_prefix(line: &str, letter: char, module: &str) -> bool {
        // "[I 261126 05:40:00 module:123] "
        let b = line.as_bytes();
        line.len() > 18
            && b[0] == b'['
            && b[1] == letter as u8
            && b[2] == b' '
            && b[3..9].iter().all(u8::is_ascii_digit)
            && b[9] == b' '
            && b[10..12].iter().all(u8::is_ascii_digit)
            && b[12] == b':'
            && b[15] == b':'
            && line[18..].starts_with(&format!(" {module}:"))
    }

    #[test]
    fn log_formatter_writes_tornado_lines() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(LogFormatter::new(false))
            .with_writer(move || writer.clone())
            .with_max_level(Level::DEBUG)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("hello world");
            tracing::warn!(port = 8888, "two\nlines");
            tracing::trace!("filtered out");
        });
        let text = buffer.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(is_tornado_prefix(lines[0], 'I', "tests"), "{}", lines[0]);
        assert!(lines[0].ends_with("] hello world"), "{}", lines[0]);
        assert!(is_tornado_prefix(lines[1], 'W', "tests"), "{}", lines[1]);
        assert!(lines[1].ends_with("] two"), "{}", lines[1]);
        assert_eq!(lines[2], "    lines port=8888");
    }

    #[test]
    fn access_lines_are_printed_once() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(LogFormatter::new(false))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let (status, method, uri) = (200, "GET", "/");
            tracing::info!(target: "typhoon::access", status, method, uri, remote_ip = "127.0.0.1", request_time_ms = 0.42, "200 GET / (127.0.0.1) 0.42ms");
        });
        let text = buffer.text();
        assert!(
            text.ends_with("] 200 GET / (127.0.0.1) 0.42ms\n"),
            "only the line: {text}"
        );
    }

    #[test]
    fn color_wraps_prefix() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(LogFormatter::new(true))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || tracing::error!("boom"));
        let text = buffer.text();
        assert!(text.starts_with("\x1b[31m[E "), "{text:?}");
        assert!(text.ends_with("]\x1b[0m boom\n"), "{text:?}");
    }

    #[test]
    fn local_stamp_is_tornados_time_cached_per_second() {
        for _ in 0..3 {
            let before = chrono::Local::now().format("%y%m%d %H:%M:%S").to_string();
            let stamp = local_stamp();
            let again = local_stamp();
            let after = chrono::Local::now().format("%y%m%d %H:%M:%S").to_string();
            let stamp = std::str::from_utf8(&stamp).expect("ascii").to_owned();
            assert!(
                stamp == before || stamp == after,
                "{stamp} vs {before}..{after}"
            );
            let again = std::str::from_utf8(&again).expect("ascii");
            assert!(again == stamp || again == after, "{again} vs {stamp}");
        }
    }

    #[test]
    fn log_levels_parse() {
        assert_eq!(LogLevel::parse("WARNING"), Ok(LogLevel::Warning));
        assert_eq!(LogLevel::parse("warn"), Ok(LogLevel::Warning));
        assert_eq!(LogLevel::parse("none"), Ok(LogLevel::None));
        assert!(LogLevel::parse("loud").is_err());
        assert_eq!(LogLevel::None.to_level_filter(), None);
        assert_eq!(LogLevel::Debug.to_level_filter(), Some(LevelFilter::DEBUG));
    }
}
