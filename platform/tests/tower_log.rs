//! What a hosted tower service leaves in the logs: Tornado's access line on `typhoon::access`
//! for each of its requests, and a service error with its cause on `typhoon::application`. (A
//! test binary of its own, where every test captures the log: `tracing`'s per-call-site cache
//! can miss a capture when other tests run the same call sites with no subscriber, see
//! `typhoon_testing::capture_logs`.)

use std::convert::Infallible;

use axum::routing::get;
use bytes::Bytes;
use http_body_util::Full;
use typhoon_platform::tower::{RequestBody, route_service};
use typhoon_testing::{AsyncHTTPTestServer, capture_logs, run_test};
use typhoon_web::Application;

#[test]
fn tower_routes_get_access_lines_and_logged_errors() {
    let ((), log) = capture_logs(|| {
        run_test(async {
            let api = axum::Router::new().route("/api/hello", get(|| async { "axum" }));
            let failing = tower::service_fn(|_request: http::Request<RequestBody>| async {
                Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other("database on fire"))
            });
            let ok = tower::service_fn(|_request: http::Request<RequestBody>| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
            });
            let app = Application::new(vec![
                route_service("/api/.*", api),
                route_service("/fail", failing),
                route_service("/ok", ok),
            ]);
            let server = AsyncHTTPTestServer::new(app);
            for (path, status) in [
                ("/api/hello?x=1", 200),
                ("/api/nope", 404),
                ("/fail", 500),
                ("/ok", 200),
            ] {
                let response = server.fetch(path).await.expect("response");
                assert_eq!(response.code, status, "{path}");
            }
        });
    });
    let access: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("typhoon::access"))
        .collect();
    for expected in [
        "200 GET /api/hello?x=1 (127.0.0.1)",
        "404 GET /api/nope (127.0.0.1)",
        "500 GET /fail (127.0.0.1)",
        "200 GET /ok (127.0.0.1)",
    ] {
        assert_eq!(
            access.iter().filter(|line| line.contains(expected)).count(),
            1,
            "one access line {expected:?} in {log}"
        );
    }
    let application: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("typhoon::application"))
        .collect();
    assert_eq!(application.len(), 1, "one application error: {log}");
    assert_eq!(
        log.matches("database on fire").count(),
        1,
        "the cause, once: {log}"
    );
}
