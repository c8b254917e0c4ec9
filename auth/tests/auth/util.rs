//! The harness: a [`FakeProvider`] on its own loopback server, and a client application whose
//! `/login` handler signs in against it, as Tornado's `auth_test.py` pairs its fake provider
//! handlers with client handlers. The handler keeps each outcome for the test to match.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use typhoon_auth::fake::FakeProvider;
use typhoon_auth::{
    AuthError, AuthUser, OAuth2Provider, SigningKey, get_user_cookie, set_user_cookie,
};
use typhoon_httpclient::HTTPResponse;
use typhoon_testing::AsyncHTTPTestServer;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, handler, route};

pub(crate) const CLIENT_ID: &str = "test-client";
pub(crate) const CLIENT_SECRET: &str = "test-secret";
pub(crate) const USER_COOKIE: &str = "user";

const RSA_KEY: &[u8] = include_bytes!("../fixtures/rsa_test_key.pk8");
const RSA_OTHER_KEY: &[u8] = include_bytes!("../fixtures/rsa_other_key.pk8");

/// Every sign-in's result, in order.
pub(crate) type Outcomes = Rc<RefCell<Vec<Result<AuthUser, AuthError>>>>;

/// `GET /login`: the callback when the provider sent the user back, else the redirect.
struct Login {
    provider: Rc<OAuth2Provider>,
    outcomes: Outcomes,
}

#[handler]
impl RequestHandler for Login {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let is_callback = ["code", "state", "error"]
            .iter()
            .any(|name| cx.get_query_argument(name).is_ok());
        if !is_callback {
            return self
                .provider
                .authorize_redirect(cx, "/login", &[("prompt", "consent")])
                .map_err(AuthError::into_http_error);
        }
        let outcome = self.provider.get_authenticated_user(cx).await;
        let status = match &outcome {
            Ok(user) => {
                set_user_cookie(cx, USER_COOKIE, &user.session())
                    .map_err(AuthError::into_http_error)?;
                cx.write(format!("signed in as {}", user.id));
                200
            }
            Err(error) => error.status(),
        };
        self.outcomes.borrow_mut().push(outcome);
        cx.set_status(status);
        Ok(())
    }
}

/// `GET /me`: the user in the signed cookie.
struct Me;

#[handler]
impl RequestHandler for Me {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        match get_user_cookie(cx, USER_COOKIE) {
            Some(user) => cx.write(format!("{}:{}", user.provider, user.id)),
            None => cx.set_status(401),
        }
        Ok(())
    }
}

/// The client application for `provider`.
pub(crate) fn client_app(provider: OAuth2Provider, outcomes: &Outcomes) -> Application {
    let settings = Settings {
        cookie_secret: Some("a cookie secret for the auth tests".to_owned()),
        ..Settings::default()
    };
    client_app_with(provider, outcomes, settings)
}

/// The client application for `provider` with `settings`.
pub(crate) fn client_app_with(
    provider: OAuth2Provider,
    outcomes: &Outcomes,
    settings: Settings,
) -> Application {
    let provider = Rc::new(provider);
    let outcomes = Rc::clone(outcomes);
    Application::with_settings(
        vec![
            route("/login", move || Login {
                provider: Rc::clone(&provider),
                outcomes: Rc::clone(&outcomes),
            }),
            route("/me", || Me),
        ],
        settings,
    )
}

/// A fake provider, its server, the client app's server, and the outcomes.
pub(crate) struct Harness {
    pub(crate) fake: FakeProvider,
    pub(crate) fake_server: AsyncHTTPTestServer,
    pub(crate) app: AsyncHTTPTestServer,
    pub(crate) outcomes: Outcomes,
}

/// Which key the fake signs with.
#[derive(Clone, Copy)]
pub(crate) enum Keys {
    Es256,
    Rs256,
}

pub(crate) fn fake(keys: Keys) -> FakeProvider {
    match keys {
        Keys::Es256 => FakeProvider::new(CLIENT_ID, CLIENT_SECRET).expect("fake provider"),
        Keys::Rs256 => FakeProvider::with_keys(
            CLIENT_ID,
            CLIENT_SECRET,
            SigningKey::rs256_from_pkcs8("rsa-1", RSA_KEY).expect("RSA fixture"),
            SigningKey::rs256_from_pkcs8("rsa-1", RSA_OTHER_KEY).expect("RSA fixture"),
        ),
    }
}

impl Harness {
    /// Serves `fake`, then a client app whose provider `make` builds from the fake's base URL.
    pub(crate) fn start(
        fake: FakeProvider,
        make: impl FnOnce(&FakeProvider, &str) -> OAuth2Provider,
    ) -> Self {
        let fake_server = AsyncHTTPTestServer::new(fake.application());
        let provider = make(&fake, &fake_server.get_url(""));
        Self::with_provider(fake, fake_server, provider)
    }

    /// A client app signing in with `provider` against `fake`, served by `fake_server`.
    pub(crate) fn with_provider(
        fake: FakeProvider,
        fake_server: AsyncHTTPTestServer,
        provider: OAuth2Provider,
    ) -> Self {
        Self::with_provider_timeout(fake, fake_server, provider, Duration::from_secs(5))
    }

    /// As [`with_provider`](Self::with_provider), with the provider's request timeout.
    pub(crate) fn with_provider_timeout(
        fake: FakeProvider,
        fake_server: AsyncHTTPTestServer,
        provider: OAuth2Provider,
        timeout: Duration,
    ) -> Self {
        let provider = provider.request_timeout(timeout);
        let outcomes = Outcomes::default();
        let app = AsyncHTTPTestServer::new(client_app(provider, &outcomes));
        Self {
            fake,
            fake_server,
            app,
            outcomes,
        }
    }

    /// A GET of an absolute URL without following redirects, with `cookie` if any.
    pub(crate) async fn get(&self, url: &str, cookie: Option<&str>) -> HTTPResponse {
        let mut request = typhoon_httpclient::HTTPRequest::new(url)
            .follow_redirects(false)
            .raise_error(false);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        self.app.fetch_request(request).await.expect("a response")
    }

    /// `GET /login`: the authorize URL and the flow cookie (`name=value`).
    pub(crate) async fn start_login(&self) -> (String, String) {
        let response = self.get(&self.app.get_url("/login"), None).await;
        assert_eq!(response.code, 302, "{}", response.text());
        let location = response
            .headers
            .get("Location")
            .expect("Location")
            .to_owned();
        let cookie = response
            .headers
            .get_list("Set-Cookie")
            .find(|c| c.starts_with("_auth_flow_"))
            .expect("a flow cookie")
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let pair = cookie.split(';').next().expect("name=value").to_owned();
        (location, pair)
    }

    /// The fake's authorize endpoint: the callback URL it redirects back to.
    pub(crate) async fn authorize(&self, location: &str) -> String {
        let response = self.get(location, None).await;
        assert_eq!(response.code, 302, "{}", response.text());
        response
            .headers
            .get("Location")
            .expect("Location")
            .to_owned()
    }

    /// A whole sign-in: the callback's response.
    pub(crate) async fn sign_in(&self) -> HTTPResponse {
        let (location, cookie) = self.start_login().await;
        let callback = self.authorize(&location).await;
        self.get(&callback, Some(&cookie)).await
    }

    /// The last outcome.
    pub(crate) fn last(&self) -> Result<AuthUser, AuthError> {
        self.outcomes.borrow_mut().pop().expect("a sign-in outcome")
    }
}

/// A query argument of `url` (raw, as the fake puts only URL-safe values there).
pub(crate) fn query_arg(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// `url` with query argument `name` replaced by `value` (or removed with `None`).
pub(crate) fn with_query_arg(url: &str, name: &str, value: Option<&str>) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_owned)
        .collect();
    if let Some(value) = value {
        pairs.push(format!("{name}={value}"));
    }
    format!("{base}?{}", pairs.join("&"))
}
