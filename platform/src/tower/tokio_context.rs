//! [`TokioContext`] (features `tower` and `tokio`): a hosted service polled inside the tokio
//! bridge's runtime context, for services whose futures or bodies call tokio throughout.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tokio::runtime::Handle;
use tower_service::Service;

use crate::tokio_bridge::{BridgeError, TokioBridge, default_bridge};

/// Wraps a service so that its `poll_ready`, its futures and its response bodies are polled on
/// Typhoon's loop *inside the tokio bridge's runtime context* (`Handle::enter`, the way
/// `async_compat::Compat` runs tokio code under another executor): tokio timers, sockets,
/// `tokio::spawn` and `tokio::fs` then work in the service without a
/// [`run_on_tokio`](crate::run_on_tokio) around each call, and tower's `timeout` layer or
/// tower-http's `TimeoutLayer` can wrap it.
///
/// The tokio resources it makes register with the bridge's runtime, whose worker thread drives
/// their I/O and timers and wakes Typhoon's loop for each event: a cross-thread wake per tokio
/// event (a timer firing, a socket becoming readable), where [`run_on_tokio`](crate::run_on_tokio)
/// costs one each way per call and runs the whole call on the runtime. Prefer `run_on_tokio`
/// for a few tokio calls inside handlers; use this for services that are tokio through and
/// through. Do not mix the two for one resource (a pool made here is driven by the same
/// runtime, but one made inside `run_on_tokio` on a bridge of your own may not be).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use axum::routing::get;
/// use typhoon_platform::tower::{TokioContext, route_service};
/// use typhoon_web::Application;
///
/// // tokio's timer straight in an axum handler: it would panic on Typhoon's loop without the
/// // runtime context.
/// let api = axum::Router::new().route(
///     "/api/nap",
///     get(|| async {
///         tokio::time::sleep(Duration::from_millis(2)).await;
///         "rested"
///     }),
/// );
/// let app = Application::new(vec![route_service("/api/.*", TokioContext::with_default_bridge(api)?)]);
/// typhoon_testing::run_test(async {
///     let server = typhoon_testing::AsyncHTTPTestServer::new(app);
///     assert_eq!(server.fetch("/api/nap").await?.body, b"rested");
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokioContext<S> {
    /// The service.
    inner: S,
    /// The runtime whose context its polls enter.
    handle: Handle,
}

impl<S> TokioContext<S> {
    /// `service`, polled in `bridge`'s runtime context.
    pub fn new(service: S, bridge: &TokioBridge) -> Self {
        Self {
            inner: service,
            handle: bridge.handle().clone(),
        }
    }

    /// `service`, polled in the context of the process's default bridge (the one
    /// [`run_on_tokio`](crate::run_on_tokio) uses, started on first use).
    ///
    /// # Errors
    ///
    /// [`BridgeError::Runtime`] if the default runtime cannot be started.
    pub fn with_default_bridge(service: S) -> Result<Self, BridgeError> {
        Ok(Self::new(service, default_bridge()?))
    }
}

impl<S> fmt::Debug for TokioContext<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioContext")
            .field("service", &std::any::type_name::<S>())
            .finish_non_exhaustive()
    }
}

impl<S, R, B> Service<R> for TokioContext<S>
where
    S: Service<R, Response = http::Response<B>>,
{
    type Response = http::Response<TokioContextBody<B>>;
    type Error = S::Error;
    type Future = TokioContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        let _context = self.handle.enter();
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let future = {
            let _context = self.handle.enter();
            self.inner.call(request)
        };
        TokioContextFuture {
            inner: Box::pin(future),
            handle: self.handle.clone(),
        }
    }
}

/// The future of a [`TokioContext`]'s call.
pub struct TokioContextFuture<F> {
    /// The service's future.
    inner: Pin<Box<F>>,
    /// The runtime whose context each poll enters (and the response body's).
    handle: Handle,
}

impl<F, B, E> Future for TokioContextFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<TokioContextBody<B>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self.handle.clone();
        let polled = {
            let _context = handle.enter();
            self.inner.as_mut().poll(cx)
        };
        polled.map(|result| {
            result.map(|response| {
                response.map(|body| TokioContextBody {
                    inner: Box::pin(body),
                    handle,
                })
            })
        })
    }
}

impl<F> fmt::Debug for TokioContextFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokioContextFuture")
    }
}

/// The response body of a [`TokioContext`]'s call, polled in the runtime's context.
pub struct TokioContextBody<B> {
    /// The service's body.
    inner: Pin<Box<B>>,
    /// The runtime whose context each poll enters.
    handle: Handle,
}

impl<B: Body> Body for TokioContextBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let handle = self.handle.clone();
        let _context = handle.enter();
        self.inner.as_mut().poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> fmt::Debug for TokioContextBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokioContextBody")
    }
}
