//! [`TowerHandler`]: a tower `Service` answering a route's requests through the normal
//! handler lifecycle, and [`route_service`].

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

use bytes::{Buf, Bytes};
use http_body::Body;
use tower_service::Service;
use typhoon_httpserver::BodyReader;
use typhoon_web::{Context, Etag, HTTPError, RequestHandler, Route, route};

use super::body::{BodySender, RequestBody, channel};
use super::convert::{ContextExt, request_to_http};
use super::error::{BoxError, TowerError};

/// A request handler that hands its requests to a tower [`Service`] (Tornado's
/// `FallbackHandler` with a `WSGIContainer`, for the tower ecosystem: an axum `Router`, a
/// `tower-http` service, a `tower::service_fn`).
///
/// Each request runs the normal lifecycle of a Typhoon handler, so the application's limits,
/// its request timeout, the XSRF and cross-origin checks of unsafe methods, `authenticated`
/// routes and the access log apply as to any other route. Then the service gets an
/// `http::Request<RequestBody>` with the URI as the client sent it (mounted under `/api`, a
/// service sees `/api/users`: nest an axum router with `Router::new().nest("/api", api)` or
/// declare its routes with the prefix) and the [`ConnectionInfo`](super::ConnectionInfo)
/// extension; its future is polled on Typhoon's loop, inside the request's future (so it need
/// not be `Send`, and it is dropped when the client goes away or the timeout fires).
///
/// Both bodies stream with back-pressure: the request body is read from the connection while
/// the service reads it, at most two chunks ahead, and counted against the body limit (413
/// past it); the response's status and headers are copied (framing and connection headers
/// aside), then each data frame is written and flushed, waiting for the client, except that a
/// body known to end after a frame (a `Full`, a `String`) goes out in one piece with a
/// `Content-Length`. Trailers are dropped: HTTP/1.1 clients rarely read them, and Typhoon's
/// writer does not send them. No `Etag` is computed: the service's headers decide. The
/// application's `compress_response` applies as to any handler, unless the service set a
/// `Content-Encoding` of its own.
///
/// An `Err` from the service or its response body is a 500 (through
/// [`write_error`](RequestHandler::write_error), or, after the head went out, a closed
/// connection), logged with its cause on `typhoon::application`; the connection and the server
/// go on.
///
/// Methods: the seven of [`RequestHandler`] and those of [`EXTRA_METHODS`](Self::EXTRA_METHODS);
/// Typhoon answers any other verb with a 405 before the service sees it.
///
/// Built for each request by the route's factory, which clones the service: `Clone` should be
/// cheap (an axum `Router` is an `Arc`). The service is driven as tower's `Oneshot` does:
/// `poll_ready`, then `call`.
///
/// # Examples
///
/// ```
/// use typhoon_platform::tower::TowerHandler;
/// use typhoon_web::Application;
///
/// let api = axum::Router::new().route("/api/hello", axum::routing::get(|| async { "hi" }));
/// // As the application's fallback (Tornado's `(r".*", FallbackHandler, ...)`):
/// let app = Application::new(vec![]).default_handler(move || TowerHandler::new(api.clone()));
/// # drop(app);
/// ```
pub struct TowerHandler<S> {
    /// This request's clone of the service.
    service: S,
    /// The streamed request body, taken in `prepare` (so that the framework does not read it
    /// into `data_received`), fed to the service while it runs.
    body: Option<BodyReader>,
}

impl<S> TowerHandler<S> {
    /// A handler for one request, answered by `service`.
    pub fn new(service: S) -> Self {
        Self {
            service,
            body: None,
        }
    }
}

impl<S> fmt::Debug for TowerHandler<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerHandler")
            .field("service", &std::any::type_name::<S>())
            .finish_non_exhaustive()
    }
}

/// A route whose requests `service` answers through a [`TowerHandler`] (each request gets a
/// clone of it).
///
/// # Panics
///
/// If `pattern` is not a valid regular expression, as [`route`]; for an error instead, use
/// `Route::try_new(pattern, move || TowerHandler::new(service.clone()))`.
///
/// # Examples
///
/// Typhoon handlers beside an axum router under `/api`, on one server:
///
/// ```
/// use axum::routing::get;
/// use typhoon_platform::tower::route_service;
/// use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};
///
/// struct Home;
/// impl RequestHandler for Home {
///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         cx.write("typhoon");
///         Ok(())
///     }
/// }
///
/// let api = axum::Router::new().route("/api/hello", get(|| async { "axum" }));
/// let app = Application::new(vec![route("/", || Home), route_service("/api/.*", api)]);
/// typhoon_testing::run_test(async {
///     let server = typhoon_testing::AsyncHTTPTestServer::new(app);
///     assert_eq!(server.fetch("/").await?.body, b"typhoon");
///     assert_eq!(server.fetch("/api/hello").await?.body, b"axum");
///     assert_eq!(server.fetch("/api/nope").await?.code, 404); // axum's 404
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn route_service<S, B>(pattern: &str, service: S) -> Route
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    route(pattern, move || TowerHandler::new(service.clone()))
}

impl<S, B> TowerHandler<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    /// Runs the request through the service: the body fed from the connection while the
    /// service runs and while its response is written (an echo reads as it writes).
    async fn serve(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let mut head =
            request_to_http(cx.request()).map_err(|error| HTTPError::with_source(400, error))?;
        if head.headers().contains_key("x-consumed-content-encoding") {
            // The server inflates the body (`decompress_request`): its declared length is the
            // compressed one.
            head.headers_mut().remove(http::header::CONTENT_LENGTH);
        }
        let reader = self.body.take().filter(|reader| !reader.is_done());
        let (feed, body) = match reader {
            Some(reader) => {
                let (sender, body) = channel();
                (Some(feed_body(reader, sender, cx.max_body_size())), body)
            }
            None => (None, RequestBody::empty()),
        };
        let respond = respond(&mut self.service, head.map(|()| body), cx);
        let mut feed = pin!(feed);
        let mut respond = pin!(respond);
        // The service first, so that it is called before any body is read.
        poll_fn(|task| {
            if let Poll::Ready(done) = respond.as_mut().poll(task) {
                return Poll::Ready(done);
            }
            if let Some(feeding) = feed.as_mut().as_pin_mut()
                && let Poll::Ready(fed) = feeding.poll(task)
            {
                feed.set(None);
                // The body failed (too large, cut short, timed out): the request is over.
                fed?;
                // The body is all queued: the service may be waiting for its end.
                return respond.as_mut().poll(task);
            }
            Poll::Pending
        })
        .await
    }
}

/// Reads the body off the connection into the service's [`RequestBody`], counted against
/// `limit` (as the framework counts a streamed body for `data_received`). Stops, without error,
/// when the service drops the body: the connection then closes after the response, as for
/// any handler that leaves its body unread.
async fn feed_body(
    mut reader: BodyReader,
    mut sender: BodySender,
    limit: u64,
) -> Result<(), HTTPError> {
    let mut read: u64 = 0;
    loop {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => {
                read = read.saturating_add(chunk.len() as u64);
                if read > limit {
                    sender.fail(TowerError::BodyTooLarge { limit });
                    return Err(HTTPError::with_log_message(413, "body too large"));
                }
                if sender.send(Bytes::from(chunk)).await.is_err() {
                    return Ok(());
                }
            }
            Ok(None) => {
                sender.finish();
                return Ok(());
            }
            Err(error) => {
                let status = error.status();
                sender.fail(TowerError::RequestBody {
                    source: error.clone(),
                });
                return Err(HTTPError::with_source(status, error));
            }
        }
    }
}

/// Calls the service (tower's `Oneshot`: `poll_ready`, then `call`) and writes its response.
async fn respond<S, B>(
    service: &mut S,
    request: http::Request<RequestBody>,
    cx: &mut Context,
) -> Result<(), HTTPError>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    let service_error = |error: S::Error| TowerError::Service {
        source: error.into(),
    };
    poll_fn(|task| service.poll_ready(task))
        .await
        .map_err(service_error)?;
    let response = service.call(request).await.map_err(service_error)?;
    let (head, body) = response.into_parts();
    cx.set_response_head(&head)?;
    write_body(cx, body).await
}

/// Writes the response body's data frames, flushing each (back-pressure) unless the body says
/// it has ended, then finishes the response.
async fn write_body<B>(cx: &mut Context, body: B) -> Result<(), HTTPError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let mut body = pin!(body);
    while !body.is_end_stream() {
        let Some(frame) = poll_fn(|task| body.as_mut().poll_frame(task)).await else {
            break;
        };
        let frame = frame.map_err(|error| TowerError::ResponseBody {
            source: error.into(),
        })?;
        // Trailers are dropped (see `TowerHandler`).
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        while data.has_remaining() {
            let chunk = data.chunk();
            let len = chunk.len();
            cx.write(chunk);
            data.advance(len);
        }
        if !body.is_end_stream() {
            cx.flush().await?;
        }
    }
    cx.finish();
    Ok(())
}

impl<S, B> RequestHandler for TowerHandler<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    /// The WebDAV verbs (RFC 4918, 3253, 4791, 5323), `TRACE`, `PURGE`, `LINK`/`UNLINK` and
    /// the draft `QUERY`; a service answers those it does not serve itself (axum: 405).
    const EXTRA_METHODS: &'static [&'static str] = &[
        "TRACE",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "REPORT",
        "SEARCH",
        "MKCALENDAR",
        "MKACTIVITY",
        "CHECKOUT",
        "MERGE",
        "PURGE",
        "LINK",
        "UNLINK",
        "QUERY",
    ];

    /// The body is the service's to read, as it arrives.
    const STREAM_REQUEST_BODY: bool = true;

    fn compute_etag(_cx: &Context, _body: &[u8]) -> Option<Etag> {
        None
    }

    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.body = cx.take_body_reader();
        Ok(())
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn head(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn delete(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn patch(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn put(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn options(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.serve(cx).await
    }

    async fn other_method(&mut self, cx: &mut Context, _method: &str) -> Result<(), HTTPError> {
        self.serve(cx).await
    }
}
