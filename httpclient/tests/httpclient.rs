//! The client against Typhoon's own `HTTPServer` (Tornado's `httpclient_test.py` and
//! `simple_httpclient_test.py`), and against raw servers for framing cases the server never
//! produces.

mod util;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpclient::{
    AsyncHTTPClient, BodyWriter, ClientOptions, HTTPClient, HTTPClientError, HTTPRequest,
    TimeoutPhase,
};
use typhoon_httpserver::{HTTPServerRequest, ResponseWriter};
use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{IOLoop, sleep, spawn};
use typhoon_testing::run_test;
use util::{gzip, raw_server, reply_and_close, serve};

/// The handler most tests use: a few routes in the spirit of Tornado's test handlers.
async fn routes(request: HTTPServerRequest, mut response: ResponseWriter) {
    let query = request.query().to_owned();
    match request.path() {
        "/hello" => response.write(b"Hello world!"),
        "/echo" => {
            let text = format!(
                "{} {} ct={} body={}",
                request.method,
                request.uri,
                request.headers.get("Content-Type").unwrap_or("-"),
                String::from_utf8_lossy(&request.body)
            );
            response.write(text.as_bytes());
        }
        "/header" => {
            let name = query.strip_prefix("name=").unwrap_or("User-Agent");
            let value = request.headers.get(name).unwrap_or("-").to_owned();
            response.write(value.as_bytes());
        }
        "/redirect" => {
            // /redirect?url=/hello&status=302
            let mut url = "/hello".to_owned();
            let mut status = 302;
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some(("url", v)) => url = v.to_owned(),
                    Some(("status", v)) => status = v.parse().expect("status"),
                    _ => {}
                }
            }
            response.set_status(status);
            response.set_header("Location", &url).expect("header");
        }
        "/countdown" => {
            let n: u32 = query.parse().unwrap_or(0);
            if n == 0 {
                response.write(b"Zero");
            } else {
                response.set_status(302);
                response
                    .set_header("Location", &format!("/countdown?{}", n - 1))
                    .expect("header");
            }
        }
        "/chunks" => {
            for part in [&b"asdf"[..], b"qwer", b"zxcv"] {
                response.write(part);
                response.flush().await.expect("flush");
            }
        }
        "/gzip" => {
            let accept = request
                .headers
                .get("Accept-Encoding")
                .unwrap_or("")
                .to_owned();
            if accept.contains("gzip") {
                response.set_header("Content-Encoding", "gzip").expect("h");
                response.write(&gzip(b"asdfqwer".repeat(100).as_slice()));
            } else {
                response.write(&b"asdfqwer".repeat(100));
            }
        }
        "/status" => {
            response.set_status(query.parse().expect("status code"));
        }
        "/big" => response.write(&vec![b'x'; 10_000]),
        "/bigheader" => {
            response
                .set_header("X-Big", &"y".repeat(10_000))
                .expect("header");
        }
        "/hang" => response.connection_closed().await,
        _ => response.set_status(404),
    }
}

#[test]
fn hello_world() {
    run_test(async {
        let (_server, base) = serve(routes);
        let response = AsyncHTTPClient::new()
            .fetch(format!("{base}/hello"))
            .await
            .expect("fetch");
        assert_eq!(response.code, 200);
        assert_eq!(response.reason, "OK");
        assert_eq!(response.headers.get("Content-Length"), Some("12"));
        assert_eq!(response.body, b"Hello world!");
        assert_eq!(response.effective_url, format!("{base}/hello"));
        assert!(response.error().is_none());
        assert!(response.request_time < Duration::from_secs(10));
    });
}

#[test]
fn keep_alive_reuses_one_connection() {
    run_test(async {
        let (server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        for _ in 0..5 {
            let response = client.fetch(format!("{base}/hello")).await.expect("fetch");
            assert_eq!(response.body, b"Hello world!");
        }
        let stats = client.stats();
        assert_eq!(stats.connections_opened, 1, "{stats:?}");
        assert_eq!(stats.connections_reused, 4, "{stats:?}");
        assert_eq!(stats.idle, 1);
        assert_eq!(server.connection_count(), 1);
        assert_eq!(stats.hosts, 1);
        client.close_idle();
        let stats = client.stats();
        assert_eq!((stats.idle, stats.hosts), (0, 0), "{stats:?}");
    });
}

#[test]
fn post_put_and_their_bodies() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let post = HTTPRequest::new(format!("{base}/echo?x=1"))
            .method("POST")
            .body("arg1=foo&arg2=bar");
        let response = client.fetch(post).await.expect("post");
        assert_eq!(
            response.text(),
            "POST /echo?x=1 ct=application/x-www-form-urlencoded body=arg1=foo&arg2=bar"
        );
        let put = HTTPRequest::new(format!("{base}/echo"))
            .method("PUT")
            .header("Content-Type", "text/plain")
            .body("hello");
        let response = client.fetch(put).await.expect("put");
        assert_eq!(response.text(), "PUT /echo ct=text/plain body=hello");
        let empty = HTTPRequest::new(format!("{base}/echo"))
            .method("POST")
            .body("");
        assert!(
            client
                .fetch(empty)
                .await
                .expect("empty post")
                .text()
                .ends_with("body=")
        );
    });
}

#[test]
fn body_producer_chunked_and_with_content_length() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let producer = |writer: BodyWriter| async move {
            writer.write(b"1234").await?;
            sleep(Duration::from_millis(1)).await;
            writer.write(b"5678").await?;
            Ok(())
        };
        let chunked = HTTPRequest::new(format!("{base}/echo"))
            .method("POST")
            .body_producer(producer);
        assert_eq!(
            client.fetch(chunked).await.expect("chunked").text(),
            "POST /echo ct=- body=12345678"
        );
        let sized = HTTPRequest::new(format!("{base}/echo"))
            .method("PUT")
            .header("Content-Length", "8")
            .body_producer(producer);
        assert!(
            client
                .fetch(sized)
                .await
                .expect("sized")
                .text()
                .ends_with("body=12345678")
        );
        let lying = HTTPRequest::new(format!("{base}/echo"))
            .method("PUT")
            .header("Content-Length", "4")
            .body_producer(producer);
        assert!(matches!(
            client.fetch(lying).await,
            Err(HTTPClientError::InvalidRequest { .. })
        ));
    });
}

#[test]
fn follow_redirect() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let response = client
            .fetch(format!("{base}/countdown?2"))
            .await
            .expect("fetch");
        assert_eq!(response.body, b"Zero");
        assert_eq!(response.effective_url, format!("{base}/countdown?0"));
        assert_eq!(response.request_url, format!("{base}/countdown?2"));

        let not_followed = HTTPRequest::new(format!("{base}/countdown?2"))
            .follow_redirects(false)
            .raise_error(false);
        let response = client.fetch(not_followed).await.expect("fetch");
        assert_eq!(response.code, 302);
        assert!(response.headers.get("Location").is_some());

        let too_many = HTTPRequest::new(format!("{base}/countdown?3")).max_redirects(2);
        match client.fetch(too_many).await {
            Err(HTTPClientError::Http {
                code: 302,
                response: Some(response),
                ..
            }) => assert_eq!(response.effective_url, format!("{base}/countdown?1")),
            other => panic!("expected a 302 error, got {other:?}"),
        }
    });
}

#[test]
fn redirect_post_becomes_get_but_307_keeps_it() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        for (status, expected) in [
            (302, "GET /echo ct=- body="),
            (303, "GET /echo ct=- body="),
            (301, "GET /echo ct=- body="),
            (
                307,
                "POST /echo ct=application/x-www-form-urlencoded body=data",
            ),
            (
                308,
                "POST /echo ct=application/x-www-form-urlencoded body=data",
            ),
        ] {
            let request = HTTPRequest::new(format!("{base}/redirect?url=/echo&status={status}"))
                .method("POST")
                .body("data");
            let response = client.fetch(request).await.expect("fetch");
            assert_eq!(response.text(), expected, "status {status}");
        }
    });
}

#[cfg(feature = "gzip")] // `decompress_response` needs it
#[test]
fn gzip_is_requested_and_inflated() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let response = client.fetch(format!("{base}/gzip")).await.expect("fetch");
        assert_eq!(response.body, b"asdfqwer".repeat(100));
        assert_eq!(response.headers.get("Content-Encoding"), None);
        assert_eq!(
            response.headers.get("X-Consumed-Content-Encoding"),
            Some("gzip")
        );
        let raw = HTTPRequest::new(format!("{base}/gzip")).decompress_response(false);
        let response = client.fetch(raw).await.expect("fetch");
        assert_eq!(
            response.body,
            b"asdfqwer".repeat(100),
            "not asked, not sent"
        );
        let forced = HTTPRequest::new(format!("{base}/gzip"))
            .decompress_response(false)
            .header("Accept-Encoding", "gzip");
        let response = client.fetch(forced).await.expect("fetch");
        assert_eq!(response.headers.get("Content-Encoding"), Some("gzip"));
        assert_eq!(response.body, gzip(&b"asdfqwer".repeat(100)));
    });
}

#[test]
fn chunked_response_and_streaming_callback() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let response = client.fetch(format!("{base}/chunks")).await.expect("fetch");
        assert_eq!(response.headers.get("Transfer-Encoding"), Some("chunked"));
        assert_eq!(response.body, b"asdfqwerzxcv");

        let pieces = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&pieces);
        let request = HTTPRequest::new(format!("{base}/chunks"))
            .streaming_callback(move |chunk| sink.borrow_mut().push(chunk.to_vec()));
        let response = client.fetch(request).await.expect("fetch");
        assert!(response.body.is_empty());
        assert_eq!(pieces.borrow().concat(), b"asdfqwerzxcv");
        // The connection is reused after a chunked body.
        assert_eq!(client.stats().connections_opened, 1);
    });
}

#[test]
fn header_callback_sees_every_line() {
    run_test(async {
        let (_server, base) = serve(routes);
        let lines = Rc::new(RefCell::new(Vec::<String>::new()));
        let sink = Rc::clone(&lines);
        let request = HTTPRequest::new(format!("{base}/redirect?url=/hello"))
            .header_callback(move |line| sink.borrow_mut().push(line.to_owned()));
        let response = AsyncHTTPClient::new().fetch(request).await.expect("fetch");
        assert_eq!(response.body, b"Hello world!");
        let lines = lines.borrow();
        // Only the final response's head: the redirect's is not delivered.
        assert_eq!(lines[0], "HTTP/1.1 200 OK");
        assert!(
            lines.contains(&"Content-Length: 12".to_owned()),
            "{lines:?}"
        );
        assert_eq!(lines.last().map(String::as_str), Some(""));
        assert_eq!(lines.iter().filter(|l| l.starts_with("HTTP/")).count(), 1);
    });
}

#[test]
fn bodiless_responses() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let head = HTTPRequest::new(format!("{base}/hello")).method("HEAD");
        let response = client.fetch(head).await.expect("head");
        assert_eq!(response.headers.get("Content-Length"), Some("12"));
        assert!(response.body.is_empty());
        for code in ["204", "304"] {
            let request = HTTPRequest::new(format!("{base}/status?{code}")).raise_error(false);
            let response = client.fetch(request).await.expect("fetch");
            assert_eq!(response.code.to_string(), code);
            assert!(response.body.is_empty());
        }
        // Every one of them on the same connection.
        assert_eq!(client.stats().connections_opened, 1);
    });
}

#[test]
fn basic_auth_and_user_agent() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let request = HTTPRequest::new(format!("{base}/header?name=Authorization"))
            .basic_auth("Aladdin", "open sesame");
        let response = client.fetch(request).await.expect("fetch");
        assert_eq!(response.text(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        let in_url = base.replace("http://", "http://Aladdin:open%20sesame@");
        let response = client
            .fetch(format!("{in_url}/header?name=Authorization"))
            .await
            .expect("fetch");
        assert_eq!(response.text(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(!response.effective_url.contains("Aladdin"));

        let response = client.fetch(format!("{base}/header")).await.expect("fetch");
        assert!(response.text().starts_with("Typhoon/"));
        let custom = HTTPRequest::new(format!("{base}/header")).user_agent("TestDefaultUserAgent");
        let response = client.fetch(custom).await.expect("fetch");
        assert_eq!(response.text(), "TestDefaultUserAgent");
    });
}

#[test]
fn raise_error_false_returns_the_response() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        match client.fetch(format!("{base}/status?500")).await {
            Err(error @ HTTPClientError::Http { code: 500, .. }) => {
                assert_eq!(error.code(), 500);
                assert_eq!(error.response().map(|r| r.code), Some(500));
            }
            other => panic!("expected a 500 error, got {other:?}"),
        }
        let request = HTTPRequest::new(format!("{base}/nowhere")).raise_error(false);
        let response = client.fetch(request).await.expect("a response");
        assert_eq!(response.code, 404);
        assert!(matches!(
            response.error(),
            Some(HTTPClientError::Http { code: 404, .. })
        ));
        assert!(matches!(
            response.rethrow(),
            Err(HTTPClientError::Http { code: 404, .. })
        ));
    });
}

#[test]
fn limits_on_body_and_header() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let request = HTTPRequest::new(format!("{base}/big")).max_body_size(1000);
        assert!(matches!(
            client.fetch(request).await,
            Err(HTTPClientError::BodyTooLarge { limit: 1000 })
        ));
        let request = HTTPRequest::new(format!("{base}/big")).max_body_size(10_000);
        assert_eq!(
            client.fetch(request).await.expect("fits").body.len(),
            10_000
        );
        let request = HTTPRequest::new(format!("{base}/bigheader")).max_header_size(1024);
        assert!(matches!(
            client.fetch(request).await,
            Err(HTTPClientError::HeaderTooLarge { limit: 1024 })
        ));
        let small = AsyncHTTPClient::with_options(ClientOptions {
            max_body_size: 100,
            ..ClientOptions::default()
        });
        assert!(matches!(
            small.fetch(format!("{base}/big")).await,
            Err(HTTPClientError::BodyTooLarge { limit: 100 })
        ));
    });
}

#[test]
fn request_timeout() {
    run_test(async {
        let (_server, base) = serve(routes);
        let request =
            HTTPRequest::new(format!("{base}/hang")).request_timeout(Duration::from_millis(100));
        let error = AsyncHTTPClient::new().fetch(request).await.unwrap_err();
        assert!(matches!(
            error,
            HTTPClientError::Timeout(TimeoutPhase::Request)
        ));
        assert_eq!(error.code(), 599);
    });
}

#[test]
fn max_clients_caps_concurrency_and_queue_times_out() {
    run_test(async {
        let in_flight = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let (release, arrived) = (Event::new(), Event::new());
        let (server_in_flight, server_peak, server_release, server_arrived) = (
            Rc::clone(&in_flight),
            Rc::clone(&peak),
            release.clone(),
            arrived.clone(),
        );
        let (_server, base) = serve(move |request, mut response| {
            let (in_flight, peak, release, arrived) = (
                Rc::clone(&server_in_flight),
                Rc::clone(&server_peak),
                server_release.clone(),
                server_arrived.clone(),
            );
            async move {
                in_flight.set(in_flight.get() + 1);
                peak.set(peak.get().max(in_flight.get()));
                if request.path() == "/wait" {
                    if in_flight.get() == 2 {
                        arrived.set();
                    }
                    release.wait().await;
                } else {
                    sleep(Duration::from_millis(5)).await;
                }
                in_flight.set(in_flight.get() - 1);
                response.write(b"done");
            }
        });
        let client = AsyncHTTPClient::with_options(ClientOptions {
            max_clients: 2,
            ..ClientOptions::default()
        });
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (client, url) = (client.clone(), format!("{base}/work"));
                spawn(async move { client.fetch(url).await.map(|r| r.body) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("fetch"), b"done");
        }
        assert_eq!(peak.get(), 2, "max_clients bounds the requests in flight");
        assert!(client.stats().connections_opened <= 2);

        // Both slots held by requests that wait: a third times out in the queue.
        let blockers: Vec<_> = (0..2)
            .map(|_| {
                let (client, url) = (client.clone(), format!("{base}/wait"));
                spawn(async move { client.fetch(url).await.map(|r| r.body) })
            })
            .collect();
        arrived.wait().await;
        let queued =
            HTTPRequest::new(format!("{base}/work")).request_timeout(Duration::from_millis(100));
        assert!(matches!(
            client.fetch(queued).await,
            Err(HTTPClientError::Timeout(TimeoutPhase::Queue))
        ));
        release.set();
        for task in blockers {
            assert_eq!(task.await.expect("task").expect("fetch"), b"done");
        }
    });
}

#[test]
fn request_errors_before_sending() {
    run_test(async {
        let client = AsyncHTTPClient::new();
        assert!(matches!(
            client.fetch("not a url").await,
            Err(HTTPClientError::InvalidUrl { .. })
        ));
        assert!(matches!(
            client.fetch("ftp://127.0.0.1/").await,
            Err(HTTPClientError::UnsupportedScheme { .. })
        ));
        let get_with_body = HTTPRequest::new("http://127.0.0.1:1/").body("x");
        assert!(matches!(
            client.fetch(get_with_body).await,
            Err(HTTPClientError::InvalidRequest { .. })
        ));
    });
}

#[test]
fn nonstandard_methods() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::new();
        let plain = HTTPRequest::new(format!("{base}/echo")).method("PROPFIND");
        assert!(matches!(
            client.fetch(plain).await,
            Err(HTTPClientError::InvalidRequest { .. })
        ));
        let allowed = HTTPRequest::new(format!("{base}/echo"))
            .method("PROPFIND")
            .allow_nonstandard_methods(true);
        assert_eq!(
            client.fetch(allowed).await.expect("fetch").text(),
            "PROPFIND /echo ct=- body="
        );
        let get_with_body = HTTPRequest::new(format!("{base}/echo"))
            .body("x")
            .allow_nonstandard_methods(true);
        assert_eq!(
            client.fetch(get_with_body).await.expect("fetch").text(),
            "GET /echo ct=- body=x"
        );
    });
}

#[test]
fn connection_refused() {
    run_test(async {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let error = AsyncHTTPClient::new()
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, HTTPClientError::Connect { .. }),
            "{error:?}"
        );
        assert_eq!(error.code(), 599);
    });
}

#[test]
fn http10_close_delimited_from_raw_server() {
    run_test(async {
        let base = raw_server(reply_and_close(
            b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
        ));
        let client = AsyncHTTPClient::new();
        for _ in 0..2 {
            let response = client.fetch(format!("{base}/")).await.expect("fetch");
            assert_eq!(response.body, b"until the end");
        }
        assert_eq!(
            client.stats().connections_opened,
            2,
            "close-delimited: never pooled"
        );
    });
}

#[test]
fn informational_responses_are_skipped() {
    run_test(async {
        let base = raw_server(reply_and_close(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
              HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ));
        let response = AsyncHTTPClient::new()
            .fetch(format!("{base}/"))
            .await
            .expect("fetch");
        assert_eq!((response.code, response.body.as_slice()), (200, &b"ok"[..]));
        assert!(response.headers.get("Link").is_none());

        let endless = raw_server(|stream| {
            for _ in 0..100 {
                if stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
                    break;
                }
            }
        });
        assert!(matches!(
            AsyncHTTPClient::new().fetch(format!("{endless}/")).await,
            Err(HTTPClientError::UnexpectedInformational { code: 100 })
        ));
    });
}

#[test]
fn stale_pooled_connection_is_replaced() {
    run_test(async {
        // Answers with keep-alive, then closes anyway (as servers do with idle connections).
        let base = raw_server(reply_and_close(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh",
        ));
        let client = AsyncHTTPClient::new();
        for _ in 0..3 {
            let response = client.fetch(format!("{base}/")).await.expect("fetch");
            assert_eq!(response.body, b"fresh");
        }
        assert_eq!(client.stats().connections_opened, 3);
    });
}

#[test]
fn blocking_client() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let io_loop = IOLoop::new();
        io_loop.make_current();
        let (_server, base) = serve(routes);
        tx.send(base).expect("send");
        io_loop.start();
    });
    let base = rx.recv().expect("server started");
    let client = HTTPClient::new().expect("client");
    for _ in 0..3 {
        let response = client.fetch(format!("{base}/hello")).expect("fetch");
        assert_eq!(response.body, b"Hello world!");
    }
    assert_eq!(client.async_client().stats().connections_opened, 1);
    assert!(matches!(
        client.fetch(format!("{base}/nowhere")),
        Err(HTTPClientError::Http { code: 404, .. })
    ));
    // Refused inside a running loop, where it would block.
    let inner = HTTPClient::new().expect("client");
    let url = format!("{base}/hello");
    let result = IOLoop::new().run_sync(async move { inner.fetch(url).map(|r| r.code) });
    assert!(matches!(result, Err(HTTPClientError::LoopRunning)));
}
