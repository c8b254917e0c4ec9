//! OpenID Connect: discovery (`/.well-known/openid-configuration`), the JWKS cache, and
//! [`verify_id_token`](OAuth2Provider::verify_id_token).

use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::{AuthError, Result};
use crate::jwt::{self, Expected, IdTokenClaims, Jwks};
use crate::provider::OAuth2Provider;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl OAuth2Provider {
    /// Fills in this provider's endpoints from `issuer`'s discovery document
    /// (`<issuer>/.well-known/openid-configuration`, OpenID Connect Discovery §4): the
    /// authorize, token, userinfo and JWKS endpoints it lists, and scopes `openid email
    /// profile` unless some were set. The fetch uses this provider's client, timeouts and
    /// headers, so set those first.
    ///
    /// The document's `issuer` must be `issuer` exactly (§4.3), so that a document served for
    /// another issuer cannot redirect the sign-in.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] for a document of another issuer; [`AuthError::MissingField`]
    /// without an endpoint; [`AuthError::Timeout`], [`AuthError::Http`],
    /// [`AuthError::InvalidJson`] for the fetch.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the fetch (and the provider with it).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() -> typhoon_auth::Result<()> {
    /// use typhoon_auth::OAuth2Provider;
    /// let okta = OAuth2Provider::new("okta", "", "", "client-id", "client-secret")
    ///     .request_timeout(std::time::Duration::from_secs(5))
    ///     .discover("https://example.okta.com")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub async fn discover(self, issuer: &str) -> Result<Self> {
        let issuer = issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let doc = self.fetch_json("discovery", self.request(url)).await?;
        let field = |field: &'static str| {
            doc.get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or(AuthError::MissingField {
                    endpoint: "discovery",
                    field,
                })
        };
        let found = field("issuer")?;
        if found.trim_end_matches('/') != issuer {
            return Err(AuthError::Config {
                reason: format!("the discovery document is for issuer {found}, not {issuer}"),
            });
        }
        let mut provider = self
            .authorize_url(field("authorization_endpoint")?)
            .token_url(field("token_endpoint")?);
        if provider.scopes.is_empty() {
            provider = provider.scopes(["openid", "email", "profile"]);
        }
        provider = provider.openid(found, field("jwks_uri")?);
        if let Ok(userinfo) = field("userinfo_endpoint") {
            provider = provider.userinfo_url(userinfo);
        }
        Ok(provider)
    }

    /// The provider's JWKS: the cached one, or fetched (again, with `refresh`).
    async fn jwks(&self, refresh: bool) -> Result<Rc<Jwks>> {
        let cached = self.jwks.borrow().clone();
        if let Some(jwks) = cached.filter(|_| !refresh) {
            return Ok(jwks);
        }
        let openid = self.openid.as_ref().ok_or_else(|| AuthError::Config {
            reason: "not an OpenID Connect provider".to_owned(),
        })?;
        let map = self
            .fetch_json("jwks", self.request(openid.jwks_uri.as_str()))
            .await?;
        let jwks: Jwks = serde_json::from_value(Value::Object(map)).map_err(|source| {
            AuthError::InvalidJson {
                endpoint: "jwks",
                source,
            }
        })?;
        let jwks = Rc::new(jwks);
        *self.jwks.borrow_mut() = Some(Rc::clone(&jwks));
        Ok(jwks)
    }

    /// Verifies an ID token (OpenID Connect Core §3.1.3.7): an RS256 or ES256 signature by a
    /// key of the provider's JWKS (fetched once and cached; fetched again for a `kid` it does
    /// not have, as providers rotate keys), `iss` the provider's issuer, `aud` this client
    /// (and `azp`, when present or with several audiences), `exp` not past and `iat`/`nbf`
    /// not ahead (with the [`leeway`](Self::leeway)), and `nonce` the one given.
    ///
    /// # Errors
    ///
    /// [`AuthError::MalformedIdToken`], [`AuthError::UnsupportedAlgorithm`] (`none` and HMAC
    /// included), [`AuthError::UnknownKey`], [`AuthError::BadSignature`],
    /// [`AuthError::WrongIssuer`], [`AuthError::WrongAudience`],
    /// [`AuthError::IdTokenExpired`], [`AuthError::IdTokenNotYetValid`],
    /// [`AuthError::NonceMismatch`]; the JWKS fetch's errors; [`AuthError::Config`] for a
    /// provider that is not OpenID Connect.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons a JWKS fetch; the cache keeps what it had.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<IdTokenClaims> {
        let openid = self.openid.as_ref().ok_or_else(|| AuthError::Config {
            reason: "not an OpenID Connect provider".to_owned(),
        })?;
        let parsed = jwt::parse(id_token)?;
        let mut jwks = self.jwks(false).await?;
        if !jwt::has_key(&jwks, &parsed) {
            jwks = self.jwks(true).await?;
        }
        let expected = Expected {
            issuer: &openid.issuer,
            client_id: &self.client_id,
            nonce,
            now: unix_now(),
            leeway: self.leeway.as_secs(),
        };
        jwt::verify(&parsed, &jwks, &expected)
    }
}
