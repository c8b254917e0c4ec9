//! The small built-in handlers: [`RedirectHandler`] and [`ErrorHandler`] (the default 404).
//! [`StaticFileHandler`](crate::StaticFileHandler) has its own module, `static_files`.

use crate::context::Context;
use crate::error::HTTPError;
use crate::handler::RequestHandler;

/// Redirects to a URL (Tornado's `RedirectHandler`): `{0}`, `{1}`... are replaced by the
/// route's captures and `{name}` by named ones; the query string is kept.
///
/// # Examples
///
/// ```
/// use typhoon_web::{RedirectHandler, route};
///
/// let r = route(r"/old/(.*)", || RedirectHandler::new("/new/{0}"));
/// ```
#[derive(Clone, Debug)]
pub struct RedirectHandler {
    /// The target, with placeholders.
    url: String,
    /// 301 (default) or 302.
    permanent: bool,
}

impl RedirectHandler {
    /// A permanent (301) redirect to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            permanent: true,
        }
    }

    /// A temporary (302) redirect.
    #[must_use]
    pub fn temporary(mut self) -> Self {
        self.permanent = false;
        self
    }
}

impl RequestHandler for RedirectHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let mut url = self.url.clone();
        for (i, arg) in cx.path_args().iter().enumerate() {
            url = url.replace(&format!("{{{i}}}"), arg);
        }
        for (name, value) in cx.path_kwargs() {
            url = url.replace(&format!("{{{name}}}"), value);
        }
        let query = cx.request().query();
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(query);
        }
        cx.redirect_with_status(&url, if self.permanent { 301 } else { 302 })?;
        Ok(())
    }
}

/// Answers every request with one status (Tornado's `ErrorHandler`), the default 404.
#[derive(Clone, Copy, Debug)]
pub struct ErrorHandler {
    /// The status.
    status: u16,
}

impl ErrorHandler {
    /// Answers `status`.
    pub fn new(status: u16) -> Self {
        Self { status }
    }
}

impl RequestHandler for ErrorHandler {
    const CHECK_XSRF: bool = false;

    /// A POST to an error page has no effect, so any origin is trusted (Tornado's
    /// `ErrorHandler`): a cross-origin POST to a wrong URL gets its 404, not a 403.
    fn check_trusted_origin(&self, _cx: &Context, _origin: &str) -> bool {
        true
    }

    async fn prepare(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
        Err(HTTPError::new(self.status))
    }
}
