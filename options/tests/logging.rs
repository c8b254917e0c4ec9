//! Tornado's logging options end to end: a final parse installs the global `tracing`
//! subscriber, which writes Tornado-format lines to `--log-file-prefix`.
//!
//! In its own test binary because it installs the process's global subscriber.
#![cfg(feature = "logging")]

use typhoon_options::log::{
    LogLevel, define_logging_options, enable_pretty_logging, pretty_logging_subscriber,
};
use typhoon_options::{OptionParser, OptionsError};

fn logging_parser() -> OptionParser {
    let parser = OptionParser::new();
    define_logging_options(&parser).unwrap();
    parser
}

#[test]
fn logging_options_install_subscriber_writing_tornado_lines() {
    let dir = std::env::temp_dir().join(format!("typhoon-options-logging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_file = dir.join("app.log");
    let _ = std::fs::remove_file(&log_file);

    // A scoped subscriber set earlier, on any thread (another test's `with_default`), is no
    // global one: the final parse still installs its own.
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {});

    let parser = logging_parser();
    let prefix = format!("--log-file-prefix={}", log_file.display());
    parser
        .parse_command_line(
            ["main", "--logging=debug", &prefix, "--no-log-to-stderr"],
            true,
        )
        .unwrap();
    assert_eq!(parser.get::<LogLevel>("logging").unwrap(), LogLevel::Debug);

    tracing::debug!("debug is on");
    tracing::trace!("trace is not");
    tracing::info!(port = 8888, "listening");

    let text = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("[D "), "{text}");
    assert!(
        lines[0].contains(" logging:"),
        "module is the last path segment: {text}"
    );
    assert!(lines[0].ends_with("] debug is on"), "{text}");
    assert!(lines[1].starts_with("[I "), "{text}");
    assert!(lines[1].ends_with("] listening port=8888"), "{text}");

    // A second final parse finds a subscriber installed and leaves it alone.
    assert!(!enable_pretty_logging(&parser).unwrap());
    parser.parse_command_line(["main"], true).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn logging_none_builds_no_subscriber() {
    let parser = logging_parser();
    parser
        .parse_command_line(["main", "--logging=none"], false)
        .unwrap();
    assert!(pretty_logging_subscriber(&parser).unwrap().is_none());
}

#[test]
fn bad_log_level_is_an_error() {
    let parser = logging_parser();
    let err = parser
        .parse_command_line(["main", "--logging=loud"], false)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::InvalidValue { ref name, ref value, .. }
        if name == "logging" && value == "loud")
    );
    let err = parser
        .parse_command_line(["main", "--loging=info"], false)
        .unwrap_err();
    assert!(
        matches!(err, OptionsError::UnknownOption { ref suggestion, .. }
        if suggestion.as_deref() == Some("logging"))
    );
}

#[test]
fn unwritable_log_file_is_an_error() {
    let parser = logging_parser();
    parser
        .parse_command_line(
            ["main", "--log-file-prefix=/nonexistent-dir/x/app.log"],
            false,
        )
        .unwrap();
    assert!(matches!(
        pretty_logging_subscriber(&parser),
        Err(OptionsError::LogFile { .. })
    ));
}

#[test]
fn logging_options_in_help() {
    let help = logging_parser().help_text_for("main");
    assert!(help.contains("\nlogging options:\n"), "{help}");
    assert!(
        help.contains("  --logging=debug|info|warning|error|none"),
        "{help}"
    );
    assert!(help.contains("  --log-file-prefix=PATH"), "{help}");
    assert!(
        help.contains("(default\n") && help.contains(" info)\n"),
        "{help}"
    );
}

#[test]
fn log_rotate_options_parse_as_tornado() {
    use typhoon_options::log::{LogRotateMode, RotateWhen};
    let parser = logging_parser();
    parser
        .parse_command_line(
            [
                "main",
                "--logging=none",
                "--log-rotate-mode=time",
                "--log-rotate-when=W3",
                "--log-rotate-interval=2",
            ],
            false,
        )
        .unwrap();
    assert_eq!(
        parser.get::<LogRotateMode>("log_rotate_mode").unwrap(),
        LogRotateMode::Time
    );
    assert!(matches!(
        parser.get::<RotateWhen>("log_rotate_when").unwrap(),
        RotateWhen::Weekday(chrono::Weekday::Thu)
    ));
    assert_eq!(parser.get::<u32>("log_rotate_interval").unwrap(), 2);
    // Tornado's defaults: size rotation, at midnight once time rotation is chosen.
    let defaults = logging_parser();
    assert_eq!(
        defaults.get::<LogRotateMode>("log_rotate_mode").unwrap(),
        LogRotateMode::Size
    );
    assert_eq!(
        defaults.get::<RotateWhen>("log_rotate_when").unwrap(),
        RotateWhen::Midnight
    );
    for bad in ["--log-rotate-mode=hourly", "--log-rotate-when=W7"] {
        let error = logging_parser()
            .parse_command_line(["main", bad], false)
            .unwrap_err();
        assert!(matches!(error, OptionsError::InvalidValue { .. }), "{bad}");
    }
}

#[test]
fn time_rotated_log_file_is_written() {
    let dir = std::env::temp_dir().join(format!("typhoon-options-timed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_file = dir.join("app.log");
    let _ = std::fs::remove_file(&log_file);
    let parser = logging_parser();
    let prefix = format!("--log-file-prefix={}", log_file.display());
    parser
        .parse_command_line(
            [
                "main",
                &prefix,
                "--no-log-to-stderr",
                "--log-rotate-mode=time",
            ],
            false,
        )
        .unwrap();
    let subscriber = pretty_logging_subscriber(&parser).unwrap().unwrap();
    tracing::subscriber::with_default(subscriber, || tracing::info!("timed"));
    let text = std::fs::read_to_string(&log_file).unwrap();
    assert!(text.ends_with("] timed\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
