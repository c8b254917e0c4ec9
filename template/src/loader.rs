//! [`Loader`]: templates from a directory or from memory, compiled once and cached.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Serde, Value, merge_maps};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::error::{Result, TemplateError};
use crate::namespace::{Namespace, register_defaults};

/// Which templates have their `{{ ... }}` output HTML-escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Autoescape {
    /// Templates whose name ends in `.html`, `.htm` or `.xml` (the default).
    #[default]
    ByExtension,
    /// Every template, as Tornado's `autoescape="xhtml_escape"` default does.
    Always,
    /// No template (Tornado's `autoescape=None`); use `{{ x|escape }}` where needed.
    Never,
}

/// Where templates come from.
enum Source {
    /// A directory; names are paths relative to it, `..` cannot escape it.
    Dir(PathBuf),
    /// In-memory templates (Tornado's `DictLoader`), kept for [`Loader::reset`] to reload.
    Memory(Arc<HashMap<String, String>>),
}

/// Loads, compiles, caches and renders templates (Tornado's `template.Loader` and
/// `DictLoader`, on minijinja).
///
/// A template is compiled the first time it is used (or [`load`](Self::load)ed) and kept.
/// In debug mode ([`set_debug`](Self::set_debug)) a directory loader checks the file's
/// modification time and size on each use and recompiles a changed template, including parents
/// and includes; otherwise templates are never re-read until [`reset`](Self::reset).
///
/// Every template sees Tornado's default namespace (see the [crate docs](crate)), the loader's
/// globals ([`add_global`](Self::add_global)) and, per render, a [`Namespace`] and the context.
///
/// A `Loader` is `Send + Sync`: one may be shared by many threads.
pub struct Loader {
    /// The engine: compiled templates, the loader callback, functions, filters and globals.
    env: Environment<'static>,
    /// Where templates come from, for `root` and `reset`.
    source: Source,
    /// Whether changed template files are reloaded (and debug info kept on errors).
    debug: bool,
    /// The autoescape policy, kept to answer `autoescape()`.
    autoescape: Autoescape,
}

impl fmt::Debug for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Loader");
        match &self.source {
            Source::Dir(root) => d.field("root", root),
            Source::Memory(t) => d.field("templates", &t.len()),
        };
        d.field("debug", &self.debug)
            .field("autoescape", &self.autoescape)
            .finish_non_exhaustive()
    }
}

impl Loader {
    /// A loader over the templates in `root`, caching compiled templates; not in debug mode.
    ///
    /// Nothing is read until a template is used: a missing directory shows up as
    /// [`TemplateError::NotFound`] then.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("typhoon-template-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("hello.html"), "Hello, {{ name }}!").unwrap();
    ///
    /// let loader = typhoon_template::Loader::new(&dir);
    /// let ctx = typhoon_template::context! { name => "<world>" };
    /// assert_eq!(loader.render("hello.html", ctx)?, "Hello, &lt;world&gt;!");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), typhoon_template::TemplateError>(())
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref().to_path_buf();
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(&root));
        Self::build(env, Source::Dir(root))
    }

    /// A loader over in-memory templates, name to source (Tornado's `DictLoader`), for tests
    /// and small apps. Templates compile on first use, so a syntax error surfaces from
    /// [`render`](Self::render) or [`load`](Self::load).
    ///
    /// # Examples
    ///
    /// ```
    /// let loader = typhoon_template::Loader::with_templates([
    ///     ("base.html", "<title>{% block title %}{% endblock %}</title>"),
    ///     ("page.html", "{% extends 'base.html' %}{% block title %}{{ t }}{% endblock %}"),
    /// ]);
    /// let ctx = typhoon_template::context! { t => "a/b & c" };
    /// assert_eq!(loader.render("page.html", ctx)?, "<title>a/b &amp; c</title>");
    /// # Ok::<(), typhoon_template::TemplateError>(())
    /// ```
    pub fn with_templates<I, N, S>(templates: I) -> Self
    where
        I: IntoIterator<Item = (N, S)>,
        N: Into<String>,
        S: Into<String>,
    {
        let map: Arc<HashMap<String, String>> = Arc::new(
            templates
                .into_iter()
                .map(|(n, s)| (n.into(), s.into()))
                .collect(),
        );
        let mut env = Environment::new();
        let lookup = Arc::clone(&map);
        env.set_loader(move |name| Ok(lookup.get(name).cloned()));
        Self::build(env, Source::Memory(map))
    }

    fn build(mut env: Environment<'static>, source: Source) -> Self {
        register_defaults(&mut env);
        let mut loader = Self {
            env,
            source,
            debug: false,
            autoescape: Autoescape::default(),
        };
        loader.set_debug(false);
        loader.set_autoescape(Autoescape::default());
        loader
    }

    /// Turns debug mode on or off. In debug mode, a template file that changed (modification
    /// time or size) is re-read and recompiled on its next use, and errors keep more context.
    /// Off (the default), compiled templates are cached until [`reset`](Self::reset).
    pub fn set_debug(&mut self, debug: bool) {
        self.debug = debug;
        self.env.set_auto_reload(debug);
        self.env.set_debug(debug);
    }

    /// Whether debug mode (reload on change) is on.
    pub fn is_debug(&self) -> bool {
        self.debug
    }

    /// Sets which templates are HTML-escaped. Applies to templates compiled afterwards, so
    /// set it before rendering (or call [`reset`](Self::reset)).
    pub fn set_autoescape(&mut self, policy: Autoescape) {
        self.autoescape = policy;
        self.env.set_auto_escape_callback(move |name| match policy {
            Autoescape::Always => AutoEscape::Html,
            Autoescape::Never => AutoEscape::None,
            Autoescape::ByExtension => match name.rsplit_once('.').map(|(_, ext)| ext) {
                Some("html" | "htm" | "xml") => AutoEscape::Html,
                _ => AutoEscape::None,
            },
        });
    }

    /// The autoescape policy.
    pub fn autoescape(&self) -> Autoescape {
        self.autoescape
    }

    /// The template directory, for a loader made by [`new`](Self::new).
    pub fn root(&self) -> Option<&Path> {
        match &self.source {
            Source::Dir(root) => Some(root),
            Source::Memory(_) => None,
        }
    }

    /// Drops every compiled template, so each is read and compiled again on next use
    /// (Tornado's `Loader.reset`).
    pub fn reset(&mut self) {
        self.env.clear_templates();
    }

    /// Adds a value or function visible to every template: the hook through which the web
    /// crate adds its application-wide helpers (`static_url`, `reverse_url`). Per-request
    /// values (`current_user`, `request`, `xsrf_form_html`) go in a [`Namespace`] instead.
    ///
    /// A global of the same name as a default function replaces it.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_template::{Loader, Value};
    ///
    /// let mut loader = Loader::with_templates([("a.html", r#"<img src="{{ static_url('x.png') }}">"#)]);
    /// loader.add_global("static_url", Value::from_function(|path: &str| format!("/static/{path}?v=1")));
    /// assert_eq!(loader.render("a.html", ())?, r#"<img src="/static/x.png?v=1">"#);
    /// # Ok::<(), typhoon_template::TemplateError>(())
    /// ```
    pub fn add_global(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.env.add_global(name.into(), value.into());
    }

    /// The underlying minijinja environment, for what this API does not cover (custom tests,
    /// syntax settings, undefined behaviour). Exposes minijinja in our API: acceptable while we
    /// do not publish.
    pub fn environment(&self) -> &Environment<'static> {
        &self.env
    }

    /// Mutable access to the underlying minijinja environment; see
    /// [`environment`](Self::environment).
    pub fn environment_mut(&mut self) -> &mut Environment<'static> {
        &mut self.env
    }

    /// Loads and compiles `name` (cached), checking that it exists and parses: call it at
    /// start-up to fail early, or render the returned [`Template`] repeatedly.
    ///
    /// # Errors
    ///
    /// [`TemplateError::NotFound`] if there is no such template; [`TemplateError::Syntax`] if it
    /// does not compile.
    pub fn load(&self, name: &str) -> Result<Template<'_>> {
        let inner = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError::from_engine(e, name))?;
        Ok(Template { inner })
    }

    /// Renders template `name` with `ctx`: any `Serialize` struct or map, a
    /// [`context!`](crate::context), or `()` for none.
    ///
    /// # Errors
    ///
    /// [`TemplateError::NotFound`] for a missing template (asked for or referenced),
    /// [`TemplateError::Syntax`] for one that does not compile, [`TemplateError::Render`] when
    /// rendering fails; each names the template and, where known, the line.
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String> {
        self.load(name)?.render(ctx)
    }

    /// Renders template `name` with `ctx` on top of `namespace` (entries of `ctx` win).
    ///
    /// # Errors
    ///
    /// As [`render`](Self::render).
    pub fn render_with<S: Serialize>(
        &self,
        name: &str,
        ctx: S,
        namespace: &Namespace,
    ) -> Result<String> {
        self.load(name)?.render_with(ctx, namespace)
    }
}

/// A compiled template borrowed from its [`Loader`] (Tornado's `Template`, whose `generate`
/// is [`render`](Self::render)).
#[derive(Debug)]
pub struct Template<'a> {
    /// The compiled template inside the loader's environment.
    inner: minijinja::Template<'a, 'a>,
}

impl Template<'_> {
    /// The template's name.
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// Renders with `ctx` (any `Serialize` map or struct, or `()`).
    ///
    /// # Errors
    ///
    /// As [`Loader::render`], except that this template itself exists and compiled.
    pub fn render<S: Serialize>(&self, ctx: S) -> Result<String> {
        self.inner
            .render(Value::from(Serde(ctx)))
            .map_err(|e| TemplateError::from_engine(e, self.inner.name()))
    }

    /// Renders with `ctx` on top of `namespace` (entries of `ctx` win).
    ///
    /// # Errors
    ///
    /// As [`render`](Self::render).
    pub fn render_with<S: Serialize>(&self, ctx: S, namespace: &Namespace) -> Result<String> {
        // In minijinja 3 the last map wins (its docs say otherwise; the tests pin it).
        let merged = merge_maps([namespace.to_value(), Value::from(Serde(ctx))]);
        self.inner
            .render(merged)
            .map_err(|e| TemplateError::from_engine(e, self.inner.name()))
    }
}
