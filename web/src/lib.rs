//! Typhoon's web framework: Tornado's `tornado.web` and `tornado.routing` — an
//! [`Application`] of regex [`route`]s to [`RequestHandler`]s with one async method per HTTP
//! verb, a [`Context`] for the request and response, cookies (signed in Tornado's v2 format),
//! XSRF protection, static files, templates, gzip/deflate, timeouts and CORS.
//!
//! This crate sits on top of `typhoon-httpserver` (which parses requests, writes responses,
//! keeps connections alive and writes the access log) and `typhoon-ioloop` (one loop per
//! thread; handlers and their futures need not be `Send`), and uses `typhoon-escape` and
//! `typhoon-template` (feature `template`). `typhoon-websocket` and `typhoon-testing` build
//! on it.
//!
//! Tornado's hello world, line for line:
//!
//! ```no_run
//! use typhoon_ioloop::IOLoop;
//! use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
//!
//! struct MainHandler;
//! impl RequestHandler for MainHandler {
//!     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> { cx.write("Hello, world"); Ok(()) }
//! }
//! fn main() -> std::io::Result<()> {
//!     let app = Application::new(vec![route("/", || MainHandler)]);
//!     app.listen(8888)?;
//!     IOLoop::current().start();
//!     Ok(())
//! }
//! ```
//!
//! # Examples
//!
//! Serve on an ephemeral port of 127.0.0.1 and make one request:
//!
//! ```
//! use std::io::{Read, Write};
//! use typhoon_ioloop::IOLoop;
//! use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
//!
//! struct UserHandler;
//! impl RequestHandler for UserHandler {
//!     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
//!         let id = cx.path_args()[0].clone();
//!         let greeting = format!("user {id}, {}", cx.get_argument_or("greet", "hi"));
//!         cx.write(greeting);
//!         Ok(())
//!     }
//! }
//!
//! let ioloop = IOLoop::new();
//! ioloop.make_current();
//! let app = Application::new(vec![route(r"/user/([0-9]+)", || UserHandler).name("user")]);
//! assert_eq!(app.reverse_url("user", &["7"]).unwrap(), "/user/7");
//! let server = app.into_server();
//! let addr = server.listen(0, Some("127.0.0.1"))?[0];
//! // The blocking client runs on the loop's executor pool; the loop serves meanwhile.
//! let client = ioloop.run_in_executor(move || {
//!     let mut socket = std::net::TcpStream::connect(addr).unwrap();
//!     socket.write_all(b"GET /user/7?greet=hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
//!     let mut answer = String::new();
//!     socket.read_to_string(&mut answer).unwrap();
//!     answer
//! });
//! let answer = ioloop.run_sync(client).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(answer.contains("Content-Type: text/html; charset=UTF-8\r\n"));
//! assert!(answer.ends_with("\r\n\r\nuser 7, hello"));
//! # IOLoop::clear_current();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `json` | [`Context::write_json`] for serde values (serde_json); with `template`, the templates' `json_encode` | Yes |
//! | `template` | [`Context::render`] / [`Context::render_string`] with `typhoon-template`: the request's namespace (`handler`, `request`, `current_user`, `xsrf_form_html`), the `get_template_namespace` hook, and [`UIModule`]s (`{{ module("Entry", entry) }}`, [`Application::ui_module`]) | Yes |
//! | `locale` | Tornado's locales with `typhoon-locale`: [`Context::locale`], `get_browser_locale`, the `get_user_locale` hook, [`Application::translations`], and `_`, `pgettext` and `locale` in templates | Yes |
//! | `autoreload` | `Settings::autoreload` (on with `debug`): a rebuilt binary re-executes itself, keeping the TCP listening sockets of its loop and draining the old connections, so no client of them is refused (`typhoon-autoreload`) | Yes |
//! | `gzip` | `Settings::compress_response` (gzip and deflate responses) and `Settings::server.decompress_request` (gzip request bodies, forwards to `typhoon-httpserver/gzip`); flate2, pure Rust | No |
//! | `tls` | HTTPS through `Settings::server.tls` (forwards to `typhoon-httpserver/tls`) | No |
//!
//! Each feature is enough on its own: depending on `typhoon-web` with `features = ["gzip",
//! "tls"]` turns on what the lower crates need for them. A setting that needs a feature exists
//! only with it (`compress_response`; `template_path`, `autoescape`, `templates`), except the
//! fields of `Settings::server`, which are `typhoon-httpserver`'s: `decompress_request`
//! exists without `gzip` and then does nothing.
//!
//! # Departures from Tornado
//!
//! - `initialize(**kwargs)` is the route's factory closure: `route("/", move || H { db: db.clone() })`.
//! - `get_current_user` is async and sees the handler, so it is not lazy: it runs once per
//!   request, before `prepare` (the default costs nothing). The user is of the application's
//!   own type ([`CurrentUser`]), read back with `cx.current_user::<Account>()`.
//! - The hooks that [`Context`] calls itself are associated functions, which cannot see
//!   `self` (the handler is busy in its method when they run): `set_default_headers(cx)` (from
//!   `cx.clear()`), `decode_argument(cx, value, name)` (from the argument getters) and
//!   `compute_etag(cx, body)` (from `cx.finish()`); `decode_argument` does not apply to
//!   `path_args`, which are always UTF-8.
//! - `StaticFileHandler`'s overridable methods are the [`StaticFileHooks`] trait, and a
//!   subclass is a hooks type: `StaticFileHandler::new(root).hooks(MyHooks)` for a route,
//!   [`Application::static_hooks`] for the static routes and `static_url` (Tornado's
//!   `static_handler_class`). Its class methods take `&self`, so hooks can carry settings;
//!   `validate_absolute_path` returns the opened [`StaticFile`]. The content version is the
//!   first 32 hex digits of SHA-256, not Tornado's SHA-512.
//! - Keyword arguments of the argument getters are `_with` variants:
//!   `get_argument(name, strip=False)` is `cx.get_argument_with(name, false)`; a default is
//!   [`Context::get_argument_or`].
//! - The 405 of a verb a handler does not implement carries `Allow` from
//!   [`RequestHandler::ALLOWED_METHODS`], which [`#[handler]`](macro@handler) fills in from the
//!   methods the impl block defines (Rust cannot otherwise see which default methods were
//!   overridden); without either, the 405 has no `Allow`.
//! - Verbs beyond the seven are listed in [`RequestHandler::EXTRA_METHODS`] and all go to one
//!   [`RequestHandler::other_method`], which gets the verb (Tornado calls a method named
//!   after it).
//! - When the client closes the connection during a method, that method's future is dropped
//!   (cancellation), then `on_connection_close` and `on_finish` run.
//! - Request bodies are streamed from the server and read by the framework after routing, so
//!   `max_body_size` is per route and its 413 goes through the handler's `write_error`.
//! - `compress_response` also offers `deflate`, and reads `Accept-Encoding`'s q-values:
//!   `gzip;q=0` gets an uncompressed body, where Tornado's substring test sends gzip.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app_state;
mod application;
mod builtin;
mod context;
pub mod cookies;
mod cors;
mod current_user;
mod error;
mod etag;
mod handler;
pub mod multipart;
mod range;
mod routing;
mod settings;
mod static_files;
mod static_urls;
#[cfg(feature = "template")]
mod template_objects;
#[cfg(feature = "template")]
mod ui_module;

pub use application::Application;
pub use builtin::{ErrorHandler, RedirectHandler};
pub use context::Context;
pub use cookies::CookieOptions;
pub use cors::Cors;
pub use current_user::CurrentUser;
pub use error::{HTTPError, Result, WebError};
pub use etag::Etag;
pub use handler::{HandlerFactory, RequestHandler};
pub use routing::{Route, route};
pub use settings::Settings;
pub use static_files::{DefaultStaticFileHooks, StaticFile, StaticFileHandler, StaticFileHooks};
pub use static_urls::{StaticUrlOptions, StaticUrlSettings};
#[cfg(feature = "template")]
#[cfg_attr(docsrs, doc(cfg(feature = "template")))]
pub use ui_module::{ModuleCall, ModuleError, TemplateModule, UIModule};

/// Fills in [`RequestHandler::ALLOWED_METHODS`] from the verb methods an
/// `impl RequestHandler for T` block defines, so a 405 carries a correct `Allow` header
/// (Rust cannot otherwise tell which default methods were overridden). A block that sets
/// the constant itself keeps it. Extra verbs ([`RequestHandler::EXTRA_METHODS`]) are listed
/// in `Allow` after these, whether or not the macro is used.
///
/// # Examples
///
/// ```
/// use typhoon_web::{Context, HTTPError, RequestHandler, handler};
///
/// struct Echo;
/// #[handler]
/// impl RequestHandler for Echo {
///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         cx.write("hi");
///         Ok(())
///     }
///     async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         cx.write("posted");
///         Ok(())
///     }
/// }
/// assert_eq!(Echo::ALLOWED_METHODS, ["GET", "POST"]);
/// ```
///
/// A verb method behind `#[cfg]` is a compile error (the macro cannot know whether it exists);
/// set `ALLOWED_METHODS` by hand then:
///
/// ```compile_fail
/// use typhoon_web::{Context, HTTPError, RequestHandler, handler};
///
/// struct Maybe;
/// #[handler]
/// impl RequestHandler for Maybe {
///     #[cfg(feature = "never")]
///     async fn post(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
///         Ok(())
///     }
/// }
/// ```
pub use typhoon_web_macros::handler;
