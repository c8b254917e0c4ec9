//! Tornado-style templates for Typhoon: a caching [`Loader`] over a directory or in-memory
//! templates, HTML autoescape by file extension, reload on change in debug mode, and Tornado's
//! default namespace, on the [minijinja] engine (Jinja2 syntax).
//!
//! This crate sits above `typhoon-escape` (whose functions it exposes to templates) and below
//! `typhoon-web`, which renders templates from its handlers (`render(template, ctx)`) and adds
//! its handler helpers through the hook described under [Helpers from the web
//! crate](#helpers-from-the-web-crate). It does no I/O beyond reading template files.
//!
//! # Examples
//!
//! ```
//! use typhoon_template::Loader;
//!
//! let loader = Loader::with_templates([
//!     ("base.html", "<h1>{% block title %}{% endblock %}</h1>{% block body %}{% endblock %}"),
//!     (
//!         "list.html",
//!         "{% extends 'base.html' %}{% block title %}{{ title }}{% endblock %}\
//!          {% block body %}{% for x in items %}<p>{{ x|linkify }}</p>{% endfor %}{% endblock %}",
//!     ),
//!     ("note.txt", "{{ title }} -> {{ url_escape(title) }}"),
//! ]);
//! #[derive(serde::Serialize)]
//! struct Page<'a> { title: &'a str, items: Vec<&'a str> }
//! let page = Page { title: "Q&A <1>", items: vec!["see www.tornadoweb.org"] };
//!
//! // .html templates are autoescaped (with Tornado's xhtml_escape), .txt ones are not.
//! assert_eq!(
//!     loader.render("list.html", &page)?,
//!     r#"<h1>Q&amp;A &lt;1&gt;</h1><p>see <a href="http://www.tornadoweb.org">www.tornadoweb.org</a></p>"#
//! );
//! assert_eq!(loader.render("note.txt", &page)?, "Q&A <1> -> Q%26A+%3C1%3E");
//!
//! // A missing template is its own error kind, naming the template.
//! let err = loader.render("nope.html", ()).unwrap_err();
//! use typhoon_template::TemplateError;
//! assert!(matches!(err, TemplateError::NotFound { ref name, .. } if name == "nope.html"));
//! # Ok::<(), typhoon_template::TemplateError>(())
//! ```
//!
//! # Feature flags
//!
//! | Feature | Default | Enables |
//! |---------|---------|---------|
//! | `json`  | yes     | the `json_encode` function and filter (`typhoon-escape/json`) |
//!
//! # Tornado's default namespace
//!
//! Every template can call these as functions (`{{ url_escape(q) }}`) or filters
//! (`{{ q|url_escape }}`), with Tornado's outputs (they are `typhoon-escape`'s functions):
//!
//! | Name | Does | Output |
//! |------|------|--------|
//! | `escape`, `xhtml_escape` (and the filter `e`) | HTML-escape `& < > " '` | safe (not escaped again); a value already safe is returned as is |
//! | `url_escape(value, plus=true)` | `quote_plus`, or `quote` with `plus=false` | text |
//! | `json_encode(value)` | `json.dumps`, `</` as `<\/` (feature `json`) | text (escaped in HTML templates, as in Tornado) |
//! | `squeeze(value)` | collapse whitespace runs | text |
//! | `linkify(text, shorten=false, extra_params="", require_protocol=false, permitted_protocols=["http","https"])` | escape and link URLs | safe HTML |
//!
//! Autoescaping uses `xhtml_escape` too, so `{{ "a/b" }}` stays `a/b` as in Tornado (minijinja's
//! own HTML escaping would write `a&#x2f;b`). Unlike Tornado, `{{ escape(x) }}` in an
//! autoescaped template is not escaped twice.
//!
//! # Helpers from the web crate
//!
//! Tornado's `RequestHandler` adds `static_url`, `xsrf_form_html`, `reverse_url`,
//! `current_user`, `request` (and `handler`, `locale`, ...) to each render. Typhoon splits them
//! by lifetime:
//!
//! - **Application-wide** helpers, which depend only on settings (`static_url`, `reverse_url`),
//!   are added once with [`Loader::add_global`], usually as functions made with
//!   [`Value::from_function`].
//! - **Per-request** values (`current_user`, `request`, `xsrf_form_html`, which needs the
//!   request's token) go in a [`Namespace`] passed to [`Loader::render_with`]. The render
//!   context wins over the namespace, and the namespace over globals, as Tornado's
//!   `render(**kwargs)` overrides `get_template_namespace()`.
//!
//! Helpers that return markup (`xsrf_form_html`) should return [`Value::from_safe_string`] so
//! autoescaping leaves them alone.
//!
//! # Template syntax: Jinja, not Tornado's
//!
//! Templates are Jinja2 templates as minijinja implements them (see its syntax docs); Tornado's
//! Python-in-braces syntax is not accepted. Expressions are Jinja expressions, not Python:
//! `{{ x|length }}` rather than `{{ len(x) }}`. Porting a Tornado template:
//!
//! | Tornado | Jinja (this crate) |
//! |---------|--------------------|
//! | `{% end %}` | the closing tag names its block: `{% endif %}`, `{% endfor %}`, `{% endblock %}`, ... |
//! | `{% raw expr %}` (output unescaped) | `{{ expr\|safe }}`. Jinja's `{% raw %}...{% endraw %}` is something else: literal template text |
//! | `{{! x }}` / `{%! ... %}` (literal braces) | `{% raw %}{{ x }}{% endraw %}` |
//! | `{% module Template("m.html", x=1) %}`, `{% module Entry(e) %}` | `{{ module("Template", "m.html", x=1) }}`, `{{ module("Entry", e) }}` in templates rendered by typhoon-web (its `UIModule`s, with their CSS/JS); with this crate alone, `{% with x = 1 %}{% include "m.html" %}{% endwith %}` or a `{% macro %}` |
//! | `{% set x = expr %}` | `{% set x = expr %}` (same; a `set` inside a loop does not leak out of it) |
//! | `{% apply f %}...{% end %}` | `{% filter f %}...{% endfilter %}` (`f` a filter, e.g. one added with [`Loader::environment_mut`]) |
//! | `{% autoescape None %}` | `{% autoescape false %}...{% endautoescape %}`, or [`Autoescape::Never`] |
//! | `{% extends "b.html" %}`, `{% block x %}`, `{% include "i.html" %}` | the same, with `{% endblock %}`; names are relative to the loader's root, not to the including template |
//! | `{% comment ... %}` | `{# ... #}` |
//! | `{% import mod %}`, `{% from mod import f %}` (Python) | none: add functions with [`Loader::add_global`] |
//! | `{% try %}`, `{% except %}`, `{% while %}` | none |
//! | `{% whitespace oneline %}` | `{%- ... -%}` and `{{- ... -}}` trim whitespace |
//!
//! [minijinja]: https://docs.rs/minijinja
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod loader;
mod namespace;

pub use crate::error::{Result, TemplateError};
pub use crate::loader::{Autoescape, Loader, Template};
pub use crate::namespace::{Namespace, html_helper};
/// minijinja's value type, for [`Loader::add_global`] and [`Namespace::insert`].
pub use minijinja::Value;
/// Builds a render context inline: `context! { name => "Ben", items => vec![1, 2] }`
/// (minijinja's macro).
pub use minijinja::context;
