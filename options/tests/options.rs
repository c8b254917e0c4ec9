//! Ports of Tornado's `tornado/test/options_test.py` (same test names, without `test_`), plus
//! Typhoon's additions: `--name value`, `--no-flag`, suggestions, TOML errors, durations.
//!
//! Not ported: `test_mock_patch` (Python's `mock.patch`; set and restore with `set`), and the
//! `basestring`/`datetime` types and `__file__` in config files, which have no counterpart.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use typhoon_options::{
    OptionDef, OptionParser, OptionType, OptionsError, ParseOutcome, Value, options,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Tornado's `Email` test type: any string with an `@`.
#[derive(Clone, Debug, PartialEq)]
struct Email(String);

impl OptionType for Email {
    fn type_name() -> Cow<'static, str> {
        "email".into()
    }
    fn parse(s: &str) -> Result<Self, String> {
        if s.contains('@') {
            Ok(Self(s.to_owned()))
        } else {
            Err("no `@`".into())
        }
    }
    fn to_value(&self) -> Value {
        Value::Str(self.0.clone())
    }
}

#[test]
fn parse_command_line() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_i64)).unwrap();
    options
        .parse_command_line(["main.py", "--port=443"], true)
        .unwrap();
    assert_eq!(options.get::<i64>("port").unwrap(), 443);
}

#[test]
fn parse_config_file() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_i64)).unwrap();
    options
        .define(OptionDef::new("username", "foo".to_owned()))
        .unwrap();
    options
        .parse_config_file(fixture("options_test.cfg"), true)
        .unwrap();
    assert_eq!(options.get::<i64>("port").unwrap(), 443);
    assert_eq!(options.get::<String>("username").unwrap(), "李康");
}

#[test]
fn parse_callbacks() {
    let options = OptionParser::new();
    let called = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&called);
    options.add_parse_callback(move |_| {
        *flag.lock().unwrap() = true;
        Ok(())
    });

    // non-final parse doesn't run callbacks
    options.parse_command_line(["main.py"], false).unwrap();
    assert!(!*called.lock().unwrap());

    // final parse does
    options.parse_command_line(["main.py"], true).unwrap();
    assert!(*called.lock().unwrap());

    // callbacks can be run more than once on the same options object
    *called.lock().unwrap() = false;
    options.parse_command_line(["main.py"], true).unwrap();
    assert!(*called.lock().unwrap());
}

#[test]
fn help() {
    let options = OptionParser::new();
    let outcome = options
        .try_parse_command_line(["main.py", "--help"], true)
        .unwrap();
    let ParseOutcome::Help(usage) = outcome else {
        panic!("expected help, got {outcome:?}");
    };
    assert!(usage.starts_with("Usage: main.py [OPTIONS]\n"), "{usage}");
}

#[test]
fn help_stops_parsing_and_skips_callbacks() {
    let options = OptionParser::new();
    let port = options.define(OptionDef::new("port", 80_u16)).unwrap();
    options.add_parse_callback(|_| panic!("callbacks must not run after --help"));
    let outcome = options
        .try_parse_command_line(["main.py", "--help", "--port=1"], true)
        .unwrap();
    assert!(matches!(outcome, ParseOutcome::Help(_)));
    assert_eq!(port.get(), 80);
}

#[test]
fn subcommand() {
    let base_options = OptionParser::new();
    base_options
        .define(OptionDef::new("verbose", false))
        .unwrap();
    let sub_options = OptionParser::new();
    sub_options
        .define(OptionDef::new("foo", None::<String>))
        .unwrap();
    let rest = base_options
        .parse_command_line(["main.py", "--verbose", "subcommand", "--foo=bar"], true)
        .unwrap();
    assert_eq!(rest, ["subcommand", "--foo=bar"]);
    assert!(base_options.get::<bool>("verbose").unwrap());
    let rest2 = sub_options.parse_command_line(rest, true).unwrap();
    assert!(rest2.is_empty());
    assert_eq!(
        sub_options.get::<Option<String>>("foo").unwrap().as_deref(),
        Some("bar")
    );

    // the two option sets are distinct
    let err = sub_options
        .parse_command_line(["subcommand", "--verbose"], true)
        .unwrap_err();
    assert!(matches!(err, OptionsError::UnknownOption { ref name, .. } if name == "verbose"));
}

#[test]
fn setattr() {
    let options = OptionParser::new();
    options.define(OptionDef::new("foo", 1_i64)).unwrap();
    options.set("foo", 2_i64).unwrap();
    assert_eq!(options.get::<i64>("foo").unwrap(), 2);
}

#[test]
fn setattr_type_check() {
    // set requires that options be the right type and doesn't parse from string formats.
    let options = OptionParser::new();
    options.define(OptionDef::new("foo", 1_i64)).unwrap();
    let err = options.set("foo", "2".to_owned()).unwrap_err();
    assert!(
        matches!(err, OptionsError::WrongType { ref name, ref actual, .. }
        if name == "foo" && actual == "i64")
    );
    assert!(matches!(
        options.get::<u8>("foo"),
        Err(OptionsError::WrongType { .. })
    ));
    assert!(matches!(
        options.handle::<u8>("foo"),
        Err(OptionsError::WrongType { .. })
    ));
}

#[test]
fn setattr_with_callback() {
    let values = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&values);
    let options = OptionParser::new();
    let foo = options
        .define(OptionDef::new("foo", 1_i64).callback(move |v| {
            sink.lock().unwrap().push(*v);
            Ok(())
        }))
        .unwrap();
    options.set("foo", 2_i64).unwrap();
    foo.set(3).unwrap();
    options
        .parse_command_line(["main.py", "--foo=4"], true)
        .unwrap();
    assert_eq!(*values.lock().unwrap(), [2, 3, 4]);
}

fn sample_options() -> OptionParser {
    let options = OptionParser::new();
    options.define(OptionDef::new("a", 1_i64)).unwrap();
    options.define(OptionDef::new("b", 2_i64)).unwrap();
    options
}

#[test]
fn iter() {
    // OptionParsers always define 'help'.
    assert_eq!(sample_options().names(), ["a", "b", "help"]);
}

#[test]
fn getitem() {
    assert_eq!(sample_options().get::<i64>("a").unwrap(), 1);
    assert_eq!(sample_options().value("a").unwrap(), Value::Int(1));
}

#[test]
fn setitem() {
    let options = OptionParser::new();
    options.define(OptionDef::new("foo", 1_i64)).unwrap();
    options.set("foo", 2_i64).unwrap();
    assert_eq!(options.value("foo").unwrap(), Value::Int(2));
}

#[test]
fn items() {
    let expected = vec![
        ("a".to_owned(), Value::Int(1)),
        ("b".to_owned(), Value::Int(2)),
        ("help".to_owned(), Value::Bool(false)),
    ];
    assert_eq!(sample_options().items(), expected);
}

#[test]
fn as_dict() {
    let expected: BTreeMap<String, Value> = [
        ("a".to_owned(), Value::Int(1)),
        ("b".to_owned(), Value::Int(2)),
        ("help".to_owned(), Value::Bool(false)),
    ]
    .into();
    assert_eq!(sample_options().as_dict(), expected);
}

#[test]
fn group_dict() {
    let options = OptionParser::new();
    options.define(OptionDef::new("a", 1_i64)).unwrap();
    options
        .define(OptionDef::new("b", 2_i64).group("b_group"))
        .unwrap();

    let this_file = file!().to_owned();
    let expected: BTreeSet<String> = ["b_group".to_owned(), String::new(), this_file].into();
    assert_eq!(options.groups(), expected);

    let b_group_dict = options.group_dict("b_group");
    assert_eq!(b_group_dict, [("b".to_owned(), Value::Int(2))].into());
    assert!(options.group_dict("nonexistent").is_empty());
    assert_eq!(options.group_dict("").len(), 3);
}

fn define_options() -> OptionParser {
    let options = OptionParser::new();
    options
        .define(OptionDef::new("str", None::<String>))
        .unwrap();
    options.define(OptionDef::new("int", None::<i64>)).unwrap();
    options
        .define(OptionDef::new("float", None::<f64>))
        .unwrap();
    options
        .define(OptionDef::new("timedelta", None::<Duration>))
        .unwrap();
    options
        .define(OptionDef::new("email", None::<Email>))
        .unwrap();
    options
        .define(OptionDef::new("list-of-int", Vec::<i64>::new()))
        .unwrap();
    options
        .define(OptionDef::new("list-of-str", Vec::<String>::new()))
        .unwrap();
    options
}

fn check_options_values(options: &OptionParser) {
    assert_eq!(
        options.get::<Option<String>>("str").unwrap().as_deref(),
        Some("asdf")
    );
    assert_eq!(options.get::<Option<i64>>("int").unwrap(), Some(42));
    assert_eq!(options.get::<Option<f64>>("float").unwrap(), Some(1.5));
    assert_eq!(
        options.get::<Option<Duration>>("timedelta").unwrap(),
        Some(Duration::from_secs(45))
    );
    assert_eq!(
        options.get::<Option<Email>>("email").unwrap(),
        Some(Email("tornado@web.com".into()))
    );
    assert_eq!(options.get::<Vec<i64>>("list_of_int").unwrap(), [1, 2, 3]);
    assert_eq!(
        options.get::<Vec<String>>("list_of_str").unwrap(),
        ["a", "b", "c"]
    );
}

#[test]
fn types() {
    let options = define_options();
    options
        .parse_command_line(
            [
                "main.py",
                "--str=asdf",
                "--int=42",
                "--float=1.5",
                "--timedelta=45s",
                "--email=tornado@web.com",
                "--list-of-int=1,2,3",
                "--list-of-str=a,b,c",
            ],
            true,
        )
        .unwrap();
    check_options_values(&options);
}

#[test]
fn types_with_conf_file() {
    for config_file_name in ["options_test_types.cfg", "options_test_types_str.cfg"] {
        let options = define_options();
        options
            .parse_config_file(fixture(config_file_name), true)
            .unwrap();
        check_options_values(&options);
    }
}

#[test]
fn multiple_string() {
    let options = OptionParser::new();
    options
        .define(OptionDef::new("foo", Vec::<String>::new()))
        .unwrap();
    options
        .parse_command_line(["main.py", "--foo=a,b,c"], true)
        .unwrap();
    assert_eq!(options.get::<Vec<String>>("foo").unwrap(), ["a", "b", "c"]);
}

#[test]
fn multiple_int() {
    let options = OptionParser::new();
    options
        .define(OptionDef::new("foo", Vec::<i64>::new()))
        .unwrap();
    options
        .parse_command_line(["main.py", "--foo=1,3,5:7"], true)
        .unwrap();
    assert_eq!(options.get::<Vec<i64>>("foo").unwrap(), [1, 3, 5, 6, 7]);
}

#[test]
fn error_redefine() {
    let options = OptionParser::new();
    options
        .define(OptionDef::new("foo", String::new()))
        .unwrap();
    let err = options
        .define(OptionDef::new("foo", String::new()))
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::AlreadyDefined { ref name, ref location }
        if name == "foo" && location.starts_with(file!()))
    );
    assert!(err.to_string().contains("already defined"), "{err}");
}

#[test]
fn error_redefine_underscore() {
    // Ensure that the dash/underscore normalization doesn't interfere with the
    // redefinition error.
    for (a, b) in [
        ("foo-bar", "foo-bar"),
        ("foo_bar", "foo_bar"),
        ("foo-bar", "foo_bar"),
        ("foo_bar", "foo-bar"),
    ] {
        let options = OptionParser::new();
        options.define(OptionDef::new(a, 1_u8)).unwrap();
        let err = options.define(OptionDef::new(b, 1_u8)).unwrap_err();
        assert!(
            matches!(err, OptionsError::AlreadyDefined { ref name, .. } if name == "foo-bar"),
            "{a} {b}: {err:?}"
        );
    }
}

#[test]
fn dash_underscore_cli() {
    // Dashes and underscores should be interchangeable.
    for defined_name in ["foo-bar", "foo_bar"] {
        for flag in ["--foo-bar=a", "--foo_bar=a"] {
            let options = OptionParser::new();
            options
                .define(OptionDef::new(defined_name, String::new()))
                .unwrap();
            options.parse_command_line(["main.py", flag], true).unwrap();
            assert_eq!(options.get::<String>("foo-bar").unwrap(), "a");
            assert_eq!(options.get::<String>("foo_bar").unwrap(), "a");
        }
    }
}

#[test]
fn dash_underscore_file() {
    // No matter how an option was defined, it can be set with underscores in a config file.
    for defined_name in ["foo-bar", "foo_bar"] {
        let options = OptionParser::new();
        options
            .define(OptionDef::new(defined_name, String::new()))
            .unwrap();
        options
            .parse_config_file(fixture("dash_underscore.cfg"), true)
            .unwrap();
        assert_eq!(options.get::<String>("foo_bar").unwrap(), "a");
    }
}

#[test]
fn dash_underscore_introspection() {
    // Original names are preserved in introspection APIs.
    let options = OptionParser::new();
    options
        .define(OptionDef::new("with-dash", 0_u8).group("g"))
        .unwrap();
    options
        .define(OptionDef::new("with_underscore", 0_u8).group("g"))
        .unwrap();
    let all_options = ["help", "with-dash", "with_underscore"];
    assert_eq!(options.names(), all_options);
    let item_names: Vec<String> = options.items().into_iter().map(|(k, _)| k).collect();
    assert_eq!(item_names, all_options);
    assert_eq!(
        options.as_dict().into_keys().collect::<Vec<_>>(),
        all_options
    );
    assert_eq!(
        options.group_dict("g").into_keys().collect::<Vec<_>>(),
        ["with-dash", "with_underscore"]
    );

    // --help shows CLI-style names with dashes.
    let help = options.help_text_for("main.py");
    assert!(help.contains("--with-dash"), "{help}");
    assert!(help.contains("--with-underscore"), "{help}");
}

// ---- Typhoon's additions -------------------------------------------------------------

#[test]
fn name_value_in_next_argument() {
    let options = OptionParser::new();
    let port = options.define(OptionDef::new("port", 80_u16)).unwrap();
    let neg = options.define(OptionDef::new("offset", 0_i32)).unwrap();
    let rest = options
        .parse_command_line(["main", "--port", "8080", "--offset", "-5", "file"], true)
        .unwrap();
    assert_eq!((port.get(), neg.get()), (8080, -5));
    assert_eq!(rest, ["file"]);
}

#[test]
fn missing_value() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_u16)).unwrap();
    options.define(OptionDef::new("debug", false)).unwrap();
    for args in [&["main", "--port"][..], &["main", "--port", "--debug"][..]] {
        let err = options
            .parse_command_line(args.iter().copied(), true)
            .unwrap_err();
        assert!(
            matches!(err, OptionsError::MissingValue { ref name } if name == "port"),
            "{err:?}"
        );
    }
}

#[test]
fn flags_and_negation() {
    let options = OptionParser::new();
    let debug = options.define(OptionDef::new("debug", true)).unwrap();
    let stderr = options
        .define(OptionDef::new("log_to_stderr", None::<bool>))
        .unwrap();
    options
        .parse_command_line(["main", "--no-debug", "--log-to-stderr"], true)
        .unwrap();
    assert!(!debug.get());
    assert_eq!(stderr.get(), Some(true));
    options
        .parse_command_line(["main", "--debug=yes", "--no_log_to_stderr"], true)
        .unwrap();
    assert!(debug.get());
    assert_eq!(stderr.get(), Some(false));
    let err = options
        .parse_command_line(["main", "--debug=maybe"], true)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::InvalidValue { ref name, ref value, ref expected, .. }
        if name == "debug" && value == "maybe" && expected == "bool")
    );
}

#[test]
fn no_prefix_only_for_flags() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_u16)).unwrap();
    let err = options
        .parse_command_line(["main", "--no-port"], true)
        .unwrap_err();
    assert!(matches!(err, OptionsError::UnknownOption { ref name, .. } if name == "no-port"));
    // An option really named no-cache wins over negation.
    let cache = options.define(OptionDef::new("no_cache", false)).unwrap();
    options
        .parse_command_line(["main", "--no-cache"], true)
        .unwrap();
    assert!(cache.get());
}

#[test]
fn double_dash_and_lone_dash_end_options() {
    let options = OptionParser::new();
    let debug = options.define(OptionDef::new("debug", false)).unwrap();
    let rest = options
        .parse_command_line(["main", "--", "--debug", "x"], true)
        .unwrap();
    assert_eq!(rest, ["--debug", "x"]);
    assert!(!debug.get());
    let rest = options
        .parse_command_line(["main", "--debug", "-", "--x"], true)
        .unwrap();
    assert_eq!(rest, ["-", "--x"]);
    assert!(debug.get());
    assert!(
        options
            .parse_command_line(["main"], true)
            .unwrap()
            .is_empty()
    );
    assert!(
        options
            .parse_command_line(Vec::<String>::new(), true)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn unknown_option_suggests_closest() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_u16)).unwrap();
    options
        .define(OptionDef::new("template_path", PathBuf::new()))
        .unwrap();
    let err = options
        .parse_command_line(["main", "--prot=1"], true)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::UnknownOption { ref name, ref suggestion }
        if name == "prot" && suggestion.as_deref() == Some("port"))
    );
    let err = options
        .parse_command_line(["main", "--template_pth=x"], true)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::UnknownOption { ref suggestion, .. }
        if suggestion.as_deref() == Some("template-path"))
    );
    let err = options
        .parse_command_line(["main", "--completely-else"], true)
        .unwrap_err();
    assert!(matches!(
        err,
        OptionsError::UnknownOption {
            suggestion: None,
            ..
        }
    ));
    assert!(matches!(
        options.get::<u16>("prot"),
        Err(OptionsError::UnknownOption { .. })
    ));
}

#[test]
fn invalid_value_names_value_and_type() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_u16)).unwrap();
    options
        .define(OptionDef::new("ports", Vec::<u16>::new()))
        .unwrap();
    options
        .define(OptionDef::new("timeout", Duration::from_secs(1)))
        .unwrap();
    let cases = [
        ("--port=http", "port", "http", "u16"),
        ("--port=70000", "port", "70000", "u16"),
        ("--ports=1,x", "ports", "1,x", "list of u16"),
        ("--ports=9:3", "ports", "9:3", "list of u16"),
        (
            "--timeout=5 fortnights",
            "timeout",
            "5 fortnights",
            "duration",
        ),
    ];
    for (arg, opt, val, ty) in cases {
        let err = options.parse_command_line(["main", arg], true).unwrap_err();
        assert!(
            matches!(err, OptionsError::InvalidValue { ref name, ref value, ref expected, .. }
                if name == opt && value == val && expected == ty),
            "{arg}: {err:?}"
        );
    }
    let err = options
        .parse_command_line(["main", "--port=http"], true)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value `http` for option `port`: expected u16 (invalid digit found in string)"
    );
}

#[test]
fn durations_on_command_line() {
    let options = OptionParser::new();
    let t = options
        .define(OptionDef::new("timeout", Duration::from_secs(30)))
        .unwrap();
    for (text, secs) in [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("90", 90),
    ] {
        options
            .parse_command_line(["main", &format!("--timeout={text}")], true)
            .unwrap();
        assert_eq!(t.get(), Duration::from_secs(secs), "{text}");
    }
    options
        .parse_command_line(["main", "--timeout=250ms"], true)
        .unwrap();
    assert_eq!(t.get(), Duration::from_millis(250));
}

#[test]
fn option_callback_error_stops_parse() {
    let options = OptionParser::new();
    options
        .define(OptionDef::new("workers", 1_u32).callback(|n| {
            if *n == 0 {
                Err(OptionsError::callback("need at least one worker"))
            } else {
                Ok(())
            }
        }))
        .unwrap();
    let err = options
        .parse_command_line(["main", "--workers=0"], true)
        .unwrap_err();
    assert!(matches!(err, OptionsError::Callback(_)));
    options
        .parse_command_line(["main", "--workers=2"], true)
        .unwrap();
}

#[test]
fn config_option_callback_parses_file() {
    // Tornado's documented pattern: define("config", callback=lambda path:
    // parse_config_file(path, final=False)). Later flags override the file.
    let options = Arc::new(OptionParser::new());
    let port = options.define(OptionDef::new("port", 80_i64)).unwrap();
    let username = options
        .define(OptionDef::new("username", String::new()))
        .unwrap();
    let weak = Arc::downgrade(&options);
    options
        .define(
            OptionDef::new("config", None::<PathBuf>).callback(move |path| {
                match (weak.upgrade(), path) {
                    (Some(parser), Some(path)) => parser.parse_config_file(path, false),
                    _ => Ok(()),
                }
            }),
        )
        .unwrap();
    let config = fixture("options_test.cfg");
    let config = config.to_str().unwrap();
    options
        .parse_command_line(["main", "--port=1", &format!("--config={config}")], true)
        .unwrap();
    assert_eq!((port.get(), username.get().as_str()), (443, "李康"));
    options
        .parse_command_line(["main", "--config", config, "--port=2"], true)
        .unwrap();
    assert_eq!(port.get(), 2);
}

#[test]
fn config_errors() {
    let options = OptionParser::new();
    options.define(OptionDef::new("port", 80_u16)).unwrap();
    options
        .define(OptionDef::new("hosts", Vec::<String>::new()))
        .unwrap();

    let err = options.parse_config_str("prot = 1\n", true).unwrap_err();
    assert!(
        matches!(err, OptionsError::UnknownOption { ref suggestion, .. }
        if suggestion.as_deref() == Some("port"))
    );

    let err = options
        .parse_config_str("port = 'http'\n", true)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::InvalidValue { ref name, ref value, .. }
        if name == "port" && value == "http")
    );

    let err = options.parse_config_str("port = true\n", true).unwrap_err();
    assert!(
        matches!(err, OptionsError::InvalidValue { ref value, ref reason, .. }
        if value == "true" && reason == "found boolean")
    );

    let err = options.parse_config_str("hosts = [1]\n", true).unwrap_err();
    assert!(matches!(err, OptionsError::InvalidValue { ref name, .. } if name == "hosts"));

    let err = options
        .parse_config_str("[port]\nx = 1\n", true)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::InvalidValue { ref reason, .. } if reason == "found a table")
    );

    let err = options.parse_config_str("port = = 1\n", true).unwrap_err();
    assert!(matches!(err, OptionsError::ConfigSyntax { .. }));

    let err = options
        .parse_config_file(fixture("does-not-exist.cfg"), true)
        .unwrap_err();
    assert!(matches!(err, OptionsError::ReadConfig { ref source, .. }
        if source.kind() == std::io::ErrorKind::NotFound));

    options
        .parse_config_str("hosts = 'a,b'\nport = 8000\n", true)
        .unwrap();
    assert_eq!(options.get::<Vec<String>>("hosts").unwrap(), ["a", "b"]);
    assert_eq!(options.get::<u16>("port").unwrap(), 8000);
}

#[test]
fn help_text_groups_and_defaults() {
    let options = OptionParser::new();
    options
        .define(
            OptionDef::new("port", 8888_u16)
                .help("port to listen on")
                .metavar("PORT")
                .group("server"),
        )
        .unwrap();
    options
        .define(OptionDef::new("timeout", Duration::from_secs(90)).group("server"))
        .unwrap();
    options
        .define(
            OptionDef::new("db_hosts", vec!["a".to_owned(), "b".to_owned()])
                .help("database hosts to connect to, in order of preference; the first that answers wins")
                .group("db"),
        )
        .unwrap();
    let expected = "\
Usage: app [OPTIONS]

Options:

  --help                           show this help information

db options:

  --db-hosts                       database hosts to connect to, in order of
                                   preference; the first that answers wins
                                   (default a,b)

server options:

  --port=PORT                      port to listen on (default 8888)
  --timeout                        (default 1m30s)

";
    assert_eq!(options.help_text_for("app"), expected);
}

#[test]
fn handles_share_the_option() {
    let options = OptionParser::new();
    let port = options.define(OptionDef::new("port", 80_u16)).unwrap();
    let again = options.handle::<u16>("port").unwrap();
    again.set(81).unwrap();
    assert_eq!(port.get(), 81);
    assert_eq!(port.name(), "port");
    assert!(options.contains("port"));
    assert!(!options.contains("prot"));
}

#[test]
fn global_options() {
    // The process-wide parser has help and (with the feature) Tornado's logging options.
    let global = options();
    assert!(global.contains("help"));
    assert_eq!(global.contains("logging"), cfg!(feature = "logging"));
    assert_eq!(
        global.contains("log_file_prefix"),
        cfg!(feature = "logging")
    );
    let handle = typhoon_options::define(OptionDef::new("global_test_port", 1_u16)).unwrap();
    assert_eq!(global.get::<u16>("global-test-port").unwrap(), 1);
    let err = typhoon_options::define(OptionDef::new("global-test-port", 1_u16)).unwrap_err();
    assert!(matches!(err, OptionsError::AlreadyDefined { .. }));
    handle.set(2).unwrap();
    assert_eq!(global.value("global_test_port").unwrap(), Value::Int(2));
    assert!(typhoon_options::parse_config_file(fixture("does-not-exist.cfg")).is_err());
}

#[test]
fn parser_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OptionParser>();
    assert_send_sync::<typhoon_options::OptionHandle<String>>();
}

#[test]
fn help_matches_tornado_output() {
    // Recorded from Tornado 6.6.1's print_help with the same definitions (the one difference:
    // Tornado leaves a trailing space after a prefix longer than 30 columns; we trim it).
    let options = OptionParser::new();
    options
        .define(
            OptionDef::new("port", 8888_i64)
                .help("port to listen on")
                .metavar("PORT")
                .group("server"),
        )
        .unwrap();
    options
        .define(
            OptionDef::new("db_hosts", None::<String>)
                .help("database hosts to connect to, in order of preference; the first that answers wins")
                .group("db"),
        )
        .unwrap();
    options
        .define(
            OptionDef::new("a_very_long_option_name_for_layout", None::<String>)
                .metavar("VALUE")
                .group("server"),
        )
        .unwrap();
    let tornado = "Usage: -c [OPTIONS]\n\nOptions:\n\n  --help                           show this help information\n\ndb options:\n\n  --db-hosts                       database hosts to connect to, in order of\n                                   preference; the first that answers wins\n\nserver options:\n\n  --a-very-long-option-name-for-layout=VALUE \n  --port=PORT                      port to listen on (default 8888)\n\n";
    assert_eq!(options.help_text_for("-c"), tornado.replace(" \n", "\n"));
}

#[test]
fn types_datetime() {
    // options_test.py test_types, the datetime part: `--datetime=2013-04-28 05:16`.
    use typhoon_options::NaiveDateTime;
    let parser = OptionParser::new();
    let when = parser
        .define(OptionDef::new(
            "datetime",
            NaiveDateTime::parse_from_str("2000-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")
                .expect("valid"),
        ))
        .expect("define");
    parser
        .parse_command_line(["main.py", "--datetime=2013-04-28 05:16"], true)
        .expect("parse");
    assert_eq!(
        when.get(),
        NaiveDateTime::parse_from_str("2013-04-28 05:16:00", "%Y-%m-%d %H:%M:%S").expect("valid")
    );
    let err = parser
        .parse_command_line(["main.py", "--datetime=tomorrow"], true)
        .expect_err("not a date");
    assert!(
        matches!(err, typhoon_options::OptionsError::InvalidValue { .. }),
        "{err:?}"
    );
    // A TOML local date-time is a datetime too.
    parser
        .parse_config_str("datetime = 1979-05-27T07:32:00\n", true)
        .expect("toml datetime");
    assert_eq!(when.get().to_string(), "1979-05-27 07:32:00");
    // And the value shows as Tornado would write it.
    assert_eq!(
        parser.value("datetime").expect("value").to_string(),
        "1979-05-27 07:32:00"
    );
}
