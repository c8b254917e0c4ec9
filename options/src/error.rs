//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while defining, setting, reading or parsing options.
///
/// Each variant mirrors a failure Tornado reports with `tornado.options.Error` and names the
/// option concerned, in the dashed form used on the command line. Match on variants, not on the
/// `Display` text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A name on the command line, in a config file or given to a lookup is not defined.
    #[error("unrecognized option `{name}`{}", did_you_mean(.suggestion.as_deref()))]
    UnknownOption {
        /// The unknown name, with underscores turned into dashes.
        name: String,
        /// The closest defined option by edit distance, if one is close enough to be a typo.
        suggestion: Option<String>,
    },

    /// `define` was called twice for the same name (dashes and underscores are the same name).
    #[error("option `{name}` already defined at {location}")]
    AlreadyDefined {
        /// The option name, dashed.
        name: String,
        /// `file:line` of the first definition.
        location: String,
    },

    /// The name given to `define` cannot be written on a command line.
    #[error(
        "invalid option name `{name}`: names are non-empty, without `=` or whitespace, and do not start with `-`"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },

    /// A value could not be converted to the option's type.
    #[error("invalid value `{value}` for option `{name}`: expected {expected} ({reason})")]
    InvalidValue {
        /// The option name, dashed.
        name: String,
        /// The value as it was written.
        value: String,
        /// The option's type, as shown in help (`u16`, `duration`, `list of string`, ...).
        expected: String,
        /// Why the conversion failed.
        reason: String,
    },

    /// A non-boolean option was given on the command line without a value.
    #[error("option `{name}` requires a value")]
    MissingValue {
        /// The option name, dashed.
        name: String,
    },

    /// A typed lookup or assignment used a Rust type other than the option's.
    #[error("option `{name}` has type {actual}, not {requested}")]
    WrongType {
        /// The option name, dashed.
        name: String,
        /// The type asked for.
        requested: String,
        /// The type the option was defined with.
        actual: String,
    },

    /// A config file could not be read.
    #[error("cannot read config file `{}`", .path.display())]
    ReadConfig {
        /// The file that was asked for.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A config file is not valid TOML.
    ///
    /// The source is the `toml` crate's error, which carries the line and column. Exposing a
    /// foreign type couples this API to `toml`; acceptable while Typhoon is unpublished.
    #[error("invalid TOML in config `{}`", .path.display())]
    ConfigSyntax {
        /// The file (or `<string>` for [`OptionParser::parse_config_str`](crate::OptionParser::parse_config_str)).
        path: PathBuf,
        /// The parser's error, with position.
        #[source]
        source: toml::de::Error,
    },

    /// The log file named by `--log-file-prefix` could not be opened or rotated.
    #[cfg(feature = "logging")]
    #[cfg_attr(docsrs, doc(cfg(feature = "logging")))]
    #[error("cannot open log file `{}`", .path.display())]
    LogFile {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An option callback or parse callback failed with an error of its own.
    ///
    /// Callbacks that fail with an [`OptionsError`] (for instance a nested
    /// `parse_config_file`) return it unchanged instead.
    #[error("option callback failed")]
    Callback(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl OptionsError {
    /// Wraps any error returned from a user callback.
    pub fn callback(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::Callback(error.into())
    }
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
}

/// `Result` with [`OptionsError`] as the default error type.
pub type Result<T, E = OptionsError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_option_message_has_suggestion() {
        let e = OptionsError::UnknownOption {
            name: "prot".into(),
            suggestion: Some("port".into()),
        };
        assert_eq!(
            e.to_string(),
            "unrecognized option `prot`; did you mean `port`?"
        );
        let e = OptionsError::UnknownOption {
            name: "zzz".into(),
            suggestion: None,
        };
        assert_eq!(e.to_string(), "unrecognized option `zzz`");
    }

    #[test]
    fn errors_are_send_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<OptionsError>();
    }
}
