//! [`Context`]: the request and response state every handler method receives.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpserver::{BodyReader, HTTPServerRequest, ResponseWriter};
use typhoon_httputil::{Arguments, Files, HTTPHeaders};

use crate::app_state::AppState;
use crate::error::HTTPError;
use crate::routing::RouteOptions;

mod arguments;
#[cfg(feature = "gzip")]
mod compression;
mod deferred;
mod errors;
mod hooks;
#[cfg(feature = "locale")]
mod locale;
mod origin;
#[cfg(all(feature = "locale", feature = "template"))]
mod template_locale;
#[cfg(feature = "template")]
mod template_namespace;

mod rendering;
pub(crate) mod response;
mod security;
mod spare_body;

/// A handler's `decode_argument`: the context, the raw value and the argument's name.
type ArgumentDecoder = fn(&Context, &[u8], &str) -> Result<String, HTTPError>;

/// The request's XSRF token once computed: the raw token, its timestamp, whether it came
/// from the cookie, and its masked form.
type XsrfToken = (Vec<u8>, u64, bool, String);

/// The request and response state of one request (the framework half of Tornado's
/// `RequestHandler`), passed to every [`RequestHandler`](crate::RequestHandler) method.
///
/// The response is buffered until [`flush`](Self::flush) or [`finish`](Self::finish) (the
/// framework finishes it when the handler returns). Default headers are Tornado's:
/// `Content-Type: text/html; charset=UTF-8`, `Server` and `Date` (written by the server), each
/// replaced by a [`set_header`](Self::set_header) of the same name, removed by
/// [`clear_header`](Self::clear_header) and back after a [`clear`](Self::clear), plus the
/// handler's [`set_default_headers`](crate::RequestHandler::set_default_headers); a
/// `GET`/`HEAD` answered in one piece gets an `Etag` (SHA-1 of the
/// body) and a 304 when it matches `If-None-Match`.
pub struct Context {
    /// The request.
    request: HTTPServerRequest,
    /// The connection's response writer; `None` once finished.
    writer: Option<ResponseWriter>,
    /// The application (settings, routes, templates).
    app: Rc<AppState>,
    /// The matched route's options (none for the default handler).
    route: Option<Rc<RouteOptions>>,
    /// Positional captures.
    path_args: Vec<String>,
    /// Named captures.
    path_kwargs: HashMap<String, String>,
    /// Status code.
    status: u16,
    /// Custom reason phrase.
    reason: Option<String>,
    /// Response headers set so far (but the deferred ones).
    headers: HTTPHeaders,
    /// The default `Etag` and `Content-Type` once added, kept out of `headers` until
    /// something changes the map (they go to the writer without a copy through it).
    deferred: deferred::DeferredHeaders,
    /// Whether the default `Content-Type` applies (not cleared).
    default_content_type: bool,
    /// Whether the server's default `Server` and `Date` go out (not cleared).
    default_server_date: (bool, bool),
    /// Body bytes not yet flushed.
    body: Vec<u8>,
    /// `finish` happened.
    finished: bool,
    /// The head went out with a `flush`.
    head_sent: bool,
    /// Parsed query arguments, on first use.
    query_arguments: Option<Arguments>,
    /// Parsed body arguments and files, on first use.
    body_arguments: Option<Box<(Arguments, Files)>>,
    /// The streamed body, not read yet.
    body_reader: Option<Box<BodyReader>>,
    /// Body bytes read so far (against `max_body_size` for chunked bodies).
    body_bytes: u64,
    /// The body limit [`set_max_body_size`](Self::set_max_body_size) chose, over the route's
    /// and the application's.
    max_body_size: Option<u64>,
    /// The current user, once loaded by the handler's `get_current_user` or set.
    current_user: Option<Box<crate::CurrentUser>>,
    /// The request's locale, once chosen (Tornado's lazy `locale` property).
    #[cfg(feature = "locale")]
    locale: std::cell::OnceCell<typhoon_locale::Locale>,
    /// The handler's `get_user_locale`, called on first use.
    #[cfg(feature = "locale")]
    locale_loader: fn(&Context) -> Option<typhoon_locale::Locale>,
    /// The handler's `decode_argument`, for the argument getters.
    argument_decoder: ArgumentDecoder,
    /// The handler's `compute_etag`, for `finish`.
    etag_hook: fn(&Context, &[u8]) -> Option<crate::Etag>,
    /// The handler's `get_template_namespace`, for the templates this request renders.
    #[cfg(feature = "template")]
    namespace_hook: fn(&Context, &mut typhoon_template::Namespace),
    /// The UI modules this request's templates used, once one rendered.
    #[cfg(feature = "template")]
    ui_modules: Option<std::sync::Arc<crate::ui_module::ActiveModules>>,
    /// The handler's `set_default_headers`, applied when the handler starts and again by
    /// every [`clear`](Self::clear) (so error pages carry them too).
    default_headers: fn(&mut Context),
    /// The raw XSRF token (from the cookie or new), its timestamp, whether it came from the
    /// cookie, and the masked token handed out.
    xsrf: Option<Box<XsrfToken>>,
    /// The error [`send_error`](Self::send_error) asked for: answered by the handler's
    /// `write_error` once its method returns (the response takes no more writes meanwhile).
    sent_error: Option<Box<HTTPError>>,
    /// The `Allow` header of a 405, applied after the error clears headers.
    pending_allow: Option<String>,
    /// The client went away.
    connection_closed: bool,
    /// The connection was handed over to another protocol ([`detach`](Self::detach)): shared
    /// with the request's lifecycle, which then stops timing the handler and watching the
    /// connection (both are the new protocol's now).
    detached: Rc<std::cell::Cell<bool>>,
    /// Compression state: undecided (`None`), off, or the encoder (gzip or deflate).
    #[cfg(feature = "gzip")]
    encoder: Option<Option<Box<compression::Encoder>>>,
}

impl Context {
    /// A context for `request` routed with `captures`.
    pub(crate) fn new(
        request: HTTPServerRequest,
        writer: ResponseWriter,
        app: Rc<AppState>,
        route: Option<Rc<RouteOptions>>,
        captures: (Vec<String>, HashMap<String, String>),
    ) -> Self {
        let mut request = request;
        let body_reader = request.body_reader().map(Box::new);
        Self {
            request,
            writer: Some(writer),
            app,
            route,
            path_args: captures.0,
            path_kwargs: captures.1,
            status: 200,
            reason: None,
            headers: HTTPHeaders::new(),
            deferred: deferred::DeferredHeaders::default(),
            default_content_type: true,
            default_server_date: (true, true),
            body: spare_body::take(),
            finished: false,
            head_sent: false,
            query_arguments: None,
            body_arguments: None,
            body_reader,
            body_bytes: 0,
            max_body_size: None,
            current_user: None,
            #[cfg(feature = "locale")]
            locale: std::cell::OnceCell::new(),
            #[cfg(feature = "locale")]
            locale_loader: |_| None,
            argument_decoder: |_, value, _| {
                std::str::from_utf8(value)
                    .map(str::to_owned)
                    .map_err(|_| HTTPError::with_log_message(400, "invalid unicode in argument"))
            },
            etag_hook: |_, body| Some(Context::sha1_etag(body)),
            default_headers: |_| {},
            #[cfg(feature = "template")]
            namespace_hook: |_, _| {},
            #[cfg(feature = "template")]
            ui_modules: None,
            xsrf: None,
            sent_error: None,
            pending_allow: None,
            connection_closed: false,
            detached: Rc::default(),
            #[cfg(feature = "gzip")]
            encoder: None,
        }
    }

    // ----- request -------------------------------------------------------------------------

    /// The request (method, uri, headers, body, remote_ip, ...).
    pub fn request(&self) -> &HTTPServerRequest {
        &self.request
    }

    /// The application's settings.
    pub fn settings(&self) -> &crate::Settings {
        &self.app.settings
    }

    /// The application data of type `T`, stored with
    /// [`Application::data`](crate::Application::data) (Tornado's `self.application.db`);
    /// `None` when the application has none of that type.
    pub fn data<T: 'static>(&self) -> Option<&T> {
        self.app.data.get::<T>()
    }

    /// Positional captures of the route's pattern, URL-unescaped.
    pub fn path_args(&self) -> &[String] {
        &self.path_args
    }

    /// Named captures of the route's pattern, URL-unescaped.
    pub fn path_kwargs(&self) -> &HashMap<String, String> {
        &self.path_kwargs
    }

    // ----- lifecycle helpers ---------------------------------------------------------------

    /// The request timeout of this request.
    pub(crate) fn request_timeout(&self) -> Option<Duration> {
        self.route
            .as_ref()
            .and_then(|route| route.timeout)
            .or(self.app.settings.request_timeout)
    }

    /// A future that completes when the client closes the connection.
    pub(crate) fn connection_closed_future(&self) -> Option<impl Future<Output = ()> + 'static> {
        self.writer.as_ref().map(ResponseWriter::closed)
    }

    pub(crate) fn mark_connection_closed(&mut self) {
        self.connection_closed = true;
        self.finished = true;
        self.writer = None;
    }

    /// The flag [`detach`](Self::detach) sets, for the request's lifecycle to watch.
    pub(crate) fn detached_flag(&self) -> Rc<std::cell::Cell<bool>> {
        Rc::clone(&self.detached)
    }

    /// Takes the streamed body reader (for handlers that read the body themselves).
    pub fn take_body_reader(&mut self) -> Option<BodyReader> {
        self.body_reader.take().map(|reader| *reader)
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("method", &self.request.method)
            .field("uri", &self.request.uri)
            .field("status", &self.status)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
