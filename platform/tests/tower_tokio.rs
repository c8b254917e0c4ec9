//! A hosted tower service's tokio calls: through the bridge (`run_on_tokio`) from an axum
//! handler, a panic without it, and `TokioContext` for services that call tokio throughout
//! (tokio timers, `tokio::spawn`, a body on a tokio timer, tower's `timeout` layer).

mod util;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::routing::get;
use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::Full;
use typhoon_platform::tower::{RequestBody, route_service};
use typhoon_testing::{AsyncHTTPTestServer, run_test};
use typhoon_web::Application;
use util::axum_api;

#[test]
fn tokio_calls_go_through_the_bridge() {
    run_test(async {
        let app = Application::new(vec![route_service("/api/.*", axum_api())]);
        let server = AsyncHTTPTestServer::new(app);
        let bridged = server.fetch("/api/tokio").await.expect("response");
        assert_eq!(bridged.code, 200);
        assert_eq!(bridged.text(), "slept on tokio");
        // Without the bridge, tokio's timer has no runtime: a panic, answered with a 500.
        let unbridged = server
            .fetch("/api/tokio-unbridged")
            .await
            .expect("response");
        assert_eq!(unbridged.code, 500);
        let again = server.fetch("/api/hello").await.expect("response");
        assert_eq!(again.text(), "axum");
    });
}

/// A response body that waits on a tokio timer (made on first poll) before its one frame.
struct AfterTokioSleep {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl Body for AfterTokioSleep {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(2))));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.done = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
            b"body after a tokio timer",
        )))))
    }
}

#[test]
fn a_tokio_context_runs_services_that_call_tokio_throughout() {
    use typhoon_platform::tower::TokioContext;
    run_test(async {
        let api = axum::Router::new().route(
            "/api/spawn",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let spawned = tokio::spawn(async { 21 * 2 });
                match spawned.await {
                    Ok(n) => n.to_string(),
                    Err(error) => format!("join failed: {error}"),
                }
            }),
        );
        let body = tower::service_fn(|_request: http::Request<RequestBody>| async {
            Ok::<_, Infallible>(http::Response::new(AfterTokioSleep {
                sleep: None,
                done: false,
            }))
        });
        let bridge = typhoon_platform::TokioBridge::new().expect("runtime");
        let app = Application::new(vec![
            route_service(
                "/api/.*",
                TokioContext::with_default_bridge(api).expect("bridge"),
            ),
            route_service("/body", TokioContext::new(body, &bridge)),
        ]);
        let server = AsyncHTTPTestServer::new(app);
        let spawned = server.fetch("/api/spawn").await.expect("response");
        assert_eq!(
            (spawned.code, spawned.text().into_owned()),
            (200, "42".to_owned())
        );
        let body = server.fetch("/body").await.expect("response");
        assert_eq!(body.text(), "body after a tokio timer");
    });
}

#[test]
fn towers_timeout_layer_works_in_a_tokio_context() {
    use typhoon_platform::tower::TokioContext;
    run_test(async {
        let quick = tower::service_fn(|_request: http::Request<RequestBody>| async {
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                b"in time",
            ))))
        });
        let hanging = tower::service_fn(|_request: http::Request<RequestBody>| async {
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
        });
        fn in_context<S>(service: S) -> TokioContext<tower::timeout::Timeout<S>> {
            let timeout = tower::timeout::Timeout::new(service, Duration::from_millis(20));
            TokioContext::with_default_bridge(timeout).expect("bridge")
        }
        let app = Application::new(vec![
            route_service("/quick", in_context(quick)),
            route_service("/hanging", in_context(hanging)),
        ]);
        let server = AsyncHTTPTestServer::new(app);
        let quick = server.fetch("/quick").await.expect("response");
        assert_eq!(
            (quick.code, quick.text().into_owned()),
            (200, "in time".to_owned())
        );
        // tower's timeout fired (a tokio timer): its `Elapsed` error is a 500.
        let hanging = server.fetch("/hanging").await.expect("response");
        assert_eq!(hanging.code, 500);
    });
}
