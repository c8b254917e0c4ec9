//! `typhoon-options` at work: typed options (an integer, a string, a flag, a duration, a
//! list, an optional path) from the command line and a TOML config file, `--help`, and a page
//! showing the effective values as JSON.
//!
//! Precedence, lowest first: the defaults, the file named by `--config`, the command line
//! (parsed again after the file, so a flag given on the command line always wins).

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{Map, Value as Json, json};
use typhoon_options::{
    OptionDef, OptionHandle, OptionParser, ParseOutcome, Result, Value, format_duration,
};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

/// The options this example defines, as typed handles.
#[derive(Debug)]
pub struct DemoOptions {
    /// `--port`.
    pub port: OptionHandle<u16>,
    /// `--address`.
    pub address: OptionHandle<String>,
    /// `--debug` (a flag: `--debug`, `--no-debug`, `--debug=false`).
    pub debug: OptionHandle<bool>,
    /// `--request-timeout` (a duration: `30s`, `1m30s`, `250ms`).
    pub request_timeout: OptionHandle<Duration>,
    /// `--tags` (a list: `--tags=a,b,c`, or a TOML array in the config file).
    pub tags: OptionHandle<Vec<String>>,
    /// `--config`: a TOML file of option values.
    pub config: OptionHandle<Option<PathBuf>>,
}

/// Defines the example's options on `parser` (the process-wide one in `main`, a fresh one in
/// tests).
///
/// # Errors
///
/// If an option of the same name is already defined.
pub fn define_options(parser: &OptionParser) -> Result<DemoOptions> {
    Ok(DemoOptions {
        port: parser.define(
            OptionDef::new("port", 8888_u16)
                .help("port to listen on")
                .group("server"),
        )?,
        address: parser.define(
            OptionDef::new("address", "127.0.0.1".to_owned())
                .help("address to listen on")
                .group("server"),
        )?,
        debug: parser.define(
            OptionDef::new("debug", false)
                .help("debug mode: tracebacks in error pages")
                .group("application"),
        )?,
        request_timeout: parser.define(
            OptionDef::new("request_timeout", Duration::from_secs(30))
                .help("answer 503 to a request still running after this long")
                .group("application"),
        )?,
        tags: parser.define(
            OptionDef::new("tags", Vec::<String>::new())
                .metavar("TAG,...")
                .help("labels shown on the page")
                .group("application"),
        )?,
        config: parser.define(
            OptionDef::new("config", None::<PathBuf>)
                .metavar("FILE")
                .help("TOML file of option values (the command line wins over it)"),
        )?,
    })
}

/// Parses `args` (the program name first) into `parser`: the command line, then the
/// `--config` file if one is named, then the command line again so that it wins; parse
/// callbacks run once, at the end. `--help` stops parsing and returns the help text.
///
/// # Errors
///
/// An unknown option (with a suggestion), a bad value, an unreadable or invalid config file,
/// or an option or parse callback's error.
pub fn parse_args<I, S>(
    parser: &OptionParser,
    options: &DemoOptions,
    args: I,
) -> Result<ParseOutcome>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let first = parser.try_parse_command_line(args.clone(), false)?;
    if let ParseOutcome::Help(_) = first {
        return Ok(first);
    }
    if let Some(config) = options.config.get() {
        parser.parse_config_file(config, false)?;
    }
    parser.try_parse_command_line(args, true)
}

/// One option value as JSON: durations as their command-line text (`1m30s`), integers as
/// numbers when they fit.
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => i64::try_from(*i)
            .map(Json::from)
            .or_else(|_| u64::try_from(*i).map(Json::from))
            .unwrap_or_else(|_| Json::String(i.to_string())),
        Value::Float(x) => json!(x),
        Value::Str(s) => json!(s),
        Value::Duration(d) => json!(format_duration(*d)),
        Value::List(items) => Json::Array(items.iter().map(value_to_json).collect()),
        other => json!(other.to_string()),
    }
}

/// Every option of `parser` but `help`, by name, as JSON.
pub fn options_json(parser: &OptionParser) -> Json {
    let map: Map<String, Json> = parser
        .items()
        .into_iter()
        .filter(|(name, _)| name != "help")
        .map(|(name, value)| (name, value_to_json(&value)))
        .collect();
    Json::Object(map)
}

/// `GET /`: the effective options as JSON.
#[derive(Debug)]
pub struct OptionsHandler {
    /// What to show.
    pub options: Rc<Json>,
}

impl RequestHandler for OptionsHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write_json(&*self.options)?;
        Ok(())
    }
}

/// The `options` example's application: the options' values applied to its settings
/// (`debug`, `request_timeout`) and shown at `/`.
pub fn make_app(parser: &OptionParser, options: &DemoOptions) -> Application {
    let shown = Rc::new(options_json(parser));
    let settings = Settings {
        debug: options.debug.get(),
        request_timeout: Some(options.request_timeout.get()),
        ..Settings::default()
    };
    Application::with_settings(
        vec![route("/", move || OptionsHandler {
            options: Rc::clone(&shown),
        })],
        settings,
    )
}
