//! Tornado's `tornado.auth` for Typhoon, safer: sign-in with OAuth2 and OpenID Connect
//! providers, with `state`, PKCE and verified ID tokens on by default.
//!
//! This crate sits on `typhoon-web` (a provider's methods take the handler's
//! [`Context`](typhoon_web::Context), the flow's secrets live in its signed cookies) and
//! `typhoon-httpclient` (every call to a provider goes through an
//! [`AsyncHTTPClient`](typhoon_httpclient::AsyncHTTPClient) on the current loop, redirects
//! off, with a request timeout). Nothing is above it but applications.
//!
//! Tornado's mixins become values: an [`OAuth2Provider`] holds one provider's endpoints,
//! credentials and policy, and keeps Tornado's method names:
//!
//! | Tornado | Typhoon |
//! |---|---|
//! | `OAuth2Mixin.authorize_redirect` | [`OAuth2Provider::authorize_redirect`]: a fresh `state`, PKCE S256 verifier and (OIDC) nonce in a 10-minute signed `HttpOnly` cookie, then a 302 |
//! | `get_authenticated_user(redirect_uri, code)` | [`OAuth2Provider::get_authenticated_user`]: cookie and `state` checked (and the cookie deleted), code exchanged with the verifier, ID token verified, userinfo read; an [`AuthUser`] |
//! | `oauth2_request` / `facebook_request` | [`OAuth2Provider::oauth2_request`]: a Bearer header, or Tornado's `access_token` query (with Facebook's `appsecret_proof`) |
//! | `GoogleOAuth2Mixin` | [`OAuth2Provider::google`]: OpenID Connect |
//! | `FacebookGraphMixin` | [`OAuth2Provider::facebook`] |
//! | (none) | [`OAuth2Provider::github`], [`OAuth2Provider::microsoft`], [`OAuth2Provider::discover`] for any OIDC issuer (a preset or [`new`](OAuth2Provider::new) provider, its endpoints filled in) |
//! | `TwitterMixin`, `OAuthMixin`, `OpenIdMixin` | not ported: OAuth 1.0a and OpenID 2.0 are deprecated (OpenID goes in Tornado 6.7) |
//! | `AuthError` | [`AuthError`], one variant per cause, with [`status`](AuthError::status) |
//!
//! Tornado checks no `state` (CSRF on the callback is the application's problem) and sends no
//! PKCE. Here a callback without this browser's flow cookie, or with another `state`, fails
//! before any call to the provider; a code is exchanged only with the verifier whose
//! challenge went out; and an ID token counts only with a signature by a key of the
//! provider's JWKS (RS256 or ES256; never `none` or HMAC), this provider's issuer, this
//! client as audience, an `exp` not past, and this sign-in's nonce.
//!
//! The user is the application's to keep: [`set_user_cookie`] leaves a [`SessionUser`] (no
//! tokens) in a signed cookie, and [`get_user_cookie`] reads it back in a
//! `get_current_user`.
//!
//! The `oauth2` and `openidconnect` crates would run on Typhoon's loop (their HTTP client is a
//! caller-given `!Send` future); they are not used because the flow on a `Context`, Tornado's
//! Facebook quirks and the fake provider are ours in any case, what is left (a form POST
//! and RS256/ES256 checks with ring, already in every TLS build here) is small, and they
//! bring 69 and 135 crates.
//!
//! # Examples
//!
//! Serve the [`fake::FakeProvider`] on a free port, discover it as an OpenID Connect issuer,
//! and check one of its ID tokens (a full sign-in through a handler is in the `google_auth`
//! example):
//!
//! ```
//! # #[cfg(feature = "fake-provider")] {
//! use typhoon_auth::{AuthError, OAuth2Provider, fake::FakeProvider};
//! use typhoon_ioloop::IOLoop;
//!
//! IOLoop::new().run_sync(async {
//!     let fake = FakeProvider::new("my-client", "my-secret")?;
//!     let server = fake.application().into_server();
//!     let port = server.listen(0, Some("127.0.0.1"))?[0].port();
//!     let issuer = format!("http://127.0.0.1:{port}");
//!
//!     let provider = OAuth2Provider::new("fake", "", "", "my-client", "my-secret")
//!         .discover(&issuer)
//!         .await?;
//!     assert!(provider.is_openid());
//!
//!     // A token the fake signed for this client verifies; a forged one does not.
//!     let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//!     let claims = serde_json::json!({
//!         "iss": issuer, "aud": "my-client", "sub": "u1", "iat": now, "exp": now + 60,
//!         "nonce": "n-1",
//!     });
//!     let token = fake.key().sign(&claims)?;
//!     assert_eq!(provider.verify_id_token(&token, Some("n-1")).await?.sub, "u1");
//!     let tampered = format!("{}x", &token[..token.len() - 1]);
//!     assert!(provider.verify_id_token(&tampered, Some("n-1")).await.is_err());
//!     let replayed = provider.verify_id_token(&token, Some("n-2")).await;
//!     assert!(matches!(replayed, Err(AuthError::NonceMismatch)));
//!     server.stop();
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `oidc` | OpenID Connect: [`OAuth2Provider::openid`], [`discover`](OAuth2Provider::discover), [`verify_id_token`](OAuth2Provider::verify_id_token) (ring), and the [`google`](OAuth2Provider::google) and [`microsoft`](OAuth2Provider::microsoft) presets | Yes |
//! | `fake-provider` | [`fake::FakeProvider`], an identity provider as typhoon-web routes for tests and offline demos, and [`SigningKey`] (enables `oidc`) | No |
//!
//! Without `oidc`, plain OAuth2 remains: [`OAuth2Provider::new`], [`github`](OAuth2Provider::github)
//! and [`facebook`](OAuth2Provider::facebook).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod flow;
mod http;
#[cfg(feature = "oidc")]
mod jwt;
#[cfg(feature = "oidc")]
mod oidc;
mod provider;
mod signin;
mod user;

#[cfg(feature = "fake-provider")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake-provider")))]
pub mod fake;
#[cfg(feature = "fake-provider")]
mod signing;

pub use error::{AuthError, Result};
pub use flow::pkce_challenge;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub use jwt::{IdTokenClaims, Jwk, Jwks};
pub use provider::{OAuth2Provider, TokenExchange, TokenPlacement};
#[cfg(feature = "fake-provider")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake-provider")))]
pub use signing::SigningKey;
pub use user::{AuthUser, SessionUser, TokenResponse, get_user_cookie, set_user_cookie};
