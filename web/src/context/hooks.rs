//! The handler hooks a [`Context`] calls itself: `set_default_headers` (re-applied by
//! `clear`), `decode_argument` (the argument getters) and `compute_etag` (`finish`).

use sha1::{Digest, Sha1};

use super::{ArgumentDecoder, Context};
use crate::etag::Etag;

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

impl Context {
    /// Installs the handler's `decode_argument`.
    pub(crate) fn set_argument_decoder(&mut self, decoder: ArgumentDecoder) {
        self.argument_decoder = decoder;
    }

    /// Installs the handler's `compute_etag`.
    pub(crate) fn set_etag_hook(&mut self, hook: fn(&Context, &[u8]) -> Option<Etag>) {
        self.etag_hook = hook;
    }

    /// The handler's `Etag` for `body`; a panic in the hook is logged and sends none (it
    /// runs in `finish`, also after the handler's method returned).
    pub(super) fn etag_of(&self, body: &[u8]) -> Option<Etag> {
        let hook = self.etag_hook;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(self, body))).unwrap_or_else(
            |_| {
                tracing::error!(target: "typhoon::application", "compute_etag panicked");
                None
            },
        )
    }

    /// The default `Etag` of a body: its SHA-1 in hex, quoted (Tornado's `compute_etag`).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::Context;
    ///
    /// assert_eq!(
    ///     Context::sha1_etag(b"").as_str(),
    ///     "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\""
    /// );
    /// ```
    pub fn sha1_etag(body: &[u8]) -> Etag {
        // `"` + 40 hex digits + `"`, on the stack: the default path allocates nothing.
        let mut quoted = [b'"'; 42];
        hex::encode_to_slice(Sha1::digest(body), &mut quoted[1..41])
            .expect("invariant: a SHA-1 digest is 20 bytes, 40 hex digits");
        Etag::sha1(quoted)
    }
}
