//! Tornado's `google_auth` demo (`demos/google_auth`) on `typhoon-auth`.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | `Hello, <name>` for a signed-in user (authenticated: others go to `/auth/login`) |
//! | `GET /auth/login` | without `code`, `authorize_redirect` to Google; on Google's callback, `get_authenticated_user`, the user in the signed cookie `googledemo_user`, then `/` |
//! | `GET /auth/logout` | clears the cookie |
//!
//! Tornado's demo keeps the access token in the cookie to call userinfo on every page; a signed
//! cookie is readable by its holder, so this one keeps only who the user is ([`SessionUser`]).
//!
//! Without credentials the example signs in against a [`FakeProvider`] that it serves itself on
//! another loopback port (see [`start_fake_google`]), so it runs with no network; the fake
//! speaks Google's protocol (OpenID Connect with a signed ID token, PKCE, userinfo).

use std::rc::Rc;

use typhoon_auth::fake::FakeProvider;
use typhoon_auth::{AuthError, OAuth2Provider, SessionUser, get_user_cookie, set_user_cookie};
use typhoon_httpserver::HTTPServer;
use typhoon_web::{
    Application, Context, CookieOptions, CurrentUser, HTTPError, RequestHandler, Settings, handler,
    route,
};

/// The signed cookie holding the signed-in user (Tornado's demo's name).
pub const USER_COOKIE: &str = "googledemo_user";

/// The client id the fake provider is started with.
pub const FAKE_CLIENT_ID: &str = "google-auth-demo";

/// The application's settings.
#[derive(Debug, Clone)]
pub struct GoogleAuthConfig {
    /// Signs the user cookie and the sign-in's flow cookie.
    pub cookie_secret: String,
    /// The absolute callback URL registered with Google (`http://127.0.0.1:8888/auth/login`);
    /// `None` derives it from each request's host (fine for the fake provider).
    pub redirect_uri: Option<String>,
}

/// `GET /`: greets the signed-in user.
#[derive(Debug)]
pub struct IndexHandler;

#[handler]
impl RequestHandler for IndexHandler {
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        Ok(get_user_cookie(cx, USER_COOKIE).map(CurrentUser::new))
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let name = cx
            .current_user::<SessionUser>()
            .map(|user| user.name.clone().unwrap_or_else(|| user.id.clone()))
            .unwrap_or_default();
        cx.write(format!(
            "Hello, {} <a href=\"/auth/logout\">sign out</a>",
            typhoon_escape::xhtml_escape(&name)
        ));
        Ok(())
    }
}

/// `GET /auth/login`: Tornado's `LoginHandler` with `GoogleOAuth2Mixin`.
#[derive(Debug)]
pub struct LoginHandler {
    /// Google, or the fake.
    provider: Rc<OAuth2Provider>,
    /// The callback URL, if configured.
    redirect_uri: Rc<Option<String>>,
}

#[handler]
impl RequestHandler for LoginHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let callback = ["code", "state", "error"]
            .iter()
            .any(|name| cx.get_query_argument(name).is_ok());
        if callback {
            let user = self
                .provider
                .get_authenticated_user(cx)
                .await
                .map_err(AuthError::into_http_error)?;
            set_user_cookie(cx, USER_COOKIE, &user.session())
                .map_err(AuthError::into_http_error)?;
            cx.redirect("/")?;
            return Ok(());
        }
        let redirect_uri = self.redirect_uri.as_deref().unwrap_or("/auth/login");
        self.provider
            .authorize_redirect(cx, redirect_uri, &[("prompt", "select_account")])
            .map_err(AuthError::into_http_error)
    }
}

/// `GET /auth/logout`.
#[derive(Debug)]
pub struct LogoutHandler;

#[handler]
impl RequestHandler for LogoutHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.clear_cookie(USER_COOKIE, &CookieOptions::default())?;
        cx.redirect("/")?;
        Ok(())
    }
}

/// The demo's application, signing in with `provider`.
pub fn make_app(provider: OAuth2Provider, config: GoogleAuthConfig) -> Application {
    let provider = Rc::new(provider);
    let redirect_uri = Rc::new(config.redirect_uri);
    let settings = Settings {
        cookie_secret: Some(config.cookie_secret),
        login_url: Some("/auth/login".to_owned()),
        ..Settings::default()
    };
    Application::with_settings(
        vec![
            route("/", || IndexHandler).authenticated(),
            route("/auth/login", move || LoginHandler {
                provider: Rc::clone(&provider),
                redirect_uri: Rc::clone(&redirect_uri),
            }),
            route("/auth/logout", || LogoutHandler),
        ],
        settings,
    )
}

/// A fake Google on a loopback port, and the Google preset pointed at it.
#[derive(Debug)]
pub struct FakeGoogle {
    /// The fake's server (it stops when the loop does, or with `stop`).
    pub server: HTTPServer,
    /// [`OAuth2Provider::google`] with the fake's endpoints, issuer and keys.
    pub provider: OAuth2Provider,
    /// Where the fake is: `http://127.0.0.1:PORT`.
    pub url: String,
}

/// Serves a fake Google on `127.0.0.1:port` (0: any free port) on the current loop, for the
/// client [`FAKE_CLIENT_ID`] with a random secret.
///
/// # Errors
///
/// If the port cannot be bound, or no signing key can be made.
pub fn start_fake_google(port: u16) -> Result<FakeGoogle, Box<dyn std::error::Error>> {
    let secret = crate::random::random_hex(16)?;
    let fake = FakeProvider::new(FAKE_CLIENT_ID, secret.as_str())?;
    let server = fake.application().into_server();
    let addr = server.listen(port, Some("127.0.0.1"))?[0];
    let url = format!("http://{addr}");
    let provider = fake.configure(OAuth2Provider::google(FAKE_CLIENT_ID, secret), &url);
    Ok(FakeGoogle {
        server,
        provider,
        url,
    })
}
