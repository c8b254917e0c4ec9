//! [`OAuth2Provider`]: one provider's endpoints, credentials and policy, and its presets.

#[cfg(feature = "oidc")]
use std::cell::RefCell;
use std::fmt;
#[cfg(feature = "oidc")]
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpclient::AsyncHTTPClient;

#[cfg(feature = "oidc")]
use crate::jwt::Jwks;

/// How the authorization code is exchanged at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenExchange {
    /// RFC 6749 §4.1.3: a form POST with the client credentials in the body
    /// (`client_secret_post`), as Tornado's `GoogleOAuth2Mixin` does. The default.
    FormPost,
    /// A GET with every parameter, the secret too, in the query string: Facebook's Graph
    /// login, as Tornado's `FacebookGraphMixin` does it.
    QueryGet,
}

/// How [`oauth2_request`](OAuth2Provider::oauth2_request) (and so the userinfo fetch) sends the
/// access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPlacement {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1). The default: a token in a URL ends up
    /// in access logs.
    BearerHeader,
    /// `?access_token=<token>`, Tornado's `oauth2_request`. With `appsecret_proof`, Facebook's
    /// `HMAC-SHA256(client_secret, access_token)` is added, as `FacebookGraphMixin` does.
    Query {
        /// Add Facebook's `appsecret_proof`.
        appsecret_proof: bool,
    },
}

/// The OpenID Connect half of a provider: whose ID tokens to accept, and where its keys are.
#[cfg(feature = "oidc")]
#[derive(Debug, Clone)]
pub(crate) struct OpenId {
    /// The issuer ID tokens must name in `iss`; `{tenantid}` stands for the token's `tid`.
    pub(crate) issuer: String,
    /// Where the provider publishes its signing keys.
    pub(crate) jwks_uri: String,
}

/// A sign-in provider: Tornado's `OAuth2Mixin` and its subclasses, as a value.
///
/// Tornado mixes `GoogleOAuth2Mixin` into the handler and reads the URLs from class attributes;
/// here one `OAuth2Provider` holds the endpoints, the client credentials and the flow's policy,
/// and its methods take the handler's [`Context`](typhoon_web::Context):
/// [`authorize_redirect`](Self::authorize_redirect) and
/// [`get_authenticated_user`](Self::get_authenticated_user) keep Tornado's names.
///
/// Safer than Tornado by default: a `state` checked on the callback and PKCE S256 (Tornado has
/// neither), for OpenID Connect a nonce and an ID token verified against the provider's JWKS,
/// the access token in a Bearer header, no redirects followed from provider endpoints, and a
/// request timeout on every call.
///
/// Build one with a preset ([`google`](Self::google), [`github`](Self::github),
/// [`microsoft`](Self::microsoft), [`facebook`](Self::facebook)), with
/// [`discover`](Self::discover) for any OpenID Connect issuer, or with [`new`](Self::new) and
/// the builder methods. Cloning is cheap enough per request, and clones share the HTTP client
/// and the JWKS cache.
#[derive(Clone)]
pub struct OAuth2Provider {
    /// A short name for logs and the flow cookie's name (`google`, `github`, ...).
    pub(crate) name: String,
    /// Where the user is sent to sign in.
    pub(crate) authorize_url: String,
    /// Where the code is exchanged for tokens.
    pub(crate) token_url: String,
    /// Where the user's profile is read with the access token; `None` skips that call (an
    /// OpenID Connect provider's ID token is then the profile).
    pub(crate) userinfo_url: Option<String>,
    /// The client id the provider issued.
    pub(crate) client_id: String,
    /// The client secret the provider issued.
    pub(crate) client_secret: String,
    /// The scopes asked for, space-joined in the authorize URL.
    pub(crate) scopes: Vec<String>,
    /// Whether to send a PKCE S256 challenge (on by default).
    pub(crate) pkce: bool,
    /// How the code is exchanged.
    pub(crate) token_exchange: TokenExchange,
    /// How the access token is sent to API calls.
    pub(crate) token_placement: TokenPlacement,
    /// Query arguments added to the userinfo call (Facebook's `fields`).
    pub(crate) userinfo_params: Vec<(String, String)>,
    /// Headers on every call to the provider (GitHub wants a `User-Agent` and its `Accept`).
    pub(crate) headers: Vec<(String, String)>,
    /// Timeout of each call to the provider, from start to end of body.
    pub(crate) request_timeout: Duration,
    /// Timeout of connecting to the provider.
    pub(crate) connect_timeout: Duration,
    /// The HTTP client every call goes through (Tornado's `get_auth_http_client`).
    pub(crate) client: AsyncHTTPClient,
    /// The OpenID Connect configuration, for providers that issue ID tokens.
    #[cfg(feature = "oidc")]
    pub(crate) openid: Option<OpenId>,
    /// Clock skew allowed when checking an ID token's times.
    #[cfg(feature = "oidc")]
    pub(crate) leeway: Duration,
    /// The provider's keys as last fetched, shared by clones (refetched for an unknown `kid`).
    #[cfg(feature = "oidc")]
    pub(crate) jwks: Rc<RefCell<Option<Rc<Jwks>>>>,
}

impl fmt::Debug for OAuth2Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("OAuth2Provider");
        d.field("name", &self.name)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("pkce", &self.pkce);
        #[cfg(feature = "oidc")]
        d.field("issuer", &self.openid.as_ref().map(|o| &o.issuer));
        d.finish_non_exhaustive()
    }
}

impl OAuth2Provider {
    /// A plain OAuth2 provider (authorization-code flow, RFC 6749 §4.1) with PKCE on, a 10 s
    /// request timeout, no scopes and no userinfo endpoint.
    pub fn new(
        name: impl Into<String>,
        authorize_url: impl Into<String>,
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            authorize_url: authorize_url.into(),
            token_url: token_url.into(),
            userinfo_url: None,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: Vec::new(),
            pkce: true,
            token_exchange: TokenExchange::FormPost,
            token_placement: TokenPlacement::BearerHeader,
            userinfo_params: Vec::new(),
            headers: Vec::new(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            client: AsyncHTTPClient::new(),
            #[cfg(feature = "oidc")]
            openid: None,
            #[cfg(feature = "oidc")]
            leeway: Duration::from_secs(60),
            #[cfg(feature = "oidc")]
            jwks: Rc::new(RefCell::new(None)),
        }
    }

    /// GitHub's OAuth app sign-in: plain OAuth2 (no ID token), scopes `read:user user:email`,
    /// the profile from `https://api.github.com/user`. PKCE stays on (GitHub accepts it).
    pub fn github(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::new(
            "github",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            client_id,
            client_secret,
        )
        .userinfo_url("https://api.github.com/user")
        .scopes(["read:user", "user:email"])
        .header("Accept", "application/vnd.github+json")
        .header("User-Agent", "typhoon-auth")
    }

    /// Facebook's Graph login, as Tornado's `FacebookGraphMixin`: the code exchanged with a GET,
    /// then `/me` with the token in the query and `appsecret_proof`, asking for Tornado's
    /// fields (`id,name,first_name,last_name,locale,picture,link`). Scopes: `email`.
    pub fn facebook(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::new(
            "facebook",
            "https://www.facebook.com/dialog/oauth",
            "https://graph.facebook.com/oauth/access_token",
            client_id,
            client_secret,
        )
        .userinfo_url("https://graph.facebook.com/me")
        .scopes(["email"])
        .token_exchange(TokenExchange::QueryGet)
        .token_placement(TokenPlacement::Query {
            appsecret_proof: true,
        })
        .userinfo_param(
            "fields",
            "id,name,first_name,last_name,locale,picture,link,email",
        )
    }

    /// Google's sign-in, as OpenID Connect (Tornado's `GoogleOAuth2Mixin` with the URLs of
    /// Google's discovery document): scopes `openid email profile`, ID tokens from
    /// `https://accounts.google.com` checked against its JWKS, then the userinfo endpoint.
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::new(
            "google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            client_id,
            client_secret,
        )
        .userinfo_url("https://openidconnect.googleapis.com/v1/userinfo")
        .scopes(["openid", "email", "profile"])
        .openid(
            "https://accounts.google.com",
            "https://www.googleapis.com/oauth2/v3/certs",
        )
    }

    /// Microsoft Entra ID (v2.0 endpoints) for `tenant`: a tenant id or domain, or `common`,
    /// `organizations` or `consumers` for multi-tenant apps, whose ID tokens are checked
    /// against the issuer of the user's own tenant (`tid`). Scopes `openid email profile`;
    /// the userinfo endpoint is Microsoft Graph's.
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn microsoft(
        tenant: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let base = format!("https://login.microsoftonline.com/{tenant}");
        let issuer = match tenant {
            "common" | "organizations" | "consumers" => {
                "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned()
            }
            _ => format!("{base}/v2.0"),
        };
        Self::new(
            "microsoft",
            format!("{base}/oauth2/v2.0/authorize"),
            format!("{base}/oauth2/v2.0/token"),
            client_id,
            client_secret,
        )
        .userinfo_url("https://graph.microsoft.com/oidc/userinfo")
        .scopes(["openid", "email", "profile"])
        .openid(issuer, format!("{base}/discovery/v2.0/keys"))
    }

    /// Sets the authorize endpoint (tests point a preset at a fake provider this way, as
    /// Tornado's tests override `_OAUTH_AUTHORIZE_URL`).
    #[must_use]
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = url.into();
        self
    }

    /// Sets the token endpoint.
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Sets the userinfo endpoint, read with the access token after the exchange.
    #[must_use]
    pub fn userinfo_url(mut self, url: impl Into<String>) -> Self {
        self.userinfo_url = Some(url.into());
        self
    }

    /// No userinfo call: an OpenID Connect provider's ID token is the profile.
    #[must_use]
    pub fn without_userinfo(mut self) -> Self {
        self.userinfo_url = None;
        self
    }

    /// Sets the scopes.
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Turns PKCE off, for a provider that rejects `code_challenge` (RFC 7636 asks servers to
    /// ignore parameters they do not know, and most do).
    #[must_use]
    pub fn pkce(mut self, on: bool) -> Self {
        self.pkce = on;
        self
    }

    /// Sets how the code is exchanged.
    #[must_use]
    pub fn token_exchange(mut self, exchange: TokenExchange) -> Self {
        self.token_exchange = exchange;
        self
    }

    /// Sets how API calls carry the access token.
    #[must_use]
    pub fn token_placement(mut self, placement: TokenPlacement) -> Self {
        self.token_placement = placement;
        self
    }

    /// Adds a query argument to the userinfo call.
    #[must_use]
    pub fn userinfo_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.userinfo_params.push((name.into(), value.into()));
        self
    }

    /// Adds a header to every call to the provider.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the timeout of each call to the provider (default 10 s): a provider that does not
    /// answer in time fails the sign-in with [`AuthError::Timeout`](crate::AuthError::Timeout).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the connect timeout of each call (default 5 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Uses `client` for every call (Tornado's `get_auth_http_client`), sharing its pool.
    #[must_use]
    pub fn http_client(mut self, client: AsyncHTTPClient) -> Self {
        self.client = client;
        self
    }

    /// Makes this an OpenID Connect provider: `openid` joins the scopes if missing, each
    /// sign-in sends a nonce, and the token response must carry an ID token signed by a key of
    /// `jwks_uri`, issued by `issuer` for this client.
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    #[must_use]
    pub fn openid(mut self, issuer: impl Into<String>, jwks_uri: impl Into<String>) -> Self {
        if !self.scopes.iter().any(|s| s == "openid") {
            self.scopes.insert(0, "openid".to_owned());
        }
        self.openid = Some(OpenId {
            issuer: issuer.into(),
            jwks_uri: jwks_uri.into(),
        });
        *self.jwks.borrow_mut() = None;
        self
    }

    /// Sets the clock skew allowed on an ID token's `exp`, `nbf` and `iat` (default 60 s).
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The provider's short name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether this is an OpenID Connect provider (it issues ID tokens that are verified).
    pub fn is_openid(&self) -> bool {
        #[cfg(feature = "oidc")]
        return self.openid.is_some();
        #[cfg(not(feature = "oidc"))]
        false
    }

    /// The name of the flow cookie: `_auth_flow_<name>` (one sign-in at a time per provider
    /// and browser; a second tab's sign-in replaces the first's).
    pub(crate) fn cookie_name(&self) -> String {
        let name: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        format!("_auth_flow_{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_point_at_their_providers() {
        let github = OAuth2Provider::github("id", "secret");
        assert_eq!(
            github.token_url,
            "https://github.com/login/oauth/access_token"
        );
        assert!(github.pkce && !github.is_openid());
        assert_eq!(github.cookie_name(), "_auth_flow_github");
        let facebook = OAuth2Provider::facebook("id", "secret");
        assert_eq!(facebook.token_exchange, TokenExchange::QueryGet);
        assert_eq!(
            facebook.token_placement,
            TokenPlacement::Query {
                appsecret_proof: true
            }
        );
        assert!(!format!("{facebook:?}").contains("secret\""));
    }

    #[cfg(feature = "oidc")]
    #[test]
    fn oidc_presets_have_issuers_and_openid_scope() {
        let google = OAuth2Provider::google("id", "secret");
        let issuer = |p: &OAuth2Provider| p.openid.as_ref().map(|o| o.issuer.clone());
        assert_eq!(
            issuer(&google).as_deref(),
            Some("https://accounts.google.com")
        );
        assert_eq!(google.scopes.first().map(String::as_str), Some("openid"));
        let tenant = OAuth2Provider::microsoft("contoso.example", "id", "secret");
        assert_eq!(
            issuer(&tenant).as_deref(),
            Some("https://login.microsoftonline.com/contoso.example/v2.0")
        );
        let common = OAuth2Provider::microsoft("common", "id", "secret");
        assert_eq!(
            issuer(&common).as_deref(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0")
        );
        assert_eq!(
            common.authorize_url,
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
        );
        // openid() on a plain provider adds the scope once.
        let plain = OAuth2Provider::new("p", "a", "t", "id", "s")
            .scopes(["email"])
            .openid("https://idp", "https://idp/jwks")
            .openid("https://idp", "https://idp/jwks");
        assert_eq!(plain.scopes, ["openid", "email"]);
    }
}
