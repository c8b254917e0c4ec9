//! [`FakeProvider`]: an OAuth2 / OpenID Connect identity provider as typhoon-web routes, as
//! Tornado's `auth_test.py` runs its fake providers as handlers in the test process.
//!
//! It is strict where a real provider is: one use per code, PKCE S256 checked, the client's
//! credentials and `redirect_uri` checked, access tokens checked on userinfo. A
//! [`Fault`] makes it misbehave the ways a sign-in must survive.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use typhoon_httputil::url_concat;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Route, handler, route};

use crate::error::Result;
use crate::flow::{pkce_challenge, random_token};
use crate::provider::OAuth2Provider;
use crate::signing::SigningKey;

/// A way for the [`FakeProvider`] to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// ID tokens that expired an hour ago.
    ExpiredIdToken,
    /// ID tokens signed by another key under the published key's `kid`.
    WrongKey,
    /// ID tokens with a nonce of their own.
    WrongNonce,
    /// ID tokens for another client.
    WrongAudience,
    /// ID tokens, and the discovery document, from another issuer (`https://evil.example`).
    WrongIssuer,
    /// ID tokens with `alg: none` and no signature.
    AlgNone,
    /// No ID token in the token response.
    NoIdToken,
    /// A userinfo `sub` that is not the ID token's.
    WrongUserinfoSub,
    /// The authorize endpoint sends the user back with `error=access_denied`.
    Deny,
    /// The token endpoint answers `{"error": "bad_verification_code"}` with status 200, as
    /// GitHub does.
    TokenErrorWith200,
}

/// What the authorize endpoint granted, until the code is exchanged.
#[derive(Debug)]
struct Grant {
    redirect_uri: String,
    challenge: Option<String>,
    nonce: Option<String>,
    scope: String,
    used: bool,
}

/// What the fake's handlers share.
struct Fake {
    client_id: String,
    client_secret: String,
    /// The key ID tokens are signed with and the JWKS publishes (replaced by `rotate_key`).
    key: RefCell<Rc<SigningKey>>,
    /// The key that forges [`Fault::WrongKey`] signatures.
    other_key: SigningKey,
    user: RefCell<Map<String, Value>>,
    codes: RefCell<HashMap<String, Grant>>,
    tokens: RefCell<HashMap<String, ()>>,
    fault: Cell<Fault>,
    token_requests: Cell<u32>,
}

/// A fake identity provider: authorize, token, userinfo, JWKS and discovery endpoints.
///
/// Serve [`application`](Self::application) (or [`routes`](Self::routes)) on a loopback port;
/// its issuer is the URL it is reached at (`http://127.0.0.1:PORT`). The authorize endpoint
/// signs the user in at once (no page) and redirects back with a code. Cloning shares the
/// state.
///
/// # Examples
///
/// ```
/// use typhoon_auth::fake::FakeProvider;
/// let fake = FakeProvider::new("client", "secret").expect("a key");
/// let provider = fake.configure(
///     typhoon_auth::OAuth2Provider::google("client", "secret"),
///     "http://127.0.0.1:8080",
/// );
/// assert!(provider.is_openid());
/// ```
#[derive(Clone)]
pub struct FakeProvider {
    inner: Rc<Fake>,
}

impl fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeProvider")
            .field("client_id", &self.inner.client_id)
            .field("key", &self.inner.key.borrow())
            .field("fault", &self.inner.fault.get())
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl FakeProvider {
    /// A provider for one client, signing ES256 with a key made now. Its user is
    /// `{"sub": "fake-user-1", "name": "Fake User", "email": "fake@example.test", ...}`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`](crate::AuthError::Config) if no key can be made.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Result<Self> {
        Ok(Self::with_keys(
            client_id,
            client_secret,
            SigningKey::generate_es256("fake-es256")?,
            SigningKey::generate_es256("fake-es256")?,
        ))
    }

    /// A provider signing with `key`; `other_key` signs the [`Fault::WrongKey`] tokens
    /// under `key`'s `kid`.
    pub fn with_keys(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        key: SigningKey,
        other_key: SigningKey,
    ) -> Self {
        let user = json!({
            "sub": "fake-user-1",
            "id": "fake-user-1",
            "login": "fakeuser",
            "name": "Fake User",
            "email": "fake@example.test",
            "email_verified": true,
            "picture": "http://127.0.0.1/fake.png",
        });
        let Value::Object(user) = user else {
            unreachable!("a json! object literal is an object")
        };
        Self {
            inner: Rc::new(Fake {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                key: RefCell::new(Rc::new(key)),
                other_key,
                user: RefCell::new(user),
                codes: RefCell::new(HashMap::new()),
                tokens: RefCell::new(HashMap::new()),
                fault: Cell::new(Fault::None),
                token_requests: Cell::new(0),
            }),
        }
    }

    /// Makes the provider misbehave (or behave again with [`Fault::None`]).
    pub fn set_fault(&self, fault: Fault) {
        self.inner.fault.set(fault);
    }

    /// Sets a claim of the user (in ID tokens and userinfo).
    pub fn set_user_claim(&self, name: &str, value: Value) {
        self.inner.user.borrow_mut().insert(name.to_owned(), value);
    }

    /// How many requests reached the token endpoint.
    pub fn token_requests(&self) -> u32 {
        self.inner.token_requests.get()
    }

    /// The key it signs with.
    pub fn key(&self) -> Rc<SigningKey> {
        Rc::clone(&self.inner.key.borrow())
    }

    /// Signs with `key` from now on and publishes only it, as a provider rotating its keys
    /// does (a client that cached the old JWKS must fetch it again).
    pub fn rotate_key(&self, key: SigningKey) {
        *self.inner.key.borrow_mut() = Rc::new(key);
    }

    /// Points `provider` at this fake served at `base_url` (`http://127.0.0.1:PORT`, no
    /// trailing slash): its authorize, token and userinfo URLs, and for an OpenID Connect
    /// provider the issuer and JWKS.
    pub fn configure(&self, provider: OAuth2Provider, base_url: &str) -> OAuth2Provider {
        let provider = provider
            .authorize_url(format!("{base_url}/authorize"))
            .token_url(format!("{base_url}/token"))
            .userinfo_url(format!("{base_url}/userinfo"));
        if provider.is_openid() {
            provider.openid(base_url, format!("{base_url}/jwks"))
        } else {
            provider
        }
    }

    /// The routes: `/authorize`, `/token`, `/userinfo`, `/jwks`,
    /// `/.well-known/openid-configuration`.
    pub fn routes(&self) -> Vec<Route> {
        let f = || Rc::clone(&self.inner);
        let (a, t, u, j, d) = (f(), f(), f(), f(), f());
        vec![
            route("/authorize", move || Authorize(Rc::clone(&a))),
            route("/token", move || Token(Rc::clone(&t))),
            route("/userinfo", move || UserInfo(Rc::clone(&u))),
            route("/jwks", move || JwksHandler(Rc::clone(&j))),
            route("/.well-known/openid-configuration", move || {
                Discovery(Rc::clone(&d))
            }),
        ]
    }

    /// An application with just [`routes`](Self::routes).
    pub fn application(&self) -> Application {
        Application::new(self.routes())
    }
}

/// `protocol://host` of the request: the fake's issuer.
fn base_url(cx: &Context) -> String {
    format!("{}://{}", cx.request().protocol, cx.request().host)
}

/// An OAuth2 error answer (RFC 6749 §5.2).
fn oauth_error(cx: &mut Context, status: u16, error: &str) -> Result<(), HTTPError> {
    cx.set_status(status);
    cx.set_header("Content-Type", "application/json")?;
    cx.write(json!({ "error": error }).to_string());
    Ok(())
}

fn write_json(cx: &mut Context, value: &Value) -> Result<(), HTTPError> {
    cx.set_header("Content-Type", "application/json")?;
    cx.write(value.to_string());
    Ok(())
}

/// `GET /authorize`: checks the client and PKCE method, grants at once.
struct Authorize(Rc<Fake>);

#[handler]
impl RequestHandler for Authorize {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let fake = &self.0;
        let redirect_uri = cx.get_query_argument("redirect_uri")?;
        if cx.get_query_argument("client_id")? != fake.client_id
            || cx.get_query_argument("response_type")? != "code"
        {
            return oauth_error(cx, 400, "invalid_request");
        }
        let state = cx.get_query_argument("state").ok();
        let mut back: Vec<(String, String)> = Vec::new();
        if fake.fault.get() == Fault::Deny {
            back.push(("error".to_owned(), "access_denied".to_owned()));
        } else {
            let challenge = cx.get_query_argument("code_challenge").ok();
            // RFC 7636 §4.3: the method defaults to `plain`, which this fake refuses.
            let method = cx
                .get_query_argument("code_challenge_method")
                .unwrap_or_else(|_| "plain".to_owned());
            if challenge.is_some() && method != "S256" {
                return oauth_error(cx, 400, "invalid_request");
            }
            let code = random_token(16).map_err(|e| HTTPError::with_source(500, e))?;
            fake.codes.borrow_mut().insert(
                code.clone(),
                Grant {
                    redirect_uri: redirect_uri.clone(),
                    challenge,
                    nonce: cx.get_query_argument("nonce").ok(),
                    scope: cx.get_argument_or("scope", ""),
                    used: false,
                },
            );
            back.push(("code".to_owned(), code));
        }
        if let Some(state) = state {
            back.push(("state".to_owned(), state));
        }
        cx.redirect(&url_concat(&redirect_uri, back))?;
        Ok(())
    }
}

/// `POST /token` (or Facebook's `GET`): one use per code, the client's credentials, the
/// `redirect_uri`, and the PKCE verifier.
struct Token(Rc<Fake>);

impl Token {
    async fn exchange(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let fake = Rc::clone(&self.0);
        fake.token_requests.set(fake.token_requests.get() + 1);
        if fake.fault.get() == Fault::TokenErrorWith200 {
            return oauth_error(cx, 200, "bad_verification_code");
        }
        if cx.get_argument_or("grant_type", "") != "authorization_code" {
            return oauth_error(cx, 400, "unsupported_grant_type");
        }
        if cx.get_argument_or("client_id", "") != fake.client_id
            || cx.get_argument_or("client_secret", "") != fake.client_secret
        {
            return oauth_error(cx, 401, "invalid_client");
        }
        let code = cx.get_argument_or("code", "");
        let redirect_uri = cx.get_argument_or("redirect_uri", "");
        let verifier = cx.get_argument("code_verifier").ok();
        let (nonce, scope) = {
            let mut codes = fake.codes.borrow_mut();
            let Some(grant) = codes.get_mut(&code) else {
                return oauth_error(cx, 400, "invalid_grant");
            };
            let pkce_ok = match (&grant.challenge, &verifier) {
                (Some(challenge), Some(verifier)) => pkce_challenge(verifier) == *challenge,
                (None, None) => true,
                _ => false,
            };
            let ok = !grant.used && grant.redirect_uri == redirect_uri && pkce_ok;
            grant.used = true;
            if !ok {
                drop(codes);
                return oauth_error(cx, 400, "invalid_grant");
            }
            (grant.nonce.clone(), grant.scope.clone())
        };
        let access_token = random_token(16).map_err(|e| HTTPError::with_source(500, e))?;
        fake.tokens.borrow_mut().insert(access_token.clone(), ());
        let mut answer = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": scope,
        });
        let fault = fake.fault.get();
        if scope.split(' ').any(|s| s == "openid") && fault != Fault::NoIdToken {
            let id_token = id_token(&fake, &base_url(cx), nonce, fault)
                .map_err(|e| HTTPError::with_source(500, e))?;
            answer["id_token"] = Value::String(id_token);
        }
        write_json(cx, &answer)
    }
}

/// An ID token for the fake's user, spoiled as `fault` says.
fn id_token(fake: &Fake, issuer: &str, nonce: Option<String>, fault: Fault) -> Result<String> {
    let now = unix_now();
    let mut claims = Value::Object(fake.user.borrow().clone());
    claims["iss"] = json!(issuer);
    claims["aud"] = json!(fake.client_id);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 600);
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    match fault {
        Fault::ExpiredIdToken => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Fault::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        Fault::WrongAudience => claims["aud"] = json!("another-client"),
        Fault::WrongIssuer => claims["iss"] = json!("https://evil.example"),
        _ => {}
    }
    match fault {
        Fault::WrongKey => {
            let key = fake.key.borrow();
            let header = json!({"alg": key.alg(), "kid": key.kid(), "typ": "JWT"});
            fake.other_key.sign_with_header(&header, &claims)
        }
        Fault::AlgNone => {
            let signed = fake
                .key
                .borrow()
                .sign_with_header(&json!({"alg": "none"}), &claims)?;
            let unsigned = signed
                .rsplit_once('.')
                .map_or(signed.as_str(), |(head, _)| head);
            Ok(format!("{unsigned}."))
        }
        _ => fake.key.borrow().sign(&claims),
    }
}

#[handler]
impl RequestHandler for Token {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.exchange(cx).await
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.exchange(cx).await
    }
}

/// `GET /userinfo`: the user for a Bearer token (or an `access_token` argument, whose
/// `appsecret_proof`, when sent, must be right).
struct UserInfo(Rc<Fake>);

#[handler]
impl RequestHandler for UserInfo {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let fake = Rc::clone(&self.0);
        let bearer = cx
            .request()
            .headers
            .get("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::to_owned);
        let token = match bearer {
            Some(token) => token,
            None => cx.get_query_argument("access_token").unwrap_or_default(),
        };
        if !fake.tokens.borrow().contains_key(&token) {
            return oauth_error(cx, 401, "invalid_token");
        }
        if let Ok(proof) = cx.get_query_argument("appsecret_proof")
            && proof != crate::signin::appsecret_proof(&fake.client_secret, &token)
        {
            return oauth_error(cx, 400, "invalid_appsecret_proof");
        }
        let mut user = Value::Object(fake.user.borrow().clone());
        if fake.fault.get() == Fault::WrongUserinfoSub {
            user["sub"] = json!("someone-else");
        }
        write_json(cx, &user)
    }
}

/// `GET /jwks`: the signing key's public half.
struct JwksHandler(Rc<Fake>);

#[handler]
impl RequestHandler for JwksHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let jwks = json!({ "keys": [self.0.key.borrow().jwk()] });
        write_json(cx, &jwks)
    }
}

/// `GET /.well-known/openid-configuration`.
struct Discovery(Rc<Fake>);

#[handler]
impl RequestHandler for Discovery {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let base = base_url(cx);
        let issuer = if self.0.fault.get() == Fault::WrongIssuer {
            "https://evil.example".to_owned()
        } else {
            base.clone()
        };
        let doc = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "userinfo_endpoint": format!("{base}/userinfo"),
            "jwks_uri": format!("{base}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.0.key.borrow().alg()],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        });
        write_json(cx, &doc)
    }
}
