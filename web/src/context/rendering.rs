//! URLs and templates: `reverse_url`, `static_url`, `render_string`, `render`.

#[cfg(feature = "template")]
use std::rc::Rc;
#[cfg(feature = "template")]
use std::sync::Arc;

use super::Context;
#[cfg(feature = "template")]
use crate::error::WebError;
use crate::error::{HTTPError, Result};
use crate::static_urls::StaticUrlOptions;
#[cfg(feature = "template")]
use crate::ui_module::{ActiveModules, Resources, insert_before, is_absolute};

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

    /// Renders a template to a string (Tornado's `render_string`): `ctx` on top of the
    /// request's [`template_namespace`](Self::template_namespace), with the handler's
    /// [`get_template_namespace`](crate::RequestHandler::get_template_namespace) applied,
    /// and `module(name, ...)` for the application's UI modules.
    ///
    /// # Errors
    ///
    /// [`WebError::NoTemplates`](crate::WebError::NoTemplates) without a loader,
    /// [`WebError::Template`](crate::WebError::Template).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn render_string<S: serde::Serialize>(&mut self, name: &str, ctx: S) -> Result<String> {
        let app = Rc::clone(&self.app);
        let loader = app.templates.as_ref().ok_or(WebError::NoTemplates)?;
        let mut namespace = self.template_namespace();
        let modules = self
            .ui_modules
            .get_or_insert_with(|| Arc::new(ActiveModules::new(Arc::clone(&self.app.ui_modules))))
            .clone();
        modules.set_namespace(namespace.clone());
        namespace.insert("module", modules.function());
        Ok(loader.render_with(name, ctx, &namespace)?)
    }

    /// Renders a template as the response and finishes (Tornado's `render`): the
    /// [`render_string`](Self::render_string) of `name`, with the CSS and JavaScript of the
    /// UI modules the request's templates used inserted before `</head>` and `</body>`, as
    /// [`UIModule`](crate::UIModule) describes.
    ///
    /// # Errors
    ///
    /// As [`render_string`](Self::render_string);
    /// [`WebError::StaticUrl`](crate::WebError::StaticUrl) when a module names a relative
    /// file that `static_url` refuses (no `static_path` setting, or a path outside it);
    /// [`WebError::NoPlaceForResources`](crate::WebError::NoPlaceForResources) when the
    /// modules have resources for a `</head>` or `</body>` the page lacks (as Tornado's).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn render<S: serde::Serialize>(&mut self, name: &str, ctx: S) -> Result<()> {
        let mut html = self.render_string(name, ctx)?;
        if let Some(modules) = &self.ui_modules {
            let resources = modules.resources();
            self.insert_resources(&mut html, &resources)?;
        }
        self.write(html);
        self.finish();
        Ok(())
    }

    /// Tornado's `render` after `render_string`: the modules' files, embedded code and
    /// markup, in Tornado's order and places.
    #[cfg(feature = "template")]
    fn insert_resources(&self, html: &mut String, resources: &Resources) -> Result<()> {
        let mut missing = None;
        if !resources.javascript_files.is_empty() {
            let links = self.linked(&resources.javascript_files, |url| {
                format!("<script src=\"{url}\" type=\"text/javascript\"></script>")
            })?;
            missing =
                missing.or((!insert_before(html, "</body>", true, &links)).then_some("</body>"));
        }
        if !resources.embedded_javascript.is_empty() {
            let script = format!(
                "<script type=\"text/javascript\">\n//<![CDATA[\n{}\n//]]>\n</script>",
                resources.embedded_javascript.join("\n")
            );
            missing =
                missing.or((!insert_before(html, "</body>", true, &script)).then_some("</body>"));
        }
        if !resources.css_files.is_empty() {
            let links = self.linked(&resources.css_files, |url| {
                format!("<link href=\"{url}\" type=\"text/css\" rel=\"stylesheet\"/>")
            })?;
            missing =
                missing.or((!insert_before(html, "</head>", false, &links)).then_some("</head>"));
        }
        if !resources.embedded_css.is_empty() {
            let style = format!(
                "<style type=\"text/css\">\n{}\n</style>",
                resources.embedded_css.join("\n")
            );
            missing =
                missing.or((!insert_before(html, "</head>", false, &style)).then_some("</head>"));
        }
        if !resources.html_head.is_empty() {
            let head = resources.html_head.concat();
            missing =
                missing.or((!insert_before(html, "</head>", false, &head)).then_some("</head>"));
        }
        if !resources.html_body.is_empty() {
            let body = resources.html_body.concat();
            missing =
                missing.or((!insert_before(html, "</body>", false, &body)).then_some("</body>"));
        }
        match missing {
            Some(marker) => Err(WebError::NoPlaceForResources(marker)),
            None => Ok(()),
        }
    }

    /// The files' tags, each URL once, in order; relative paths through `static_url`.
    #[cfg(feature = "template")]
    fn linked(&self, files: &[String], tag: impl Fn(&str) -> String) -> Result<String> {
        let mut seen: Vec<String> = Vec::with_capacity(files.len());
        for file in files {
            let url = if is_absolute(file) {
                file.clone()
            } else {
                self.static_url(file).map_err(|error| WebError::StaticUrl {
                    path: file.clone(),
                    refusal: Box::new(error),
                })?
            };
            if !seen.contains(&url) {
                seen.push(url);
            }
        }
        Ok(seen
            .iter()
            .map(|url| tag(&typhoon_escape::xhtml_escape(url)))
            .collect())
    }
}
