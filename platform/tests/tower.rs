//! tower services hosted inside Typhoon (Tornado's `wsgi_test.py` and
//! `routing_test.WSGIContainerTestCase`): axum and native routes over one keep-alive
//! connection, bodies streamed both ways, the body limit, the request timeout, service errors,
//! dropped futures, two requests in flight on one loop, and tokio calls through the bridge. All
//! over a real loopback socket on port 0.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::routing::{get, post};
use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use typhoon_ioloop::locks::Event;
use typhoon_iostream::IOStream;
use typhoon_platform::tower::{ConnectionInfo, RequestBody, TowerHandler, route_service};
use typhoon_testing::{AsyncHTTPTestServer, connect, read_response, run_test};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// A native Typhoon handler.
struct Home;
impl RequestHandler for Home {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("native");
        Ok(())
    }
}

/// The axum side: a greeting, an echo that streams the request body back as it reads it, a
/// buffered byte count, the URI and client address the service saw, and a tokio timer through
/// the bridge.
fn axum_api() -> axum::Router {
    axum::Router::new()
        .route("/api/hello", get(|| async { "axum" }))
        .route(
            "/api/echo",
            post(|body: axum::body::Body| async move { body }),
        )
        .route(
            "/api/count",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/api/whoami",
            get(
                |uri: axum::http::Uri, axum::Extension(info): axum::Extension<ConnectionInfo>| async move {
                    format!("{uri} {} {}", info.remote_ip, info.protocol)
                },
            ),
        )
        .route(
            "/api/tokio",
            get(|| async {
                match typhoon_platform::run_on_tokio(async {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    "slept on tokio"
                })
                .await
                {
                    Ok(text) => text.to_owned(),
                    Err(error) => format!("bridge failed: {error}"),
                }
            }),
        )
        .route(
            "/api/tokio-unbridged",
            get(|| async {
                // No runtime on Typhoon's loop: this panics, and the handler answers 500.
                tokio::time::sleep(Duration::from_millis(1)).await;
                "unreachable"
            }),
        )
}

fn addr_of(server: &AsyncHTTPTestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port()))
}

/// Sends `request` on `stream` and reads one response.
async fn exchange(stream: &IOStream, request: &str) -> typhoon_testing::RawResponse {
    stream.write(request.as_bytes()).await.expect("write");
    read_response(stream, request.starts_with("HEAD ")).await
}

#[test]
fn native_and_axum_routes_share_one_keep_alive_connection() {
    run_test(async {
        let app = Application::new(vec![
            route("/", || Home),
            route_service("/api/.*", axum_api()),
        ]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        let get_home = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
        let get_hello = "GET /api/hello HTTP/1.1\r\nHost: t\r\n\r\n";
        for _ in 0..2 {
            let home = exchange(&stream, get_home).await;
            assert_eq!((home.status, home.text().as_str()), (200, "native"));
            let hello = exchange(&stream, get_hello).await;
            assert_eq!((hello.status, hello.text().as_str()), (200, "axum"));
            assert_eq!(hello.header("Content-Length").as_deref(), Some("4"));
            assert_eq!(
                hello.header("Content-Type").as_deref(),
                Some("text/plain; charset=utf-8"),
                "the service's headers, not Typhoon's default"
            );
            assert_eq!(hello.header("Connection"), None);
        }
        let posted = exchange(
            &stream,
            "POST /api/count HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
        )
        .await;
        assert_eq!((posted.status, posted.text().as_str()), (200, "5"));
        let missing = exchange(&stream, "GET /api/missing HTTP/1.1\r\nHost: t\r\n\r\n").await;
        assert_eq!(missing.status, 404, "axum's own 404");
        let head = exchange(&stream, "HEAD /api/hello HTTP/1.1\r\nHost: t\r\n\r\n").await;
        assert_eq!(head.status, 200);
        // Still the same connection: one more native request answers.
        let home = exchange(&stream, get_home).await;
        assert_eq!(home.text(), "native");
    });
}

#[test]
fn the_service_sees_the_uri_as_sent_and_the_connection_info() {
    run_test(async {
        let app = Application::new(vec![route_service("/api/.*", axum_api())]);
        let server = AsyncHTTPTestServer::new(app);
        let response = server.fetch("/api/whoami?x=1").await.expect("response");
        assert_eq!(response.text(), "/api/whoami?x=1 127.0.0.1 http");
    });
}

/// Writes `body` on `stream` from a task of its own (the server echoes as it reads, so the
/// test reads while it writes).
fn write_in_background(stream: &Rc<IOStream>, head: String, body: Vec<u8>) {
    let stream = Rc::clone(stream);
    typhoon_ioloop::spawn(async move {
        stream.write(head.as_bytes()).await.expect("head");
        for piece in body.chunks(100_000) {
            stream.write(piece).await.expect("body");
        }
    })
    .detach();
}

#[test]
fn a_streamed_request_body_is_echoed_back_as_it_arrives() {
    run_test(async {
        let app = Application::new(vec![route_service("/api/.*", axum_api())]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = Rc::new(connect(addr_of(&server)).await);
        // 4 MiB: many of the server's chunks, and more than the sockets buffer one way.
        let body: Vec<u8> = (0..4 * 1024 * 1024_u32).map(|i| (i % 251) as u8).collect();
        let head = format!(
            "POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        write_in_background(&stream, head, body.clone());
        let echoed = read_response(&stream, false).await;
        assert_eq!(echoed.status, 200);
        assert_eq!(
            echoed.header("Transfer-Encoding").as_deref(),
            Some("chunked"),
            "streamed, not buffered"
        );
        assert!(echoed.body == body, "the echo differs");

        // A chunked request body, on the same connection.
        let mut chunked = Vec::new();
        for piece in body[..300_000].chunks(70_000) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let head = "POST /api/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        write_in_background(&stream, head.to_owned(), chunked);
        let echoed = read_response(&stream, false).await;
        assert!(echoed.body == body[..300_000], "the chunked echo differs");
    });
}

/// A response body: `first`, then (once `gate` is set) `second`.
struct Gated {
    first: Option<Bytes>,
    gate: Option<Pin<Box<dyn Future<Output = ()>>>>,
    second: Option<Bytes>,
}

impl Body for Gated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if let Some(gate) = self.gate.as_mut() {
            if gate.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.gate = None;
        }
        Poll::Ready(self.second.take().map(|second| Ok(Frame::data(second))))
    }
}

#[test]
fn a_streamed_response_body_goes_out_frame_by_frame() {
    run_test(async {
        let gate = Event::new();
        let opened = gate.clone();
        // Not `Send` (an `Rc` inside): a plain tower service on Typhoon's loop may be.
        let service = tower::service_fn(move |_request: http::Request<RequestBody>| {
            let opened = opened.clone();
            async move {
                let body = Gated {
                    first: Some(Bytes::from_static(b"first,")),
                    gate: Some(Box::pin(async move { opened.wait().await })),
                    second: Some(Bytes::from_static(b"second")),
                };
                Ok::<_, Infallible>(http::Response::new(body))
            }
        });
        let app = Application::new(vec![route_service("/stream", service)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        stream
            .write(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        // The first frame arrives while the second is held back: it was flushed on its own.
        let head_and_first = stream
            .read_until(b"first,\r\n", Some(64 * 1024))
            .await
            .expect("the first frame, before the second exists");
        let text = String::from_utf8_lossy(&head_and_first);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Transfer-Encoding: chunked\r\n"), "{text}");
        gate.set();
        let rest = stream
            .read_until(b"0\r\n\r\n", Some(64 * 1024))
            .await
            .expect("the rest");
        assert_eq!(rest, b"6\r\nsecond\r\n0\r\n\r\n");
    });
}

#[test]
fn the_body_limit_gives_413_for_a_tower_route() {
    run_test(async {
        let called = Rc::new(Cell::new(0_u32));
        let calls = Rc::clone(&called);
        let api = axum_api();
        let counting = tower::service_fn(move |request: http::Request<RequestBody>| {
            calls.set(calls.get() + 1);
            let mut api = api.clone();
            async move { tower::Service::call(&mut api, request).await }
        });
        let app = Application::new(vec![
            route_service("/api/.*", counting).max_body_size(1000),
            route("/", || Home),
        ]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        // Declared too long: refused before the service is called.
        let declared = exchange(
            &stream,
            "POST /api/count HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n",
        )
        .await;
        assert_eq!(declared.status, 413);
        assert_eq!(called.get(), 0, "the service never saw it");

        // Chunked, and too long only once read: the service was reading it.
        let stream = Rc::new(connect(addr_of(&server)).await);
        let mut chunked = Vec::new();
        for _ in 0..3 {
            chunked.extend_from_slice(b"1f4\r\n");
            chunked.extend_from_slice(&[b'x'; 500]);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let head = "POST /api/count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        write_in_background(&stream, head.to_owned(), chunked);
        let counted = read_response(&stream, false).await;
        assert_eq!(counted.status, 413);
        assert_eq!(called.get(), 1);

        // Within the limit, the same route answers.
        let fine = server
            .fetch_request(
                server
                    .request("/api/count")
                    .method("POST")
                    .body(vec![b'y'; 999]),
            )
            .await
            .expect("response");
        assert_eq!(fine.text(), "999");
    });
}

#[test]
fn a_service_error_is_a_500_and_the_server_goes_on() {
    run_test(async {
        let failing = tower::service_fn(|_request: http::Request<RequestBody>| async {
            Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other("database on fire"))
        });
        let failing_body = tower::service_fn(|_request: http::Request<RequestBody>| async {
            Ok::<_, Infallible>(http::Response::new(FailingBody { sent: false }))
        });
        let app = Application::new(vec![
            route("/", || Home),
            route_service("/fail", failing),
            route_service("/fail-body", failing_body),
        ]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        let failed = exchange(&stream, "GET /fail HTTP/1.1\r\nHost: t\r\n\r\n").await;
        assert_eq!(failed.status, 500);
        assert!(
            !failed.text().contains("database on fire"),
            "no detail leaks"
        );
        // The same connection goes on.
        let home = exchange(&stream, "GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
        assert_eq!(home.text(), "native");

        // A body that fails after its first frame went out: the connection closes, so the
        // response cannot look complete.
        let stream = connect(addr_of(&server)).await;
        stream
            .write(b"GET /fail-body HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        let cut = typhoon_ioloop::timeout(Duration::from_secs(10), stream.read_until_close())
            .await
            .expect("closed")
            .unwrap_or_default();
        let cut = String::from_utf8_lossy(&cut);
        assert!(cut.starts_with("HTTP/1.1 200 OK\r\n"), "{cut}");
        assert!(cut.contains("partial"), "{cut}");
        assert!(!cut.ends_with("0\r\n\r\n"), "no final chunk: {cut}");
        assert_eq!(server.fetch("/").await.expect("response").text(), "native");
    });
}

/// A body that fails after its first frame.
struct FailingBody {
    sent: bool,
}

impl Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.sent {
            return Poll::Ready(Some(Err(std::io::Error::other("upstream went away"))));
        }
        self.sent = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"partial")))))
    }
}

#[test]
fn the_request_timeout_applies_and_the_future_is_dropped() {
    run_test(async {
        let dropped = Event::new();
        let on_drop = dropped.clone();
        let hanging = tower::service_fn(move |_request: http::Request<RequestBody>| {
            let guard = SetOnDrop(on_drop.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok::<http::Response<Full<Bytes>>, Infallible>(http::Response::new(Full::default()))
            }
        });
        let app = Application::new(vec![
            route_service("/hang", hanging).timeout(Duration::from_millis(50)),
        ]);
        let server = AsyncHTTPTestServer::new(app);
        let response = server.fetch("/hang").await.expect("response");
        assert_eq!(response.code, 503);
        dropped
            .wait_timeout(Duration::from_secs(5))
            .await
            .expect("the service's future was dropped");
    });
}

/// Sets its event when dropped.
struct SetOnDrop(Event);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

#[test]
fn the_in_flight_future_is_dropped_when_the_client_goes_away() {
    run_test(async {
        let started = Event::new();
        let dropped = Event::new();
        let (on_start, on_drop) = (started.clone(), dropped.clone());
        let hanging = tower::service_fn(move |_request: http::Request<RequestBody>| {
            on_start.set();
            let guard = SetOnDrop(on_drop.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok::<http::Response<Full<Bytes>>, Infallible>(http::Response::new(Full::default()))
            }
        });
        let app = Application::new(vec![route_service("/hang", hanging)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        stream
            .write(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        started.wait().await;
        assert!(!dropped.is_set());
        stream.close();
        dropped
            .wait_timeout(Duration::from_secs(5))
            .await
            .expect("the service's future was dropped");
    });
}

#[test]
fn two_requests_in_flight_at_once_on_one_loop() {
    run_test(async {
        // Each call waits until both have started (Tornado's wsgi_test barrier): served one
        // after the other, they would never finish.
        let arrived = Rc::new(Cell::new(0_u32));
        let both = Event::new();
        let service = tower::service_fn(move |_request: http::Request<RequestBody>| {
            let (arrived, both) = (Rc::clone(&arrived), both.clone());
            async move {
                arrived.set(arrived.get() + 1);
                if arrived.get() == 2 {
                    both.set();
                }
                both.wait().await;
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
            }
        });
        let app = Application::new(vec![route_service("/barrier", service)]);
        let server = AsyncHTTPTestServer::new(app);
        let (a, b) = (server.fetch("/barrier"), server.fetch("/barrier"));
        let results = typhoon_ioloop::join_all([a, b]).await;
        for result in results {
            assert_eq!(result.expect("response").text(), "ok");
        }
    });
}

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

#[test]
fn a_tower_handler_serves_as_the_default_handler() {
    run_test(async {
        let api = axum_api();
        let app = Application::new(vec![route("/", || Home)])
            .default_handler(move || TowerHandler::new(api.clone()));
        let server = AsyncHTTPTestServer::new(app);
        assert_eq!(server.fetch("/").await.expect("response").text(), "native");
        assert_eq!(
            server.fetch("/api/hello").await.expect("response").text(),
            "axum"
        );
        let collected = RequestBody::empty().collect().await.expect("empty");
        assert!(collected.to_bytes().is_empty());
    });
}

#[test]
fn an_inflated_body_reaches_the_service_without_its_compressed_length() {
    use std::io::Write as _;
    run_test(async {
        let seen = tower::service_fn(|request: http::Request<RequestBody>| async move {
            let length = request.headers().get(http::header::CONTENT_LENGTH).cloned();
            let consumed = request
                .headers()
                .get("x-consumed-content-encoding")
                .cloned();
            let body = request.into_body().collect().await?.to_bytes();
            let text = format!("{length:?} {consumed:?} {}", body.len());
            Ok::<_, typhoon_platform::tower::TowerError>(http::Response::new(Full::new(
                Bytes::from(text),
            )))
        });
        let settings = typhoon_web::Settings {
            server: typhoon_httpserver::HTTPServerOptions {
                decompress_request: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let app = Application::with_settings(vec![route_service("/seen", seen)], settings);
        let server = AsyncHTTPTestServer::new(app);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&[b'z'; 100_000]).expect("gzip");
        let gzipped = encoder.finish().expect("gzip");
        let request = server
            .request("/seen")
            .method("POST")
            .header("Content-Encoding", "gzip")
            .body(gzipped);
        let response = server.fetch_request(request).await.expect("response");
        assert_eq!(response.text(), "None Some(\"gzip\") 100000");
    });
}

#[test]
fn unusual_targets_reach_the_service_as_sent() {
    run_test(async {
        let app = Application::new(vec![route_service("/api/.*", axum_api())]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        for (target, seen) in [
            ("/api/whoami?q=a|b{c}^", "/api/whoami?q=a|b{c}^"),
            // `http` refuses a raw `"`: it is percent-encoded, as a browser sends it.
            (
                "/api/whoami?q=%22x%22&r=\"y\"",
                "/api/whoami?q=%22x%22&r=%22y%22",
            ),
        ] {
            let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n");
            let response = exchange(&stream, &request).await;
            assert_eq!(response.status, 200, "{target}: {}", response.text());
            assert_eq!(response.text(), format!("{seen} 127.0.0.1 http"));
        }
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

#[test]
fn compress_response_applies_unless_the_service_encodes() {
    run_test(async {
        let text = "compressible text ".repeat(200);
        let plain = {
            let text = text.clone();
            tower::service_fn(move |_request: http::Request<RequestBody>| {
                let text = text.clone();
                async move {
                    http::Response::builder()
                        .header("content-type", "text/plain")
                        .body(Full::new(Bytes::from(text)))
                }
            })
        };
        let encoded = tower::service_fn(|_request: http::Request<RequestBody>| async {
            http::Response::builder()
                .header("content-type", "text/plain")
                .header("content-encoding", "br")
                .body(Full::new(Bytes::from_static(b"pretend-brotli")))
        });
        let settings = typhoon_web::Settings {
            compress_response: true,
            ..Default::default()
        };
        let app = Application::with_settings(
            vec![
                route_service("/plain", plain),
                route_service("/encoded", encoded),
            ],
            settings,
        );
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        let gzipped = exchange(
            &stream,
            "GET /plain HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n",
        )
        .await;
        assert_eq!(gzipped.header("Content-Encoding").as_deref(), Some("gzip"));
        let mut inflated = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(gzipped.body.as_slice()),
            &mut inflated,
        )
        .expect("gzip");
        assert_eq!(inflated, text);
        let kept = exchange(
            &stream,
            "GET /encoded HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n",
        )
        .await;
        assert_eq!(kept.header("Content-Encoding").as_deref(), Some("br"));
        assert_eq!(kept.body, b"pretend-brotli");
    });
}

/// Lets the loop turn `n` times (its I/O polled in each), for a test that checks that
/// something did *not* run away: no sleeping, a bounded count of loop iterations.
async fn turn_loop(n: usize) {
    for _ in 0..n {
        typhoon_ioloop::yield_now().await;
    }
}

/// An endless response body of 1 MiB frames, counting the frames it made. Every other poll it
/// yields to the loop, so that a writer without back-pressure would make a frame every other
/// loop turn rather than never yield.
struct Endless {
    made: Rc<Cell<usize>>,
    yield_next: bool,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.yield_next = !self.yield_next;
        if !self.yield_next {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.made.set(self.made.get() + 1);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'r'; 1 << 20])))))
    }
}

#[test]
fn a_client_that_does_not_read_holds_the_response_body_back() {
    run_test(async {
        let made = Rc::new(Cell::new(0_usize));
        let counter = Rc::clone(&made);
        let endless = tower::service_fn(move |_request: http::Request<RequestBody>| {
            let body = Endless {
                made: Rc::clone(&counter),
                yield_next: false,
            };
            async move { Ok::<_, Infallible>(http::Response::new(body)) }
        });
        let app = Application::new(vec![route_service("/endless", endless)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        stream
            .write(b"GET /endless HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        // The client reads nothing: once the sockets' buffers are full (a few MiB on loopback),
        // each flush waits, and the body is not asked for more.
        turn_loop(2000).await;
        let made_while_unread = made.get();
        assert!(made_while_unread >= 1, "the response started");
        assert!(
            made_while_unread < 40,
            "{made_while_unread} MiB made for a client that reads nothing"
        );
        // Reading lets it go on.
        let read = stream.read_bytes(8 << 20, false).await.expect("read");
        assert_eq!(read.len(), 8 << 20);
        turn_loop(200).await;
        assert!(made.get() > made_while_unread, "reading resumed the body");
    });
}

#[test]
fn a_service_that_does_not_read_holds_the_request_body_back() {
    run_test(async {
        let release = Event::new();
        let released = release.clone();
        // Reads one frame, then waits until the test lets it read the rest.
        let slow = tower::service_fn(move |request: http::Request<RequestBody>| {
            let released = released.clone();
            async move {
                let mut body = request.into_body();
                let mut total = match body.frame().await {
                    Some(Ok(frame)) => frame.into_data().map_or(0, |data| data.len()),
                    _ => 0,
                };
                released.wait().await;
                while let Some(frame) = body.frame().await {
                    total += frame?.into_data().map_or(0, |data| data.len());
                }
                Ok::<_, typhoon_platform::tower::TowerError>(http::Response::new(Full::new(
                    Bytes::from(total.to_string()),
                )))
            }
        });
        let app = Application::new(vec![route_service("/slow", slow)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = Rc::new(connect(addr_of(&server)).await);
        let size = 64_usize << 20;
        let sent = Rc::new(Cell::new(0_usize));
        {
            let (stream, sent) = (Rc::clone(&stream), Rc::clone(&sent));
            typhoon_ioloop::spawn(async move {
                let head =
                    format!("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n");
                stream.write(head.as_bytes()).await.expect("head");
                let piece = vec![b's'; 256 * 1024];
                while sent.get() < size {
                    stream.write(&piece).await.expect("body");
                    sent.set(sent.get() + piece.len());
                }
            })
            .detach();
        }
        turn_loop(20_000).await;
        let sent_while_held = sent.get();
        assert!(
            sent_while_held < 32 << 20,
            "{sent_while_held} bytes taken from a client while the service reads nothing"
        );
        release.set();
        let response = read_response(&stream, false).await;
        assert_eq!(response.text(), size.to_string());
        assert_eq!(sent.get(), size);
    });
}
