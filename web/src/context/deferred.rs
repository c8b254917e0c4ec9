//! [`DeferredHeaders`]: the headers `finish` and `flush` add themselves (the default SHA-1
//! `Etag` and the default `Content-Type`), held beside the context's header map instead of in it.
//!
//! Both values are known to be valid (hex digits and quotes; a constant), so they skip the map's
//! validation, its buffer growth, and the copy from the map to the response writer's own map:
//! `send_head` hands them to the writer once. They go out after the map's lines, in the order
//! they would have been appended to it (`Etag`, then `Content-Type`). Anything that changes the
//! map afterwards [`materialize`](DeferredHeaders::materialize)s them into it first, so the map
//! then reads exactly as if they had been set there.

use typhoon_httputil::HTTPHeaders;

/// The default `Content-Type` of a response (Tornado's `text/html; charset=UTF-8`).
pub(super) const DEFAULT_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

/// The header lines a context added itself and has not put in its map (yet).
#[derive(Debug, Default)]
pub(super) struct DeferredHeaders {
    /// The default `Etag` (a quoted SHA-1 in hex, ASCII by construction), added by `finish`
    /// when the map had none.
    etag: Option<[u8; 42]>,
    /// Whether the default `Content-Type` was added (by `finish`, `flush` or `send_file`, when
    /// the map had none and it was not cleared).
    content_type: bool,
}

impl DeferredHeaders {
    /// Records the default `Etag`; the map must have no `Etag` line.
    pub(super) fn set_etag(&mut self, quoted: [u8; 42]) {
        self.etag = Some(quoted);
    }

    /// Records the default `Content-Type`; the map must have no `Content-Type` line.
    pub(super) fn set_content_type(&mut self) {
        self.content_type = true;
    }

    /// Whether the default `Content-Type` is held here.
    pub(super) fn has_content_type(&self) -> bool {
        self.content_type
    }

    /// The deferred `Etag`, if any (as its bytes: the caller usually has the `&str` already).
    pub(super) fn etag(&self) -> Option<&[u8; 42]> {
        self.etag.as_ref()
    }

    /// The value of `name` (case-insensitive) if it is held here.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        if name.eq_ignore_ascii_case("Etag") {
            self.etag.as_ref().map(etag_str)
        } else if self.content_type && name.eq_ignore_ascii_case("Content-Type") {
            Some(DEFAULT_CONTENT_TYPE)
        } else {
            None
        }
    }

    /// Moves the deferred lines into `headers`, where they would have been (after its lines,
    /// `Etag` first); nothing is held here afterwards.
    pub(super) fn materialize(&mut self, headers: &mut HTTPHeaders) {
        if let Some(quoted) = self.etag.take() {
            let _ = headers.set("Etag", etag_str(&quoted));
        }
        if std::mem::take(&mut self.content_type) {
            let _ = headers.set("Content-Type", DEFAULT_CONTENT_TYPE);
        }
    }

    /// Forgets the deferred lines (the response's headers are being cleared).
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// A deferred `Etag`'s text.
pub(super) fn etag_str(quoted: &[u8; 42]) -> &str {
    std::str::from_utf8(quoted).expect("invariant: quotes and hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted() -> [u8; 42] {
        let mut quoted = [b'a'; 42];
        quoted[0] = b'"';
        quoted[41] = b'"';
        quoted
    }

    #[test]
    fn get_is_case_insensitive_and_only_for_what_is_held() {
        let mut deferred = DeferredHeaders::default();
        assert_eq!(deferred.get("Etag"), None);
        assert_eq!(deferred.get("Content-Type"), None);
        deferred.set_etag(quoted());
        deferred.set_content_type();
        assert_eq!(deferred.get("ETag"), Some(etag_str(&quoted())));
        assert_eq!(deferred.get("content-type"), Some(DEFAULT_CONTENT_TYPE));
        assert_eq!(deferred.get("Server"), None);
        assert!(deferred.has_content_type());
        assert_eq!(deferred.etag(), Some(&quoted()));
        deferred.clear();
        assert_eq!(deferred.get("Etag"), None);
        assert!(!deferred.has_content_type());
    }

    #[test]
    fn materialize_appends_etag_then_content_type_after_the_map() {
        let mut headers = HTTPHeaders::new();
        headers.add("X-A", "1").unwrap();
        let mut deferred = DeferredHeaders::default();
        deferred.set_etag(quoted());
        deferred.set_content_type();
        deferred.materialize(&mut headers);
        let lines: Vec<_> = headers.iter().collect();
        assert_eq!(
            lines,
            [
                ("X-A", "1"),
                ("Etag", etag_str(&quoted())),
                ("Content-Type", DEFAULT_CONTENT_TYPE)
            ]
        );
        assert_eq!(deferred.get("Etag"), None);
        assert!(!deferred.has_content_type());
        // Nothing held: nothing added.
        deferred.materialize(&mut headers);
        assert_eq!(headers.len(), 3);
    }
}
