//! [`EscapeError`], the one error type of this crate, and its [`Result`] alias.

/// The errors of this crate; each mirrors an exception Tornado raises.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscapeError {
    /// `parse_qs_bytes` met more fields than its `max_num_fields` limit (Tornado's
    /// `ValueError("Max number of fields exceeded")`).
    #[error("max number of fields exceeded: more than {limit}")]
    TooManyFields {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// `parse_qs_bytes` in strict mode met an empty field or one without `=`.
    #[error("bad query field")]
    BadQueryField {
        /// The offending field, as raw bytes.
        field: Vec<u8>,
    },
    /// JSON encoding or decoding failed.
    ///
    /// This exposes `serde_json::Error` in the public API; acceptable while we do not publish.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[error("invalid json")]
    Json(#[from] serde_json::Error),
}

/// `Result` with this crate's [`EscapeError`] as the default error type.
pub type Result<T, E = EscapeError> = std::result::Result<T, E>;
