//! The handler hooks a [`Context`] calls itself: `set_default_headers` (re-applied by
//! `clear`).

use super::Context;

impl Context {
    /// Installs the handler's `set_default_headers` and applies it (Tornado calls it from
    /// `clear()` in the handler's constructor).
    pub(crate) fn set_default_headers_hook(&mut self, hook: fn(&mut Context)) {
        self.default_headers = hook;
        self.apply_default_headers();
    }

    /// Runs the handler's `set_default_headers`. A panic in it is logged and leaves the
    /// headers it set so far: it runs from `clear`, also while an error page is being
    /// prepared, where unwinding would lose the page.
    pub(super) fn apply_default_headers(&mut self) {
        let hook = self.default_headers;
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(self)));
        if unwound.is_err() {
            tracing::error!(target: "typhoon::application", "set_default_headers panicked");
        }
    }
}
