//! [`WebError`], the crate's error enum, and [`HTTPError`], what handlers return.

use std::fmt;

use typhoon_httputil::reason_phrase;

/// What can go wrong in the framework itself (building routes, setting headers, rendering).
///
/// Any `WebError` converts into an [`HTTPError`] with status 500 through `?` in a handler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// A route's or host's pattern is not a valid regular expression.
    #[error("invalid route pattern {pattern:?}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// The regex compiler's complaint.
        #[source]
        source: Box<regex::Error>,
    },
    /// `reverse_url` with an unknown route name.
    #[error("no route named {0:?}")]
    UnknownRoute(String),
    /// `reverse_url` on a route whose pattern cannot be reversed, or with the wrong number of
    /// arguments.
    #[error("cannot reverse route {name:?} with {given} arguments")]
    CannotReverse {
        /// The route's name.
        name: String,
        /// How many arguments were given.
        given: usize,
    },
    /// A request that looks cross-origin from an origin that is not trusted (Tornado 6.6's
    /// cross-origin protection, and the WebSocket handshake's origin check).
    #[error(
        "cross-origin request not allowed (Sec-Fetch-Site {sec_fetch_site:?}, Origin {origin:?})"
    )]
    CrossOrigin {
        /// The request's `Sec-Fetch-Site`, if it had one.
        sec_fetch_site: Option<String>,
        /// The request's `Origin`, if it had one.
        origin: Option<String>,
    },
    /// A header name or value that would break the response (CR/LF, control characters).
    #[error("invalid header")]
    InvalidHeader(#[from] typhoon_httputil::HTTPInputError),
    /// A cookie name or value with characters a cookie cannot carry.
    #[error("invalid cookie name or value {0:?}")]
    InvalidCookie(String),
    /// Signed cookies need `Settings::cookie_secret`.
    #[error("the cookie_secret setting is required for signed cookies and XSRF")]
    MissingCookieSecret,
    /// `cookie_secrets` is set without a `key_version` naming the key that signs (Tornado:
    /// "key_version setting must be used for secret_key dicts"), or `key_version` names a key
    /// that `cookie_secrets` does not have.
    #[error("set Settings::key_version to one of the keys in Settings::cookie_secrets (got {0:?})")]
    KeyVersion(Option<u32>),
    /// A template is needed but no `template_path` or `templates` was set.
    #[error("no template loader: set Settings::template_path or Settings::templates")]
    NoTemplates,
    /// A template failed to load or render.
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    #[error("template error")]
    Template(#[from] typhoon_template::TemplateError),
    /// A value could not be serialised to JSON.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[error("json serialisation failed")]
    Json(#[from] serde_json::Error),
    /// `static_url` without a `static_path` setting.
    #[error("static_url needs the static_path setting")]
    NoStaticPath,
    /// The page has no `</head>` or `</body>` to put its UI modules' resources before (Tornado's
    /// `render` fails the same way).
    #[error("the page has no {0} for its UI modules' resources")]
    NoPlaceForResources(&'static str),
    /// A UI module's CSS or JavaScript file has no URL: `static_url` refused it (no
    /// `static_path` setting, or a path outside it).
    #[error("no static URL for {path:?}: {refusal}")]
    StaticUrl {
        /// The file, as the module named it.
        path: String,
        /// Why `static_url` refused it (its status and cause).
        refusal: Box<HTTPError>,
    },
    /// `write` or `flush` after `finish`.
    #[error("cannot write after finish")]
    Finished,
    /// The client went away during a flush.
    #[error("the connection closed")]
    Stream(#[from] typhoon_iostream::StreamError),
    /// Reading a file or binding a socket failed.
    #[error("i/o error")]
    Io(#[from] std::io::Error),
    /// [`Context::detach`](crate::Context::detach) could not switch protocols.
    #[error("cannot switch protocols")]
    Upgrade(#[from] typhoon_httpserver::UpgradeError),
}

/// The result type of the crate's fallible functions.
pub type Result<T, E = WebError> = std::result::Result<T, E>;

/// An error that ends a request with an HTTP status (Tornado's `HTTPError`), the error type of
/// every handler method.
///
/// `?` converts any other error into an `HTTPError` with status 500 whose source is kept for the
/// log (and for `serve_traceback`). A handler answers 404 with `Err(HTTPError::new(404))`, and
/// [`HTTPError::finish`] stops a handler whose response is already complete (Tornado's
/// `Finish`).
///
/// `HTTPError` deliberately does not implement `std::error::Error`, so that the blanket
/// conversion from every error type is possible (as `anyhow::Error` does).
///
/// # Examples
///
/// ```
/// use typhoon_web::HTTPError;
///
/// let err = HTTPError::with_log_message(404, "no such user 7");
/// assert_eq!(err.status(), 404);
/// assert_eq!(err.reason(), "Not Found");
///
/// fn parse(s: &str) -> Result<u32, HTTPError> {
///     Ok(s.parse::<u32>()?) // any error: 500
/// }
/// assert_eq!(parse("x").unwrap_err().status(), 500);
/// ```
pub struct HTTPError {
    /// The status to answer; 0 for [`HTTPError::finish`].
    status: u16,
    /// Written to the log, never to the client.
    log_message: Option<String>,
    /// A custom reason phrase.
    reason: Option<String>,
    /// The error behind a 500.
    source: Option<Box<dyn std::error::Error + 'static>>,
}

impl HTTPError {
    /// An error answering `status` with the standard reason phrase.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            log_message: None,
            reason: None,
            source: None,
        }
    }

    /// Stops the handler without an error: the response is complete (Tornado's `Finish`). The
    /// framework finishes it if the handler did not.
    pub fn finish() -> Self {
        Self::new(0)
    }

    /// An error answering `status` that keeps `source` as its cause, for the log's error chain
    /// (as `?` does for a 500, here with any status): a 400 for a body that failed to read
    /// keeps the stream's error, say.
    pub fn with_source(status: u16, source: impl std::error::Error + 'static) -> Self {
        Self {
            source: Some(Box::new(source)),
            ..Self::new(status)
        }
    }

    /// An error answering `status` with a message for the log, never shown to clients
    /// (Tornado's `HTTPError(status, log_message)`).
    pub fn with_log_message(status: u16, message: impl Into<String>) -> Self {
        Self {
            log_message: Some(message.into()),
            ..Self::new(status)
        }
    }

    /// An error answering `status` with a custom reason phrase (Tornado's
    /// `HTTPError(status, reason=...)`; needed for statuses without a standard one).
    pub fn with_reason(status: u16, reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            ..Self::new(status)
        }
    }

    /// Sets the message for the log, to go with a reason or a source (Tornado's
    /// `HTTPError(status, log_message, reason=...)`).
    ///
    /// ```
    /// use typhoon_web::HTTPError;
    ///
    /// let mut err = HTTPError::with_reason(400, "Bad Token");
    /// err.set_log_message("token expired 3 days ago");
    /// assert_eq!(err.reason(), "Bad Token");
    /// assert_eq!(err.log_message(), Some("token expired 3 days ago"));
    /// ```
    pub fn set_log_message(&mut self, message: impl Into<String>) {
        self.log_message = Some(message.into());
    }

    /// Sets a custom reason phrase.
    pub fn set_reason(&mut self, reason: impl Into<String>) {
        self.reason = Some(reason.into());
    }

    /// Sets the cause kept for the log's error chain.
    pub fn set_source(&mut self, source: impl std::error::Error + 'static) {
        self.source = Some(Box::new(source));
    }

    /// The status code (0 for [`HTTPError::finish`]).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether this is [`HTTPError::finish`].
    pub fn is_finish(&self) -> bool {
        self.status == 0
    }

    /// The log message, if any.
    pub fn log_message(&self) -> Option<&str> {
        self.log_message.as_deref()
    }

    /// The reason phrase: the custom one, else the standard one, else `"Unknown"`.
    pub fn reason(&self) -> &str {
        self.reason
            .as_deref()
            .or_else(|| reason_phrase(self.status))
            .unwrap_or("Unknown")
    }

    /// The custom reason phrase, if one was set.
    pub(crate) fn custom_reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The error behind a 500 made by `?`.
    pub fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref()
    }

    /// The error and its chain of causes, one per line (for the log and `serve_traceback`).
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut next = self.source();
        while let Some(err) = next {
            out.push_str("\ncaused by: ");
            out.push_str(&err.to_string());
            next = err.source();
        }
        out
    }
}

/// A 500 whose [`source`](HTTPError::source) is `err`, with no log message: the cause is
/// printed once, by [`chain`](HTTPError::chain), not also formatted into the message.
impl<E: std::error::Error + 'static> From<E> for HTTPError {
    fn from(err: E) -> Self {
        let mut out = Self::new(500);
        out.source = Some(Box::new(err));
        out
    }
}

impl fmt::Display for HTTPError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.reason())?;
        if let Some(message) = &self.log_message {
            write!(f, " ({message})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HTTPError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPError")
            .field("status", &self.status)
            .field("reason", &self.reason())
            .field("log_message", &self.log_message)
            .field("source", &self.source)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_keeps_the_cause_once() {
        let err = HTTPError::from(WebError::Io(std::io::Error::other("disk on fire")));
        assert_eq!(err.status(), 500);
        assert_eq!(
            err.log_message(),
            None,
            "the cause is the source, not a message"
        );
        let source = err.source().expect("the cause is kept");
        assert!(matches!(
            source.downcast_ref::<WebError>(),
            Some(WebError::Io(_))
        ));
        let chain = err.chain();
        assert_eq!(chain.lines().count(), 3, "{chain}");
        assert_eq!(chain.matches("disk on fire").count(), 1, "{chain}");
        assert_eq!(chain.matches("i/o error").count(), 1, "{chain}");
    }
}
