//! Tornado's default template namespace, as minijinja functions and filters, and the
//! per-render [`Namespace`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Serde, Value, merge_maps};
use minijinja::{AutoEscape, Environment, Error as EngineError, ErrorKind, Output, State};
use serde::Serialize;
use typhoon_escape::{ExtraParams, LinkifyParams};

use crate::error::{Result, TemplateError};

/// Values added to one render on top of the loader's globals: what Tornado's
/// `RequestHandler.get_template_namespace` supplies per request (`current_user`, `request`,
/// `xsrf_form_html`, ...).
///
/// The render context passed by the caller wins over a namespace entry of the same name, as
/// Tornado's `render(**kwargs)` wins over the handler's namespace.
///
/// # Examples
///
/// ```
/// use typhoon_template::{Loader, Namespace, Value};
///
/// let loader = Loader::with_templates([("hi.html", "{{ current_user }}: {{ xsrf_form_html() }}")]);
/// let mut ns = Namespace::new();
/// ns.insert("current_user", "ana");
/// ns.insert(
///     "xsrf_form_html",
///     Value::from_function(|| Value::from_safe_string(r#"<input name="_xsrf">"#.into())),
/// );
/// assert_eq!(loader.render_with("hi.html", (), &ns)?, r#"ana: <input name="_xsrf">"#);
/// # Ok::<(), typhoon_template::TemplateError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Namespace {
    /// Name to value; a map so a later `insert` replaces an earlier one.
    values: BTreeMap<String, Value>,
}

impl Namespace {
    /// An empty namespace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces `name`. Functions are values too: see [`Value::from_function`].
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        self.values.insert(name.into(), value.into());
        self
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Removes `name`, returning its value if it was set.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.values.remove(name)
    }

    /// The names set, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the namespace is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub(crate) fn to_value(&self) -> Value {
        Value::from_object(self.values.clone())
    }

    /// Renders template `name` of `env` with `ctx` on top of this namespace. Inside a
    /// running render, `env` is `state.env()` of the [`State`] a template function receives,
    /// so the template comes from the same loader, with its globals: for helpers that render a
    /// template of their own, such as UI modules.
    ///
    /// # Errors
    ///
    /// As [`Loader::render`](crate::Loader::render).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_template::{Loader, Namespace, Value, context};
    ///
    /// let mut loader = Loader::with_templates([
    ///     ("page.html", "<ul>{{ item('a') }}{{ item('b') }}</ul>"),
    ///     ("item.html", "<li>{{ prefix }}{{ name }}</li>"),
    /// ]);
    /// loader.add_global(
    ///     "item",
    ///     Value::from_function(|state: &minijinja::State, name: String| {
    ///         let mut ns = Namespace::new();
    ///         ns.insert("prefix", "- ");
    ///         ns.render_in(state.env(), "item.html", context! { name })
    ///             .map(Value::from_safe_string)
    ///             .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
    ///     }),
    /// );
    /// assert_eq!(loader.render("page.html", ())?, "<ul><li>- a</li><li>- b</li></ul>");
    /// # Ok::<(), typhoon_template::TemplateError>(())
    /// ```
    pub fn render_in<S: Serialize>(
        &self,
        env: &Environment<'_>,
        name: &str,
        ctx: S,
    ) -> Result<String> {
        let template = env
            .get_template(name)
            .map_err(|e| TemplateError::from_engine(e, name))?;
        let merged = merge_maps([self.to_value(), Value::from(Serde(ctx))]);
        template
            .render(merged)
            .map_err(|e| TemplateError::from_engine(e, name))
    }
}

/// A piece of markup that a template may print or call: `{{ xsrf_form_html }}` and
/// `{{ xsrf_form_html() }}` both write it, unescaped (Tornado's templates call such helpers;
/// printing them keeps Jinja habits working). Made with [`html_helper`].
#[derive(Debug)]
struct HtmlHelper(Arc<str>);

impl Object for HtmlHelper {
    fn call(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        args: &[Value],
    ) -> std::result::Result<Value, EngineError> {
        if !args.is_empty() {
            return Err(EngineError::new(
                ErrorKind::TooManyArguments,
                "this helper takes no arguments",
            ));
        }
        Ok(Value::from_safe_string(self.0.to_string()))
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.0.is_empty()
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value that writes `html` unescaped whether the template prints it (`{{ name }}`) or
/// calls it (`{{ name() }}`): for per-request helpers that return markup, such as
/// `xsrf_form_html`.
///
/// # Examples
///
/// ```
/// use typhoon_template::{Loader, Namespace, html_helper};
///
/// let loader = Loader::with_templates([("f.html", "{{ field }}|{{ field() }}")]);
/// let mut ns = Namespace::new();
/// ns.insert("field", html_helper(r#"<input name="_xsrf">"#));
/// assert_eq!(
///     loader.render_with("f.html", (), &ns)?,
///     r#"<input name="_xsrf">|<input name="_xsrf">"#
/// );
/// # Ok::<(), typhoon_template::TemplateError>(())
/// ```
pub fn html_helper(html: impl Into<Arc<str>>) -> Value {
    Value::from_object(HtmlHelper(html.into()))
}

/// The text of a value as Tornado's helpers would see it (`str(value)`).
fn text(value: &Value) -> std::borrow::Cow<'_, str> {
    match value.as_str() {
        Some(s) => s.into(),
        None => value.to_string().into(),
    }
}

/// `escape`/`xhtml_escape`: HTML-escapes, returning a safe string so autoescaping does not
/// escape it twice; an already safe value is returned unchanged, as Jinja's `escape` does.
fn escape(value: &Value) -> Value {
    if value.is_safe() {
        return value.clone();
    }
    Value::from_safe_string(typhoon_escape::xhtml_escape(&text(value)))
}

/// `url_escape(value, plus=true)`; `plus` may be passed by position or by name.
#[allow(clippy::needless_pass_by_value)] // minijinja hands keyword arguments over by value
fn url_escape(value: &Value, plus: Option<bool>, kwargs: Kwargs) -> Result<String, EngineError> {
    let plus = match plus {
        Some(p) => p,
        None => kwargs.get::<Option<bool>>("plus")?.unwrap_or(true),
    };
    kwargs.assert_all_used()?;
    Ok(typhoon_escape::url_escape(&text(value), plus))
}

/// `squeeze(value)`.
fn squeeze(value: &Value) -> String {
    typhoon_escape::squeeze(&text(value))
}

/// `linkify(text, shorten=false, extra_params="", require_protocol=false,
/// permitted_protocols=["http", "https"])`, returning safe HTML.
#[allow(clippy::needless_pass_by_value)] // minijinja hands keyword arguments over by value
fn linkify(value: &Value, kwargs: Kwargs) -> Result<Value, EngineError> {
    let mut params = LinkifyParams::default();
    if let Some(v) = kwargs.get::<Option<bool>>("shorten")? {
        params.shorten = v;
    }
    if let Some(v) = kwargs.get::<Option<String>>("extra_params")? {
        params.extra_params = ExtraParams::Text(v);
    }
    if let Some(v) = kwargs.get::<Option<bool>>("require_protocol")? {
        params.require_protocol = v;
    }
    if let Some(v) = kwargs.get::<Option<Vec<String>>>("permitted_protocols")? {
        params.permitted_protocols = v;
    }
    kwargs.assert_all_used()?;
    Ok(Value::from_safe_string(typhoon_escape::linkify(
        &text(value),
        &params,
    )))
}

/// `json_encode(value)`: Python's `json.dumps` output with `</` written as `<\/`.
#[cfg(feature = "json")]
fn json_encode(value: &Value) -> Result<String, EngineError> {
    typhoon_escape::json_encode(value).map_err(|e| {
        EngineError::new(ErrorKind::BadSerialization, "json_encode failed").with_source(e)
    })
}

/// Registers Tornado's default namespace as both functions and filters.
pub(crate) fn register_defaults(env: &mut Environment<'static>) {
    for name in ["escape", "xhtml_escape"] {
        env.add_function(name, escape);
        env.add_filter(name, escape);
    }
    // Jinja's short alias, kept consistent with `escape`.
    env.add_filter("e", escape);
    env.add_function("url_escape", url_escape);
    env.add_filter("url_escape", url_escape);
    env.add_function("squeeze", squeeze);
    env.add_filter("squeeze", squeeze);
    env.add_function("linkify", linkify);
    env.add_filter("linkify", linkify);
    #[cfg(feature = "json")]
    {
        env.add_function("json_encode", json_encode);
        env.add_filter("json_encode", json_encode);
    }
    env.set_formatter(formatter);
    // Tornado keeps a template's final newline; Jinja's default drops it.
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .expect("invariant: the default delimiters are valid");
    env.set_syntax(syntax);
}

/// Writes `{{ value }}`: in HTML autoescape mode, strings are escaped with Tornado's
/// `xhtml_escape` (minijinja's own HTML escaping also escapes `/`, which Tornado leaves alone);
/// everything else goes through minijinja's default formatter.
fn formatter(
    out: &mut Output<'_>,
    state: &mut State<'_, '_>,
    value: &Value,
) -> Result<(), EngineError> {
    if let Some(helper) = value.downcast_object_ref::<HtmlHelper>() {
        return out.write_str(&helper.0).map_err(write_failure);
    }
    if matches!(state.auto_escape(), AutoEscape::Html)
        && !value.is_safe()
        && let Some(s) = value.as_str()
    {
        if !s
            .bytes()
            .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
        {
            return out.write_str(s).map_err(write_failure);
        }
        // `Output` is a dynamic writer: escape into a reused buffer, then write once.
        return ESCAPE_BUF.with_borrow_mut(|buf| {
            buf.clear();
            typhoon_escape::xhtml_escape_to(buf, s).map_err(write_failure)?;
            out.write_str(buf).map_err(write_failure)
        });
    }
    minijinja::escape_formatter(out, state, value)
}

thread_local! {
    /// Scratch space for escaping one value; kept per thread so rendering allocates nothing
    /// for it once warmed up.
    static ESCAPE_BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn write_failure(_: fmt::Error) -> EngineError {
    EngineError::new(ErrorKind::WriteFailure, "formatting failed")
}
