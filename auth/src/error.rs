//! The crate's one error type, [`AuthError`].

use typhoon_httpclient::HTTPClientError;

/// Why a sign-in failed (Tornado's `AuthError`, split by cause).
///
/// Each variant says which side is at fault, and [`status`](Self::status) maps it to the status
/// a handler should answer with. The HTTP client's error ([`HTTPClientError`], a foreign type in
/// a public variant; acceptable while we do not publish) is kept as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The callback came without the short-lived flow cookie that
    /// [`authorize_redirect`](crate::OAuth2Provider::authorize_redirect) set: it expired, was
    /// never set (a forged or replayed callback), or its signature does not verify.
    #[error("no valid sign-in cookie: the sign-in expired or was not started here")]
    MissingFlowCookie,
    /// The callback's `state` parameter is missing or differs from the flow cookie's (a
    /// cross-site request forgery, or a callback meant for another sign-in).
    #[error("the callback's state does not match this sign-in")]
    StateMismatch,
    /// The callback has no `code` parameter.
    #[error("the callback has no authorization code")]
    MissingCode,
    /// The provider sent the user back with an error (RFC 6749 §4.1.2.1), such as
    /// `access_denied` when the user declined.
    #[error("the provider refused the sign-in: {error}")]
    AccessDenied {
        /// The `error` parameter.
        error: String,
        /// The `error_description` parameter, if any.
        description: Option<String>,
    },
    /// The token endpoint answered with an OAuth2 error (RFC 6749 §5.2): `invalid_grant` for
    /// a used or unknown code or a wrong PKCE verifier, `invalid_client` for bad credentials.
    #[error("the token endpoint refused the code: {error}")]
    TokenEndpoint {
        /// The `error` field (`"invalid_grant"`, ...), or `"http_<code>"` without one.
        error: String,
        /// The `error_description` field, if any.
        description: Option<String>,
        /// The HTTP status.
        status: u16,
    },
    /// A provider endpoint did not answer within the request timeout.
    #[error("the provider's {endpoint} endpoint timed out")]
    Timeout {
        /// Which endpoint: `"token"`, `"userinfo"`, `"jwks"`, `"discovery"`, ...
        endpoint: &'static str,
        /// The client's timeout error.
        #[source]
        source: HTTPClientError,
    },
    /// A provider endpoint could not be reached, or answered with an HTTP error.
    #[error("the provider's {endpoint} endpoint failed")]
    Http {
        /// Which endpoint.
        endpoint: &'static str,
        /// The client's error (its `code()` is 599 when there was no response).
        #[source]
        source: HTTPClientError,
    },
    /// A provider answered with a body that is not the JSON expected.
    #[error("the provider's {endpoint} endpoint answered malformed JSON")]
    InvalidJson {
        /// Which endpoint.
        endpoint: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A provider answered JSON without a field this crate needs.
    #[error("the provider's {endpoint} response has no usable `{field}`")]
    MissingField {
        /// Which endpoint.
        endpoint: &'static str,
        /// The field.
        field: &'static str,
    },
    /// The ID token is not a well-formed compact JWS with JSON header and claims.
    #[error("malformed ID token: {reason}")]
    MalformedIdToken {
        /// What is wrong.
        reason: &'static str,
    },
    /// The ID token is signed with an algorithm this crate does not accept (`none`, HMAC, or
    /// anything but RS256 and ES256).
    #[error("ID token algorithm {alg} is not accepted")]
    UnsupportedAlgorithm {
        /// The header's `alg`.
        alg: String,
    },
    /// No key of the provider's JWKS fits the token's `kid` and `alg`, even after fetching the
    /// JWKS again.
    #[error("no key in the provider's JWKS for this ID token")]
    UnknownKey {
        /// The header's `kid`, if any.
        kid: Option<String>,
    },
    /// The ID token's signature does not verify with the provider's key.
    #[error("the ID token's signature does not verify")]
    BadSignature,
    /// The ID token expired (`exp`, with the configured leeway).
    #[error("the ID token expired")]
    IdTokenExpired {
        /// The token's `exp`, in Unix seconds.
        exp: u64,
        /// The time it was checked at.
        now: u64,
    },
    /// The ID token is not valid yet (`nbf` or `iat` in the future beyond the leeway).
    #[error("the ID token is not valid yet")]
    IdTokenNotYetValid,
    /// The ID token's `iss` is not the provider's issuer.
    #[error("the ID token's issuer {found} is not {expected}")]
    WrongIssuer {
        /// The issuer this provider has.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// The ID token's `aud` does not contain this client's id, or an `azp` names another client.
    #[error("the ID token is not meant for this client")]
    WrongAudience,
    /// The ID token's `nonce` is missing or not the one this sign-in sent (a replayed token).
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
    /// The userinfo `sub` differs from the ID token's (OpenID Connect Core §5.3.2).
    #[error("the userinfo subject differs from the ID token's")]
    SubjectMismatch,
    /// The provider's configuration cannot be used (a discovery document for another issuer, a
    /// preset without credentials, ...).
    #[error("provider configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// Something this crate keeps in a cookie could not be encoded.
    #[error("could not encode {what}")]
    Encode {
        /// What it was.
        what: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// The handler's cookies could not be set or read (no `cookie_secret`, say).
    #[error("could not set the sign-in cookie")]
    Cookie {
        /// typhoon-web's error.
        #[source]
        source: typhoon_web::WebError,
    },
    /// The OS random number generator failed.
    #[error("the OS random number generator failed")]
    Random {
        /// getrandom's error.
        #[source]
        source: getrandom::Error,
    },
}

impl AuthError {
    /// The HTTP status a handler should answer this error with: 400 for a callback that does
    /// not belong to a sign-in started here (state, cookie, code), 403 when the provider or its
    /// ID token refuses the user, 504 for a provider that timed out, 502 for a provider that
    /// failed, 500 for this server's own configuration.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingFlowCookie | Self::StateMismatch | Self::MissingCode => 400,
            Self::AccessDenied { .. }
            | Self::TokenEndpoint { .. }
            | Self::MalformedIdToken { .. }
            | Self::UnsupportedAlgorithm { .. }
            | Self::UnknownKey { .. }
            | Self::BadSignature
            | Self::IdTokenExpired { .. }
            | Self::IdTokenNotYetValid
            | Self::WrongIssuer { .. }
            | Self::WrongAudience
            | Self::NonceMismatch
            | Self::SubjectMismatch => 403,
            Self::Timeout { .. } => 504,
            Self::Http { .. } | Self::InvalidJson { .. } | Self::MissingField { .. } => 502,
            Self::Config { .. }
            | Self::Cookie { .. }
            | Self::Random { .. }
            | Self::Encode { .. } => 500,
        }
    }

    /// Whether a provider endpoint timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// This error as the handler's [`HTTPError`](typhoon_web::HTTPError): [`status`](Self::status)
    /// with this error as the source (logged with its chain, never shown to the user).
    pub fn into_http_error(self) -> typhoon_web::HTTPError {
        typhoon_web::HTTPError::with_source(self.status(), self)
    }

    /// A client error for `endpoint`, timeouts apart.
    pub(crate) fn from_client(endpoint: &'static str, source: HTTPClientError) -> Self {
        if source.is_timeout() {
            Self::Timeout { endpoint, source }
        } else {
            Self::Http { endpoint, source }
        }
    }
}

impl From<typhoon_web::WebError> for AuthError {
    fn from(source: typhoon_web::WebError) -> Self {
        Self::Cookie { source }
    }
}

/// `Result` with [`AuthError`].
pub type Result<T, E = AuthError> = std::result::Result<T, E>;
