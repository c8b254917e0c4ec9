//! [`OptionParser`], [`OptionDef`] and [`OptionHandle`].

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{OptionsError, Result};
use crate::suggest::suggest;
use crate::types::{OptionType, Value};

pub(crate) type Erased = Arc<dyn Any + Send + Sync>;
type ErasedCallback = Box<dyn Fn(&(dyn Any + Send + Sync)) -> Result<()> + Send + Sync>;
type TypedCallback<T> = Box<dyn Fn(&T) -> Result<()> + Send + Sync>;
type ParseCallback = Arc<dyn Fn(&OptionParser) -> Result<()> + Send + Sync>;

/// Tornado's `_normalize_name`: dashes and underscores are the same, dashes are canonical.
fn normalize(name: &str) -> String {
    name.replace('_', "-")
}

fn read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // A panicking callback never holds these locks, so poison carries no broken invariant.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The definition of one option: name, default (whose type is the option's type), help,
/// metavar, group and callback. Tornado's `define` keyword arguments, as a builder.
///
/// The type decides the rest: `Vec<T>` is Tornado's `multiple=True` (comma-separated values,
/// integer ranges `1:3`), `Option<T>` is a `None` default, `bool` makes a flag.
///
/// # Examples
///
/// ```
/// use typhoon_options::{OptionDef, OptionParser};
///
/// let parser = OptionParser::new();
/// let hosts = parser.define(
///     OptionDef::new("memcache_hosts", vec!["127.0.0.1:11011".to_owned()])
///         .help("Main user memcache servers")
///         .metavar("HOST:PORT,...")
///         .group("db"),
/// )?;
/// parser.parse_command_line(["main", "--memcache-hosts=a:1,b:2"], true)?;
/// assert_eq!(hosts.get(), ["a:1", "b:2"]);
/// # Ok::<(), typhoon_options::OptionsError>(())
/// ```
#[must_use = "an OptionDef does nothing until given to OptionParser::define"]
pub struct OptionDef<T> {
    /// The name as written by the caller; kept for introspection (Tornado preserves it).
    name: String,
    /// Value before any parse, and the type of the option.
    default: T,
    /// Help text for `--help`.
    help: Option<String>,
    /// Placeholder after `=` in `--help` (`--port=PORT`).
    metavar: Option<String>,
    /// `--help` section; `None` means the file that called `define`, as in Tornado.
    group: Option<String>,
    /// Run with each new value.
    callback: Option<TypedCallback<T>>,
}

impl<T: OptionType> OptionDef<T> {
    /// An option named `name` whose type and default come from `default`.
    pub fn new(name: impl Into<String>, default: T) -> Self {
        Self {
            name: name.into(),
            default,
            help: None,
            metavar: None,
            group: None,
            callback: None,
        }
    }

    /// The help text shown by `--help`.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The placeholder shown after `=` in `--help`.
    pub fn metavar(mut self, metavar: impl Into<String>) -> Self {
        self.metavar = Some(metavar.into());
        self
    }

    /// The `--help` section. Without it, options are grouped by the source file that called
    /// `define`, as Tornado does; the empty group is listed first, without a heading.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// A function run with every new value, whether parsed or set in code. Its error stops the
    /// parse and is returned from it.
    ///
    /// Callbacks run with no lock held, so they may use the parser (Tornado's `--config`
    /// pattern: a callback that calls `parse_config_file`).
    pub fn callback(mut self, callback: impl Fn(&T) -> Result<()> + Send + Sync + 'static) -> Self {
        self.callback = Some(Box::new(callback));
        self
    }
}

impl<T: OptionType> fmt::Debug for OptionDef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionDef")
            .field("name", &self.name)
            .field("type", &T::type_name())
            .field("default", &self.default.to_value())
            .field("help", &self.help)
            .field("metavar", &self.metavar)
            .field("group", &self.group)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

/// Type-erased operations of one option type, monomorphised in `define`.
struct Ops {
    parse: fn(&str) -> std::result::Result<Erased, String>,
    from_value: fn(&Value) -> std::result::Result<Erased, String>,
    to_value: fn(&(dyn Any + Send + Sync)) -> Value,
}

fn parse_erased<T: OptionType>(s: &str) -> std::result::Result<Erased, String> {
    T::parse(s).map(|v| Arc::new(v) as Erased)
}

fn from_value_erased<T: OptionType>(value: &Value) -> std::result::Result<Erased, String> {
    T::from_value(value).map(|v| Arc::new(v) as Erased)
}

fn to_value_erased<T: OptionType>(value: &(dyn Any + Send + Sync)) -> Value {
    value.downcast_ref::<T>().map_or(Value::None, T::to_value)
}

/// One defined option.
pub(crate) struct Slot {
    /// Name as given to `define`, returned by introspection.
    name: String,
    /// Dashed name, used in help and errors.
    cli_name: String,
    /// `file:line` of the `define` call, for the redefinition error.
    location: String,
    group: String,
    help: Option<String>,
    metavar: Option<String>,
    /// For typed access: the stored value is always of this type.
    pub(crate) type_id: TypeId,
    type_name: Cow<'static, str>,
    /// `--name` alone means true.
    is_flag: bool,
    /// Shown in help as `(default ...)`.
    default: Value,
    /// Current value; an `Arc` so readers and callbacks clone it out and hold no lock.
    value: RwLock<Erased>,
    ops: Ops,
    callback: Option<ErasedCallback>,
}

impl Slot {
    pub(crate) fn current(&self) -> Erased {
        Arc::clone(&read(&self.value))
    }

    pub(crate) fn store(&self, value: &Erased) -> Result<()> {
        *write(&self.value) = Arc::clone(value);
        match &self.callback {
            Some(callback) => callback(&**value),
            None => Ok(()),
        }
    }

    pub(crate) fn wrong_type<T: OptionType>(&self) -> OptionsError {
        OptionsError::WrongType {
            name: self.cli_name.clone(),
            requested: format!("{} ({})", T::type_name(), std::any::type_name::<T>()),
            actual: self.type_name.to_string(),
        }
    }

    fn set_from_str(&self, raw: &str) -> Result<()> {
        let value = (self.ops.parse)(raw).map_err(|reason| OptionsError::InvalidValue {
            name: self.cli_name.clone(),
            value: raw.to_owned(),
            expected: self.type_name.to_string(),
            reason,
        })?;
        self.store(&value)
    }

    fn set_from_value(&self, value: &Value) -> Result<()> {
        let erased = (self.ops.from_value)(value).map_err(|reason| OptionsError::InvalidValue {
            name: self.cli_name.clone(),
            value: match value {
                Value::Str(s) => s.clone(),
                Value::List(_) => format!("[{value}]"),
                other => other.to_string(),
            },
            expected: self.type_name.to_string(),
            reason,
        })?;
        self.store(&erased)
    }
}

/// A typed handle to one option, returned by [`OptionParser::define`].
///
/// It reads and writes the option directly, without a lookup by name, and stays valid for as
/// long as it lives (it shares the option with its parser).
pub struct OptionHandle<T> {
    pub(crate) slot: Arc<Slot>,
    marker: PhantomData<fn() -> T>,
}

impl<T: OptionType> OptionHandle<T> {
    /// The current value (Tornado's `options.name`).
    pub fn get(&self) -> T {
        self.slot
            .current()
            .downcast_ref::<T>()
            .cloned()
            .expect("invariant: a handle's type is checked when it is made")
    }

    /// Sets the value and runs the option's callback (Tornado's `options.name = value`).
    ///
    /// # Errors
    ///
    /// Whatever the callback returns.
    pub fn set(&self, value: T) -> Result<()> {
        self.slot.store(&(Arc::new(value) as Erased))
    }

    /// The option's name as defined.
    pub fn name(&self) -> &str {
        &self.slot.name
    }
}

impl<T> Clone for OptionHandle<T> {
    fn clone(&self) -> Self {
        Self {
            slot: Arc::clone(&self.slot),
            marker: PhantomData,
        }
    }
}

impl<T> fmt::Debug for OptionHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionHandle")
            .field("name", &self.slot.name)
            .field("type", &self.slot.type_name)
            .field("value", &(self.slot.ops.to_value)(&*self.slot.current()))
            .finish()
    }
}

/// What [`OptionParser::try_parse_command_line`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseOutcome {
    /// Options were parsed; these are the leftover positional arguments.
    Remaining(Vec<String>),
    /// `--help` was given: the help text, which Tornado prints to stderr before exiting 0.
    /// Parsing stopped there and parse callbacks were not run.
    Help(String),
}

/// A set of options: Tornado's `OptionParser`.
///
/// Every parser defines `help`. Methods take `&self` (the options live behind locks), so one
/// parser can be shared, as the process-wide [`options()`](crate::options) is. Options are
/// looked up with dashes and underscores interchangeable.
///
/// # Examples
///
/// ```
/// use typhoon_options::{OptionDef, OptionParser, ParseOutcome};
///
/// let parser = OptionParser::new();
/// parser.define(OptionDef::new("verbose", false))?;
/// let rest = parser.parse_command_line(["main", "--verbose", "subcommand", "--foo=bar"], true)?;
/// assert_eq!(rest, ["subcommand", "--foo=bar"]);
/// assert!(parser.get::<bool>("verbose")?);
///
/// let outcome = parser.try_parse_command_line(["main", "--help"], true)?;
/// assert!(matches!(outcome, ParseOutcome::Help(text) if text.contains("--verbose")));
/// # Ok::<(), typhoon_options::OptionsError>(())
/// ```
pub struct OptionParser {
    /// Options by dashed name; a `BTreeMap` so help, suggestions and introspection are sorted.
    options: RwLock<BTreeMap<String, Arc<Slot>>>,
    /// Run at the end of a final parse, in the order added.
    parse_callbacks: RwLock<Vec<ParseCallback>>,
}

impl Default for OptionParser {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for OptionParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.items()).finish()
    }
}

impl OptionParser {
    /// A parser with only the `help` option.
    pub fn new() -> Self {
        let parser = Self {
            options: RwLock::new(BTreeMap::new()),
            parse_callbacks: RwLock::new(Vec::new()),
        };
        parser
            .define(
                OptionDef::new("help", false)
                    .help("show this help information")
                    .group(""),
            )
            .expect("invariant: a new parser has no options");
        parser
    }

    /// Defines an option and returns a typed handle to it.
    ///
    /// # Errors
    ///
    /// [`OptionsError::AlreadyDefined`] if the name (with dashes and underscores equal) is
    /// taken, [`OptionsError::InvalidName`] if it is empty, contains `=` or whitespace, or
    /// starts with `-`.
    #[track_caller]
    pub fn define<T: OptionType>(&self, def: OptionDef<T>) -> Result<OptionHandle<T>> {
        let caller = Location::caller();
        let OptionDef {
            name,
            default,
            help,
            metavar,
            group,
            callback,
        } = def;
        if name.is_empty()
            || name.starts_with('-')
            || name.contains('=')
            || name.contains(char::is_whitespace)
        {
            return Err(OptionsError::InvalidName { name });
        }
        let cli_name = normalize(&name);
        let callback = callback.map(|cb| -> ErasedCallback {
            Box::new(move |value| match value.downcast_ref::<T>() {
                Some(v) => cb(v),
                None => Ok(()),
            })
        });
        let slot = Arc::new(Slot {
            cli_name: cli_name.clone(),
            location: format!("{}:{}", caller.file(), caller.line()),
            group: group.unwrap_or_else(|| caller.file().to_owned()),
            help,
            metavar,
            type_id: TypeId::of::<T>(),
            type_name: T::type_name(),
            is_flag: T::is_flag(),
            default: default.to_value(),
            value: RwLock::new(Arc::new(default)),
            ops: Ops {
                parse: parse_erased::<T>,
                from_value: from_value_erased::<T>,
                to_value: to_value_erased::<T>,
            },
            callback,
            name,
        });
        let mut options = write(&self.options);
        if let Some(existing) = options.get(&cli_name) {
            return Err(OptionsError::AlreadyDefined {
                name: cli_name,
                location: existing.location.clone(),
            });
        }
        options.insert(cli_name, Arc::clone(&slot));
        Ok(OptionHandle {
            slot,
            marker: PhantomData,
        })
    }

    pub(crate) fn slot(&self, name: &str) -> Result<Arc<Slot>> {
        let key = normalize(name);
        let options = read(&self.options);
        match options.get(&key) {
            Some(slot) => Ok(Arc::clone(slot)),
            None => Err(OptionsError::UnknownOption {
                suggestion: suggest(&key, options.keys().map(String::as_str)),
                name: key,
            }),
        }
    }

    fn slots(&self) -> Vec<Arc<Slot>> {
        read(&self.options).values().cloned().collect()
    }

    /// A typed handle to an option defined elsewhere (for instance on the global parser).
    ///
    /// # Errors
    ///
    /// [`OptionsError::UnknownOption`] or [`OptionsError::WrongType`].
    pub fn handle<T: OptionType>(&self, name: &str) -> Result<OptionHandle<T>> {
        let slot = self.slot(name)?;
        if slot.type_id != TypeId::of::<T>() {
            return Err(slot.wrong_type::<T>());
        }
        Ok(OptionHandle {
            slot,
            marker: PhantomData,
        })
    }

    /// The value of an option (Tornado's `options.name` or `options["name"]`).
    ///
    /// # Errors
    ///
    /// [`OptionsError::UnknownOption`] (with a suggestion) or [`OptionsError::WrongType`] if
    /// `T` is not the option's type.
    pub fn get<T: OptionType>(&self, name: &str) -> Result<T> {
        let slot = self.slot(name)?;
        let value = slot.current();
        value
            .downcast_ref::<T>()
            .cloned()
            .ok_or_else(|| slot.wrong_type::<T>())
    }

    /// Sets an option and runs its callback (Tornado's `options.name = value`, type-checked
    /// as Tornado's `setattr` is).
    ///
    /// # Errors
    ///
    /// [`OptionsError::UnknownOption`], [`OptionsError::WrongType`], or the callback's error.
    pub fn set<T: OptionType>(&self, name: &str, value: T) -> Result<()> {
        let slot = self.slot(name)?;
        if slot.type_id != TypeId::of::<T>() {
            return Err(slot.wrong_type::<T>());
        }
        slot.store(&(Arc::new(value) as Erased))
    }

    /// The value of an option without its type.
    ///
    /// # Errors
    ///
    /// [`OptionsError::UnknownOption`].
    pub fn value(&self, name: &str) -> Result<Value> {
        let slot = self.slot(name)?;
        Ok((slot.ops.to_value)(&*slot.current()))
    }

    /// Whether an option is defined (dashes and underscores interchangeable).
    pub fn contains(&self, name: &str) -> bool {
        read(&self.options).contains_key(&normalize(name))
    }

    /// Option names as defined, sorted (Tornado's `iter(options)`).
    pub fn names(&self) -> Vec<String> {
        self.slots().iter().map(|s| s.name.clone()).collect()
    }

    /// `(name, value)` pairs of all options (Tornado's `items`).
    pub fn items(&self) -> Vec<(String, Value)> {
        self.slots()
            .iter()
            .map(|s| (s.name.clone(), (s.ops.to_value)(&*s.current())))
            .collect()
    }

    /// The set of groups (Tornado's `groups`).
    pub fn groups(&self) -> BTreeSet<String> {
        self.slots().iter().map(|s| s.group.clone()).collect()
    }

    /// Names and values of the options in `group`; all options if `group` is empty
    /// (Tornado's `group_dict`, handy to copy settings into an `Application`).
    pub fn group_dict(&self, group: &str) -> BTreeMap<String, Value> {
        self.slots()
            .iter()
            .filter(|s| group.is_empty() || s.group == group)
            .map(|s| (s.name.clone(), (s.ops.to_value)(&*s.current())))
            .collect()
    }

    /// Names and values of all options (Tornado's `as_dict`).
    pub fn as_dict(&self) -> BTreeMap<String, Value> {
        self.items().into_iter().collect()
    }

    /// Adds a function to run at the end of every final parse (Tornado's
    /// `add_parse_callback`). It gets the parser, so it can read options.
    pub fn add_parse_callback(
        &self,
        callback: impl Fn(&OptionParser) -> Result<()> + Send + Sync + 'static,
    ) {
        write(&self.parse_callbacks).push(Arc::new(callback));
    }

    /// Runs the parse callbacks in the order they were added, stopping at the first error.
    ///
    /// # Errors
    ///
    /// The first callback error.
    pub fn run_parse_callbacks(&self) -> Result<()> {
        let callbacks = read(&self.parse_callbacks).clone();
        callbacks.iter().try_for_each(|callback| callback(self))
    }

    /// Parses command-line arguments; `args[0]` is the program name and is skipped, as in
    /// Tornado. Prints help to stderr and exits with status 0 on `--help`; use
    /// [`try_parse_command_line`](Self::try_parse_command_line) to handle that yourself.
    ///
    /// See [`try_parse_command_line`](Self::try_parse_command_line) for the syntax.
    ///
    /// # Errors
    ///
    /// As [`try_parse_command_line`](Self::try_parse_command_line).
    pub fn parse_command_line<I, S>(&self, args: I, final_parse: bool) -> Result<Vec<String>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        match self.try_parse_command_line(args, final_parse)? {
            ParseOutcome::Remaining(rest) => Ok(rest),
            ParseOutcome::Help(text) => {
                eprint!("{text}");
                std::process::exit(0)
            }
        }
    }

    /// Parses command-line arguments without exiting on `--help`.
    ///
    /// `args[0]` is the program name. Options are `--name=value`, `--name value`, `--flag`
    /// (`true` for boolean options), and `--no-flag` (`false`); one or more leading dashes
    /// are accepted and `-`/`_` are interchangeable in names. Parsing stops at the first
    /// argument that is not an option (a lone `-` counts as one) or after a bare `--`; the
    /// rest is returned. With `final_parse`, parse callbacks run at the end (Tornado's
    /// `final=True`); pass `false` for all but the last of several parses.
    ///
    /// Options are set, and their callbacks run, in order: on error, the options before the
    /// bad one keep their new values, as in Tornado.
    ///
    /// # Errors
    ///
    /// [`OptionsError::UnknownOption`] with a suggestion, [`OptionsError::MissingValue`],
    /// [`OptionsError::InvalidValue`], or an option or parse callback's error.
    pub fn try_parse_command_line<I, S>(&self, args: I, final_parse: bool) -> Result<ParseOutcome>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut args = args.into_iter().map(Into::into);
        let program = args.next().unwrap_or_default();
        let args: Vec<String> = args.collect();
        let mut remaining = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            if !arg.starts_with('-') || arg == "-" {
                remaining = args[i..].to_vec();
                break;
            }
            if arg == "--" {
                remaining = args[i + 1..].to_vec();
                break;
            }
            let stripped = arg.trim_start_matches('-');
            let (name, value) = match stripped.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (stripped, None),
            };
            let key = normalize(name);
            let (slot, value) = match (self.slot(&key), value) {
                (Ok(slot), Some(value)) => (slot, value.to_owned()),
                (Ok(slot), None) if slot.is_flag => (slot, "true".to_owned()),
                (Ok(slot), None) => match args.get(i + 1) {
                    Some(next) if !next.starts_with("--") => {
                        i += 1;
                        (slot, next.clone())
                    }
                    _ => return Err(OptionsError::MissingValue { name: key }),
                },
                (Err(unknown), value) => {
                    let negated = key
                        .strip_prefix("no-")
                        .filter(|_| value.is_none())
                        .and_then(|base| self.slot(base).ok())
                        .filter(|slot| slot.is_flag);
                    match negated {
                        Some(slot) => (slot, "false".to_owned()),
                        None => return Err(unknown),
                    }
                }
            };
            slot.set_from_str(&value)?;
            if slot.cli_name == "help" && self.get::<bool>("help").unwrap_or(false) {
                return Ok(ParseOutcome::Help(self.help_text_for(&program)));
            }
            i += 1;
        }
        if final_parse {
            self.run_parse_callbacks()?;
        }
        Ok(ParseOutcome::Remaining(remaining))
    }

    /// Parses a TOML config file and sets the options it names.
    ///
    /// Each top-level key is an option name (underscores or dashes). Values may have the
    /// option's own TOML type (`port = 443`, `debug = true`, `hosts = ["a", "b"]`, durations
    /// as seconds) or be strings parsed as on the command line (`port = "443"`,
    /// `timeout = "1h30m"`, `ports = "1,3,5:7"`), as Tornado accepts both. Tornado's
    /// simple config files (`port = 443`, `name = 'value'`) are valid TOML already.
    ///
    /// Unlike Tornado, whose config files are Python and may hold anything, a key that names
    /// no option is an error (with a suggestion), so a typo is not silently ignored. Keys are
    /// applied in sorted order.
    ///
    /// # Errors
    ///
    /// [`OptionsError::ReadConfig`], [`OptionsError::ConfigSyntax`],
    /// [`OptionsError::UnknownOption`], [`OptionsError::InvalidValue`], or a callback's error.
    pub fn parse_config_file(&self, path: impl AsRef<Path>, final_parse: bool) -> Result<()> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| OptionsError::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        self.parse_config(&text, path, final_parse)
    }

    /// Parses TOML config text, as [`parse_config_file`](Self::parse_config_file) does.
    ///
    /// # Errors
    ///
    /// As [`parse_config_file`](Self::parse_config_file), with `<string>` as the path.
    pub fn parse_config_str(&self, text: &str, final_parse: bool) -> Result<()> {
        self.parse_config(text, Path::new("<string>"), final_parse)
    }

    fn parse_config(&self, text: &str, path: &Path, final_parse: bool) -> Result<()> {
        let table: toml::Table = text.parse().map_err(|source| OptionsError::ConfigSyntax {
            path: PathBuf::from(path),
            source,
        })?;
        for (key, value) in &table {
            let slot = self.slot(key)?;
            match crate::config::to_value(value) {
                Some(value) => slot.set_from_value(&value)?,
                None => {
                    return Err(OptionsError::InvalidValue {
                        name: slot.cli_name.clone(),
                        value: format!("[{key}]"),
                        expected: slot.type_name.to_string(),
                        reason: "found a table".into(),
                    });
                }
            }
        }
        if final_parse {
            self.run_parse_callbacks()?;
        }
        Ok(())
    }

    /// The help text Tornado's `print_help` prints, with this process's name in the usage line.
    pub fn help_text(&self) -> String {
        let program = std::env::args_os()
            .next()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.help_text_for(&program)
    }

    /// Prints [`help_text`](Self::help_text) to stderr.
    pub fn print_help(&self) {
        eprint!("{}", self.help_text());
    }

    /// The help text for a program called `program`, in Tornado's layout: options grouped,
    /// groups and options sorted, names with dashes, help wrapped at 44 columns.
    pub fn help_text_for(&self, program: &str) -> String {
        let mut by_group: BTreeMap<String, Vec<Arc<Slot>>> = BTreeMap::new();
        for slot in self.slots() {
            by_group.entry(slot.group.clone()).or_default().push(slot);
        }
        let mut out = format!("Usage: {program} [OPTIONS]\n\nOptions:\n\n");
        for (group, slots) in by_group {
            if !group.is_empty() {
                out.push_str(&format!("\n{group} options:\n\n"));
            }
            for slot in slots {
                let mut prefix = slot.cli_name.clone();
                if let Some(metavar) = &slot.metavar {
                    prefix.push('=');
                    prefix.push_str(metavar);
                }
                let mut description = slot.help.clone().unwrap_or_default();
                let default = slot.default.to_string();
                let hide =
                    default.is_empty() || (slot.is_flag && slot.default == Value::Bool(false));
                if !hide {
                    description.push_str(&format!(" (default {default})"));
                }
                let mut lines = wrap(&description, 79 - 35);
                if prefix.chars().count() > 30 || lines.is_empty() {
                    lines.insert(0, String::new());
                }
                let first = format!("  --{prefix:<30} {}", lines[0]);
                out.push_str(first.trim_end());
                out.push('\n');
                for line in &lines[1..] {
                    out.push_str(&format!("{:<34} {line}\n", ""));
                }
            }
        }
        out.push('\n');
        out
    }
}

/// Greedy word wrap as Python's `textwrap.wrap`: words split on whitespace, words longer than
/// `width` broken.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let room = if line_len == 0 {
                width
            } else {
                width.saturating_sub(line_len + 1)
            };
            if word.len() <= room {
                if line_len > 0 {
                    line.push(' ');
                    line_len += 1;
                }
                line.extend(word.iter());
                line_len += word.len();
                break;
            }
            if line_len > 0 {
                lines.push(std::mem::take(&mut line));
                line_len = 0;
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
    }
    if line_len > 0 {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_like_textwrap() {
        assert_eq!(wrap("", 10), Vec::<String>::new());
        assert_eq!(wrap("a b c", 3), ["a b", "c"]);
        assert_eq!(wrap("  hello   world ", 20), ["hello world"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("xy abcdefghij", 4), ["xy", "abcd", "efgh", "ij"]);
    }

    #[test]
    fn normalize_uses_dashes() {
        assert_eq!(normalize("foo_bar-baz"), "foo-bar-baz");
    }

    #[test]
    fn invalid_names_rejected() {
        let p = OptionParser::new();
        for name in ["", "-x", "a=b", "a b"] {
            assert!(
                matches!(
                    p.define(OptionDef::new(name, 1u8)),
                    Err(OptionsError::InvalidName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn help_layout_matches_tornado() {
        let p = OptionParser::new();
        p.define(
            OptionDef::new("port", 80u16)
                .help("port to listen on")
                .group("web"),
        )
        .expect("define");
        p.define(
            OptionDef::new("a_very_long_option_name_for_layout", String::new())
                .metavar("VALUE")
                .group("web"),
        )
        .expect("define");
        let text = p.help_text_for("main.py");
        let expected = "Usage: main.py [OPTIONS]\n\nOptions:\n\n  \
--help                           show this help information\n\nweb options:\n\n  \
--a-very-long-option-name-for-layout=VALUE\n  \
--port                           port to listen on (default 80)\n\n";
        assert_eq!(text, expected);
    }
}
