//! What a sign-in gives: [`AuthUser`] with its [`TokenResponse`], and the small
//! [`SessionUser`] an application keeps in its signed user cookie.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use typhoon_web::Context;

#[cfg(feature = "oidc")]
use crate::jwt::IdTokenClaims;

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`: what API calls carry (see
    /// [`oauth2_request`](crate::OAuth2Provider::oauth2_request)).
    pub access_token: String,
    /// `token_type`, normally `Bearer`.
    pub token_type: Option<String>,
    /// `expires_in`, seconds (Tornado's Facebook mixin returns it as `session_expires`).
    pub expires_in: Option<u64>,
    /// `refresh_token`, if the provider gave one.
    pub refresh_token: Option<String>,
    /// `scope`: what was granted, when it differs from what was asked.
    pub scope: Option<String>,
    /// `id_token`: the OpenID Connect ID token, as sent (verified before it is returned).
    pub id_token: Option<String>,
    /// The whole answer.
    pub raw: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl TokenResponse {
    /// Reads an answer; `None` without a string `access_token`.
    pub(crate) fn from_json(raw: Map<String, Value>) -> Option<Self> {
        let string = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            access_token: string("access_token").filter(|t| !t.is_empty())?,
            token_type: string("token_type"),
            expires_in: raw.get("expires_in").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            }),
            refresh_token: string("refresh_token"),
            scope: string("scope"),
            id_token: string("id_token"),
            raw,
        })
    }
}

/// A signed-in user: who the provider says it is, and the tokens to act for them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuthUser {
    /// The provider's name (`google`, `github`, ...).
    pub provider: String,
    /// The user's stable id at the provider: the ID token's `sub` for OpenID Connect, else
    /// the profile's `sub` or `id` (GitHub and Facebook send `id`).
    pub id: String,
    /// A display name: `name`, else GitHub's `login`.
    pub name: Option<String>,
    /// `email`, if the scopes gave it.
    pub email: Option<String>,
    /// `email_verified`, when the provider says (OpenID Connect).
    pub email_verified: Option<bool>,
    /// A picture URL: `picture`, GitHub's `avatar_url` or Facebook's `picture.data.url`.
    pub picture: Option<String>,
    /// The userinfo answer as sent (`Null` without a userinfo call).
    pub userinfo: Value,
    /// The tokens.
    pub token: TokenResponse,
    /// The verified ID token's claims, for OpenID Connect providers.
    #[cfg(feature = "oidc")]
    pub id_token: Option<IdTokenClaims>,
}

fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl AuthUser {
    /// Builds the user from the profile (and the ID token's claims, which win).
    pub(crate) fn from_profile(
        provider: &str,
        userinfo: Value,
        token: TokenResponse,
        #[cfg(feature = "oidc")] id_token: Option<IdTokenClaims>,
    ) -> Option<Self> {
        let string = |name: &str| {
            userinfo
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let picture = string("picture")
            .or_else(|| string("avatar_url"))
            .or_else(|| {
                userinfo
                    .pointer("/picture/data/url")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let mut user = Self {
            provider: provider.to_owned(),
            id: id_of(userinfo.get("sub")).or_else(|| id_of(userinfo.get("id")))?,
            name: string("name").or_else(|| string("login")),
            email: string("email"),
            email_verified: userinfo.get("email_verified").and_then(Value::as_bool),
            picture,
            userinfo,
            token,
            #[cfg(feature = "oidc")]
            id_token: None,
        };
        #[cfg(feature = "oidc")]
        if let Some(claims) = id_token {
            user.id.clone_from(&claims.sub);
            user.name = claims.name.clone().or(user.name);
            user.email = claims.email.clone().or(user.email);
            user.email_verified = claims.email_verified.or(user.email_verified);
            user.picture = claims.picture.clone().or(user.picture);
            user.id_token = Some(claims);
        }
        #[cfg(not(feature = "oidc"))]
        let _ = &mut user;
        Some(user)
    }

    /// The part of this user worth keeping in a cookie: no tokens (a cookie is signed, not
    /// encrypted).
    pub fn session(&self) -> SessionUser {
        SessionUser {
            provider: self.provider.clone(),
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            picture: self.picture.clone(),
        }
    }
}

/// The signed-in user as an application remembers it between requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// The provider's name.
    pub provider: String,
    /// The user's id at the provider.
    pub id: String,
    /// A display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The email address.
    #[serde(default)]
    pub email: Option<String>,
    /// A picture URL.
    #[serde(default)]
    pub picture: Option<String>,
}

/// Leaves `user` in the signed cookie `name` (JSON, Tornado's
/// `set_signed_cookie("user", json_encode(user))` of its auth demos), for 30 days.
///
/// # Errors
///
/// [`AuthError::Cookie`](crate::AuthError::Cookie) without a `cookie_secret`.
pub fn set_user_cookie(cx: &mut Context, name: &str, user: &SessionUser) -> crate::Result<()> {
    let json = serde_json::to_vec(user).map_err(|source| crate::AuthError::Encode {
        what: "the session user",
        source,
    })?;
    cx.set_signed_cookie(name, json)?;
    Ok(())
}

/// The user [`set_user_cookie`] left in `name`, if its signature verifies and it is at most
/// 31 days old; the body of a `get_current_user`.
pub fn get_user_cookie(cx: &Context, name: &str) -> Option<SessionUser> {
    serde_json::from_str(&cx.get_signed_cookie(name)?).ok()
}
