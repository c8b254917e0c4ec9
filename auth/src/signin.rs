//! The authorization-code flow on a handler's [`Context`]: Tornado's `authorize_redirect`,
//! `get_authenticated_user` and `oauth2_request`, with state, PKCE and (for OpenID Connect) a
//! nonce and a verified ID token.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use typhoon_httputil::url_concat;
use typhoon_web::Context;

use crate::error::{AuthError, Result};
use crate::flow::{self, FlowState, pkce_challenge};
use crate::http::{form_encode, json_object};
use crate::provider::{OAuth2Provider, TokenExchange, TokenPlacement};
use crate::user::{AuthUser, TokenResponse};

/// Facebook's `appsecret_proof`: hex HMAC-SHA256 of the access token under the app secret.
pub(crate) fn appsecret_proof(secret: &str, access_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("invariant: HMAC takes keys of any length");
    mac.update(access_token.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `redirect_uri` made absolute against the request (`/auth/login` becomes
/// `https://host/auth/login`), as the provider needs it.
fn absolute_redirect_uri(cx: &Context, redirect_uri: &str) -> String {
    if redirect_uri.starts_with('/') && !redirect_uri.starts_with("//") {
        let request = cx.request();
        format!("{}://{}{redirect_uri}", request.protocol, request.host)
    } else {
        redirect_uri.to_owned()
    }
}

impl OAuth2Provider {
    /// The provider's authorize URL for `flow`, with `extra_params` after the standard ones.
    pub(crate) fn authorization_url(
        &self,
        flow: &FlowState,
        extra_params: &[(&str, &str)],
    ) -> String {
        let scope = self.scopes.join(" ");
        let mut args: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &flow.redirect_uri),
            ("state", &flow.state),
        ];
        if !scope.is_empty() {
            args.push(("scope", &scope));
        }
        let challenge = flow.verifier.as_deref().map(pkce_challenge);
        if let Some(challenge) = &challenge {
            args.push(("code_challenge", challenge));
            args.push(("code_challenge_method", "S256"));
        }
        if let Some(nonce) = &flow.nonce {
            args.push(("nonce", nonce));
        }
        args.extend_from_slice(extra_params);
        url_concat(&self.authorize_url, args)
    }

    /// Sends the user to the provider to sign in (Tornado's `authorize_redirect`).
    ///
    /// Makes a fresh `state`, PKCE verifier and (for OpenID Connect) nonce, keeps them with
    /// `redirect_uri` in a signed, `HttpOnly`, `SameSite=Lax` cookie that lives 10 minutes, and
    /// answers 302 to the authorize URL with `response_type=code`, the client id, the scopes,
    /// the PKCE S256 challenge and `extra_params` (Google's `prompt`, say). A `redirect_uri`
    /// starting with `/` is made absolute against the request's protocol and `Host`; in
    /// production pass the absolute URL registered with the provider, so that neither a
    /// proxy nor a client's `Host` header decides it (providers refuse unregistered ones).
    ///
    /// # Errors
    ///
    /// [`AuthError::Cookie`] without a `cookie_secret` setting; [`AuthError::Random`].
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_auth::OAuth2Provider;
    /// use typhoon_web::{Context, HTTPError, RequestHandler, handler};
    ///
    /// struct Login(OAuth2Provider);
    /// #[handler]
    /// impl RequestHandler for Login {
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         if cx.get_query_argument("code").is_ok() {
    ///             let user = self.0.get_authenticated_user(cx).await
    ///                 .map_err(|e| e.into_http_error())?;
    ///             typhoon_auth::set_user_cookie(cx, "user", &user.session())
    ///                 .map_err(|e| e.into_http_error())?;
    ///             return Ok(cx.redirect("/")?);
    ///         }
    ///         self.0.authorize_redirect(cx, "/auth/login", &[]).map_err(|e| e.into_http_error())
    ///     }
    /// }
    /// let _login = Login(OAuth2Provider::github("my-client-id", "my-client-secret"));
    /// ```
    pub fn authorize_redirect(
        &self,
        cx: &mut Context,
        redirect_uri: &str,
        extra_params: &[(&str, &str)],
    ) -> Result<()> {
        let redirect_uri = absolute_redirect_uri(cx, redirect_uri);
        let flow = FlowState::new(redirect_uri, self.pkce, self.is_openid())?;
        let url = self.authorization_url(&flow, extra_params);
        flow::set_flow_cookie(cx, &self.cookie_name(), &flow)?;
        cx.redirect(&url)?;
        Ok(())
    }

    /// Finishes the sign-in on the callback (Tornado's `get_authenticated_user`).
    ///
    /// In order: takes the flow cookie (and deletes it, so the callback works once), checks
    /// the `state` argument against it, reports a provider `error`, exchanges the `code` with
    /// the PKCE verifier and the cookie's `redirect_uri`, verifies the ID token (OpenID
    /// Connect: signature against the JWKS, issuer, audience, expiry, nonce), reads the
    /// userinfo endpoint with the access token (its `sub` must be the ID token's), and returns
    /// the user. Storing it is the caller's (see [`set_user_cookie`](crate::set_user_cookie)).
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingFlowCookie`], [`AuthError::StateMismatch`],
    /// [`AuthError::AccessDenied`], [`AuthError::MissingCode`], the exchange's errors
    /// ([`AuthError::TokenEndpoint`] for a used code or a wrong verifier), the ID token's
    /// ([`AuthError::BadSignature`], [`AuthError::IdTokenExpired`], ...),
    /// [`AuthError::Timeout`] and [`AuthError::Http`] for a provider that is slow or down.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the sign-in; the flow cookie is already deleted, so the
    /// user starts again.
    pub async fn get_authenticated_user(&self, cx: &mut Context) -> Result<AuthUser> {
        let flow =
            flow::take_flow_cookie(cx, &self.cookie_name())?.ok_or(AuthError::MissingFlowCookie)?;
        let state = cx.get_query_argument("state").unwrap_or_default();
        if !flow::constant_time_eq(state.as_bytes(), flow.state.as_bytes()) {
            return Err(AuthError::StateMismatch);
        }
        if let Ok(error) = cx.get_query_argument("error") {
            return Err(AuthError::AccessDenied {
                error,
                description: cx.get_query_argument("error_description").ok(),
            });
        }
        let code = cx
            .get_query_argument("code")
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or(AuthError::MissingCode)?;
        let token = self
            .exchange_code(&code, &flow.redirect_uri, flow.verifier.as_deref())
            .await?;
        #[cfg(feature = "oidc")]
        let claims = match &self.openid {
            Some(_) => {
                let id_token = token.id_token.as_deref().ok_or(AuthError::MissingField {
                    endpoint: "token",
                    field: "id_token",
                })?;
                Some(
                    self.verify_id_token(id_token, flow.nonce.as_deref())
                        .await?,
                )
            }
            None => None,
        };
        let userinfo = match &self.userinfo_url {
            Some(url) => {
                let args: Vec<(&str, &str)> = self
                    .userinfo_params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                Value::Object(
                    self.api_get("userinfo", url, &token.access_token, &args)
                        .await?,
                )
            }
            None => Value::Null,
        };
        #[cfg(feature = "oidc")]
        if let (Some(claims), Some(sub)) = (&claims, userinfo.get("sub"))
            && sub.as_str() != Some(claims.sub.as_str())
        {
            return Err(AuthError::SubjectMismatch);
        }
        #[cfg(feature = "oidc")]
        let profile = match (&claims, &userinfo) {
            (Some(claims), Value::Null) => Value::Object(claims.raw.clone()),
            _ => userinfo,
        };
        #[cfg(not(feature = "oidc"))]
        let profile = userinfo;
        let user = AuthUser::from_profile(
            &self.name,
            profile,
            token,
            #[cfg(feature = "oidc")]
            claims,
        )
        .ok_or(AuthError::MissingField {
            endpoint: "userinfo",
            field: "id",
        })?;
        tracing::info!(target: "typhoon::application", provider = %self.name, user = %user.id,
            "signed in");
        Ok(user)
    }

    /// Exchanges an authorization code for tokens (the first half of Tornado's
    /// `get_authenticated_user`): `grant_type=authorization_code`, the code, `redirect_uri`,
    /// the client credentials and, with PKCE, the verifier.
    ///
    /// # Errors
    ///
    /// [`AuthError::TokenEndpoint`] for an OAuth2 error answer (also one sent with status
    /// 200, as GitHub does); [`AuthError::Timeout`], [`AuthError::Http`],
    /// [`AuthError::InvalidJson`], [`AuthError::MissingField`] without an `access_token`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request (the code may or may not have been used).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<TokenResponse> {
        let mut args = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
        ];
        if let Some(verifier) = verifier {
            args.push(("code_verifier", verifier));
        }
        let request = match self.token_exchange {
            TokenExchange::FormPost => self
                .request(self.token_url.as_str())
                .method("POST")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form_encode(&args)),
            TokenExchange::QueryGet => self.request(url_concat(&self.token_url, args)),
        };
        let response = self.send("token", request).await?;
        let body = json_object("token", &response.body);
        let error_of = |map: &serde_json::Map<String, Value>| {
            map.get("error").map(|e| match e {
                Value::String(s) => s.clone(),
                // Facebook: {"error": {"message": ..., "type": "OAuthException", ...}}
                other => other
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_owned(),
            })
        };
        match body {
            Ok(map) if response.is_success() && !map.contains_key("error") => {
                TokenResponse::from_json(map).ok_or(AuthError::MissingField {
                    endpoint: "token",
                    field: "access_token",
                })
            }
            Ok(map) if error_of(&map).is_some() => Err(AuthError::TokenEndpoint {
                error: error_of(&map).unwrap_or_default(),
                description: map
                    .get("error_description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                status: response.code,
            }),
            _ if !response.is_success() => Err(AuthError::TokenEndpoint {
                error: format!("http_{}", response.code),
                description: None,
                status: response.code,
            }),
            Ok(_) => Err(AuthError::MissingField {
                endpoint: "token",
                field: "access_token",
            }),
            Err(error) => Err(error),
        }
    }

    /// Calls the provider's API with `access_token` (Tornado's `oauth2_request`): a GET of `url`
    /// with `args`, or with `post_args` a form POST; the token goes as a Bearer header, or in
    /// the query as Tornado sends it when the provider is set to
    /// [`TokenPlacement::Query`] (Facebook, with `appsecret_proof`). Returns the JSON object.
    ///
    /// # Errors
    ///
    /// [`AuthError::Http`] for a non-2xx answer (the response inside), [`AuthError::Timeout`],
    /// [`AuthError::InvalidJson`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request.
    pub async fn oauth2_request(
        &self,
        url: &str,
        access_token: &str,
        args: &[(&str, &str)],
        post_args: Option<&[(&str, &str)]>,
    ) -> Result<serde_json::Map<String, Value>> {
        let request = self.api_request(url, access_token, args);
        let request = match post_args {
            Some(post) => request
                .method("POST")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form_encode(post)),
            None => request,
        };
        self.fetch_json("api", request).await
    }

    /// A GET of the API for `endpoint`.
    async fn api_get(
        &self,
        endpoint: &'static str,
        url: &str,
        access_token: &str,
        args: &[(&str, &str)],
    ) -> Result<serde_json::Map<String, Value>> {
        let request = self.api_request(url, access_token, args);
        self.fetch_json(endpoint, request).await
    }

    /// A request to the API with the token placed as the provider wants it.
    fn api_request(
        &self,
        url: &str,
        access_token: &str,
        args: &[(&str, &str)],
    ) -> typhoon_httpclient::HTTPRequest {
        match self.token_placement {
            TokenPlacement::BearerHeader => self
                .request(url_concat(url, args.iter().copied()))
                .header("Authorization", &format!("Bearer {access_token}")),
            TokenPlacement::Query {
                appsecret_proof: with_proof,
            } => {
                let proof = appsecret_proof(&self.client_secret, access_token);
                let mut all: Vec<(&str, &str)> = vec![("access_token", access_token)];
                if with_proof {
                    all.push(("appsecret_proof", &proof));
                }
                all.extend_from_slice(args);
                self.request(url_concat(url, all))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_is_hex_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            appsecret_proof("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn authorization_url_carries_state_pkce_scope_and_extras() {
        let provider = OAuth2Provider::new(
            "p",
            "https://idp/authorize?x=1",
            "https://idp/token",
            "cid",
            "s",
        )
        .scopes(["a", "b"]);
        let flow = FlowState {
            state: "st".to_owned(),
            verifier: Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned()),
            nonce: None,
            redirect_uri: "http://app/cb".to_owned(),
        };
        let url = provider.authorization_url(&flow, &[("prompt", "consent")]);
        assert_eq!(
            url,
            "https://idp/authorize?x=1&response_type=code&client_id=cid\
             &redirect_uri=http%3A%2F%2Fapp%2Fcb&state=st&scope=a+b\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&prompt=consent"
        );
        let plain = provider.pkce(false);
        let flow = FlowState {
            verifier: None,
            ..flow
        };
        assert!(
            !plain
                .authorization_url(&flow, &[])
                .contains("code_challenge")
        );
    }
}
