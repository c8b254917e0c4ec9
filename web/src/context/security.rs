//! Cookies, signed cookies, XSRF tokens and the current user of a [`Context`].

use std::time::Duration;

use super::Context;
use crate::cookies::{
    self, CookieOptions, constant_time_eq, decode_xsrf_token, encode_xsrf_token, format_set_cookie,
    unix_now,
};
use crate::error::{HTTPError, Result, WebError};

impl Context {
    // ----- cookies -------------------------------------------------------------------------

    /// A request cookie's value.
    pub fn get_cookie(&self, name: &str) -> Option<&str> {
        self.request.cookie(name)
    }

    /// Sets a cookie with `Path=/` (Tornado's `set_cookie` with defaults).
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidCookie`] for control characters, spaces or `;` in the name or value.
    pub fn set_cookie(&mut self, name: &str, value: &str) -> Result<()> {
        self.set_cookie_with(name, value, &CookieOptions::default())
    }

    /// Sets a cookie with `options` (domain, path, expires, max_age, secure, httponly,
    /// samesite).
    ///
    /// # Errors
    ///
    /// As [`set_cookie`](Self::set_cookie).
    pub fn set_cookie_with(
        &mut self,
        name: &str,
        value: &str,
        options: &CookieOptions,
    ) -> Result<()> {
        let header = format_set_cookie(name, value, options)?;
        self.add_header("Set-Cookie", header)
    }

    /// Deletes a cookie (an empty value that expired a year ago); `path` and `domain` must
    /// match the ones it was set with.
    ///
    /// # Errors
    ///
    /// As [`set_cookie`](Self::set_cookie).
    pub fn clear_cookie(&mut self, name: &str, options: &CookieOptions) -> Result<()> {
        let options = CookieOptions {
            expires: Some(std::time::SystemTime::now() - Duration::from_secs(365 * 86400)),
            expires_days: None,
            max_age: None,
            ..options.clone()
        };
        self.set_cookie_with(name, "", &options)
    }

    /// Deletes every cookie the request carried (with `Path=/`).
    ///
    /// # Errors
    ///
    /// As [`set_cookie`](Self::set_cookie).
    pub fn clear_all_cookies(&mut self) -> Result<()> {
        let names: Vec<String> = self
            .request
            .cookies()
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            self.clear_cookie(&name, &CookieOptions::default())?;
        }
        Ok(())
    }

    /// The signing key and its version: `cookie_secrets[key_version]` when `key_version` is
    /// set, else `cookie_secret` (version 0).
    fn signing_key(&self) -> Result<(&[u8], u32)> {
        let settings = &self.app.settings;
        match settings.key_version {
            Some(version) => settings
                .cookie_secrets
                .get(&version)
                .map(|key| (key.as_bytes(), version))
                .ok_or(WebError::KeyVersion(Some(version))),
            // Signing with `cookie_secret` while verifying with `cookie_secrets` would make
            // cookies nobody can read back.
            None if !settings.cookie_secrets.is_empty() => Err(WebError::KeyVersion(None)),
            None => settings
                .cookie_secret
                .as_deref()
                .map(|key| (key.as_bytes(), 0))
                .ok_or(WebError::MissingCookieSecret),
        }
    }

    /// Signs and sets a cookie (Tornado's `set_signed_cookie`, v2 format, HMAC-SHA256),
    /// expiring in 30 days.
    ///
    /// # Errors
    ///
    /// [`WebError::MissingCookieSecret`] without `cookie_secret`.
    pub fn set_signed_cookie(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<()> {
        let options = CookieOptions {
            expires_days: Some(30.0),
            ..CookieOptions::default()
        };
        self.set_signed_cookie_with(name, value, &options)
    }

    /// As [`set_signed_cookie`](Self::set_signed_cookie) with cookie options.
    ///
    /// # Errors
    ///
    /// As [`set_signed_cookie`](Self::set_signed_cookie).
    pub fn set_signed_cookie_with(
        &mut self,
        name: &str,
        value: impl AsRef<[u8]>,
        options: &CookieOptions,
    ) -> Result<()> {
        let (key, version) = self.signing_key()?;
        let signed =
            cookies::create_signed_value_versioned(key, version, name, value.as_ref(), unix_now());
        self.set_cookie_with(name, &signed, options)
    }

    /// A signed cookie's value if its signature verifies and it is at most 31 days old
    /// (Tornado's `get_signed_cookie`); `None` also for a value that is not UTF-8.
    pub fn get_signed_cookie(&self, name: &str) -> Option<String> {
        String::from_utf8(self.get_signed_cookie_bytes(name, 31.0)?).ok()
    }

    /// A signed cookie's raw value, at most `max_age_days` old.
    pub fn get_signed_cookie_bytes(&self, name: &str, max_age_days: f64) -> Option<Vec<u8>> {
        let settings = &self.app.settings;
        let value = self.get_cookie(name)?;
        if settings.cookie_secrets.is_empty() {
            let secret = settings.cookie_secret.as_deref()?;
            cookies::decode_signed_value(secret.as_bytes(), name, value, max_age_days, unix_now())
        } else {
            cookies::decode_signed_value_versioned(
                &settings.cookie_secrets,
                name,
                value,
                max_age_days,
                unix_now(),
            )
        }
    }

    // ----- XSRF ----------------------------------------------------------------------------

    pub(crate) fn xsrf_enabled(&self) -> bool {
        self.app.settings.xsrf_cookies
    }

    fn raw_xsrf_token(&mut self) -> (Vec<u8>, u64, bool) {
        if let Some((token, timestamp, from_cookie, _)) = self.xsrf.as_deref() {
            return (token.clone(), *timestamp, *from_cookie);
        }
        let cookie_name = self.app.settings.xsrf_cookie_name.clone();
        match self.get_cookie(&cookie_name).and_then(decode_xsrf_token) {
            Some((token, timestamp)) if !token.is_empty() => (token, timestamp, true),
            _ => {
                let mut token = vec![0u8; 16];
                cookies::random_bytes(&mut token);
                (token, unix_now(), false)
            }
        }
    }

    /// The XSRF token for forms (Tornado's masked v2 `xsrf_token`); sets the `_xsrf` cookie
    /// when the request had none.
    pub fn xsrf_token(&mut self) -> String {
        if let Some((_, _, _, masked)) = self.xsrf.as_deref() {
            return masked.clone();
        }
        let (token, timestamp, from_cookie) = self.raw_xsrf_token();
        let masked = encode_xsrf_token(&token, timestamp);
        if !from_cookie {
            let mut options = self.app.settings.xsrf_cookie_options.clone();
            if options.expires.is_none()
                && options.expires_days.is_none()
                && options.max_age.is_none()
            {
                options.expires_days = self.has_current_user().then_some(30.0);
            }
            let cookie_name = self.app.settings.xsrf_cookie_name.clone();
            let _ = self.set_cookie_with(&cookie_name, &masked, &options);
        }
        self.xsrf = Some(Box::new((token, timestamp, true, masked.clone())));
        masked
    }

    /// `<input type="hidden" name="_xsrf" value="...">` for forms (Tornado's
    /// `xsrf_form_html`).
    pub fn xsrf_form_html(&mut self) -> String {
        format!(
            "<input type=\"hidden\" name=\"_xsrf\" value=\"{}\"/>",
            typhoon_escape::xhtml_escape(&self.xsrf_token())
        )
    }

    /// Checks the `_xsrf` argument or `X-XSRFToken`/`X-CSRFToken` header against the cookie
    /// (Tornado's `check_xsrf_cookie`); done automatically for unsafe methods with
    /// `xsrf_cookies`.
    ///
    /// # Errors
    ///
    /// 403 when missing or not matching.
    pub fn check_xsrf_cookie(&mut self) -> Result<(), HTTPError> {
        let input = match self.get_argument("_xsrf") {
            Ok(value) if !value.is_empty() => Some(value),
            _ => self
                .request
                .headers
                .get("X-Xsrftoken")
                .or_else(|| self.request.headers.get("X-Csrftoken"))
                .map(str::to_owned),
        };
        let Some(input) = input.filter(|v| !v.is_empty()) else {
            return Err(HTTPError::with_log_message(
                403,
                "'_xsrf' argument missing from POST",
            ));
        };
        let Some((token, _)) = decode_xsrf_token(&input).filter(|(t, _)| !t.is_empty()) else {
            return Err(HTTPError::with_log_message(
                403,
                "'_xsrf' argument has invalid format",
            ));
        };
        let cookie_name = &self.app.settings.xsrf_cookie_name;
        let Some((expected, _)) = self.get_cookie(cookie_name).and_then(decode_xsrf_token) else {
            return Err(HTTPError::with_log_message(403, "'_xsrf' cookie missing"));
        };
        if !constant_time_eq(&token, &expected) {
            return Err(HTTPError::with_log_message(
                403,
                "XSRF cookie does not match POST argument",
            ));
        }
        Ok(())
    }

    // ----- users ---------------------------------------------------------------------------

    /// Whether the route wants a logged-in user (Tornado's `@authenticated`).
    pub(crate) fn route_requires_user(&self) -> bool {
        self.route.as_ref().is_some_and(|route| route.authenticated)
    }

    /// Tornado's `@authenticated` refusal: redirect GET/HEAD to `login_url?next=`, else 403.
    pub(crate) fn deny_anonymous(&mut self, login_url: Option<String>) -> Result<(), HTTPError> {
        let method = self.request.method.as_str();
        if matches!(method, "GET" | "HEAD") {
            let Some(mut url) = login_url else {
                return Err(HTTPError::with_log_message(403, "login_url is not set"));
            };
            if !url.contains('?') {
                let next = if url.contains("://") {
                    self.request.full_url()
                } else {
                    self.request.uri.clone()
                };
                url.push_str("?next=");
                url.push_str(&typhoon_escape::url_escape(&next, true));
            }
            self.redirect(&url)?;
            return Err(HTTPError::finish());
        }
        Err(HTTPError::new(403))
    }

    /// The current user (Tornado's `current_user`) if it is a `U`: what the handler's
    /// [`get_current_user`](crate::RequestHandler::get_current_user) returned before
    /// [`prepare`](crate::RequestHandler::prepare), or what
    /// [`set_current_user`](Self::set_current_user) set since. `None` without a user, or for
    /// a user of another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, CurrentUser, HTTPError, RequestHandler};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Account { name: String }
    ///
    /// struct Profile;
    /// impl RequestHandler for Profile {
    ///     async fn get_current_user(&mut self, cx: &mut Context) -> Result<Option<CurrentUser>, HTTPError> {
    ///         // A database lookup would be awaited here.
    ///         Ok(cx.get_signed_cookie("user").map(|name| CurrentUser::new(Account { name })))
    ///     }
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         self.authenticated(cx)?;
    ///         let name = cx.current_user::<Account>().map(|a| a.name.clone()).unwrap_or_default();
    ///         cx.write(format!("hi {name}"));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn current_user<U: 'static>(&self) -> Option<&U> {
        self.current_user
            .as_deref()
            .and_then(crate::CurrentUser::get)
    }

    /// The current user, of whatever type (`None` when nobody is logged in).
    pub fn current_user_any(&self) -> Option<&crate::CurrentUser> {
        self.current_user.as_deref()
    }

    /// Whether somebody is logged in (Tornado's `if self.current_user`).
    pub fn has_current_user(&self) -> bool {
        self.current_user.is_some()
    }

    /// Sets the current user, replacing any loaded one (`None` logs the request out), as
    /// Tornado's `self.current_user = user` in `prepare`: a user set in `prepare` satisfies
    /// the [`authenticated`](crate::RequestHandler::authenticated) guard.
    pub fn set_current_user<U: serde::Serialize + 'static>(&mut self, user: Option<U>) {
        self.current_user = user.map(|user| Box::new(crate::CurrentUser::new(user)));
    }

    /// Sets the current user from a [`CurrentUser`](crate::CurrentUser) (`None` logs the
    /// request out).
    pub fn set_current_user_any(&mut self, user: Option<crate::CurrentUser>) {
        self.current_user = user.map(Box::new);
    }
}
