//! `AsyncHTTPTestServer` over HTTP and HTTPS, and the bounded test runner's timeout message.

#![cfg(feature = "web")]

use std::time::Duration;

use typhoon_testing::{AsyncHTTPTestServer, bind_unused_port, run_test, run_test_with_timeout};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

struct Hello;

impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let scheme = cx.request().protocol;
        cx.write(format!("hello over {scheme}"));
        Ok(())
    }
}

fn app() -> Application {
    Application::new(vec![route("/", || Hello)])
}

#[test]
fn fetch_over_http_and_https() {
    run_test(async {
        let plain = AsyncHTTPTestServer::new(app());
        assert!(plain.get_url("/x").starts_with("http://127.0.0.1:"));
        let response = plain.fetch("/").await.expect("fetch");
        assert_eq!(response.text(), "hello over http");
        let missing = plain.fetch("/missing").await.expect("404 as a response");
        assert_eq!(missing.code, 404);
        // The old error-on-non-2xx behaviour, through the request's defaults.
        let raised = plain.fetch_request(plain.request("/missing")).await;
        assert!(
            matches!(
                raised,
                Err(typhoon_httpclient::HTTPClientError::Http { code: 404, .. })
            ),
            "{raised:?}"
        );

        let secure = AsyncHTTPTestServer::new_tls(app());
        assert!(secure.get_url("/").starts_with("https://localhost:"));
        let response = secure.fetch("/").await.expect("https fetch");
        assert_eq!(response.text(), "hello over https");
    });
}

#[test]
fn serves_a_bare_httpserver_callback() {
    run_test(async {
        let server = AsyncHTTPTestServer::from_server(typhoon_httpserver::HTTPServer::new(
            |_request, mut response| async move { response.write(b"bare") },
        ));
        assert_eq!(server.fetch("/").await.expect("fetch").text(), "bare");
    });
}

#[test]
fn bind_unused_port_gives_a_free_port() {
    let (listener, port) = bind_unused_port();
    assert_ne!(port, 0);
    assert_eq!(listener.local_addr().expect("addr").port(), port);
}

#[test]
fn a_test_that_overruns_fails_naming_the_timeout() {
    let panic = std::panic::catch_unwind(|| {
        run_test_with_timeout(
            Duration::from_millis(20),
            typhoon_ioloop::sleep(Duration::from_secs(60)),
        );
    })
    .expect_err("the test must fail");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("20ms"), "{message}");
}
