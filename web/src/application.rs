//! [`Application`] and its [`Settings`]: routing a request to its handler.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use typhoon_httpserver::{HTTPServer, HTTPServerOptions, HTTPServerRequest, ResponseWriter};

use crate::builtin::ErrorHandler;
use crate::context::Context;
use crate::cors::Cors;
use crate::error::{Result, WebError};
use crate::handler::{HandlerFactory, RequestFuture};
use crate::routing::{HostRules, PathPattern, Route, Router};
use crate::static_files::StaticFileHandler;

/// An application's settings (Tornado's `Application` keyword arguments). Build with
/// `Settings { debug: true, ..Settings::default() }`.
///
/// A setting that needs a feature exists only with it (see the crate's feature table).
#[cfg_attr(
    not(feature = "gzip"),
    doc = "This build has no `gzip`, so it has no `compress_response`:\n\n\
           ```compile_fail\n\
           let _ = typhoon_web::Settings { compress_response: true, ..Default::default() };\n\
           ```"
)]
#[derive(Debug)]
pub struct Settings {
    /// Debug mode: `serve_traceback` unless set, templates reloaded, static hashes not cached.
    pub debug: bool,
    /// The key for signed cookies (HMAC-SHA256), recorded as key version 0.
    pub cookie_secret: Option<String>,
    /// Versioned keys for rotating the cookie secret (Tornado's dict `cookie_secret`): when
    /// not empty, a signed cookie verifies only with the key its version names, and
    /// `cookie_secret` is not used to verify. Add the new key, set `key_version` to it, and
    /// drop the old one once its cookies have expired.
    pub cookie_secrets: std::collections::BTreeMap<u32, String>,
    /// Which of `cookie_secrets` signs new cookies (Tornado's `key_version`); `None` signs
    /// with `cookie_secret`.
    pub key_version: Option<u32>,
    /// Check an XSRF token on every POST, PUT, PATCH and DELETE.
    pub xsrf_cookies: bool,
    /// The XSRF cookie's name (Tornado's `xsrf_cookie_name`, default `_xsrf`). The form field
    /// stays `_xsrf`.
    pub xsrf_cookie_name: String,
    /// Attributes of the XSRF cookie (Tornado's `xsrf_cookie_kwargs`): `secure`, `samesite`,
    /// `domain`, ... Without an expiry of its own it lasts 30 days for a logged-in user and
    /// the browser session otherwise, as in Tornado.
    pub xsrf_cookie_options: crate::CookieOptions,
    /// Where `authenticated` routes send anonymous GET/HEAD requests (with `?next=`).
    pub login_url: Option<String>,
    /// Serve this directory under `static_url_prefix` (plus `/favicon.ico`, `/robots.txt`).
    pub static_path: Option<PathBuf>,
    /// The URL prefix of static files (default `/static/`).
    pub static_url_prefix: String,
    /// The handler of the static routes (Tornado's `static_handler_class` with
    /// `static_handler_args`); default: [`StaticFileHandler`] over `static_path`. Its route's
    /// first capture is the file's path relative to the root.
    pub static_handler: Option<HandlerFactory>,
    /// A directory of templates for `render` (feature `template`, like `render` itself).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub template_path: Option<PathBuf>,
    /// Which templates loaded from `template_path` are HTML-escaped (Tornado's `autoescape`
    /// setting; `Autoescape::Never` is its `autoescape=None`). A ready `templates` loader keeps
    /// its own policy.
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub autoescape: typhoon_template::Autoescape,
    /// A ready template loader (wins over `template_path`).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub templates: Option<typhoon_template::Loader>,
    /// Compress compressible responses (text, JSON, JavaScript, XML, SVG; 1 KiB or more, or
    /// streamed) with gzip or deflate, whichever the client's `Accept-Encoding` weighs higher
    /// (gzip on a tie; `q=0` refuses), with `Vary: Accept-Encoding`.
    ///
    /// Only with the feature `gzip`, so that a build without it cannot ask for compression
    /// and silently get none (as `autoescape` and `templates` need `template`).
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub compress_response: bool,
    /// Put the error chain in 5xx pages; `None` follows `debug`.
    pub serve_traceback: Option<bool>,
    /// The handler for requests no route matches (default: 404).
    pub default_handler: Option<HandlerFactory>,
    /// Drop a handler still running after this long, answer 503 (or whatever it set) and run
    /// `on_finish`; routes override it with [`Route::timeout`].
    pub request_timeout: Option<Duration>,
    /// The largest request body (default 100 MiB): 413 from `Content-Length` before reading,
    /// or when a chunked body passes it; routes override it with [`Route::max_body_size`].
    pub max_body_size: u64,
    /// Tornado's automatic ETag (SHA-1 of the body) and 304 for `GET`/`HEAD` (default on).
    pub compute_etag: bool,
    /// Cross-origin resource sharing: headers on answers, preflights answered.
    pub cors: Option<Cors>,
    /// Options for the server that [`Application::into_server`] and [`Application::listen`]
    /// build. Two are overridden there (see [`Application::into_server_with`]):
    /// `stream_request_body`, and `limits.max_body_size`, raised to `max_body_size`.
    ///
    /// These are `typhoon-httpserver`'s options and follow its features: `tls` exists only with
    /// this crate's feature `tls`, but `decompress_request` exists without `gzip` and then does
    /// nothing (bodies arrive as sent, still gzip); enable this crate's `gzip` for it.
    pub server: HTTPServerOptions,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            debug: false,
            cookie_secret: None,
            cookie_secrets: std::collections::BTreeMap::new(),
            key_version: None,
            xsrf_cookies: false,
            xsrf_cookie_name: "_xsrf".to_owned(),
            xsrf_cookie_options: crate::CookieOptions::default(),
            login_url: None,
            static_path: None,
            static_url_prefix: "/static/".to_owned(),
            static_handler: None,
            #[cfg(feature = "template")]
            template_path: None,
            #[cfg(feature = "template")]
            autoescape: typhoon_template::Autoescape::default(),
            #[cfg(feature = "template")]
            templates: None,
            #[cfg(feature = "gzip")]
            compress_response: false,
            serve_traceback: None,
            default_handler: None,
            request_timeout: None,
            max_body_size: 100 * 1024 * 1024,
            compute_etag: true,
            cors: None,
            server: HTTPServerOptions::default(),
        }
    }
}

impl Settings {
    /// Whether 5xx pages carry the error chain.
    pub fn serves_traceback(&self) -> bool {
        self.serve_traceback.unwrap_or(self.debug)
    }
}

/// Content hashes of static files by relative path (`None`: the file is missing).
type HashCache = Arc<Mutex<HashMap<String, Option<String>>>>;

/// Named route patterns, shared with the templates' `reverse_url` (hence `Arc<Mutex<_>>`).
pub(crate) type NamedPatterns = Arc<Mutex<Vec<(String, Arc<PathPattern>)>>>;

/// `static_url` state, shareable with template functions (`Send + Sync`).
#[derive(Debug, Clone, Default)]
pub(crate) struct StaticUrls {
    /// The static directory.
    path: Option<PathBuf>,
    /// The URL prefix.
    prefix: String,
    /// Content hashes by relative path (not used in debug mode).
    cache: Option<HashCache>,
}

impl StaticUrls {
    /// Tornado's `static_url`: `prefix + path + ?v=<hash>` (no `v` if the file is missing).
    pub(crate) fn static_url(&self, path: &str) -> Result<String> {
        let root = self.path.as_ref().ok_or(WebError::NoStaticPath)?;
        let compute = || -> Option<String> {
            let mut file = std::fs::File::open(root.join(path.trim_start_matches('/'))).ok()?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf).ok()?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            Some(crate::cookies::hex(&hasher.finalize())[..32].to_owned())
        };
        let hash = match &self.cache {
            Some(cache) => {
                let cached = cache.lock().ok().and_then(|c| c.get(path).cloned());
                match cached {
                    Some(hash) => hash,
                    None => {
                        let hash = compute();
                        if let Ok(mut c) = cache.lock() {
                            c.insert(path.to_owned(), hash.clone());
                        }
                        hash
                    }
                }
            }
            None => compute(),
        };
        let url = format!("{}{}", self.prefix, path.trim_start_matches('/'));
        Ok(match hash {
            Some(hash) => format!("{url}?v={hash}"),
            None => url,
        })
    }
}

/// What every request of an application shares.
pub(crate) struct AppInner {
    /// Settings.
    pub(crate) settings: Settings,
    /// Routes.
    pub(crate) router: Router,
    /// Extra host rules added after construction (kept apart so `router` needs no `RefCell`
    /// on the common path).
    extra_hosts: RefCell<Vec<HostRules>>,
    /// The template loader.
    #[cfg(feature = "template")]
    pub(crate) templates: Option<typhoon_template::Loader>,
    /// static_url state.
    pub(crate) static_urls: StaticUrls,
    /// Named patterns for the templates' `reverse_url`.
    pub(crate) named: NamedPatterns,
    /// The 404 handler.
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
                let rule = match &settings.static_handler {
                    Some(factory) => Route::with_factory(&pattern, factory.clone()),
                    None => {
                        let path = path.clone();
                        Route::try_new(&pattern, move || StaticFileHandler::new(path.clone()))
                    }
                }
                .expect("invariant: escaped static prefixes are valid patterns");
                all.push(rule);
            }
        }
        all.extend(routes);
        let named: Vec<(String, Arc<PathPattern>)> = all
            .iter()
            .filter_map(|r| Some((r.name.clone()?, Arc::clone(&r.pattern))))
            .collect();
        let named = Arc::new(Mutex::new(named));
        let static_urls = StaticUrls {
            path: settings.static_path.clone(),
            prefix: settings.static_url_prefix.clone(),
            cache: (!settings.debug).then(Arc::default),
        };
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
                settings,
                router: Router {
                    hosts: vec![HostRules {
                        host: None,
                        routes: all,
                    }],
                },
                extra_hosts: RefCell::new(Vec::new()),
                #[cfg(feature = "template")]
                templates,
                static_urls,
                named,
                not_found: HandlerFactory::new(|| ErrorHandler::new(404)),
            }),
        }
    }

    /// Adds routes for hosts matching `host_pattern` (Tornado's `add_handlers`), tried before
    /// the routes given to `new`, in the order added.
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidPattern`] for an invalid host pattern.
    pub fn add_handlers(&self, host_pattern: &str, routes: Vec<Route>) -> Result<()> {
        let host = Router::host_regex(host_pattern)?;
        if let Ok(mut named) = self.inner.named.lock() {
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
        &self.inner.settings
    }

    /// The URL of a named route (Tornado's `reverse_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::UnknownRoute`], [`WebError::CannotReverse`].
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        reverse_named(&self.inner.named, name, args)
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
        self.inner.settings.server.clone()
    }

    /// Like [`into_server`](Self::into_server), with `options` instead of `settings.server`
    /// (to add TLS, say).
    ///
    /// Two of `options` are overridden, because the application reads request bodies itself
    /// after routing (so that `max_body_size` can be per route):
    ///
    /// - `stream_request_body` is replaced: every request with a body is streamed to the
    ///   application, whatever predicate `options` had. A handler that wants the body as it
    ///   arrives takes it with [`Context::take_body_reader`](crate::Context::take_body_reader).
    /// - `limits.max_body_size` is raised to [`Settings::max_body_size`] when it is lower (never
    ///   lowered): the server's limit would otherwise cut a body that a route allows. The
    ///   application enforces `Settings::max_body_size` and each route's own limit.
    pub fn into_server_with(self, mut options: HTTPServerOptions) -> HTTPServer {
        options.stream_request_body = Some(Rc::new(|request: &HTTPServerRequest| {
            request.headers.contains("Transfer-Encoding")
                || request
                    .headers
                    .get("Content-Length")
                    .is_some_and(|v| v.trim() != "0")
        }));
        if options.limits.max_body_size < self.inner.settings.max_body_size {
            options.limits.max_body_size = self.inner.settings.max_body_size;
        }
        HTTPServer::with_options(move |request, writer| self.handle(request, writer), options)
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
        if let Some(cors) = &inner.settings.cors
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
            None => (
                inner
                    .settings
                    .default_handler
                    .clone()
                    .unwrap_or_else(|| inner.not_found.clone()),
                None,
                Default::default(),
            ),
        };
        let cx = Context::new(request, writer, Rc::clone(inner), options, captures);
        target.run(cx)
    }
}

/// `reverse_url` over the named patterns.
pub(crate) fn reverse_named(
    named: &Mutex<Vec<(String, Arc<PathPattern>)>>,
    name: &str,
    args: &[&str],
) -> Result<String> {
    let named = named
        .lock()
        .map_err(|_| WebError::UnknownRoute(name.to_owned()))?;
    let (_, pattern) = named
        .iter()
        .find(|(n, _)| n == name)
        .ok_or_else(|| WebError::UnknownRoute(name.to_owned()))?;
    pattern
        .reverse(args)
        .ok_or_else(|| WebError::CannotReverse {
            name: name.to_owned(),
            given: args.len(),
        })
}

/// Adds `static_url(path)` and `reverse_url(name, *args)` to the loader's globals.
#[cfg(feature = "template")]
fn add_template_globals(
    loader: &mut typhoon_template::Loader,
    static_urls: &StaticUrls,
    named: &NamedPatterns,
) {
    use minijinja::value::Rest;
    use typhoon_template::Value;
    let urls = static_urls.clone();
    loader.add_global(
        "static_url",
        Value::from_function(
            move |path: String| -> std::result::Result<String, minijinja::Error> {
                urls.static_url(&path).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
            },
        ),
    );
    let named = Arc::clone(named);
    loader.add_global(
        "reverse_url",
        Value::from_function(
            move |name: String,
                  args: Rest<String>|
                  -> std::result::Result<String, minijinja::Error> {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                reverse_named(&named, &name, &args).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
            },
        ),
    );
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("settings", &self.inner.settings)
            .field("router", &self.inner.router)
            .finish_non_exhaustive()
    }
}
