//! URLs and templates: `reverse_url`, `static_url`, `render_string`, `render`.

#[cfg(feature = "template")]
use std::rc::Rc;
#[cfg(feature = "template")]
use std::sync::Arc;

use super::Context;
use crate::error::Result;
#[cfg(feature = "template")]
use crate::error::WebError;
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

    /// The versioned URL of a static file: `/static/path?v=<hash>` (Tornado's `static_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::NoStaticPath`](crate::WebError::NoStaticPath) without the `static_path`
    /// setting.
    pub fn static_url(&self, path: &str) -> Result<String> {
        self.app.static_urls.static_url(path)
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
    /// As [`render_string`](Self::render_string), and
    /// [`WebError::NoStaticPath`](crate::WebError::NoStaticPath) when a module names a
    /// relative file without the `static_path` setting.
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
        let mut missing = false;
        if !resources.javascript_files.is_empty() {
            let links = self.linked(&resources.javascript_files, |url| {
                format!("<script src=\"{url}\" type=\"text/javascript\"></script>")
            })?;
            missing |= !insert_before(html, "</body>", true, &links);
        }
        if !resources.embedded_javascript.is_empty() {
            let script = format!(
                "<script type=\"text/javascript\">\n//<![CDATA[\n{}\n//]]>\n</script>",
                resources.embedded_javascript.join("\n")
            );
            missing |= !insert_before(html, "</body>", true, &script);
        }
        if !resources.css_files.is_empty() {
            let links = self.linked(&resources.css_files, |url| {
                format!("<link href=\"{url}\" type=\"text/css\" rel=\"stylesheet\"/>")
            })?;
            missing |= !insert_before(html, "</head>", false, &links);
        }
        if !resources.embedded_css.is_empty() {
            let style = format!(
                "<style type=\"text/css\">\n{}\n</style>",
                resources.embedded_css.join("\n")
            );
            missing |= !insert_before(html, "</head>", false, &style);
        }
        if !resources.html_head.is_empty() {
            missing |= !insert_before(html, "</head>", false, &resources.html_head.concat());
        }
        if !resources.html_body.is_empty() {
            missing |= !insert_before(html, "</body>", false, &resources.html_body.concat());
        }
        if missing {
            tracing::warn!(
                target: "typhoon::application",
                "UI module resources left out: the page has no </head> or </body>"
            );
        }
        Ok(())
    }

    /// The files' tags, each URL once, in order; relative paths through `static_url`.
    #[cfg(feature = "template")]
    fn linked(&self, files: &[String], tag: impl Fn(&str) -> String) -> Result<String> {
        let mut seen: Vec<String> = Vec::with_capacity(files.len());
        for file in files {
            let url = if is_absolute(file) {
                file.clone()
            } else {
                self.static_url(file)?
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
