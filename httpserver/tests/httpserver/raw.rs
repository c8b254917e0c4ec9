//! Raw requests: the bytes-in, status-out table (Tornado's `HTTPServerRawTest` and the
//! security corpus), keep-alive, pipelining, HTTP/1.0, and bodiless responses.

use super::*;

/// One row of the raw-bytes table: what we send, what status comes back (`None`: the
/// connection closes without a response), and whether the connection must close.
struct Case {
    name: &'static str,
    request: Vec<u8>,
    status: Option<u16>,
}

fn case(name: &'static str, request: impl Into<Vec<u8>>, status: Option<u16>) -> Case {
    Case {
        name,
        request: request.into(),
        status,
    }
}

#[test]
fn raw_request_table() {
    let mut long_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    long_header.extend(std::iter::repeat_n(b'a', 70 * 1024));
    long_header.extend_from_slice(b"\r\n\r\n");
    let mut many_headers = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..101 {
        many_headers.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(17 * 1024));
    let cases = vec![
        case(
            "simple",
            "GET /a?b=c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Some(200),
        ),
        case("http10 without host", "GET / HTTP/1.0\r\n\r\n", Some(200)),
        case("malformed request line", "GET /\r\n\r\n", Some(400)),
        case("missing host", "GET / HTTP/1.1\r\n\r\n", Some(400)),
        case(
            "two hosts",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            Some(400),
        ),
        case(
            "comma host",
            "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
            Some(400),
        ),
        case(
            "obs-fold",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
            Some(400),
        ),
        case(
            "bad header name",
            "GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n",
            Some(400),
        ),
        case("header too large", long_header, Some(431)),
        case("too many headers", many_headers, Some(431)),
        case("uri too long", long_uri, Some(414)),
        case(
            "http/2.0 version",
            "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            Some(505),
        ),
        case(
            "http/1.2 version",
            "GET / HTTP/1.2\r\nHost: x\r\n\r\n",
            Some(505),
        ),
        case(
            "http2 preface",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            Some(505),
        ),
        case(
            "cl and te",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            Some(400),
        ),
        case(
            "te gzip",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            Some(501),
        ),
        case(
            "te in http/1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            Some(400),
        ),
        case(
            "cl not digits",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
            Some(400),
        ),
        case(
            "cl unequal",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            Some(400),
        ),
        case(
            "cl over max",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n",
            Some(413),
        ),
        case(
            "bad chunk size",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            Some(400),
        ),
        case(
            "chunk size overflow",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
            Some(400),
        ),
        case(
            "chunk extension and trailer",
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
            Some(200),
        ),
        case(
            "absolute form",
            "GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
            Some(200),
        ),
        case(
            "bare cr in header",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
            Some(400),
        ),
        case(
            "nul in header value",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
            Some(400),
        ),
        case(
            "handler panic",
            "GET /panic HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Some(500),
        ),
        case("eof mid-head", "GET / HTTP/1.1\r\nHost:", Some(400)),
    ];
    run_test(async move {
        let (server, addr) = serve(HTTPServerOptions::default());
        for case in cases {
            let stream = connect(addr).await;
            stream.write(&case.request).await.expect("write");
            if case.name == "eof mid-head" {
                stream.shutdown_write().expect("shutdown");
            }
            let reply = timeout(Duration::from_secs(10), stream.read_until_close())
                .await
                .unwrap_or_else(|_| panic!("{}: the connection stayed open", case.name))
                .unwrap_or_default();
            assert_eq!(
                status_of(&reply),
                case.status,
                "{}: {}",
                case.name,
                String::from_utf8_lossy(&reply)
            );
            if case.status.is_some_and(|s| s >= 400) {
                let text = String::from_utf8_lossy(&reply);
                assert!(text.contains("Connection: close"), "{}: {text}", case.name);
                assert_eq!(
                    text.matches("HTTP/1.").count(),
                    1,
                    "{}: one answer only",
                    case.name
                );
            }
        }
        // The server still answers normally afterwards.
        let reply = raw_request(
            addr,
            b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status_of(&reply), Some(200));
        server.stop();
    });
}

#[test]
fn smuggled_request_behind_framing_error_is_never_answered() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let reply = raw_request(
            addr,
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(status_of(&reply), Some(400), "{text}");
        assert!(!text.contains("smuggled"), "{text}");
        assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
        server.stop();
    });
}

#[test]
fn keep_alive_pipelining_and_stray_crlf() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        // Three pipelined requests in one write, with a stray CRLF between two of them.
        stream
            .write(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nPOST /3 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
            .await
            .expect("write");
        for expected in ["GET /1  ", "GET /2  ", "POST /3  body"] {
            let response = read_response(&stream, false).await;
            assert_eq!(response.status, 200);
            assert_eq!(String::from_utf8_lossy(&response.body), expected);
        }
        // And a later request on the same connection.
        stream
            .write(b"GET /4 HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(String::from_utf8_lossy(&response.body), "GET /4  ");
        assert_eq!(
            response.header("Server").as_deref(),
            Some("TyphoonServer/0.1")
        );
        assert!(response.header("Date").is_some());
        server.stop();
    });
}

#[test]
fn http10_keep_alive_and_close() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        stream
            .write(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert!(response.head.starts_with("HTTP/1.0 200"));
        assert_eq!(response.header("Connection").as_deref(), Some("keep-alive"));
        stream
            .write(b"GET /b HTTP/1.0\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(String::from_utf8_lossy(&response.body), "GET /b  ");
        // Without keep-alive the server closes after the response.
        let rest = stream.read_until_close().await.expect("eof");
        assert!(rest.is_empty());
        server.stop();
    });
}

#[test]
fn head_and_204_have_no_body() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        stream
            .write(
                b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n",
            )
            .await
            .expect("write");
        let head = read_response(&stream, true).await;
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("Content-Length").as_deref(),
            Some("9"),
            "{}",
            head.head
        );
        let no_content = read_response(&stream, false).await;
        assert_eq!(no_content.status, 204);
        assert!(no_content.header("Content-Length").is_none());
        server.stop();
    });
}

#[test]
fn one_connections_bad_input_does_not_delay_another() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        // A slow client holds a half-sent head...
        let slow = connect(addr).await;
        slow.write(b"GET / HTTP/1.1\r\nHo").await.expect("write");
        // ...while another is served at once.
        let reply = timeout(
            Duration::from_secs(2),
            raw_request(
                addr,
                b"GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ),
        )
        .await
        .expect("served without waiting for the slow client");
        assert_eq!(status_of(&reply), Some(200));
        drop(slow);
        server.stop();
    });
}

#[test]
fn no_keep_alive_closes_after_each_response() {
    run_test(async {
        let options = HTTPServerOptions {
            no_keep_alive: true,
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let stream = connect(addr).await;
        stream
            .write(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(response.header("Connection").as_deref(), Some("close"));
        assert!(
            stream.read_until_close().await.expect("eof").is_empty(),
            "/b was not answered"
        );
        server.stop();
    });
}
