//! The `options` example's parsing, through the same library functions `main` calls but on a
//! fresh parser: defaults, a TOML config file, the command line over the file, `--help`,
//! errors; and the page that shows the result.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use typhoon_examples::options::{define_options, make_app, options_json, parse_args};
use typhoon_options::{OptionParser, OptionsError, ParseOutcome};
use typhoon_testing::{AsyncHTTPTestServer, run_test};

/// A config file, removed at the end of the test.
struct ConfigFile(PathBuf);

impl ConfigFile {
    fn new(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "typhoon-options-{}-{name}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).expect("write config");
        Self(path)
    }

    fn arg(&self) -> String {
        format!("--config={}", self.0.display())
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn defaults_without_arguments() {
    let parser = OptionParser::new();
    let options = define_options(&parser).expect("define");
    let outcome = parse_args(&parser, &options, ["options"]).expect("parse");
    assert_eq!(outcome, ParseOutcome::Remaining(vec![]));
    assert_eq!(
        options_json(&parser),
        json!({
            "port": 8888,
            "address": "127.0.0.1",
            "debug": false,
            "request_timeout": "30s",
            "tags": [],
            "config": null,
        })
    );
}

#[test]
fn config_file_then_command_line() {
    let config = ConfigFile::new(
        "layers",
        "port = 9001\ndebug = true\nrequest_timeout = \"1m30s\"\ntags = [\"blue\", \"green\"]\n",
    );
    let parser = OptionParser::new();
    let options = define_options(&parser).expect("define");
    let outcome = parse_args(
        &parser,
        &options,
        [
            "options".to_owned(),
            config.arg(),
            "--port=9100".to_owned(),
            "--no-debug".to_owned(),
        ],
    )
    .expect("parse");
    assert_eq!(outcome, ParseOutcome::Remaining(vec![]));
    // The command line wins; the file fills in the rest.
    assert_eq!(options.port.get(), 9100);
    assert!(!options.debug.get());
    assert_eq!(options.request_timeout.get(), Duration::from_secs(90));
    assert_eq!(options.tags.get(), ["blue", "green"]);
    let shown = options_json(&parser);
    assert_eq!(shown["request_timeout"], "1m30s");
    assert_eq!(shown["tags"], json!(["blue", "green"]));
    assert_eq!(shown["config"], config.0.display().to_string());
}

#[test]
fn help_lists_the_options() {
    let parser = OptionParser::new();
    let options = define_options(&parser).expect("define");
    let outcome = parse_args(&parser, &options, ["options", "--port=1", "--help"]).expect("parse");
    let ParseOutcome::Help(text) = outcome else {
        panic!("expected help, got {outcome:?}");
    };
    for expected in [
        "--port",
        "--request-timeout",
        "--tags=TAG,...",
        "--config=FILE",
        "server options:",
        "(default 30s)",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let parser = OptionParser::new();
    let options = define_options(&parser).expect("define");
    let typo = parse_args(&parser, &options, ["options", "--prot=1"]);
    assert!(matches!(
        typo,
        Err(OptionsError::UnknownOption { ref suggestion, .. }) if suggestion.as_deref() == Some("port")
    ));
    let bad = parse_args(&parser, &options, ["options", "--request-timeout=soon"]);
    assert!(
        matches!(bad, Err(OptionsError::InvalidValue { .. })),
        "{bad:?}"
    );

    let unknown_key = ConfigFile::new("unknown", "colour = \"red\"\n");
    let parser = OptionParser::new();
    let options = define_options(&parser).expect("define");
    let error = parse_args(&parser, &options, ["options".to_owned(), unknown_key.arg()]);
    assert!(
        matches!(error, Err(OptionsError::UnknownOption { .. })),
        "{error:?}"
    );
    let missing = parse_args(
        &parser,
        &options,
        ["options", "--config=/nonexistent/typhoon.toml"],
    );
    assert!(
        matches!(missing, Err(OptionsError::ReadConfig { .. })),
        "{missing:?}"
    );
}

#[test]
fn the_page_shows_the_effective_options() {
    let parser = OptionParser::new();
    let options = define_options(&parser).expect("define");
    parse_args(&parser, &options, ["options", "--tags=a,b", "--debug"]).expect("parse");
    let expected = options_json(&parser);
    let app = make_app(&parser, &options);
    assert!(app.settings().debug);
    assert_eq!(
        app.settings().request_timeout,
        Some(Duration::from_secs(30))
    );
    run_test(async move {
        let server = AsyncHTTPTestServer::new(app);
        let response = server.fetch("/").await.expect("fetch");
        let shown: Value = serde_json::from_slice(&response.body).expect("JSON");
        assert_eq!(shown, expected);
        assert_eq!(shown["tags"], json!(["a", "b"]));
    });
}
