//! Tornado's hello world, attacked as a hostile client would: 1,000 absolute-form requests whose
//! host is not ASCII (once a panic in routing that leaked one fd per request), then a mix of
//! other hostile heads. The process's open fds come back to where they started, and a valid
//! request is still answered.
//!
//! The test counts `/proc/self/fd` of this process, so it is alone in this binary.

use std::time::Duration;

use typhoon_ioloop::timeout;
use typhoon_testing::{
    open_fds, raw_request, raw_request_and_end, run_test_with_timeout, status_of,
};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

struct MainHandler;
impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world");
        Ok(())
    }
    async fn options(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("options");
        Ok(())
    }
}

#[test]
fn hello_world_survives_hostile_heads_without_leaking_fds() {
    run_test_with_timeout(Duration::from_secs(60), async {
        let app = Application::new(vec![route("/", || MainHandler)]);
        let server = app.into_server();
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let hello = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        assert_eq!(status_of(&raw_request(addr, hello).await), Some(200));
        server.connections_closed().await;
        let before = open_fds();
        for _ in 0..1000 {
            let reply = raw_request_and_end(
                addr,
                b"GET http://a\xe2\x82\xac HTTP/1.1\r\nHost: a\r\n\r\n",
            )
            .await;
            assert_eq!(
                status_of(&reply),
                Some(200),
                "{}",
                String::from_utf8_lossy(&reply)
            );
            assert!(reply.ends_with(b"Hello, world"));
        }
        let hostile: &[(&[u8], u16)] = &[
            (
                b"OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
                200,
            ),
            (
                b"GET http://a\xe2\x82\xac/\xe2\x82\xac HTTP/1.1\r\nHost: a\r\n\r\n",
                404,
            ),
            (b"GET ! HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\r\n\r\n",
                400,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9223372036854775807\r\n\r\n",
                200,
            ),
        ];
        for (bytes, want) in hostile {
            for _ in 0..20 {
                let reply = raw_request_and_end(addr, bytes).await;
                assert_eq!(
                    status_of(&reply),
                    Some(*want),
                    "{}",
                    String::from_utf8_lossy(&reply)
                );
            }
        }
        let reply = raw_request_and_end(
            addr,
            b"OPTIONS http://example.com HTTP/1.1\r\nHost: e\r\n\r\n",
        )
        .await;
        assert!(
            reply.ends_with(b"options"),
            "absolute-form without a path routes to /"
        );
        timeout(Duration::from_secs(10), server.connections_closed())
            .await
            .expect("every connection closes");
        assert_eq!(open_fds(), before, "open fds before and after");
        assert_eq!(status_of(&raw_request(addr, hello).await), Some(200));
    });
}
