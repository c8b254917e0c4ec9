//! No request can leak a connection: thousands of hostile requests later, the process has the
//! same open file descriptors as before, the registry is empty, and a valid request is served.
//!
//! The tests count `/proc/self/fd` of this test process (the server runs in it), so they run one
//! at a time and alone in this binary: no other test opens sockets meanwhile.

use std::sync::Mutex;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions, HTTPServerRequest, ResponseWriter};
use typhoon_ioloop::timeout;
use typhoon_testing::{
    connect, open_fds, raw_request, raw_request_and_end, read_response, run_test, status_of,
};

/// fd counts are process-wide: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// An application shaped like web's: its synchronous half (before the first await) reads the
/// path to route, as `Application::handle` does, and `/sync-panic` panics right there.
fn routing_app(
    request: &HTTPServerRequest,
    mut response: ResponseWriter,
) -> impl Future<Output = ()> + 'static {
    let path = request.path().to_owned();
    assert!(
        path != "/sync-panic",
        "a handler panicked before its first await"
    );
    async move {
        if path == "/async-panic" {
            panic!("a handler panicked inside its future");
        }
        response.write(path.as_bytes());
    }
}

/// Heads a hostile client sends, each on its own connection, with the status it must get (0: a
/// close without an answer is acceptable, e.g. an incomplete head at EOF).
fn hostile_heads() -> Vec<(&'static str, Vec<u8>, u16)> {
    vec![
        ("utf-8 authority", b"GET http://a\xe2\x82\xac HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".to_vec(), 200),
        ("utf-8 authority and path", b"GET http://a\xe2\x82\xac/\xe2\x82\xac HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".to_vec(), 404),
        ("bang target", b"GET ! HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("asterisk with GET", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("authority with GET", b"GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("absolute without host", b"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("malformed trailer", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nno colon\r\n\r\n".to_vec(), 400),
        ("sync panic", b"GET /sync-panic HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 500),
        ("predicate panic", b"GET /predicate-panic HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 500),
        ("async panic", b"GET /async-panic HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 500),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(), 400),
        ("eof mid head", b"GET / HTTP/1.1\r\nHost:".to_vec(), 400),
        ("smuggling", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), 400),
        ("huge content-length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n".to_vec(), 413),
        ("http/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), 505),
    ]
}

/// Serves the routing app, returns the server and its address.
fn serve() -> (HTTPServer, std::net::SocketAddr) {
    let options = HTTPServerOptions {
        // The application's body predicate panics for one path, before any handler runs.
        stream_request_body: Some(std::rc::Rc::new(|request: &HTTPServerRequest| {
            assert!(
                request.path() != "/predicate-panic",
                "the body predicate panicked"
            );
            false
        })),
        ..HTTPServerOptions::default()
    };
    let server = HTTPServer::with_options(
        |request, response| {
            let path = request.path().to_owned();
            if path == "/" || path == "/sync-panic" || path == "/async-panic" {
                return Box::pin(routing_app(&request, response))
                    as std::pin::Pin<Box<dyn Future<Output = ()>>>;
            }
            Box::pin(async move {
                let mut response = response;
                response.set_status(404);
                response.write(path.as_bytes());
            })
        },
        options,
    );
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr)
}

/// A valid request on a fresh connection is still answered.
async fn still_serves(addr: std::net::SocketAddr) {
    let reply = raw_request(
        addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&reply),
        Some(200),
        "{}",
        String::from_utf8_lossy(&reply)
    );
}

#[test]
fn thousand_absolute_form_requests_leak_no_fd() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    run_test(async {
        let (server, addr) = serve();
        still_serves(addr).await;
        server.connections_closed().await;
        let before = open_fds();
        for _ in 0..1000 {
            let reply = raw_request(
                addr,
                b"GET http://a\xe2\x82\xac HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert_eq!(status_of(&reply), Some(200));
            assert!(
                reply.ends_with(b"\r\n\r\n/"),
                "{}",
                String::from_utf8_lossy(&reply)
            );
        }
        for (name, bytes, want) in hostile_heads() {
            for _ in 0..20 {
                let reply = raw_request_and_end(addr, &bytes).await;
                if want != 0 {
                    assert_eq!(
                        status_of(&reply),
                        Some(want),
                        "{name}: {}",
                        String::from_utf8_lossy(&reply)
                    );
                }
            }
        }
        // Every connection ends: the registry empties (a leaked one never would).
        timeout(Duration::from_secs(10), server.connections_closed())
            .await
            .expect("every connection closes");
        assert_eq!(server.connection_count(), 0);
        assert_eq!(open_fds(), before, "open fds before and after");
        still_serves(addr).await;
    });
}

#[test]
fn options_absolute_form_without_path_routes_to_root() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    run_test(async {
        let (_server, addr) = serve();
        let stream = connect(addr).await;
        stream
            .write(b"OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!((response.status, response.text()), (200, "/".to_owned()));
        // Asterisk-form is OPTIONS' own.
        stream
            .write(b"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!((response.status, response.text()), (404, "*".to_owned()));
    });
}
