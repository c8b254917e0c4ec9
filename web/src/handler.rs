//! The [`RequestHandler`] trait and the request lifecycle that drives it.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;

use typhoon_ioloop::{IOLoop, LoopError, catch_unwind, sleep};

use crate::context::Context;
use crate::error::HTTPError;

/// A request handler (Tornado's `RequestHandler`): one async method per HTTP verb, each
/// answering 405 unless overridden, plus Tornado's hooks.
///
/// A handler is built for each request by its route's factory (which plays the part of
/// Tornado's `initialize`, capturing the route's arguments), so it may keep per-request state in
/// `self`. Shared state goes in `Rc`s captured by the factory. The framework's request and
/// response state is in the [`Context`] every method receives. Neither handlers nor their
/// futures need to be `Send`.
///
/// Order of calls: the factory, [`set_default_headers`](Self::set_default_headers), the XSRF
/// check (unsafe methods), [`get_current_user`](Self::get_current_user),
/// [`prepare`](Self::prepare), the route's [`authenticated`](Self::authenticated) guard, then
/// for a streamed body [`data_received`](Self::data_received) per chunk, then the verb's method, then
/// [`on_finish`](Self::on_finish) (always, also after errors, timeouts and panics).
/// Errors go to [`write_error`](Self::write_error). If the client closes the connection
/// while a method runs, its future is dropped and
/// [`on_connection_close`](Self::on_connection_close) runs.
///
/// # Examples
///
/// ```
/// use typhoon_web::{Context, HTTPError, RequestHandler, handler};
///
/// struct Counter { hits: u32 }
/// #[handler] // a PUT gets 405 with `Allow: GET, POST`
/// impl RequestHandler for Counter {
///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         self.hits += 1;
///         let name = cx.get_argument_or("name", "world");
///         cx.write(format!("Hello, {name}"));
///         Ok(())
///     }
///     async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         let n: u32 = cx.get_argument("n")?.parse()?; // a bad number is a 500; map it for 400
///         cx.write(format!("{}", n + 1));
///         Ok(())
///     }
/// }
/// ```
#[allow(async_fn_in_trait)] // handlers run on one loop: their futures need not be Send
pub trait RequestHandler: 'static {
    /// The methods this handler implements, for the `Allow` header of a 405 (Tornado's
    /// `SUPPORTED_METHODS`); empty means no `Allow` header. [`#[handler]`](macro@crate::handler)
    /// on the impl block fills it in from the methods defined there.
    const ALLOWED_METHODS: &'static [&'static str] = &[];

    /// Verbs beyond the seven that this handler accepts (Tornado's `SUPPORTED_METHODS`
    /// extended with, say, `"PROPFIND"` or `"PURGE"`); requests with them go to
    /// [`other_method`](Self::other_method). Any other verb gets a 405 before anything of
    /// the handler runs. They are listed in a 405's `Allow` after
    /// [`ALLOWED_METHODS`](Self::ALLOWED_METHODS).
    const EXTRA_METHODS: &'static [&'static str] = &[];

    /// Stream the request body to [`data_received`](Self::data_received) instead of reading
    /// it first (Tornado's `@stream_request_body`).
    const STREAM_REQUEST_BODY: bool = false;

    /// Whether unsafe methods are checked against the XSRF cookie when the `xsrf_cookies`
    /// setting is on (Tornado overrides `check_xsrf_cookie` with a no-op to opt out); to
    /// change the check instead, override [`check_xsrf_cookie`](Self::check_xsrf_cookie).
    const CHECK_XSRF: bool = true;

    /// Checks an unsafe request (not GET, HEAD or OPTIONS) against the XSRF cookie, with the
    /// `xsrf_cookies` setting on and [`CHECK_XSRF`](Self::CHECK_XSRF) (Tornado's
    /// `check_xsrf_cookie`); runs before [`prepare`](Self::prepare). The default is
    /// [`Context::check_xsrf_cookie`]; an override may accept other proof (a bearer token,
    /// say) and fall back to it.
    ///
    /// # Errors
    ///
    /// An error (a 403) refuses the request through [`write_error`](Self::write_error).
    fn check_xsrf_cookie(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.check_xsrf_cookie()
    }

    /// Whether to accept an unsafe request that looks cross-origin, from `origin` (its
    /// `Origin` header), when the `cross_origin_protection` setting is on (Tornado 6.6's
    /// `check_trusted_origin`). Runs before [`prepare`](Self::prepare), so it may decide on
    /// the request alone. The default is [`Context::check_trusted_origin`] (the
    /// `trusted_origins` setting); returning `true` exempts the handler. `false` refuses the
    /// request with a 403.
    fn check_trusted_origin(&self, cx: &Context, origin: &str) -> bool {
        cx.check_trusted_origin(origin)
    }

    /// The `Etag` of a response answered in one piece (Tornado's `compute_etag`), from its
    /// body; `None` sends none (and never a 304). Asked only for a 200 to a GET or HEAD that
    /// set no `Etag` itself, with the `compute_etag` setting on. The default is the quoted
    /// SHA-1 of the body ([`Context::sha1_etag`]).
    fn compute_etag(cx: &Context, body: &[u8]) -> Option<crate::Etag>
    where
        Self: Sized,
    {
        let _ = cx;
        Some(Context::sha1_etag(body))
    }

    /// Decodes an argument's value (Tornado's `decode_argument`) for
    /// [`Context::get_argument`] and the other argument getters, which then replace control
    /// characters with spaces and strip it. `name` is the argument's name. The default is
    /// UTF-8.
    ///
    /// # Errors
    ///
    /// The default: a 400 for a value that is not UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler};
    ///
    /// struct Latin1;
    /// impl RequestHandler for Latin1 {
    ///     fn decode_argument(_cx: &Context, value: &[u8], _name: &str) -> Result<String, HTTPError> {
    ///         Ok(value.iter().map(|&byte| char::from(byte)).collect())
    ///     }
    /// }
    /// ```
    fn decode_argument(cx: &Context, value: &[u8], name: &str) -> Result<String, HTTPError>
    where
        Self: Sized,
    {
        let _ = (cx, name);
        std::str::from_utf8(value)
            .map(str::to_owned)
            .map_err(|_| HTTPError::with_log_message(400, "invalid unicode in argument"))
    }

    /// Called before the verb's method; may finish the request (then the method is skipped).
    ///
    /// # Errors
    ///
    /// An error answers the request through [`write_error`](Self::write_error).
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Ok(())
    }

    /// `GET`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// `HEAD`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn head(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// `POST`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// `DELETE`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn delete(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// `PATCH`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn patch(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// `PUT`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn put(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// `OPTIONS`.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    async fn options(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let _ = cx;
        Err(HTTPError::new(405))
    }

    /// A verb of [`EXTRA_METHODS`](Self::EXTRA_METHODS) (Tornado's method named after a
    /// verb it added to `SUPPORTED_METHODS`); `method` is the request's method, as sent.
    ///
    /// # Errors
    ///
    /// 405 unless overridden.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler, handler};
    ///
    /// struct Cache;
    /// #[handler]
    /// impl RequestHandler for Cache {
    ///     const EXTRA_METHODS: &'static [&'static str] = &["PURGE"];
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         cx.write("cached");
    ///         Ok(())
    ///     }
    ///     async fn other_method(&mut self, cx: &mut Context, method: &str) -> Result<(), HTTPError> {
    ///         match method {
    ///             "PURGE" => {
    ///                 cx.write("purged");
    ///                 Ok(())
    ///             }
    ///             _ => Err(HTTPError::new(405)),
    ///         }
    ///     }
    /// }
    /// ```
    async fn other_method(&mut self, cx: &mut Context, method: &str) -> Result<(), HTTPError> {
        let _ = (cx, method);
        Err(HTTPError::new(405))
    }

    /// A chunk of a streamed request body (with [`STREAM_REQUEST_BODY`](Self::STREAM_REQUEST_BODY)).
    ///
    /// # Errors
    ///
    /// An error stops reading and answers the request.
    async fn data_received(&mut self, cx: &mut Context, chunk: Vec<u8>) -> Result<(), HTTPError> {
        let _ = (cx, chunk);
        Ok(())
    }

    /// Loads the current user (Tornado's `get_current_user`), typically from a signed
    /// cookie and a database: once per request, after the XSRF and cross-origin checks and
    /// before [`prepare`](Self::prepare), which sees the result in
    /// [`Context::current_user`] and may replace it with [`Context::set_current_user`]. The
    /// user is of the application's own type, wrapped in a [`CurrentUser`](crate::CurrentUser).
    /// Unlike Tornado's, it may await (a database, a session store) and it sees the handler's
    /// state (what the route's factory gave it). The default loads nobody, at no cost.
    ///
    /// # Errors
    ///
    /// An error answers the request through [`write_error`](Self::write_error) (a 503 when
    /// the session store is down, say); nothing else of the handler runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use typhoon_web::{Context, CurrentUser, HTTPError, RequestHandler};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Account { name: String, admin: bool }
    ///
    /// struct Accounts; // a database in real life
    /// impl Accounts {
    ///     async fn find(&self, name: &str) -> Option<Account> {
    ///         Some(Account { name: name.to_owned(), admin: name == "ben" })
    ///     }
    /// }
    ///
    /// struct Admin { accounts: Rc<Accounts> }
    /// impl RequestHandler for Admin {
    ///     async fn get_current_user(&mut self, cx: &mut Context) -> Result<Option<CurrentUser>, HTTPError> {
    ///         let Some(name) = cx.get_signed_cookie("user") else { return Ok(None) };
    ///         Ok(self.accounts.find(&name).await.map(CurrentUser::new))
    ///     }
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         self.authenticated(cx)?;
    ///         if !cx.current_user::<Account>().is_some_and(|a| a.admin) {
    ///             return Err(HTTPError::new(403));
    ///         }
    ///         cx.write("the admin page");
    ///         Ok(())
    ///     }
    /// }
    /// ```
    async fn get_current_user(
        &mut self,
        cx: &mut Context,
    ) -> Result<Option<crate::CurrentUser>, HTTPError> {
        let _ = cx;
        Ok(None)
    }

    /// Sets the headers every response of this handler starts with (Tornado's
    /// `set_default_headers`): called before anything else of the request, and again by every
    /// [`Context::clear`], so the error pages (which start with a `clear`) carry them too.
    /// Headers set here can be replaced or cleared later as any other.
    ///
    /// Like Tornado's, which runs in the handler's constructor before `initialize`, it does
    /// not see the handler's state; shared state reaches it through `cx.settings()` or
    /// statics. A panic in it is logged and otherwise ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler};
    ///
    /// struct Api;
    /// impl RequestHandler for Api {
    ///     fn set_default_headers(cx: &mut Context) {
    ///         let _ = cx.set_header("X-Frame-Options", "DENY");
    ///     }
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         cx.write("framed by nobody");
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn set_default_headers(cx: &mut Context)
    where
        Self: Sized,
    {
        let _ = cx;
    }

    /// Adds to or changes the namespace of the templates this request renders (Tornado's
    /// `get_template_namespace`): `namespace` holds the defaults of
    /// [`Context::template_namespace`] (`handler`, `request`, `current_user`,
    /// `xsrf_form_html`, `locale`, ...), and what this inserts wins over them, while the
    /// render's own context wins over this. Called by every
    /// [`render_string`](Context::render_string) and [`render`](Context::render) of the
    /// request; as the other hooks the context calls, it sees the request through `cx`, not
    /// the handler's state, which goes in the render's context.
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_template::{Namespace, Value};
    /// use typhoon_web::{Context, HTTPError, RequestHandler};
    ///
    /// struct Site { name: &'static str }
    ///
    /// struct Page;
    /// impl RequestHandler for Page {
    ///     fn get_template_namespace(cx: &Context, namespace: &mut Namespace) {
    ///         let site = cx.data::<Site>().map_or("", |site| site.name);
    ///         namespace.insert("site_name", site);
    ///         namespace.insert("is_admin", Value::from(cx.request().path().starts_with("/admin")));
    ///     }
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         cx.render("page.html", ())?;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    fn get_template_namespace(cx: &Context, namespace: &mut typhoon_template::Namespace)
    where
        Self: Sized,
    {
        let _ = (cx, namespace);
    }

    /// Where [`authenticated`](Self::authenticated) sends an anonymous GET or HEAD (Tornado's
    /// `get_login_url`); the default is the `login_url` setting. `None` refuses with a 403.
    fn get_login_url(&self, cx: &Context) -> Option<String> {
        cx.settings().login_url.clone()
    }

    /// Requires a logged-in user (Tornado's `@authenticated` decorator, called at the top of
    /// the verb's method: `self.authenticated(cx)?;`). Without a
    /// [`current_user`](Context::current_user), a GET or HEAD is redirected to
    /// [`get_login_url`](Self::get_login_url) with `?next=` the request's URI (its full URL
    /// when the login URL is absolute), and any other method gets a 403. Routes marked
    /// [`Route::authenticated`](crate::Route::authenticated) run it for every method, after
    /// [`prepare`](Self::prepare), so a user that `prepare` loads with
    /// [`Context::set_current_user`] passes.
    ///
    /// # Errors
    ///
    /// A 403, or after the redirect [`HTTPError::finish`] (which `?` passes on so that the
    /// method stops).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_web::{Context, HTTPError, RequestHandler};
    ///
    /// struct Profile;
    /// impl RequestHandler for Profile {
    ///     async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         let user = cx.get_signed_cookie("user"); // or an await on a database
    ///         cx.set_current_user(user);
    ///         Ok(())
    ///     }
    ///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
    ///         self.authenticated(cx)?;
    ///         let greeting = format!("hi {}", cx.current_user::<String>().map_or("", |u| u.as_str()));
    ///         cx.write(greeting);
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn authenticated(&self, cx: &mut Context) -> Result<(), HTTPError>
    where
        Self: Sized,
    {
        if cx.has_current_user() {
            return Ok(());
        }
        let login_url = self.get_login_url(cx);
        cx.deny_anonymous(login_url)
    }

    /// The user's locale (Tornado's `get_user_locale`), e.g. from a profile or a cookie: called
    /// the first time [`Context::locale`] is asked, and when it gives `None` the browser's
    /// `Accept-Language` decides. Setting the locale in [`prepare`](Self::prepare) with
    /// [`Context::set_locale`] means this is never called.
    #[cfg(feature = "locale")]
    #[cfg_attr(docsrs, doc(cfg(feature = "locale")))]
    fn get_user_locale(cx: &Context) -> Option<typhoon_locale::Locale>
    where
        Self: Sized,
    {
        let _ = cx;
        None
    }

    /// Writes the error page (Tornado's `write_error`) of every error the request answers: an
    /// `Err` from a method or hook, a [`Context::send_error`], a timeout, a 405, 413 or XSRF
    /// 403 (the 404 of an unrouted path is the default handler's). It starts from a
    /// [`Context::clear`]ed response with the error's status set. The default writes
    /// Tornado's page, or with `serve_traceback` the error chain as plain text. If it panics,
    /// the default page is written instead.
    fn write_error(&mut self, cx: &mut Context, error: &HTTPError) {
        cx.write_default_error(error);
    }

    /// Called after the response is finished, whatever happened (Tornado's `on_finish`).
    fn on_finish(&mut self, cx: &mut Context) {
        let _ = cx;
    }

    /// Called when the client closed the connection before the response was finished
    /// (Tornado's `on_connection_close`); the running method was dropped.
    fn on_connection_close(&mut self, cx: &mut Context) {
        let _ = cx;
    }

    /// The rest of a connection this handler detached ([`Context::detach`]): once the method
    /// that detached has returned `Ok`, the future returned here runs as a task of its own,
    /// owning the handler and the context, while the request's future ends and frees what it
    /// held. A long-lived protocol (a WebSocket) serves its connection here, so that an idle
    /// one holds only its own state; the connection closes when the future drops the
    /// [`Upgraded`](typhoon_httpserver::Upgraded) it kept. The default, `None`, ends the
    /// connection with the request, which is right for a handler that serves the new protocol
    /// inside its method. Not called for a handler that did not detach, or whose method failed;
    /// [`on_finish`](Self::on_finish) is not called for a detached handler.
    fn into_detached(self, cx: Context) -> Option<impl Future<Output = ()> + 'static>
    where
        Self: Sized,
    {
        let _ = cx;
        None::<std::future::Ready<()>>
    }
}

/// The future of one request.
pub(crate) type RequestFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A type-erased handler factory: builds the handler and runs the request lifecycle.
#[derive(Clone)]
pub struct HandlerFactory(Rc<dyn Fn(Context) -> RequestFuture>);

impl HandlerFactory {
    /// Erases `factory`'s handler type.
    pub fn new<H, F>(factory: F) -> Self
    where
        H: RequestHandler,
        F: Fn() -> H + 'static,
    {
        Self(Rc::new(move |cx| Box::pin(execute(factory(), cx))))
    }

    /// Runs a request.
    pub(crate) fn run(&self, cx: Context) -> RequestFuture {
        (self.0)(cx)
    }
}

impl fmt::Debug for HandlerFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandlerFactory")
    }
}

/// What ended a handler's run.
enum Outcome {
    /// The handler returned.
    Done(Result<(), HTTPError>),
    /// The request timeout fired.
    TimedOut,
    /// The client went away.
    Closed,
}

/// The lifecycle of one request (Tornado's `RequestHandler._execute`).
///
/// Not an `async fn`: one would move its arguments into locals of its future and keep room for
/// both copies (rust-lang/rust#62958), doubling the 1 KiB `Context` in every request's future.
/// The `async move` block uses the captured values in place.
#[allow(clippy::manual_async_fn)] // the async fn form is the one that doubles the Context
fn execute<H: RequestHandler>(mut handler: H, mut cx: Context) -> impl Future<Output = ()> {
    async move {
        #[cfg(feature = "locale")]
        cx.set_locale_loader(H::get_user_locale);
        cx.set_argument_decoder(H::decode_argument);
        cx.set_etag_hook(H::compute_etag);
        cx.set_default_headers_hook(H::set_default_headers);
        #[cfg(feature = "template")]
        cx.set_namespace_hook(H::get_template_namespace);
        let deadline = cx.request_timeout().map(sleep);
        let mut deadline = pin!(deadline);
        let closed = cx.connection_closed_future();
        let mut closed = pin!(closed);
        // Once the handler detaches the connection (a WebSocket), the timeout and the close
        // watch are the new protocol's business, not the request's.
        let detached = cx.detached_flag();
        let outcome = {
            let mut run = pin!(catch_unwind(
                run_methods(&mut handler, &mut cx),
                "request handler"
            ));
            poll_fn(|task| {
                if let Poll::Ready(result) = run.as_mut().poll(task) {
                    return Poll::Ready(match result {
                        Ok(result) => Outcome::Done(result),
                        Err(LoopError::Panicked { message }) => Outcome::Done(Err(
                            HTTPError::with_log_message(500, format!("panic: {message}")),
                        )),
                        Err(other) => Outcome::Done(Err(HTTPError::from(other))),
                    });
                }
                if detached.get() {
                    return Poll::Pending;
                }
                if let Some(Poll::Ready(())) = deadline.as_mut().as_pin_mut().map(|d| d.poll(task))
                {
                    return Poll::Ready(Outcome::TimedOut);
                }
                match closed.as_mut().as_pin_mut().map(|c| c.poll(task)) {
                    Some(Poll::Ready(())) => Poll::Ready(Outcome::Closed),
                    _ => Poll::Pending,
                }
            })
            .await
        };
        if detached.get() && matches!(outcome, Outcome::Done(Ok(()))) {
            // The response went out with the switch: the request is over. The connection goes
            // on in a task of its own if the handler has more to do, and this future, with
            // all it held, ends here.
            if let Some(rest) = handler.into_detached(cx) {
                // Boxed: awaited inside the logging block, a future held by value would have
                // room reserved twice in the task (rust-lang/rust#62958).
                let rest = Box::pin(catch_unwind(rest, "detached connection"));
                IOLoop::current()
                    .spawn(async move {
                        if let Err(error) = rest.await {
                            tracing::error!(target: "typhoon::application", "Uncaught exception in a detached connection: {error}");
                        }
                    })
                    .detach();
            }
            return;
        }
        if !matches!(outcome, Outcome::Closed)
            && let Some(error) = cx.take_sent_error()
        {
            // `send_error`'s page, before any error the method went on to return (which then
            // finds the response finished and is only logged).
            write_error_page(&mut handler, &mut cx, &error);
            cx.finish();
        }
        match outcome {
            Outcome::Done(Ok(())) => {}
            Outcome::Done(Err(error)) => handle_error(&mut handler, &mut cx, &error),
            Outcome::TimedOut => {
                let error = HTTPError::with_log_message(503, "request timed out");
                handle_error(&mut handler, &mut cx, &error);
            }
            Outcome::Closed => {
                cx.mark_connection_closed();
                handler.on_connection_close(&mut cx);
            }
        }
        if !cx.is_finished() {
            cx.finish();
        }
        handler.on_finish(&mut cx);
    }
}

/// Logs `error` and answers it (Tornado's `_handle_request_exception`).
fn handle_error<H: RequestHandler>(handler: &mut H, cx: &mut Context, error: &HTTPError) {
    if error.is_finish() {
        return;
    }
    cx.log_error(error);
    if cx.is_finished() || cx.head_sent() {
        // Too late for an error page: end what was started.
        cx.abort_streamed_response();
        return;
    }
    write_error_page(handler, cx, error);
}

/// Clears the response and writes `error`'s page with the handler's `write_error` (Tornado's
/// `send_error`); if `write_error` panics, the default page.
fn write_error_page<H: RequestHandler>(handler: &mut H, cx: &mut Context, error: &HTTPError) {
    cx.prepare_error(error);
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handler.write_error(cx, error);
    }));
    if unwound.is_err() {
        tracing::error!(target: "typhoon::application", "write_error panicked");
        cx.clear();
        cx.set_status(error.status());
        cx.write_default_error(error);
    }
}

/// Checks, `prepare`, the body and the verb's method.
async fn run_methods<H: RequestHandler>(
    handler: &mut H,
    cx: &mut Context,
) -> Result<(), HTTPError> {
    // The verb, classified once and without copying the method string (an allocation per
    // request); only an extra verb's method is copied, for `other_method`.
    let verb = Verb::of(&cx.request().method);
    let known = verb != Verb::Other || H::EXTRA_METHODS.contains(&cx.request().method.as_str());
    if !known {
        return Err(method_not_allowed::<H>(cx));
    }
    // A buffered body is read before `prepare`; a streamed one after, so that `prepare` may
    // change its limit (`set_max_body_size`), as Tornado's `@stream_request_body`.
    if !H::STREAM_REQUEST_BODY {
        cx.check_body_size()?;
        cx.read_body().await?;
    }
    if !matches!(verb, Verb::Get | Verb::Head | Verb::Options) {
        if H::CHECK_XSRF && cx.xsrf_enabled() {
            handler.check_xsrf_cookie(cx)?;
        }
        if cx.settings().cross_origin_protection {
            cx.check_cross_origin(|origin| handler.check_trusted_origin(cx, origin))
                .map_err(|error| HTTPError::with_source(403, error))?;
        }
    }
    let user = handler.get_current_user(cx).await?;
    if user.is_some() {
        cx.set_current_user_any(user);
    }
    handler.prepare(cx).await?;
    if cx.is_finished() {
        return Ok(());
    }
    if cx.route_requires_user() {
        handler.authenticated(cx)?;
    }
    if H::STREAM_REQUEST_BODY {
        cx.check_body_size()?;
        while let Some(chunk) = cx.next_body_chunk().await? {
            handler.data_received(cx, chunk).await?;
        }
    }
    let result = match verb {
        Verb::Get => handler.get(cx).await,
        Verb::Head => handler.head(cx).await,
        Verb::Post => handler.post(cx).await,
        Verb::Delete => handler.delete(cx).await,
        Verb::Patch => handler.patch(cx).await,
        Verb::Put => handler.put(cx).await,
        Verb::Options => handler.options(cx).await,
        Verb::Other => {
            let method = cx.request().method.clone();
            handler.other_method(cx, &method).await
        }
    };
    match result {
        Err(error) if error.status() == 405 => Err(method_not_allowed::<H>(cx)),
        other => other,
    }
}

/// A request's verb: one of the seven with a method of their own, or another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Get,
    Head,
    Post,
    Delete,
    Patch,
    Put,
    Options,
    /// Any other verb (an extra one goes to `other_method`).
    Other,
}

impl Verb {
    /// Classifies `method` (case-sensitive, as the seven method names are).
    fn of(method: &str) -> Self {
        match method {
            "GET" => Verb::Get,
            "HEAD" => Verb::Head,
            "POST" => Verb::Post,
            "DELETE" => Verb::Delete,
            "PATCH" => Verb::Patch,
            "PUT" => Verb::Put,
            "OPTIONS" => Verb::Options,
            _ => Verb::Other,
        }
    }
}

/// A 405, with `Allow` when the handler lists its methods (its extra verbs after the others).
fn method_not_allowed<H: RequestHandler>(cx: &mut Context) -> HTTPError {
    let mut allow = String::new();
    for verb in H::ALLOWED_METHODS.iter().chain(H::EXTRA_METHODS) {
        if allow.split(", ").any(|listed| listed == *verb) {
            continue;
        }
        if !allow.is_empty() {
            allow.push_str(", ");
        }
        allow.push_str(verb);
    }
    if !allow.is_empty() {
        cx.set_pending_allow(allow);
    }
    HTTPError::new(405)
}

#[cfg(test)]
mod tests {
    use super::Verb;

    #[test]
    fn verbs_are_classified_as_the_string_match_did() {
        let cases = [
            ("GET", Verb::Get),
            ("HEAD", Verb::Head),
            ("POST", Verb::Post),
            ("DELETE", Verb::Delete),
            ("PATCH", Verb::Patch),
            ("PUT", Verb::Put),
            ("OPTIONS", Verb::Options),
            ("get", Verb::Other),
            ("PURGE", Verb::Other),
            ("", Verb::Other),
        ];
        for (method, verb) in cases {
            assert_eq!(Verb::of(method), verb, "{method}");
        }
    }
}
