//! tower services hosted inside Typhoon (Tornado's `wsgi_test.py` and
//! `routing_test.WSGIContainerTestCase`): axum and native routes over one keep-alive
//! connection, the URI and connection the service sees, the body limit, the request timeout,
//! service errors, dropped futures, two requests in flight on one loop, the fallback handler,
//! inflated bodies and compressed responses. All over a real loopback socket on port 0
//! (streaming and back-pressure: `tower_streaming.rs`; tokio: `tower_tokio.rs`).

mod util;

use std::cell::Cell;
use std::convert::Infallible;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use typhoon_ioloop::locks::Event;
use typhoon_platform::tower::{RequestBody, TowerHandler, route_service};
use typhoon_testing::{AsyncHTTPTestServer, connect, read_response, run_test};
use typhoon_web::{Application, route};
use util::{Home, addr_of, axum_api, exchange, write_in_background};

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
