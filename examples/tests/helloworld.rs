//! The `helloworld` example's application over a real socket, fetched with the httpclient.

use std::time::Duration;

use typhoon_examples::helloworld::make_app;
use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError};
use typhoon_ioloop::IOLoop;

#[test]
fn hello_world_and_405_and_404() {
    IOLoop::new()
        .run_sync_timeout(Duration::from_secs(20), async {
            let server = make_app().into_server();
            let port = server.listen(0, Some("127.0.0.1"))?[0].port();
            let client = AsyncHTTPClient::new();
            let response = client.fetch(format!("http://127.0.0.1:{port}/")).await?;
            assert_eq!(response.code, 200);
            assert_eq!(response.text(), "Hello, world");
            let missing = client.fetch(format!("http://127.0.0.1:{port}/nope")).await;
            assert!(matches!(
                missing,
                Err(HTTPClientError::Http { code: 404, .. })
            ));
            let post = typhoon_httpclient::HTTPRequest::new(format!("http://127.0.0.1:{port}/"))
                .method("POST")
                .body(b"x".to_vec());
            let not_allowed = client.fetch(post).await;
            assert!(matches!(
                not_allowed,
                Err(HTTPClientError::Http { code: 405, .. })
            ));
            server.stop();
            Ok::<(), Box<dyn std::error::Error>>(())
        })
        .expect("test timed out")
        .expect("hello world");
}
