//! URLs and templates: `reverse_url`, `static_url`, `render_string`, `render`.

#[cfg(feature = "template")]
use std::rc::Rc;

use super::Context;
use crate::error::Result;
#[cfg(feature = "template")]
use crate::error::WebError;

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

    /// The versioned URL of a static file: `/static/path?v=<hash>` (Tornado's `static_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::NoStaticPath`](crate::WebError::NoStaticPath) without the `static_path`
    /// setting.
    pub fn static_url(&self, path: &str) -> Result<String> {
        self.app.static_urls.static_url(path)
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
