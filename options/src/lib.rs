//! Typed command-line and config-file options: Tornado's `tornado.options` for Typhoon.
//!
//! Any module can [`define`] the options it needs, with a default (whose type is the option's
//! type), help text, metavar, group and callback; `main` then calls [`parse_command_line`]
//! and/or [`parse_config_file`] once. Options are read through the typed [`OptionHandle`]
//! that `define` returns, or by name with [`OptionParser::get`]. Besides the process-wide
//! parser returned by [`options()`], any number of independent [`OptionParser`]s can be made,
//! for subcommands or tests.
//!
//! This is a leaf crate: it depends on no other Typhoon crate, and none depends on it (as in
//! Tornado, where nothing else needs `tornado.options`). Applications use it to configure the
//! servers they build from `typhoon-web` and friends; its logging options set up the `tracing`
//! subscriber that shows the `typhoon::access`, `typhoon::application` and `typhoon::general`
//! events of the other crates.
//!
//! | Tornado | Typhoon |
//! |---|---|
//! | `define("port", default=8888, help=...)` | `define(OptionDef::new("port", 8888_u16).help(...))?` |
//! | `define("hosts", multiple=True, type=str)` | `OptionDef::new("hosts", Vec::<String>::new())` |
//! | `define("prefix", type=str)` (default `None`) | `OptionDef::new("prefix", None::<String>)` |
//! | `type=datetime.timedelta` | [`std::time::Duration`], written `30s`, `5m`, `1h30m`, `250ms` |
//! | `type=datetime.datetime` | [`chrono::NaiveDateTime`], in Tornado's formats ([`DATETIME_FORMATS`]) |
//! | `mock.patch.object(options.mockable(), "port", 1)` | `let _mock = port.mock(1)?;` or `options().mock("port", 1_u16)?` (restored on drop: [`OptionMock`]) |
//! | `options.port` | `port.get()` or `options().get::<u16>("port")?` |
//! | `options.port = 80` | `port.set(80)?` or `options().set("port", 80_u16)?` |
//! | `print_help()` / `SystemExit` on `--help` | [`OptionParser::help_text`], [`ParseOutcome::Help`] |
//! | config file as Python code | config file as TOML (see [`OptionParser::parse_config_file`]) |
//! | `final=False` | `final_parse: false` |
//!
//! Supported types are those implementing [`OptionType`]: `bool`, integers, floats, `String`,
//! `PathBuf`, `IpAddr`, `SocketAddr`, `Duration`, `chrono::NaiveDateTime` (Tornado's
//! `datetime`), and `Vec`/`Option` of them; implement it for your own.
//!
//! # Command line
//!
//! `--name=value`, `--name value`, `--flag`, `--no-flag`, `-`/`_` interchangeable; the first
//! positional argument or a bare `--` ends the options and the rest is returned. List options
//! take comma-separated values and, for integers, inclusive ranges (`--ports=8000:8003`).
//! Errors name the option: an unknown one gets a "did you mean" suggestion.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use typhoon_options::{OptionDef, OptionParser, OptionsError, ParseOutcome};
//!
//! let parser = OptionParser::new();
//! let port = parser.define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
//! let timeout = parser.define(
//!     OptionDef::new("request_timeout", Duration::from_secs(30)).help("per-request limit"),
//! )?;
//! let backends = parser.define(OptionDef::new("backend_ports", Vec::<u16>::new()))?;
//!
//! let rest = parser.parse_command_line(
//!     ["server", "--port=9000", "--request-timeout", "1m30s", "--backend_ports=81,90:92", "serve"],
//!     true,
//! )?;
//! assert_eq!(rest, ["serve"]);
//! assert_eq!(port.get(), 9000);
//! assert_eq!(timeout.get(), Duration::from_secs(90));
//! assert_eq!(backends.get(), [81, 90, 91, 92]);
//!
//! // Config files are TOML; strings are parsed as on the command line.
//! parser.parse_config_str("port = 443\nrequest_timeout = '5s'\n", true)?;
//! assert_eq!(parser.get::<u16>("port")?, 443);
//!
//! // Errors are precise, and a typo gets a suggestion.
//! let err = parser.parse_command_line(["server", "--prot=1"], true).unwrap_err();
//! assert!(matches!(err, OptionsError::UnknownOption { ref suggestion, .. }
//!     if suggestion.as_deref() == Some("port")));
//! assert_eq!(err.to_string(), "unrecognized option `prot`; did you mean `port`?");
//!
//! // `--help` can be handled without exiting the process.
//! let outcome = parser.try_parse_command_line(["server", "--help"], true)?;
//! let ParseOutcome::Help(text) = outcome else { panic!("expected help") };
//! assert!(text.contains("--port                           port to listen on (default 8888)"));
//! # Ok::<(), OptionsError>(())
//! ```
//!
//! A program using the process-wide parser, with Tornado's logging options:
//!
//! ```no_run
//! use typhoon_options::{define, options, parse_command_line, OptionDef};
//!
//! fn main() -> Result<(), typhoon_options::OptionsError> {
//!     let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
//!     // `--logging=debug --log-file-prefix=/var/log/app.log` work; `--help` prints and exits.
//!     let _rest = parse_command_line()?;
//!     println!("listening on port {}", port.get());
//!     assert_eq!(options().get::<u16>("port")?, port.get());
//!     Ok(())
//! }
//! ```
//!
//! On a thread running Typhoon's `IOLoop`, the log's lines are batched and written once per
//! loop iteration, before the loop waits for events ([`line_batch`], `--log_buffer_size`):
//! one `write(2)` per iteration instead of one per line, and nothing held while the loop
//! sleeps.
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `logging` | Tornado's logging options, the `log` module (`enable_pretty_logging`, `LogFormatter`) (pulls in `tracing` and `tracing-subscriber`; local time through `chrono`, which the `datetime` type needs anyway); the global [`options()`] defines the logging options only with it | Yes |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod datetime;
mod error;
pub mod line_batch;
#[cfg(feature = "logging")]
#[cfg_attr(docsrs, doc(cfg(feature = "logging")))]
pub mod log;
mod mock;
mod parser;
mod suggest;
mod types;

use std::path::Path;
use std::sync::OnceLock;

pub use crate::datetime::{DATETIME_FORMATS, parse_datetime};
pub use crate::error::{OptionsError, Result};
pub use crate::mock::OptionMock;
pub use crate::parser::{OptionDef, OptionHandle, OptionParser, ParseOutcome};
pub use crate::types::{MAX_RANGE_LEN, OptionType, Value, format_duration, parse_duration};
/// The type of a `datetime` option, re-exported so no direct `chrono` dependency is needed.
pub use chrono::NaiveDateTime;

/// The process-wide parser (Tornado's `tornado.options.options`).
///
/// It has `help` and, with the `logging` feature, Tornado's logging options and a parse
/// callback that installs a `tracing` subscriber (see the `log` module).
pub fn options() -> &'static OptionParser {
    static OPTIONS: OnceLock<OptionParser> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let parser = OptionParser::new();
        #[cfg(feature = "logging")]
        log::define_logging_options(&parser).expect("invariant: a new parser has only `help`");
        parser
    })
}

/// Defines an option on the process-wide parser. See [`OptionParser::define`].
///
/// # Errors
///
/// As [`OptionParser::define`].
#[track_caller]
pub fn define<T: OptionType>(def: OptionDef<T>) -> Result<OptionHandle<T>> {
    options().define(def)
}

/// Parses this process's arguments into the process-wide parser, running the parse callbacks
/// (so logging is set up). Prints help to stderr and exits 0 on `--help`. Returns the
/// leftover positional arguments. See [`OptionParser::try_parse_command_line`].
///
/// # Errors
///
/// As [`OptionParser::try_parse_command_line`].
pub fn parse_command_line() -> Result<Vec<String>> {
    let args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    options().parse_command_line(args, true)
}

/// Parses a TOML config file into the process-wide parser, running the parse callbacks.
/// See [`OptionParser::parse_config_file`].
///
/// # Errors
///
/// As [`OptionParser::parse_config_file`].
pub fn parse_config_file(path: impl AsRef<Path>) -> Result<()> {
    options().parse_config_file(path, true)
}

/// Prints the process-wide parser's help to stderr. See [`OptionParser::help_text`].
pub fn print_help() {
    options().print_help();
}

/// Adds a parse callback to the process-wide parser. See [`OptionParser::add_parse_callback`].
pub fn add_parse_callback(callback: impl Fn(&OptionParser) -> Result<()> + Send + Sync + 'static) {
    options().add_parse_callback(callback);
}
