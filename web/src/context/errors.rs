//! Error pages: `send_error`, Tornado's default `write_error`, and the log line of an error.

use typhoon_httputil::reason_phrase;

use super::Context;
use crate::error::HTTPError;

impl Context {
    /// Answers with an error page for `status` now (Tornado's `send_error`, without the
    /// handler's `write_error`: return `Err(HTTPError::new(status))` to use it).
    pub fn send_error(&mut self, status: u16) {
        if self.head_sent {
            self.abort_streamed_response();
            return;
        }
        let error = HTTPError::new(status);
        self.prepare_error(&error);
        self.write_default_error(&error);
        self.finish();
    }

    /// Clears the response and sets the error's status (and `Allow` for a 405).
    pub(crate) fn prepare_error(&mut self, error: &HTTPError) {
        self.clear();
        match error.custom_reason() {
            Some(reason) => self.set_status_with_reason(error.status(), reason),
            None => self.set_status(error.status()),
        }
        if let Some(allow) = self.pending_allow.take() {
            let _ = self.headers.set("Allow", &allow);
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
