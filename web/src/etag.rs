//! [`Etag`]: an `Etag` header value, kept on the stack for the default SHA-1.

/// An `Etag` header value, quotes included, as
/// [`RequestHandler::compute_etag`](crate::RequestHandler::compute_etag) returns it:
/// [`Context::sha1_etag`](crate::Context::sha1_etag)'s (held inline,
/// no allocation) or one of the application's (`Etag::from(format!("\"{version}\""))`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etag(EtagRepr);

/// How an [`Etag`] holds its value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EtagRepr {
    /// A quoted SHA-1 in hex, ASCII by construction.
    Sha1([u8; 42]),
    /// The application's.
    Custom(String),
}

impl Etag {
    /// A quoted SHA-1 in hex (`Context::sha1_etag`'s), held inline.
    pub(crate) fn sha1(quoted: [u8; 42]) -> Self {
        Etag(EtagRepr::Sha1(quoted))
    }

    /// The quoted SHA-1 in hex, if this is [`Context::sha1_etag`](crate::Context::sha1_etag)'s
    /// (valid as a header value by construction).
    pub(crate) fn sha1_bytes(&self) -> Option<[u8; 42]> {
        match &self.0 {
            EtagRepr::Sha1(quoted) => Some(*quoted),
            EtagRepr::Custom(_) => None,
        }
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            EtagRepr::Sha1(quoted) => {
                std::str::from_utf8(quoted).expect("invariant: quotes and hex digits are ASCII")
            }
            EtagRepr::Custom(value) => value,
        }
    }
}

impl From<String> for Etag {
    fn from(value: String) -> Self {
        Etag(EtagRepr::Custom(value))
    }
}

impl From<&str> for Etag {
    fn from(value: &str) -> Self {
        Etag(EtagRepr::Custom(value.to_owned()))
    }
}

impl std::fmt::Display for Etag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Etag {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
