//! The `helloworld` example's application over a real socket, through the test kit's
//! `AsyncHTTPTestServer` (Tornado's `AsyncHTTPTestCase`).

use typhoon_examples::helloworld::make_app;
use typhoon_httpclient::HTTPClientError;
use typhoon_testing::{AsyncHTTPTestServer, run_test};

#[test]
fn hello_world_and_405_and_404() {
    run_test(async {
        let server = AsyncHTTPTestServer::new(make_app());
        let response = server.fetch("/").await.expect("fetch");
        assert_eq!(response.code, 200);
        assert_eq!(response.text(), "Hello, world");
        // Any status is a response, as Tornado's AsyncHTTPTestCase.fetch.
        let missing = server.fetch("/nope").await.expect("a 404 response");
        assert_eq!(missing.code, 404);
        // The request's defaults keep the client's error on non-2xx.
        let raised = server.fetch_request(server.request("/nope")).await;
        assert!(matches!(
            raised,
            Err(HTTPClientError::Http { code: 404, .. })
        ));
        let post = server.request("/").method("POST").body(b"x".to_vec());
        let not_allowed = server.fetch_request(post).await;
        match not_allowed {
            Err(HTTPClientError::Http {
                code: 405,
                response: Some(response),
                ..
            }) => assert_eq!(response.headers.get("Allow"), Some("GET")),
            other => panic!("expected a 405 with a response, got {other:?}"),
        }
    });
}
