//! URLs and templates: `reverse_url`, `static_url`, `render_string`, `render`.

#[cfg(feature = "template")]
use std::rc::Rc;

use super::Context;
#[cfg(feature = "template")]
use crate::error::WebError;
use crate::error::{HTTPError, Result};
use crate::static_urls::StaticUrlOptions;

impl Context {
    /// The URL of a named route with `args` filled in (Tornado's `reverse_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::UnknownRoute`](crate::WebError::UnknownRoute),
    /// [`WebError::CannotReverse`](crate::WebError::CannotReverse).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        crate::app_state::reverse_named(&self.app.named, name, args)
    }

    /// The versioned URL of a static file, relative to the current host:
    /// `/static/path?v=<version>` by default (Tornado's `static_url`), made by the
    /// application's [`StaticFileHooks`](crate::StaticFileHooks). `path` should name one of
    /// the application's static files, not come from the request: its version is computed by
    /// reading the file, and kept.
    ///
    /// # Errors
    ///
    /// A 500 with [`WebError::NoStaticPath`](crate::WebError::NoStaticPath) as its source
    /// without the `static_path` setting; 403 for a path outside it (`../`); whatever the
    /// hooks' `make_static_url` returns.
    pub fn static_url(&self, path: &str) -> Result<String, HTTPError> {
        self.static_url_with(path, StaticUrlOptions::default())
    }

    /// [`static_url`](Self::static_url) with Tornado's keyword arguments: `include_host`
    /// makes the URL absolute, `protocol://host/static/path?v=<version>` with the request's
    /// protocol and host, and `include_version: false` leaves the version out (for the default
    /// `make_static_url`).
    ///
    /// # Errors
    ///
    /// As [`static_url`](Self::static_url).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler, StaticUrlOptions};
    ///
    /// struct Feed;
    /// impl RequestHandler for Feed {
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         let options = StaticUrlOptions { include_host: true, ..Default::default() };
    ///         let logo = cx.static_url_with("logo.png", options)?;
    ///         cx.write(format!("<logo>{logo}</logo>"));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn static_url_with(
        &self,
        path: &str,
        options: StaticUrlOptions,
    ) -> Result<String, HTTPError> {
        let url = self
            .app
            .static_urls
            .static_url(path, options.include_version)?;
        Ok(if options.include_host {
            format!("{}://{}{url}", self.request.protocol, self.request.host)
        } else {
            url
        })
    }

    /// Renders a template to a string with the per-request namespace (`current_user`,
    /// `xsrf_form_html`, `request`) on top of the globals (`static_url`, `reverse_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::NoTemplates`](crate::WebError::NoTemplates) without a loader,
    /// [`WebError::Template`](crate::WebError::Template).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn render_string<S: serde::Serialize>(&mut self, name: &str, ctx: S) -> Result<String> {
        use typhoon_template::{Namespace, Value};
        let xsrf = self.xsrf_enabled().then(|| self.xsrf_form_html());
        let app = Rc::clone(&self.app);
        let loader = app.templates.as_ref().ok_or(WebError::NoTemplates)?;
        let mut namespace = Namespace::new();
        namespace.insert(
            "current_user",
            Value::from(self.current_user().map(str::to_owned)),
        );
        namespace.insert(
            "xsrf_form_html",
            Value::from_safe_string(xsrf.unwrap_or_default()),
        );
        let request: Vec<(&str, String)> = Vec::from([
            ("method", self.request.method.clone()),
            ("uri", self.request.uri.clone()),
            ("path", self.request.path().to_owned()),
            ("query", self.request.query().to_owned()),
            ("host", self.request.host.clone()),
            ("remote_ip", self.request.remote_ip.to_string()),
            ("protocol", self.request.protocol.to_owned()),
        ]);
        let request: std::collections::BTreeMap<&str, String> = request.into_iter().collect();
        namespace.insert("request", Value::from(minijinja::value::Serde(request)));
        #[cfg(feature = "locale")]
        super::template_locale::insert_locale(&mut namespace, &self.locale());
        Ok(loader.render_with(name, ctx, &namespace)?)
    }

    /// Renders a template as the response and finishes (Tornado's `render`).
    ///
    /// # Errors
    ///
    /// As [`render_string`](Self::render_string).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn render<S: serde::Serialize>(&mut self, name: &str, ctx: S) -> Result<()> {
        let html = self.render_string(name, ctx)?;
        self.write(html);
        self.finish();
        Ok(())
    }
}
