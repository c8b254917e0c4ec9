//! [`TemplateError`], the template error type, and its [`Result`] alias.

/// Template errors. Each carries the name of the template it concerns and, where the engine
/// knows it, the line; the engine's own error (with its detail) is the [`source`].
///
/// [`source`]: std::error::Error::source
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A template does not exist: the one asked for, or one it extends, includes or imports.
    #[error("template not found: {name}")]
    NotFound {
        /// The missing template's name.
        name: String,
        /// The template that referred to it, when the missing one was not asked for directly.
        referenced_from: Option<String>,
        /// The engine's error.
        #[source]
        source: minijinja::Error,
    },
    /// A template does not compile.
    #[error("syntax error in template {name}{}", at_line(*line))]
    Syntax {
        /// The template with the error (possibly a parent or an included template).
        name: String,
        /// The line of the error, 1-based.
        line: Option<usize>,
        /// The engine's error, with the detail.
        #[source]
        source: minijinja::Error,
    },
    /// Rendering failed: an undefined function or filter, a bad operation, a failing helper, or
    /// a template file that could not be read.
    #[error("error rendering template {name}{}", at_line(*line))]
    Render {
        /// The template being executed when the error happened.
        name: String,
        /// The line of the error, 1-based.
        line: Option<usize>,
        /// The engine's error, with the detail.
        #[source]
        source: minijinja::Error,
    },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

impl TemplateError {
    /// The name of the template the error concerns (for [`TemplateError::NotFound`], the missing
    /// one).
    pub fn name(&self) -> &str {
        match self {
            Self::NotFound { name, .. } | Self::Syntax { name, .. } | Self::Render { name, .. } => {
                name
            }
        }
    }

    /// The 1-based line of the error, where known.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::NotFound { source, .. } => source.line(),
            Self::Syntax { line, .. } | Self::Render { line, .. } => *line,
        }
    }

    /// Sorts an engine error into our kinds; `requested` is the template the caller asked for.
    pub(crate) fn from_engine(err: minijinja::Error, requested: &str) -> Self {
        // An error inside an included template comes wrapped (`BadInclude`); the innermost
        // engine error knows the real template, line and kind.
        let mut inner = &err;
        while let Some(next) =
            std::error::Error::source(inner).and_then(|s| s.downcast_ref::<minijinja::Error>())
        {
            inner = next;
        }
        let name = inner.name().or(err.name()).unwrap_or(requested).to_owned();
        let line = inner.line();
        let kind = inner.kind();
        let detail = inner.detail().map(str::to_owned);
        match kind {
            minijinja::ErrorKind::TemplateNotFound => {
                let missing = detail.as_deref().and_then(missing_name);
                match missing {
                    Some(missing) if missing != name => Self::NotFound {
                        name: missing,
                        referenced_from: Some(name),
                        source: err,
                    },
                    Some(missing) => Self::NotFound {
                        name: missing,
                        referenced_from: None,
                        source: err,
                    },
                    None => Self::NotFound {
                        name,
                        referenced_from: None,
                        source: err,
                    },
                }
            }
            minijinja::ErrorKind::SyntaxError | minijinja::ErrorKind::InvalidDelimiter => {
                Self::Syntax {
                    name,
                    line,
                    source: err,
                }
            }
            _ => Self::Render {
                name,
                line,
                source: err,
            },
        }
    }
}

/// Extracts `x` from minijinja's detail `template "x" does not exist`.
fn missing_name(detail: &str) -> Option<String> {
    let quoted = detail
        .strip_prefix("template ")?
        .strip_suffix(" does not exist")?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    // The name was written with `{:?}`; names with escapes are rare, undo the common ones.
    Some(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
}

/// `Result` with this crate's [`TemplateError`] as the default error type.
pub type Result<T, E = TemplateError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_missing_name() {
        assert_eq!(
            missing_name(r#"template "a/b.html" does not exist"#).as_deref(),
            Some("a/b.html")
        );
        assert_eq!(
            missing_name(r#"template "q\"x" does not exist"#).as_deref(),
            Some("q\"x")
        );
        assert_eq!(missing_name("something else"), None);
    }

    #[test]
    fn display_names_template_and_line() {
        let err = TemplateError::Syntax {
            name: "a.html".into(),
            line: Some(3),
            source: minijinja::Error::new(minijinja::ErrorKind::SyntaxError, "x"),
        };
        assert_eq!(err.to_string(), "syntax error in template a.html at line 3");
        assert_eq!((err.name(), err.line()), ("a.html", Some(3)));
    }
}
