//! [`Settings`]: an application's configuration (Tornado's `Application` keyword arguments).

use std::path::PathBuf;
use std::time::Duration;

use typhoon_httpserver::HTTPServerOptions;

use crate::cookies::CookieOptions;
use crate::cors::Cors;

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
    /// Debug mode: `serve_traceback` unless set, templates reloaded, static hashes not cached,
    /// and with the `autoreload` feature the process reloads when its binary is rebuilt
    /// (unless `autoreload` says otherwise).
    pub debug: bool,
    /// Re-execute the process when its binary is rebuilt, passing the listening sockets on and
    /// draining the old connections (Tornado's `autoreload`, with `typhoon-autoreload`): every
    /// server made by [`Application::into_server`](crate::Application::into_server) on the
    /// loop takes part. `None` follows `debug`.
    #[cfg(feature = "autoreload")]
    pub autoreload: Option<bool>,
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
    pub xsrf_cookie_options: CookieOptions,
    /// Where `authenticated` routes send anonymous GET/HEAD requests (with `?next=`), unless
    /// the handler overrides `get_login_url`.
    pub login_url: Option<String>,
    /// Serve this directory under `static_url_prefix` (plus `/favicon.ico`, `/robots.txt`).
    pub static_path: Option<PathBuf>,
    /// The URL prefix of static files (default `/static/`).
    pub static_url_prefix: String,
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
    /// Drop a handler still running after this long, answer 503 (or whatever it set) and run
    /// `on_finish`; routes override it with [`Route::timeout`](crate::Route::timeout).
    pub request_timeout: Option<Duration>,
    /// The largest request body (default 100 MiB): 413 from `Content-Length` before reading,
    /// or when a chunked body passes it; routes override it with
    /// [`Route::max_body_size`](crate::Route::max_body_size).
    pub max_body_size: u64,
    /// Tornado's automatic ETag (SHA-1 of the body) and 304 for `GET`/`HEAD` (default on).
    pub compute_etag: bool,
    /// Cross-origin resource sharing: headers on answers, preflights answered.
    pub cors: Option<Cors>,
    /// Refuse unsafe requests (not GET, HEAD or OPTIONS) that look cross-origin with a 403,
    /// before `prepare` (Tornado 6.6's `cross_origin_protection`, off by default as there):
    /// `Sec-Fetch-Site: same-origin` or `none` passes; another `Sec-Fetch-Site` needs an
    /// `Origin` the handler's
    /// [`check_trusted_origin`](crate::RequestHandler::check_trusted_origin) accepts; without
    /// `Sec-Fetch-Site`, an `Origin` naming the request's `Host` passes, another needs
    /// `check_trusted_origin`, and no `Origin` at all (not a browser) passes. See
    /// [`Context::check_cross_origin`](crate::Context::check_cross_origin).
    pub cross_origin_protection: bool,
    /// Origins trusted for cross-origin requests, exactly as browsers send them
    /// (`https://app.example.com`): what Tornado 6.6's `check_trusted_origin` accepts, and so what
    /// a WebSocket handler's default `check_origin` admits.
    pub trusted_origins: Vec<String>,
    /// Ping every open WebSocket this often (Tornado's `websocket_ping_interval`; `None`, the
    /// default, sends no pings).
    pub websocket_ping_interval: Option<Duration>,
    /// Close a WebSocket whose pong has not come this long after a ping (Tornado's
    /// `websocket_ping_timeout`); `None` means the ping interval, and it never exceeds it.
    pub websocket_ping_timeout: Option<Duration>,
    /// The largest WebSocket message, reassembled and inflated (Tornado's
    /// `websocket_max_message_size`, default 10 MiB); a bigger one closes the connection with
    /// 1009.
    pub websocket_max_message_size: usize,
    /// Options for the server that
    /// [`Application::into_server`](crate::Application::into_server) and
    /// [`Application::listen`](crate::Application::listen) build. Two are overridden there
    /// (see [`Application::into_server_with`](crate::Application::into_server_with)):
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
            #[cfg(feature = "autoreload")]
            autoreload: None,
            cookie_secret: None,
            cookie_secrets: std::collections::BTreeMap::new(),
            key_version: None,
            xsrf_cookies: false,
            cross_origin_protection: false,
            xsrf_cookie_name: "_xsrf".to_owned(),
            xsrf_cookie_options: CookieOptions::default(),
            login_url: None,
            static_path: None,
            static_url_prefix: "/static/".to_owned(),
            #[cfg(feature = "template")]
            template_path: None,
            #[cfg(feature = "template")]
            autoescape: typhoon_template::Autoescape::default(),
            #[cfg(feature = "template")]
            templates: None,
            #[cfg(feature = "gzip")]
            compress_response: false,
            serve_traceback: None,
            request_timeout: None,
            max_body_size: 100 * 1024 * 1024,
            compute_etag: true,
            cors: None,
            trusted_origins: Vec::new(),
            websocket_ping_interval: None,
            websocket_ping_timeout: None,
            websocket_max_message_size: 10 * 1024 * 1024,
            server: HTTPServerOptions::default(),
        }
    }
}

impl Settings {
    /// Whether the process reloads when its binary is rebuilt: `autoreload`, or `debug`.
    #[cfg(feature = "autoreload")]
    pub fn autoreloads(&self) -> bool {
        self.autoreload.unwrap_or(self.debug)
    }

    /// Whether 5xx pages carry the error chain.
    pub fn serves_traceback(&self) -> bool {
        self.serve_traceback.unwrap_or(self.debug)
    }
}
