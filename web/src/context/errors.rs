//! Error pages: `send_error`, Tornado's default `write_error`, and the log line of an error.

use typhoon_httputil::reason_phrase;

use super::Context;
use crate::error::HTTPError;

impl Context {
    /// Answers with an error page for `status` (Tornado's `send_error`): the page is the
    /// handler's [`write_error`](crate::RequestHandler::write_error), written once the running
    /// method (or `prepare`) returns, after a [`clear`](Self::clear). From the call on, the
    /// response is [finished](Self::is_finished) for the handler: writes are ignored, the
    /// verb's method is skipped when called from `prepare`. Nothing is logged (an `Err` is).
    ///
    /// After a [`flush`](Self::flush) it is too late for a page: the connection is closed so
    /// that the streamed response does not look complete. After `finish` it does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler};
    ///
    /// struct Api;
    /// impl RequestHandler for Api {
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         if cx.get_argument_or("id", "").is_empty() {
    ///             cx.send_error(400); // answered by write_error below
    ///             return Ok(());
    ///         }
    ///         cx.write("found");
    ///         Ok(())
    ///     }
    ///     fn write_error(&mut self, cx: &mut Context, error: &HTTPError) {
    ///         let _ = cx.set_header("Content-Type", "application/json");
    ///         cx.write(format!(r#"{{"error": {}}}"#, error.status()));
    ///     }
    /// }
    /// ```
    pub fn send_error(&mut self, status: u16) {
        self.send_http_error(HTTPError::new(status));
    }

    /// [`send_error`](Self::send_error) with a custom reason phrase (Tornado's
    /// `send_error(status, reason=...)`).
    pub fn send_error_with_reason(&mut self, status: u16, reason: &str) {
        self.send_http_error(HTTPError::with_reason(status, reason));
    }

    fn send_http_error(&mut self, error: HTTPError) {
        if self.closed_for_writes() {
            tracing::warn!(target: "typhoon::application", "send_error() after finish() ignored");
            return;
        }
        if self.head_sent {
            tracing::error!(target: "typhoon::application", "Cannot send error response after headers written");
            self.abort_streamed_response();
            return;
        }
        self.body.clear();
        self.sent_error = Some(Box::new(error));
    }

    /// The error [`send_error`](Self::send_error) left for the handler's `write_error`.
    pub(crate) fn take_sent_error(&mut self) -> Option<Box<HTTPError>> {
        self.sent_error.take()
    }

    /// Whether the response takes no more writes: finished, or an error page pending.
    pub(super) fn closed_for_writes(&self) -> bool {
        self.finished || self.sent_error.is_some()
    }

    /// Clears the response and sets the error's status (and `Allow` for a 405).
    pub(crate) fn prepare_error(&mut self, error: &HTTPError) {
        self.clear();
        match error.custom_reason() {
            Some(reason) => self.set_status_with_reason(error.status(), reason),
            None => self.set_status(error.status()),
        }
        if let Some(allow) = self.pending_allow.take() {
            let _ = self.headers_mut().set("Allow", &allow);
        }
    }

    pub(crate) fn set_pending_allow(&mut self, allow: String) {
        self.pending_allow = Some(allow);
    }

    /// Tornado's default error page, or the error chain as text with `serve_traceback`.
    pub fn write_default_error(&mut self, error: &HTTPError) {
        let status = self.status;
        let reason = self
            .reason
            .clone()
            .or_else(|| reason_phrase(status).map(str::to_owned))
            .unwrap_or_else(|| error.reason().to_owned());
        if self.app.settings.serves_traceback() && status >= 500 {
            let _ = self.set_header("Content-Type", "text/plain");
            self.write(error.chain());
            return;
        }
        self.write(format!(
            "<html><title>{status}: {reason}</title><body>{status}: {reason}</body></html>"
        ));
    }

    /// Logs an error as Tornado's `log_exception` does.
    pub(crate) fn log_error(&self, error: &HTTPError) {
        let method = &self.request.method;
        let uri = &self.request.uri;
        let ip = &self.request.remote_ip;
        if error.status() >= 500 && error.source().is_some() {
            tracing::error!(target: "typhoon::application", status = error.status(), %method, %uri, "Uncaught exception {method} {uri} ({ip}): {}", error.chain());
        } else if error.status() >= 500
            && error.log_message().is_some_and(|m| m.starts_with("panic"))
        {
            tracing::error!(target: "typhoon::application", status = error.status(), %method, %uri, "Uncaught exception {method} {uri} ({ip}): {}", error.log_message().unwrap_or_default());
        } else if let Some(message) = error.log_message() {
            tracing::warn!(target: "typhoon::general", status = error.status(), "{} {method} {uri} ({ip}): {message}", error.status());
        } else if error.source().is_some() {
            // A 4xx with a cause (a body that failed to read): the cause, once.
            tracing::warn!(target: "typhoon::general", status = error.status(), "{} {method} {uri} ({ip}): {}", error.status(), error.chain());
        }
    }
}
