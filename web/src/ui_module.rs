//! UI modules (Tornado's `UIModule`): reusable pieces of a page, called from templates as
//! `{{ module("Entry", entry) }}`, whose CSS and JavaScript [`Context::render`] gathers
//! and puts before `</head>` and `</body>`.
//!
//! [`Context::render`]: crate::Context::render

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::value::{Kwargs, Object};
use minijinja::{Environment, ErrorKind, State};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use typhoon_template::{Namespace, TemplateError, Value};

/// A reusable piece of a page (Tornado's `UIModule`), registered by name with
/// [`Application::ui_module`](crate::Application::ui_module) and called from templates as
/// `{{ module("Entry", entry, show_comments=true) }}` (Tornado's
/// `{% module Entry(entry, show_comments=True) %}`; minijinja has no custom tags). Its output
/// is markup, not escaped.
///
/// One instance serves a request: made by the registered factory the first time a template
/// of the request calls the module, then reused. Once the page is rendered,
/// [`Context::render`](crate::Context::render) asks every module the request used for its
/// resources, in the order first used, and inserts them as Tornado does: `css_files` as
/// `<link>`s, `embedded_css` in a `<style>`, then `html_head`, before `</head>`;
/// `javascript_files` as `<script src>`s and `embedded_javascript` in a `<script>` before the
/// last `</body>`, `html_body` before the first. Relative file paths go through `static_url`;
/// paths starting with `/`, `http:` or `https:` are used as they are; each file is linked once.
///
/// Modules render inside templates, which may run on any thread: a module is `Send + Sync`,
/// and what it needs of the request comes through the [`ModuleCall`] (the page's namespace:
/// `current_user`, `request`, `handler`, `locale`, ...).
///
/// # Examples
///
/// ```
/// use typhoon_web::{ModuleCall, ModuleError, UIModule};
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Entry { title: String, body: String }
///
/// #[derive(serde::Serialize)]
/// struct EntryView { entry: Entry, show_comments: bool }
///
/// struct EntryModule;
/// impl UIModule for EntryModule {
///     fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
///         let entry: Entry = call.arg(0)?;
///         let show_comments: bool = call.kwarg("show_comments")?.unwrap_or(false);
///         call.render_string("modules/entry.html", EntryView { entry, show_comments })
///     }
///     fn css_files(&self) -> Vec<String> {
///         vec!["entry.css".into()] // a static_url, linked once in <head>
///     }
/// }
/// ```
pub trait UIModule: Send + Sync + 'static {
    /// The module's markup for one call (Tornado's `render(*args, **kwargs)`).
    ///
    /// # Errors
    ///
    /// An error fails the render of the page, naming the module.
    fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError>;

    /// JavaScript put in one `<script>` at the end of the page's body.
    fn embedded_javascript(&self) -> Option<String> {
        None
    }

    /// JavaScript files linked at the end of the page's body.
    fn javascript_files(&self) -> Vec<String> {
        Vec::new()
    }

    /// CSS put in one `<style>` in the page's head.
    fn embedded_css(&self) -> Option<String> {
        None
    }

    /// CSS files linked in the page's head.
    fn css_files(&self) -> Vec<String> {
        Vec::new()
    }

    /// Markup put at the end of the page's head.
    fn html_head(&self) -> Option<String> {
        None
    }

    /// Markup put at the end of the page's body.
    fn html_body(&self) -> Option<String> {
        None
    }
}

/// Why a [`UIModule`] could not render.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModuleError {
    /// The module's template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A positional argument is missing or not of the type the module wants.
    #[error("argument {index} of module {module}: {source}")]
    Argument {
        /// The module.
        module: String,
        /// The argument's position, from 0.
        index: usize,
        /// What was wrong.
        #[source]
        source: minijinja::Error,
    },
    /// A keyword argument is not of the type the module wants.
    #[error("keyword argument {name} of module {module}: {source}")]
    Keyword {
        /// The module.
        module: String,
        /// The argument's name.
        name: String,
        /// What was wrong.
        #[source]
        source: minijinja::Error,
    },
    /// Anything else, said by the module.
    #[error("{0}")]
    Other(String),
}

/// One call of a [`UIModule`] from a template: its arguments, the page's namespace, and
/// rendering a template of the module's own (Tornado's `UIModule.render_string`).
pub struct ModuleCall<'a> {
    /// The module's registered name.
    name: &'a str,
    /// The positional arguments after the name.
    args: &'a [Value],
    /// The keyword arguments, if any.
    kwargs: Option<Kwargs>,
    /// The namespace of the page being rendered (with `module` again, for nesting).
    namespace: &'a Namespace,
    /// The loader's engine, for `render_string`.
    env: &'a Environment<'a>,
}

impl fmt::Debug for ModuleCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleCall")
            .field("name", &self.name)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl ModuleCall<'_> {
    /// The name the module was called by.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The positional arguments, as template values.
    pub fn args(&self) -> &[Value] {
        self.args
    }

    /// Positional argument `index` (from 0), deserialized.
    ///
    /// # Errors
    ///
    /// [`ModuleError::Argument`] when it is missing or of another shape.
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, ModuleError> {
        let error = |source| ModuleError::Argument {
            module: self.name.to_owned(),
            index,
            source,
        };
        let value = self.args.get(index).ok_or_else(|| {
            error(minijinja::Error::new(
                ErrorKind::MissingArgument,
                "not given",
            ))
        })?;
        T::deserialize(value.clone()).map_err(error)
    }

    /// Keyword argument `name`, deserialized; `None` when not given.
    ///
    /// # Errors
    ///
    /// [`ModuleError::Keyword`] when it is of another shape.
    pub fn kwarg<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ModuleError> {
        let Some(kwargs) = &self.kwargs else {
            return Ok(None);
        };
        let Ok(value) = kwargs.peek::<Value>(name) else {
            return Ok(None);
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|source| ModuleError::Keyword {
                module: self.name.to_owned(),
                name: name.to_owned(),
                source,
            })
    }

    /// The keyword arguments, by name.
    pub fn kwargs(&self) -> BTreeMap<String, Value> {
        let Some(kwargs) = &self.kwargs else {
            return BTreeMap::new();
        };
        kwargs
            .args()
            .filter_map(|name| Some((name.to_owned(), kwargs.peek::<Value>(name).ok()?)))
            .collect()
    }

    /// A value of the page's namespace: `current_user`, `request`, `handler`, `locale`, or
    /// what the handler's `get_template_namespace` added (Tornado's module attributes
    /// `self.current_user`, `self.request`, `self.handler`, `self.locale`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.namespace.get(name)
    }

    /// An argument's last value from the request's query or body, decoded and stripped as
    /// [`Context::get_argument`](crate::Context::get_argument) does (Tornado's
    /// `self.handler.get_argument(name, None)` in a module).
    pub fn get_argument(&self, name: &str) -> Option<String> {
        crate::template_objects::handler_argument(self.namespace.get("handler")?, name)
    }

    /// Renders template `name` with `ctx` on top of the page's namespace (Tornado's
    /// `UIModule.render_string`); the template may call modules too.
    ///
    /// # Errors
    ///
    /// [`ModuleError::Template`].
    pub fn render_string<S: Serialize>(&self, name: &str, ctx: S) -> Result<String, ModuleError> {
        Ok(self.namespace.render_in(self.env, name, ctx)?)
    }

    /// As [`render_string`](Self::render_string), with `extra` added to the namespace.
    fn render_string_with<S: Serialize>(
        &self,
        name: &str,
        extra: (&str, Value),
        ctx: S,
    ) -> Result<String, ModuleError> {
        let mut namespace = self.namespace.clone();
        namespace.insert(extra.0, extra.1);
        Ok(namespace.render_in(self.env, name, ctx)?)
    }
}

/// Makes a request's instance of a module.
pub(crate) type ModuleFactory = Arc<dyn Fn() -> Arc<dyn UIModule> + Send + Sync>;

/// The application's UI modules by name, with Tornado's built-in `Template`.
pub(crate) type ModuleRegistry = BTreeMap<String, ModuleFactory>;

/// The registry every application starts with: Tornado's built-in `Template` module.
pub(crate) fn default_registry() -> ModuleRegistry {
    let template: ModuleFactory = Arc::new(|| Arc::new(TemplateModule::default()));
    BTreeMap::from([("Template".to_owned(), template)])
}

/// The modules one request used, in the order first used, and the namespace their templates
/// render with (the page's, kept without `module`, which holds this).
pub(crate) struct ActiveModules {
    /// The application's modules.
    registry: Arc<ModuleRegistry>,
    /// The namespace of the render in progress, without `module`.
    namespace: Mutex<Namespace>,
    /// The instances made so far.
    active: Mutex<Vec<(String, Arc<dyn UIModule>)>>,
}

impl fmt::Debug for ActiveModules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveModules").finish_non_exhaustive()
    }
}

impl ActiveModules {
    /// No module used yet.
    pub(crate) fn new(registry: Arc<ModuleRegistry>) -> Self {
        Self {
            registry,
            namespace: Mutex::new(Namespace::new()),
            active: Mutex::new(Vec::new()),
        }
    }

    /// The namespace the next render's modules see.
    pub(crate) fn set_namespace(&self, namespace: Namespace) {
        *self
            .namespace
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = namespace;
    }

    /// The request's instance of module `name`, made on first use.
    fn instance(&self, name: &str) -> Option<Arc<dyn UIModule>> {
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, module)) = active.iter().find(|(n, _)| n == name) {
            return Some(Arc::clone(module));
        }
        let module = (self.registry.get(name)?)();
        active.push((name.to_owned(), Arc::clone(&module)));
        Some(module)
    }

    /// The resources of the modules used, in the order first used.
    pub(crate) fn resources(&self) -> Resources {
        let active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        let mut resources = Resources::default();
        for (_, module) in active.iter() {
            resources
                .embedded_javascript
                .extend(module.embedded_javascript());
            resources.javascript_files.extend(module.javascript_files());
            resources.embedded_css.extend(module.embedded_css());
            resources.css_files.extend(module.css_files());
            resources.html_head.extend(module.html_head());
            resources.html_body.extend(module.html_body());
        }
        resources.retain_nonempty();
        resources
    }

    /// The templates' `module(name, *args, **kwargs)`.
    pub(crate) fn function(self: &Arc<Self>) -> Value {
        Value::from_object(ModuleFunction(Arc::clone(self)))
    }
}

/// What the modules of a page asked to add to it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Resources {
    /// `embedded_javascript` parts.
    pub(crate) embedded_javascript: Vec<String>,
    /// `javascript_files`, in order, possibly repeated.
    pub(crate) javascript_files: Vec<String>,
    /// `embedded_css` parts.
    pub(crate) embedded_css: Vec<String>,
    /// `css_files`, in order, possibly repeated.
    pub(crate) css_files: Vec<String>,
    /// `html_head` parts.
    pub(crate) html_head: Vec<String>,
    /// `html_body` parts.
    pub(crate) html_body: Vec<String>,
}

impl Resources {
    /// Drops empty parts (Tornado skips falsy ones).
    fn retain_nonempty(&mut self) {
        for list in [
            &mut self.embedded_javascript,
            &mut self.javascript_files,
            &mut self.embedded_css,
            &mut self.css_files,
            &mut self.html_head,
            &mut self.html_body,
        ] {
            list.retain(|part| !part.is_empty());
        }
    }
}

/// The templates' `module` function.
#[derive(Debug)]
struct ModuleFunction(Arc<ActiveModules>);

impl Object for ModuleFunction {
    fn call(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        let (kwargs, positional) = match args.split_last() {
            Some((last, rest)) if last.is_kwargs() => (Some(Kwargs::try_from(last.clone())?), rest),
            _ => (None, args),
        };
        let Some((name, args)) = positional.split_first() else {
            return Err(minijinja::Error::new(
                ErrorKind::MissingArgument,
                "module() needs the module's name",
            ));
        };
        let name = name.as_str().ok_or_else(|| {
            minijinja::Error::new(ErrorKind::InvalidOperation, "a module's name is a string")
        })?;
        let module = self.0.instance(name).ok_or_else(|| {
            minijinja::Error::new(ErrorKind::UnknownFunction, format!("no UI module {name}"))
        })?;
        let mut namespace = self
            .0
            .namespace
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        namespace.insert("module", Value::from_dyn_object(Arc::clone(self)));
        let call = ModuleCall {
            name,
            args,
            kwargs,
            namespace: &namespace,
            env: state.env(),
        };
        // Each module's template renders afresh, out of reach of minijinja's own recursion
        // limit: a template that calls its own module would overflow the stack.
        let depth = MODULE_DEPTH.get();
        if depth >= MAX_MODULE_DEPTH {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("UI modules nested more than {MAX_MODULE_DEPTH} deep (at {name})"),
            ));
        }
        MODULE_DEPTH.set(depth + 1);
        let rendered = module.render(&call);
        MODULE_DEPTH.set(depth);
        let html = rendered.map_err(|error| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("UI module {name} failed"),
            )
            .with_source(error)
        })?;
        Ok(Value::from_safe_string(html))
    }
}

/// How deep module calls may nest (a module's template calling a module, ...).
const MAX_MODULE_DEPTH: usize = 32;

thread_local! {
    /// How deep the module calls of this thread's render are nested now.
    static MODULE_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One template's resources, as its `set_resources(...)` gave them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct TemplateResources {
    /// `embedded_javascript=`.
    embedded_javascript: Option<String>,
    /// `javascript_files=`: a path or a list.
    javascript_files: Vec<String>,
    /// `embedded_css=`.
    embedded_css: Option<String>,
    /// `css_files=`: a path or a list.
    css_files: Vec<String>,
    /// `html_head=`.
    html_head: Option<String>,
    /// `html_body=`.
    html_body: Option<String>,
}

/// Tornado's built-in `Template` module: `{{ module("Template", "entry.html", entry=e) }}`
/// renders a template with its own arguments (Tornado's
/// `{% module Template("entry.html", entry=e) %}`), and that template may call
/// `set_resources(css_files=..., embedded_javascript=..., ...)`, once per template file,
/// to add to the page what a module's methods would.
#[derive(Debug, Default)]
pub struct TemplateModule {
    /// Resources by template, in the order first set.
    resources: Arc<Mutex<Vec<(String, TemplateResources)>>>,
}

impl TemplateModule {
    /// One kind of resource of every template, in the order the templates set them.
    fn gathered<I: IntoIterator<Item = String>>(
        &self,
        pick: impl Fn(&TemplateResources) -> I,
    ) -> Vec<String> {
        self.resources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .flat_map(|(_, resources)| pick(resources))
            .collect()
    }
}

impl UIModule for TemplateModule {
    fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
        let path: String = call.arg(0)?;
        let resources = Arc::clone(&self.resources);
        let template = path.clone();
        let set_resources =
            Value::from_function(move |kwargs: Kwargs| -> Result<String, minijinja::Error> {
                let text = |name: &str| kwargs.get::<Option<String>>(name);
                let files = |name: &str| -> Result<Vec<String>, minijinja::Error> {
                    let Some(value) = kwargs.get::<Option<Value>>(name)? else {
                        return Ok(Vec::new());
                    };
                    match value.as_str() {
                        Some(one) => Ok(vec![one.to_owned()]),
                        None => Vec::<String>::deserialize(value),
                    }
                };
                let given = TemplateResources {
                    embedded_javascript: text("embedded_javascript")?,
                    javascript_files: files("javascript_files")?,
                    embedded_css: text("embedded_css")?,
                    css_files: files("css_files")?,
                    html_head: text("html_head")?,
                    html_body: text("html_body")?,
                };
                kwargs.assert_all_used()?;
                let mut all = resources.lock().unwrap_or_else(PoisonError::into_inner);
                match all.iter().find(|(t, _)| *t == template) {
                    None => all.push((template.clone(), given)),
                    Some((_, earlier)) if *earlier == given => {}
                    Some(_) => {
                        return Err(minijinja::Error::new(
                            ErrorKind::InvalidOperation,
                            "set_resources called with different resources for the same template",
                        ));
                    }
                }
                Ok(String::new())
            });
        call.render_string_with(&path, ("set_resources", set_resources), call.kwargs())
    }

    fn embedded_javascript(&self) -> Option<String> {
        Some(self.gathered(|r| r.embedded_javascript.clone()).join("\n"))
    }

    fn javascript_files(&self) -> Vec<String> {
        self.gathered(|r| r.javascript_files.clone())
    }

    fn embedded_css(&self) -> Option<String> {
        Some(self.gathered(|r| r.embedded_css.clone()).join("\n"))
    }

    fn css_files(&self) -> Vec<String> {
        self.gathered(|r| r.css_files.clone())
    }

    fn html_head(&self) -> Option<String> {
        Some(self.gathered(|r| r.html_head.clone()).concat())
    }

    fn html_body(&self) -> Option<String> {
        Some(self.gathered(|r| r.html_body.clone()).concat())
    }
}

/// Whether a resource path is used as given (Tornado's `is_absolute`): it starts with `/`,
/// `http:` or `https:`; other paths go through `static_url`.
pub(crate) fn is_absolute(path: &str) -> bool {
    path.starts_with('/') || path.starts_with("http:") || path.starts_with("https:")
}

/// Inserts `text` and a newline before the first (`last = false`) or last `marker` of
/// `html`; `false` when the marker is missing.
pub(crate) fn insert_before(html: &mut String, marker: &str, last: bool, text: &str) -> bool {
    let found = if last {
        html.rfind(marker)
    } else {
        html.find(marker)
    };
    let Some(at) = found else {
        return false;
    };
    html.insert(at, '\n');
    html.insert_str(at, text);
    true
}
