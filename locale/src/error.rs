//! Why loading translations failed.

use std::path::PathBuf;

/// Why loading translations failed. A file Tornado would skip with a logged error (a CSV file
/// with an unrecognised name, a row with an unknown plural indicator, a `.mo` file that does
/// not parse) is logged and skipped here too; these errors are for what stops the whole load.
#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    /// The translations directory (or a file in it) could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An encoding this crate cannot decode was asked for (`utf-8`, `utf-8-sig` and `utf-16`
    /// are supported, as Tornado's BOM detection chooses among them).
    #[error("unsupported encoding {0:?} (utf-8, utf-8-sig or utf-16)")]
    UnsupportedEncoding(String),
    /// A CSV file's bytes are not valid in its encoding.
    #[error("{path} is not valid {encoding}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The encoding it was read in.
        encoding: &'static str,
    },
    /// A CSV file is not valid CSV.
    #[error("cannot parse {path}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: csv::Error,
    },
    /// A `.mo` file is not a gettext catalog.
    #[error("{path} is not a gettext catalog: {reason}")]
    Catalog {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A catalog's `Plural-Forms` expression does not parse.
    #[error("invalid plural expression {expression:?} at byte {at}")]
    PluralForms {
        /// The expression.
        expression: String,
        /// Where parsing stopped.
        at: usize,
    },
}
