//! The sign-in flow's secrets: `state`, the PKCE verifier and the OIDC nonce, made from the OS
//! CSPRNG and kept between the redirect and the callback in a short-lived signed cookie.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use typhoon_web::{Context, CookieOptions};

use crate::error::{AuthError, Result};

/// How long a sign-in may take, from the redirect to the callback: 10 minutes (the flow cookie's
/// `Max-Age`, and the age its signature must not exceed).
pub(crate) const FLOW_MAX_AGE_SECS: u64 = 600;

/// `bytes` random bytes from the OS, base64url without padding (32 bytes give the 43
/// characters RFC 7636 §4.1 asks of a verifier, and 256 bits for `state` and `nonce`).
///
/// # Errors
///
/// [`AuthError::Random`] if the OS generator fails.
pub(crate) fn random_token(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|source| AuthError::Random { source })?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The PKCE `S256` challenge of `verifier`: `base64url(SHA-256(verifier))` (RFC 7636 §4.2).
///
/// # Examples
///
/// The example of RFC 7636 appendix B:
///
/// ```
/// assert_eq!(
///     typhoon_auth::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
///     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
/// );
/// ```
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the flow cookie holds: every secret of one sign-in, and the redirect URI the code
/// must be exchanged with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct FlowState {
    /// The `state` sent to the provider; the callback must bring it back.
    pub(crate) state: String,
    /// The PKCE verifier, when PKCE is on; its challenge went to the provider.
    pub(crate) verifier: Option<String>,
    /// The OIDC nonce, when the provider is OpenID Connect; the ID token must carry it.
    pub(crate) nonce: Option<String>,
    /// The `redirect_uri` of the authorize request (the token request must repeat it).
    pub(crate) redirect_uri: String,
}

impl FlowState {
    /// Fresh secrets for a sign-in to `redirect_uri`.
    pub(crate) fn new(redirect_uri: String, pkce: bool, oidc: bool) -> Result<Self> {
        Ok(Self {
            state: random_token(32)?,
            verifier: if pkce { Some(random_token(32)?) } else { None },
            nonce: if oidc { Some(random_token(32)?) } else { None },
            redirect_uri,
        })
    }
}

/// The flow cookie's attributes: `HttpOnly`, `SameSite=Lax` (the provider's redirect back is a
/// top-level GET, which Lax lets through), `Secure` over HTTPS, 10 minutes.
fn cookie_options(cx: &Context) -> CookieOptions {
    CookieOptions {
        max_age: Some(FLOW_MAX_AGE_SECS),
        httponly: true,
        secure: cx.request().protocol == "https",
        samesite: Some("Lax".to_owned()),
        ..CookieOptions::default()
    }
}

/// Sets the signed flow cookie `name`.
pub(crate) fn set_flow_cookie(cx: &mut Context, name: &str, flow: &FlowState) -> Result<()> {
    let value = serde_json::to_vec(flow).map_err(|source| AuthError::Encode {
        what: "the sign-in state",
        source,
    })?;
    let options = cookie_options(cx);
    cx.set_signed_cookie_with(name, value, &options)?;
    Ok(())
}

/// Takes the flow cookie `name`: its value if its signature verifies and it is at most 10
/// minutes old, and in every case a `Set-Cookie` that deletes it, so that a callback can be
/// answered once per sign-in by this browser.
pub(crate) fn take_flow_cookie(cx: &mut Context, name: &str) -> Result<Option<FlowState>> {
    let max_age_days = FLOW_MAX_AGE_SECS as f64 / 86_400.0;
    let value = cx.get_signed_cookie_bytes(name, max_age_days);
    if cx.get_cookie(name).is_some() {
        let options = cookie_options(cx);
        cx.clear_cookie(name, &options)?;
    }
    Ok(value.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_long_distinct_and_url_safe() {
        let a = random_token(32).expect("random");
        let b = random_token(32).expect("random");
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn flow_state_without_pkce_or_oidc_has_only_state() {
        let flow = FlowState::new("http://x/cb".to_owned(), false, false).expect("flow");
        assert!(flow.verifier.is_none() && flow.nonce.is_none());
        let with = FlowState::new("http://x/cb".to_owned(), true, true).expect("flow");
        assert!(with.verifier.is_some() && with.nonce.is_some());
        assert_ne!(with.verifier, with.nonce);
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
