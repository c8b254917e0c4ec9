//! [`Application`]: routing a request to its handler.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use typhoon_httpserver::{HTTPServer, HTTPServerOptions, HTTPServerRequest, ResponseWriter};

#[cfg(feature = "template")]
use crate::app_state::add_template_globals;
use crate::app_state::{AppData, AppState, reverse_named};
use crate::builtin::ErrorHandler;
use crate::context::Context;
use crate::error::Result;

/// How often autoreload checks the binary (Tornado's `check_time`, 500 ms).
#[cfg(feature = "autoreload")]
const AUTORELOAD_CHECK_TIME: std::time::Duration = std::time::Duration::from_millis(500);
use crate::handler::{HandlerFactory, RequestFuture, RequestHandler};
use crate::routing::{HostRules, PathPattern, Route, Router};
use crate::settings::Settings;
use crate::static_files::{DefaultStaticFileHooks, StaticFileHandler, StaticFileHooks};
use crate::static_urls::StaticUrls;

/// An application: its routes, and the state its requests share.
struct AppInner {
    /// What the requests' contexts read: settings, templates, `static_url`, named routes.
    state: Rc<AppState>,
    /// Routes.
    router: Router,
    /// How many of the catch-all host's first routes are the static ones (0 or 3).
    static_routes: usize,
    /// Extra host rules added after construction (kept apart so `router` needs no `RefCell`
    /// on the common path).
    extra_hosts: RefCell<Vec<HostRules>>,
    /// The handler for requests no route matches (default: 404).
    not_found: HandlerFactory,
}

/// A collection of routes and settings that answers requests (Tornado's `Application`).
///
/// Cheap to clone (shared); lives on one loop. For several loops build one per loop with
/// [`typhoon_iostream::start_loops`] and a factory calling [`Application::into_server`].
///
/// # Examples
///
/// ```no_run
/// use typhoon_ioloop::IOLoop;
/// use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
///
/// struct MainHandler;
/// impl RequestHandler for MainHandler {
///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         cx.write("Hello, world");
///         Ok(())
///     }
/// }
/// fn main() -> std::io::Result<()> {
///     let app = Application::new(vec![route("/", || MainHandler)]);
///     app.listen(8888)?;
///     IOLoop::current().start();
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Application {
    inner: Rc<AppInner>,
}

impl Application {
    /// An application with default settings.
    pub fn new(routes: Vec<Route>) -> Self {
        Self::with_settings(routes, Settings::default())
    }

    /// An application with `settings`. With `static_path`, routes for
    /// `<static_url_prefix>(.*)`, `/(favicon\.ico)` and `/(robots\.txt)` are added first, as
    /// Tornado does.
    pub fn with_settings(routes: Vec<Route>, mut settings: Settings) -> Self {
        let mut all = Vec::new();
        if let Some(path) = settings.static_path.clone() {
            let prefix = regex::escape(&settings.static_url_prefix);
            for pattern in [
                format!("{prefix}(.*)"),
                r"/(favicon\.ico)".to_owned(),
                r"/(robots\.txt)".to_owned(),
            ] {
                let path = path.clone();
                let rule = Route::try_new(&pattern, move || StaticFileHandler::new(path.clone()))
                    .expect("invariant: escaped static prefixes are valid patterns");
                all.push(rule);
            }
        }
        let static_routes = all.len();
        all.extend(routes);
        let named: Vec<(String, Arc<PathPattern>)> = all
            .iter()
            .filter_map(|r| Some((r.name.clone()?, Arc::clone(&r.pattern))))
            .collect();
        let named = Arc::new(Mutex::new(named));
        let static_urls = StaticUrls::new(
            settings.static_path.clone(),
            settings.static_url_prefix.clone(),
            !settings.debug,
            Arc::new(DefaultStaticFileHooks),
        );
        #[cfg(feature = "template")]
        let templates = {
            let loader = settings.templates.take().or_else(|| {
                settings.template_path.as_ref().map(|path| {
                    let mut loader = typhoon_template::Loader::new(path);
                    loader.set_autoescape(settings.autoescape);
                    loader
                })
            });
            loader.map(|mut loader| {
                if settings.debug {
                    loader.set_debug(true);
                }
                add_template_globals(&mut loader, &static_urls, &named);
                loader
            })
        };
        let _ = &mut settings;
        Self {
            inner: Rc::new(AppInner {
                state: Rc::new(AppState {
                    settings,
                    #[cfg(feature = "template")]
                    templates,
                    static_urls,
                    named,
                    #[cfg(feature = "locale")]
                    translations: typhoon_locale::Translations::new(),
                    #[cfg(feature = "template")]
                    ui_modules: Arc::new(crate::ui_module::default_registry()),
                    data: AppData::default(),
                }),
                router: Router {
                    hosts: vec![HostRules {
                        host: None,
                        routes: all,
                    }],
                },
                static_routes,
                extra_hosts: RefCell::new(Vec::new()),
                not_found: HandlerFactory::new(|| ErrorHandler::new(404)),
            }),
        }
    }

    /// Answers requests that no route matches with the handler `factory` builds (Tornado's
    /// `default_handler_class` with `default_handler_args`); without it they get a 404.
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server): configure it
    /// first, as Tornado takes these options at construction.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Application, Context, HTTPError, RequestHandler};
    ///
    /// struct NotFound;
    /// impl RequestHandler for NotFound {
    ///     async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         cx.set_status(404);
    ///         cx.write("Nothing here. Try /");
    ///         cx.finish();
    ///         Ok(())
    ///     }
    /// }
    /// let app = Application::new(vec![]).default_handler(|| NotFound);
    /// # drop(app);
    /// ```
    pub fn default_handler<H, F>(self, factory: F) -> Self
    where
        H: RequestHandler,
        F: Fn() -> H + 'static,
    {
        self.default_handler_factory(HandlerFactory::new(factory))
    }

    /// [`default_handler`](Self::default_handler) with a ready [`HandlerFactory`] (one shared
    /// with routes, say).
    ///
    /// # Panics
    ///
    /// If this application has been cloned already.
    pub fn default_handler_factory(mut self, factory: HandlerFactory) -> Self {
        self.configure().not_found = factory;
        self
    }

    /// Replaces the access log line (Tornado's `log_function` setting; it sets
    /// `settings.server.log_function`): `log_function` gets each finished request's
    /// [`AccessRecord`](typhoon_httpserver::AccessRecord) (status, method, uri, remote_ip,
    /// request time), whose `Display` is Tornado's line. Without it, the server logs that
    /// line on `typhoon::access`. It runs on every request's path: keep it cheap.
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::Application;
    ///
    /// let app = Application::new(vec![]).log_function(|record| {
    ///     if record.status >= 400 {
    ///         tracing::warn!(target: "myapp::access", "{record}");
    ///     }
    /// });
    /// # drop(app);
    /// ```
    pub fn log_function<F>(mut self, log_function: F) -> Self
    where
        F: Fn(&typhoon_httpserver::AccessRecord<'_>) + 'static,
    {
        let state = Rc::get_mut(&mut self.configure().state)
            .expect("invariant: only requests share the state, and there are none yet");
        state.settings.server.log_function = Some(Rc::new(log_function));
        self
    }

    /// The application's translations (Tornado's `load_translations` or
    /// `load_gettext_translations`, held by the application instead of a module global): each
    /// request's [`Context::locale`](crate::Context::locale) is chosen among them. Without it
    /// only the default locale, `en_US`, is supported.
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use typhoon_locale::Translations;
    /// use typhoon_web::Application;
    ///
    /// let translations = Translations::load_csv("translations", None)?;
    /// let app = Application::new(vec![]).translations(translations);
    /// # drop(app);
    /// # Ok::<(), typhoon_locale::LocaleError>(())
    /// ```
    #[cfg(feature = "locale")]
    #[cfg_attr(docsrs, doc(cfg(feature = "locale")))]
    pub fn translations(mut self, translations: typhoon_locale::Translations) -> Self {
        let state = Rc::get_mut(&mut self.configure().state)
            .expect("invariant: only requests share the state, and there are none yet");
        state.translations = translations;
        self
    }

    /// Registers UI module `name` (Tornado's `ui_modules` setting): templates call it as
    /// `{{ module("Entry", entry) }}`, and `factory` makes the instance of each request that
    /// does, on first use. Tornado's built-in `Template` module is always there
    /// ([`TemplateModule`](crate::TemplateModule)); a module registered under its name
    /// replaces it.
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Application, ModuleCall, ModuleError, UIModule};
    ///
    /// struct Badge;
    /// impl UIModule for Badge {
    ///     fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
    ///         let label: String = call.arg(0)?;
    ///         Ok(format!("<span class=\"badge\">{}</span>", typhoon_escape::xhtml_escape(&label)))
    ///     }
    ///     fn embedded_css(&self) -> Option<String> {
    ///         Some(".badge { border-radius: 4px }".into())
    ///     }
    /// }
    /// let app = Application::new(vec![]).ui_module("Badge", || Badge);
    /// # drop(app);
    /// ```
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn ui_module<M, F>(mut self, name: impl Into<String>, factory: F) -> Self
    where
        M: crate::UIModule,
        F: Fn() -> M + Send + Sync + 'static,
    {
        let state = Rc::get_mut(&mut self.configure().state)
            .expect("invariant: only requests share the state, and there are none yet");
        let factory: crate::ui_module::ModuleFactory = Arc::new(move || {
            let module: Arc<dyn crate::UIModule> = Arc::new(factory());
            module
        });
        Arc::make_mut(&mut state.ui_modules).insert(name.into(), factory);
        self
    }

    /// Stores `value` as application data, shared by every request of this application and
    /// reached by type with [`Context::data`] (Tornado's attributes on the application, read
    /// as `self.application.db`). One value per type: a second `data` of the same type
    /// replaces the first. Values live on the application's loop, so they need not be `Send`;
    /// share mutable state through `Cell`/`RefCell` (never borrowed across an `.await`).
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
    ///
    /// struct Hits(Cell<u32>);
    ///
    /// struct Counter;
    /// impl RequestHandler for Counter {
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         let hits = cx.data::<Hits>().ok_or_else(|| HTTPError::new(500))?;
    ///         hits.0.set(hits.0.get() + 1);
    ///         cx.write(hits.0.get().to_string());
    ///         Ok(())
    ///     }
    /// }
    /// let app = Application::new(vec![route("/", || Counter)]).data(Hits(Cell::new(0)));
    /// assert_eq!(app.get_data::<Hits>().map(|h| h.0.get()), Some(0));
    /// ```
    pub fn data<T: 'static>(mut self, value: T) -> Self {
        let state = Rc::get_mut(&mut self.configure().state)
            .expect("invariant: only requests share the state, and there are none yet");
        state.data.insert(value);
        self
    }

    /// The application data of type `T` stored by [`data`](Self::data), if any.
    pub fn get_data<T: 'static>(&self) -> Option<&T> {
        self.inner.state.data.get::<T>()
    }

    /// Serves the static routes (`<static_url_prefix>(.*)`, `/favicon.ico`, `/robots.txt`)
    /// with the handler `factory` builds instead of a [`StaticFileHandler`] over
    /// `static_path` (Tornado's `static_handler_class` with `static_handler_args`). The
    /// route's first capture is the file's path relative to the root. Without `static_path`
    /// there are no static routes, and this changes nothing. It changes serving only:
    /// [`static_hooks`](Self::static_hooks) changes `static_url` too (call it first, as it
    /// sets the static routes' handler itself).
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server).
    pub fn static_handler<H, F>(self, factory: F) -> Self
    where
        H: RequestHandler,
        F: Fn() -> H + 'static,
    {
        self.static_handler_factory(HandlerFactory::new(factory))
    }

    /// Uses `hooks` for the static files of `static_path`, both to serve the static routes
    /// (a [`StaticFileHandler`] with these hooks) and to make `static_url`'s URLs (with its
    /// [`get_version`](StaticFileHooks::get_version) and
    /// [`make_static_url`](StaticFileHooks::make_static_url)): Tornado's `static_handler_class`
    /// setting, for a `StaticFileHandler` subclass. Versions computed so far are forgotten.
    /// Without `static_path` there are no static routes, and `static_url` is an error, as
    /// before.
    ///
    /// # Panics
    ///
    /// If this application has been cloned already (or turned into a server).
    ///
    /// # Examples
    ///
    /// URLs on a CDN, the files still served here for it to fetch:
    ///
    /// ```
    /// use typhoon_web::{Application, HTTPError, Settings, StaticFileHooks, StaticUrlSettings};
    ///
    /// struct Cdn { host: String }
    /// impl StaticFileHooks for Cdn {
    ///     fn make_static_url(
    ///         &self,
    ///         settings: &StaticUrlSettings<'_>,
    ///         path: &str,
    ///         include_version: bool,
    ///     ) -> Result<String, HTTPError> {
    ///         let version = match include_version {
    ///             true => self.get_version(settings, path)?,
    ///             false => None,
    ///         };
    ///         let query = version.map(|v| format!("?v={v}")).unwrap_or_default();
    ///         Ok(format!("https://{}/{path}{query}", self.host))
    ///     }
    /// }
    /// let settings = Settings { static_path: Some("static".into()), ..Settings::default() };
    /// let app = Application::with_settings(vec![], settings)
    ///     .static_hooks(Cdn { host: "cdn.example.com".into() });
    /// # drop(app);
    /// ```
    pub fn static_hooks<H: StaticFileHooks>(mut self, hooks: H) -> Self {
        let hooks = Arc::new(hooks);
        let inner = self.configure();
        let state = Rc::get_mut(&mut inner.state)
            .expect("invariant: only requests share the state, and there are none yet");
        state.static_urls = state.static_urls.with_hooks(Arc::clone(&hooks) as _);
        #[cfg(feature = "template")]
        if let Some(loader) = state.templates.as_mut() {
            crate::app_state::add_static_url_global(loader, &state.static_urls);
        }
        let Some(path) = state.settings.static_path.clone() else {
            return self;
        };
        let factory = HandlerFactory::new(move || {
            StaticFileHandler::new(path.clone()).shared_hooks(Arc::clone(&hooks))
        });
        self.static_handler_factory(factory)
    }

    /// [`static_handler`](Self::static_handler) with a ready [`HandlerFactory`].
    ///
    /// # Panics
    ///
    /// If this application has been cloned already.
    pub fn static_handler_factory(mut self, factory: HandlerFactory) -> Self {
        let inner = self.configure();
        let count = inner.static_routes;
        if let Some(rules) = inner.router.hosts.first_mut() {
            let targets = std::iter::repeat_n(factory, count);
            for (route, target) in rules.routes.iter_mut().zip(targets) {
                route.target = target;
            }
        }
        self
    }

    /// The application, which its builder methods may still change.
    fn configure(&mut self) -> &mut AppInner {
        Rc::get_mut(&mut self.inner)
            .expect("an Application is configured before it is cloned or turned into a server")
    }

    /// Adds routes for hosts matching `host_pattern` (Tornado's `add_handlers`), tried before
    /// the routes given to `new`, in the order added.
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidPattern`](crate::WebError::InvalidPattern) for an invalid host
    /// pattern.
    pub fn add_handlers(&self, host_pattern: &str, routes: Vec<Route>) -> Result<()> {
        let host = Router::host_regex(host_pattern)?;
        if let Ok(mut named) = self.inner.state.named.lock() {
            named.extend(
                routes
                    .iter()
                    .filter_map(|r| Some((r.name.clone()?, Arc::clone(&r.pattern)))),
            );
        }
        self.inner.extra_hosts.borrow_mut().push(HostRules {
            host: Some(host),
            routes,
        });
        Ok(())
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.state.settings
    }

    /// The URL of a named route (Tornado's `reverse_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::UnknownRoute`](crate::WebError::UnknownRoute),
    /// [`WebError::CannotReverse`](crate::WebError::CannotReverse).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        reverse_named(&self.inner.state.named, name, args)
    }

    /// An [`HTTPServer`] serving this application with `settings.server`'s options (request
    /// bodies are streamed to the application, which reads them after routing, so that limits
    /// are per route).
    pub fn into_server(self) -> HTTPServer {
        let options = self.server_options();
        self.into_server_with(options)
    }

    /// The HTTP server options of `settings.server`.
    pub fn server_options(&self) -> HTTPServerOptions {
        self.inner.state.settings.server.clone()
    }

    /// Like [`into_server`](Self::into_server), with `options` instead of `settings.server`
    /// (to add TLS, say). With `Settings::debug` (or `autoreload`), the server takes part in
    /// the autoreload of its loop, started here.
    ///
    /// Two of `options` are overridden, because the application reads request bodies itself
    /// after routing (so that `max_body_size` can be per route):
    ///
    /// - `stream_request_body` is replaced: every request with a body is streamed to the
    ///   application, whatever predicate `options` had. A handler that wants the body as it
    ///   arrives takes it with [`Context::take_body_reader`](crate::Context::take_body_reader).
    /// - `limits.max_body_size` is lifted (to `u64::MAX`): the server's limit would otherwise
    ///   cut a body that a route, or a streaming handler's
    ///   [`Context::set_max_body_size`](crate::Context::set_max_body_size), allows. The
    ///   application enforces every body limit itself: `Settings::max_body_size`, each
    ///   route's, and the per-request one, from `Content-Length` before reading and by
    ///   counting the bytes read (after inflating, for a gzip body).
    pub fn into_server_with(self, mut options: HTTPServerOptions) -> HTTPServer {
        options.stream_request_body = Some(Rc::new(|request: &HTTPServerRequest| {
            request.headers.contains("Transfer-Encoding")
                || request
                    .headers
                    .get("Content-Length")
                    .is_some_and(|v| v.trim() != "0")
        }));
        options.limits.max_body_size = u64::MAX;
        #[cfg(feature = "autoreload")]
        let autoreloads = self.inner.state.settings.autoreloads();
        let server =
            HTTPServer::with_options(move |request, writer| self.handle(request, writer), options);
        #[cfg(feature = "autoreload")]
        if autoreloads {
            match typhoon_autoreload::start(AUTORELOAD_CHECK_TIME) {
                Ok(()) => typhoon_autoreload::serve(&server),
                Err(error) => {
                    tracing::warn!(target: "typhoon::general", %error, "autoreload is off");
                }
            }
        }
        server
    }

    /// Listens on `port` on all interfaces, serving on the current loop (Tornado's `listen`).
    ///
    /// # Errors
    ///
    /// If binding fails.
    pub fn listen(&self, port: u16) -> std::io::Result<HTTPServer> {
        let server = self.clone().into_server();
        server.listen(port, None)?;
        Ok(server)
    }

    /// Answers one request (what the server calls).
    pub fn handle(&self, request: HTTPServerRequest, mut writer: ResponseWriter) -> RequestFuture {
        let inner = &self.inner;
        if let Some(cors) = &inner.state.settings.cors
            && cors.apply(&request, &mut writer)
        {
            return Box::pin(async move { writer.finish() });
        }
        let extra = inner.extra_hosts.borrow();
        // Host names are only needed (and only allocated) when host rules exist.
        let host_name = if extra.is_empty() {
            String::new()
        } else {
            request.host_name()
        };
        let found = Router::find_in(&extra, &host_name, request.path())
            .or_else(|| inner.router.find(&host_name, request.path()))
            .map(|(route, captures)| {
                (
                    route.target.clone(),
                    Some(Rc::clone(&route.options)),
                    captures,
                )
            });
        drop(extra);
        let (target, options, captures) = match found {
            Some((target, options, Ok(captures))) => (target, options, captures),
            Some((_, options, Err(error))) => {
                let status = error.status();
                (
                    HandlerFactory::new(move || ErrorHandler::new(status)),
                    options,
                    Default::default(),
                )
            }
            None => (inner.not_found.clone(), None, Default::default()),
        };
        let cx = Context::new(request, writer, Rc::clone(&inner.state), options, captures);
        target.run(cx)
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("settings", &self.inner.state.settings)
            .field("router", &self.inner.router)
            .finish_non_exhaustive()
    }
}
