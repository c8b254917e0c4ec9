//! `fetch_bench`'s client and `httpserver_hello`'s server against each other over a real
//! socket.

use typhoon_examples::fetch_bench::fetch_many;
use typhoon_examples::httpserver_hello::hello_server;
use typhoon_testing::{AsyncHTTPTestServer, run_test};

#[test]
fn fetch_many_against_httpserver_hello() {
    run_test(async {
        let server = AsyncHTTPTestServer::from_server(hello_server());
        let hello = server.fetch("/anything").await.expect("hello");
        assert_eq!(hello.text(), "Hello, world");
        assert_eq!(hello.headers.get("Content-Type"), Some("text/plain"));
        assert!(
            hello.headers.get("X-Typhoon-Task").is_none(),
            "not pre-forked"
        );
        assert_eq!(fetch_many(&server.get_url("/"), 200, 8).await, 200);
        // Nothing listens there: every fetch fails, none is counted.
        let closed = typhoon_testing::bind_unused_port().1;
        assert_eq!(
            fetch_many(&format!("http://127.0.0.1:{closed}/"), 5, 2).await,
            0
        );
    });
}
