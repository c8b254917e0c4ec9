//! The HTTP server over real loopback sockets, with raw bytes (Tornado's `HTTPServerRawTest`,
//! `httpserver_test.py`, `http1connection_test.py`, `security_corpus_test.py`) and the limits of
//! `shared/HTTP-LIMITS.md`.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions, HTTPServerRequest, ResponseWriter};
use typhoon_ioloop::{IOLoop, sleep, timeout};
use typhoon_testing::{connect, raw_request, read_response, run_test, status_of};

/// An echo application: answers with method, path, query and body, and a few special paths.
async fn app(request: HTTPServerRequest, mut response: ResponseWriter) {
    match request.path() {
        "/panic" => panic!("handler boom"),
        "/status/204" => {
            response.set_status(204);
        }
        "/stream" => {
            response.write(b"first,");
            response.flush().await.expect("flush");
            sleep(Duration::from_millis(5)).await;
            response.write(b"second");
        }
        "/ip" => response.write(format!("{} {}", request.remote_ip, request.protocol).as_bytes()),
        "/wait-close" => {
            response.connection_closed().await;
        }
        "/file" | "/file-after-flush" => {
            let file = file_fixture();
            response.write(b"<");
            if request.path() == "/file-after-flush" {
                response.flush().await.expect("flush");
            }
            response.send_file(file, 2, 10).await.expect("send_file");
            if request.path() == "/file-after-flush" {
                response.write(b">");
            }
        }
        "/file-cancelled" => {
            // The application gives up on a client that does not read (its own timeout).
            let file = big_file_fixture();
            let sent = timeout(
                Duration::from_millis(100),
                response.send_file(file, 0, BIG_FILE_LEN),
            )
            .await;
            assert!(
                sent.is_err(),
                "the client reads nothing: the send cannot finish"
            );
            GAVE_UP.with(|event| event.set());
        }
        "/file-wrong-length" => {
            let file = file_fixture();
            response.set_header("Content-Length", "3").expect("header");
            let result = response.send_file(file, 0, 8).await;
            assert!(
                result.is_err(),
                "a Content-Length that does not match is refused"
            );
        }
        "/block" => {
            // Sleeps `at` ms on a loop timer, then blocks the whole loop for `for` ms.
            let arg = |name: &str| -> u64 {
                request
                    .query()
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            sleep(Duration::from_millis(arg("at"))).await;
            std::thread::sleep(Duration::from_millis(arg("for")));
            response.write(b"unblocked");
        }
        "/big-file" => {
            if response
                .send_file(big_file_fixture(), 0, BIG_FILE_LEN)
                .await
                .is_err()
            {
                SEND_FAILED.with(|event| event.set());
            }
        }
        "/stream-big" => {
            // 64 flushes of 1 MiB each: the handler waits on every one.
            let chunk = vec![b'c'; 1 << 20];
            for _ in 0..64 {
                response.write(&chunk);
                if response.flush().await.is_err() {
                    SEND_FAILED.with(|event| event.set());
                    return;
                }
            }
        }
        "/big-buffered" => {
            // 16 MiB written at once: the server's own flush sends it after the handler.
            response.write(&vec![b'c'; 16 << 20]);
        }
        "/slow" => {
            sleep(Duration::from_millis(200)).await;
            response.write(b"slow done");
        }
        _ => {
            response
                .set_header("Content-Type", "text/plain")
                .expect("header");
            let body = format!(
                "{} {} {} {}",
                request.method,
                request.path(),
                request.query(),
                String::from_utf8_lossy(&request.body)
            );
            response.write(body.as_bytes());
        }
    }
}

/// Larger than any loopback socket buffer, so a client that does not read stalls the send.
const BIG_FILE_LEN: u64 = 64 << 20;

thread_local! {
    /// Set when `/file-cancelled` gave up (the test and the server share one loop thread).
    static GAVE_UP: typhoon_ioloop::locks::Event = typhoon_ioloop::locks::Event::new();
    /// Set when `/big-file` or `/stream-big` saw its send fail.
    static SEND_FAILED: typhoon_ioloop::locks::Event = typhoon_ioloop::locks::Event::new();
}

/// A file this test process writes once and unlinks at once: it holds the only handle,
/// so nothing is left on disk when the process ends, however it ends.
fn unlinked_fixture(name: &str, contents: &[u8]) -> std::fs::File {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "typhoon-httpserver-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, contents).expect("fixture");
    let file = std::fs::File::open(&path).expect("fixture");
    std::fs::remove_file(&path).expect("unlink fixture");
    file
}

/// `BIG_FILE_LEN` bytes of `a`, shared by every test in the process.
fn big_file_fixture() -> &'static std::fs::File {
    static FILE: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let len = usize::try_from(BIG_FILE_LEN).expect("fits");
        unlinked_fixture("big", &vec![b'a'; len])
    })
}

/// A small file the `/file` paths send a range of (bytes 2..12: `cdefghijkl`).
fn file_fixture() -> &'static std::fs::File {
    static FILE: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
    FILE.get_or_init(|| unlinked_fixture("file", b"abcdefghijklmnopqrstuvwxyz"))
}

fn serve(options: HTTPServerOptions) -> (HTTPServer, SocketAddr) {
    let server = HTTPServer::with_options(app, options);
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr)
}

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
fn streaming_response_is_chunked_on_http11_and_close_delimited_on_http10() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        stream
            .write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(
            response.header("Transfer-Encoding").as_deref(),
            Some("chunked")
        );
        assert_eq!(response.body, b"first,second");
        let reply = raw_request(addr, b"GET /stream HTTP/1.0\r\n\r\n").await;
        let text = String::from_utf8_lossy(&reply);
        assert!(text.ends_with("\r\n\r\nfirst,second"), "{text}");
        assert!(text.contains("Connection: close"));
        server.stop();
    });
}

#[test]
fn send_file_with_length_chunked_and_head() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        // Content-Length covers what was written before plus the range; keep-alive goes on.
        for _ in 0..2 {
            stream
                .write(b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let response = read_response(&stream, false).await;
            assert_eq!(response.status, 200);
            assert_eq!(response.header("Content-Length").as_deref(), Some("11"));
            assert_eq!(response.body, b"<cdefghijkl");
        }
        // After a flush the range is one more chunk, and writing may go on.
        stream
            .write(b"GET /file-after-flush HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(
            response.header("Transfer-Encoding").as_deref(),
            Some("chunked")
        );
        assert_eq!(response.body, b"<cdefghijkl>");
        // HEAD: the length, no body bytes; the next response on the connection is intact.
        stream
            .write(b"HEAD /file HTTP/1.1\r\nHost: x\r\n\r\nGET /file HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let head = read_response(&stream, true).await;
        assert_eq!(head.header("Content-Length").as_deref(), Some("11"));
        let after = read_response(&stream, false).await;
        assert_eq!(after.body, b"<cdefghijkl");
        server.stop();
    });
}

#[test]
fn send_file_cut_short_closes_the_connection() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        stream
            .write(b"GET /file-cancelled HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let gave_up = GAVE_UP.with(Clone::clone);
        gave_up.wait().await;
        // Everything that went out, then EOF: the pipelined request is never answered, so
        // its response can never be read as the rest of the cut body.
        let all = timeout(Duration::from_secs(10), stream.read_until_close())
            .await
            .expect("the connection closes")
            .expect("read");
        let (head, body) = split_head(&all);
        let head = String::from_utf8_lossy(head);
        assert!(head.contains("Content-Length: 67108864"), "{head}");
        assert!((body.len() as u64) < BIG_FILE_LEN, "the send was cut short");
        assert!(
            body.iter().all(|&b| b == b'a'),
            "nothing else follows the cut body"
        );
        // A wrong Content-Length from the application: nothing sent as a body, the
        // connection closes after the head.
        let stream = connect(addr).await;
        stream
            .write(b"GET /file-wrong-length HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let all = timeout(Duration::from_secs(10), stream.read_until_close())
            .await
            .expect("the connection closes")
            .expect("read");
        let text = String::from_utf8_lossy(&all);
        assert!(
            text.ends_with("\r\n\r\n"),
            "no body, no second response: {text}"
        );
        server.stop();
    });
}

/// A blocking client: one keep-alive connection, a request whenever asked.
fn blocking_get(stream: &mut std::net::TcpStream, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return Ok(text.into_owned());
            }
        }
    }
}

/// Two clients whose requests block the server's loop: the first over 0.2-1.4 s; the second
/// waits on a 0.7 s timer (due before a 1 s deadline armed at the start), so in the iteration
/// after the first block it runs ahead of that deadline's task and blocks over 1.4-2.6 s.
fn stall_the_loop(
    ioloop: &IOLoop,
    addr: SocketAddr,
) -> Vec<typhoon_ioloop::JoinHandle<std::io::Result<String>>> {
    ["/block?at=200&for=1200", "/block?at=700&for=1200"]
        .into_iter()
        .map(|path| {
            ioloop.run_in_executor(move || {
                let mut a = std::net::TcpStream::connect(addr)?;
                blocking_get(&mut a, path)
            })
        })
        .collect()
}

/// Waits for [`stall_the_loop`]'s two clients: each was answered once the loop was free.
async fn blockers_answered(blockers: Vec<typhoon_ioloop::JoinHandle<std::io::Result<String>>>) {
    for blocker in blockers {
        let answer = blocker.await.expect("thread").expect("blocker answered");
        assert!(answer.ends_with("unblocked"), "{answer}");
    }
}

/// A raw response split into its head (with the blank line) and what follows.
fn split_head(all: &[u8]) -> (&[u8], &[u8]) {
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    all.split_at(end)
}

#[test]
fn idle_timeout_after_a_stalled_loop_does_not_drop_a_request_that_arrived() {
    // The race: a connection's idle timer and a blocking task come due in the same loop
    // iteration, the blocking task runs first, and the connection's next request arrives
    // while it blocks. The timer must not win over data that is already in the socket.
    run_test(async {
        let options = HTTPServerOptions {
            idle_connection_timeout: Duration::from_millis(1000),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let ioloop = IOLoop::current();
        // B: one request now, then idle (its deadline: about 1.0 s from now).
        let client_b = ioloop.run_in_executor(move || {
            let mut b = std::net::TcpStream::connect(addr)?;
            let first = blocking_get(&mut b, "/first")?;
            let started = std::time::Instant::now();
            // A1 blocks the loop over B's deadline (0.2-1.4 s); A2's timer (0.7 s) is due
            // before B's, so in the iteration after A1 it runs first and blocks 1.4-2.6 s.
            // B's next request arrives in the middle of that.
            std::thread::sleep(Duration::from_millis(2000).saturating_sub(started.elapsed()));
            let second = blocking_get(&mut b, "/second")?;
            Ok::<_, std::io::Error>((first, second))
        });
        let blockers = stall_the_loop(&ioloop, addr);
        let (first, second) = client_b
            .await
            .expect("client thread")
            .expect("B's second request is served, not dropped by its idle timer");
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        assert!(
            second.starts_with("HTTP/1.1 200") && second.contains("/second"),
            "{second}"
        );
        blockers_answered(blockers).await;
        server.stop();
    });
}

#[test]
fn send_timeout_after_a_stalled_loop_does_not_cut_a_client_that_read() {
    // As the idle case above, for a send waiting on a client that does read, whose reading
    // happens while the loop is blocked.
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(1000),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let ioloop = IOLoop::current();
        let client_b = ioloop.run_in_executor(move || {
            use std::io::{Read, Write};
            let mut b = std::net::TcpStream::connect(addr)?;
            let started = std::time::Instant::now();
            b.write_all(b"GET /big-file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            // The send fills the socket buffers at once; B starts reading while the second
            // blocker holds the loop (1.4-2.6 s), past the send deadline (about 1.0 s).
            std::thread::sleep(Duration::from_millis(2000).saturating_sub(started.elapsed()));
            let mut all = Vec::new();
            b.read_to_end(&mut all)?;
            Ok::<_, std::io::Error>(all)
        });
        let blockers = stall_the_loop(&ioloop, addr);
        let all = client_b.await.expect("client thread").expect("read");
        assert_eq!(
            split_head(&all).1.len() as u64,
            BIG_FILE_LEN,
            "the whole file reached a client that read it"
        );
        blockers_answered(blockers).await;
        server.stop();
    });
}

#[test]
fn body_timeout_after_a_stalled_loop_does_not_drop_a_body_that_arrived() {
    // As the idle case above, for the wait for the rest of a request body.
    run_test(async {
        let options = HTTPServerOptions {
            body_inactivity_timeout: Duration::from_millis(1000),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let ioloop = IOLoop::current();
        let client_b = ioloop.run_in_executor(move || {
            use std::io::{Read, Write};
            let mut b = std::net::TcpStream::connect(addr)?;
            let started = std::time::Instant::now();
            b.write_all(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")?;
            // The rest arrives while the second blocker holds the loop (1.4-2.6 s).
            std::thread::sleep(Duration::from_millis(2000).saturating_sub(started.elapsed()));
            b.write_all(b"world")?;
            b.shutdown(std::net::Shutdown::Write)?;
            let mut reply = String::new();
            b.read_to_string(&mut reply)?;
            Ok::<_, std::io::Error>(reply)
        });
        let blockers = stall_the_loop(&ioloop, addr);
        let reply = client_b.await.expect("client thread").expect("reply");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("POST /body  helloworld"), "{reply}");
        blockers_answered(blockers).await;
        server.stop();
    });
}

#[test]
fn expect_100_continue() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let stream = connect(addr).await;
        stream
            .write(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            .await
            .expect("write");
        let interim = stream.read_until(b"\r\n\r\n", None).await.expect("100");
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        stream.write(b"hello").await.expect("body");
        let response = read_response(&stream, false).await;
        assert_eq!(String::from_utf8_lossy(&response.body), "POST /up  hello");
        // Too large: 413 at once, never a 100.
        let reply = raw_request(
            addr,
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\nExpect: 100-continue\r\n\r\n",
        )
        .await;
        assert_eq!(status_of(&reply), Some(413));
        server.stop();
    });
}

#[test]
fn streamed_request_body() {
    run_test(async {
        let options = HTTPServerOptions {
            stream_request_body: Some(Rc::new(|request: &HTTPServerRequest| {
                request.path() == "/upload"
            })),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            |mut request, mut response| async move {
                let mut reader = request.body_reader().expect("streaming");
                let (mut chunks, mut total) = (0, 0);
                while let Some(chunk) = reader.next_chunk().await.expect("chunk") {
                    chunks += 1;
                    total += chunk.len();
                }
                assert!(request.body.is_empty());
                response.write(format!("{chunks} chunks {total} bytes").as_bytes());
            },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let stream = connect(addr).await;
        let body = vec![b'z'; 3 << 20];
        stream
            .write(
                format!(
                    "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )
            .await
            .expect("head");
        stream.write(&body).await.expect("body");
        let response = read_response(&stream, false).await;
        let text = String::from_utf8_lossy(&response.body).into_owned();
        assert!(
            text.ends_with(&format!("chunks {} bytes", 3 << 20)),
            "{text}"
        );
        let chunks: usize = text
            .split(' ')
            .next()
            .expect("count")
            .parse()
            .expect("number");
        assert!(chunks > 1, "the body arrived in pieces, not whole");
        server.stop();
    });
}

#[test]
fn timeouts_close_slow_clients() {
    run_test(async {
        let options = HTTPServerOptions {
            idle_connection_timeout: Duration::from_millis(100),
            header_timeout: Duration::from_millis(100),
            body_inactivity_timeout: Duration::from_millis(100),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        // Idle: connects, sends nothing.
        let idle = connect(addr).await;
        assert!(idle.read_until_close().await.expect("closed").is_empty());
        // Slowloris: half a head, never finished.
        let slow = connect(addr).await;
        slow.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        assert!(slow.read_until_close().await.expect("closed").is_empty());
        // Body stalls: 408.
        let stall = connect(addr).await;
        stall
            .write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            .await
            .expect("write");
        let reply = stall.read_until_close().await.unwrap_or_default();
        assert_eq!(
            status_of(&reply),
            Some(408),
            "{}",
            String::from_utf8_lossy(&reply)
        );
        server.stop();
    });
}

#[test]
fn a_connection_idle_past_the_buffer_release_serves_on_and_still_times_out() {
    // After a second idle a keep-alive connection gives back every buffer it kept for the
    // next request; the next request must find them again, and the idle timeout must still
    // end the connection afterwards (not be taken for another release).
    run_test(async {
        let options = HTTPServerOptions {
            idle_connection_timeout: Duration::from_millis(2500),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let stream = connect(addr).await;
        for (i, path) in ["/first", "/after-release"].into_iter().enumerate() {
            if i > 0 {
                sleep(Duration::from_millis(1300)).await; // past the release, not the timeout
            }
            stream
                .write(
                    format!(
                        "GET {path}?q={i} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
                        "p".repeat(300)
                    )
                    .as_bytes(),
                )
                .await
                .expect("write");
            let response = read_response(&stream, false).await;
            assert_eq!(response.status, 200);
            assert_eq!(
                String::from_utf8_lossy(&response.body),
                format!("GET {path} q={i} ")
            );
        }
        let idle_since = std::time::Instant::now();
        let rest = timeout(Duration::from_secs(10), stream.read_until_close())
            .await
            .expect("the idle timeout closes the connection");
        assert!(rest.expect("clean close").is_empty());
        let waited = idle_since.elapsed();
        assert!(
            waited >= Duration::from_millis(2000),
            "closed by the idle timeout, not at the release: {waited:?}"
        );
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
fn xheaders() {
    run_test(async {
        let options = HTTPServerOptions {
            xheaders: true,
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let reply = raw_request(
            addr,
            b"GET /ip HTTP/1.1\r\nHost: x\r\nX-Real-Ip: 4.4.4.4\r\nX-Scheme: https\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(String::from_utf8_lossy(&reply).ends_with("4.4.4.4 https"));
        let reply = raw_request(
            addr,
            b"GET /ip HTTP/1.1\r\nHost: x\r\nX-Real-Ip: not-an-ip\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(String::from_utf8_lossy(&reply).ends_with("127.0.0.1 http"));
        server.stop();
        // Without xheaders the headers are ignored.
        let (server, addr) = serve(HTTPServerOptions::default());
        let reply = raw_request(
            addr,
            b"GET /ip HTTP/1.1\r\nHost: x\r\nX-Real-Ip: 4.4.4.4\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(String::from_utf8_lossy(&reply).ends_with("127.0.0.1 http"));
        server.stop();
    });
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_request_bodies_and_zip_bombs() {
    use std::io::Write;
    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).expect("gzip");
        encoder.finish().expect("gzip")
    }
    run_test(async {
        let mut options = HTTPServerOptions {
            decompress_request: true,
            ..HTTPServerOptions::default()
        };
        options.limits.max_body_size = 1 << 20;
        let (server, addr) = serve(options);
        let body = gzip(b"unzipped");
        let mut request = format!(
            "POST /z HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let reply = raw_request(addr, &request).await;
        assert!(String::from_utf8_lossy(&reply).ends_with("POST /z  unzipped"));
        // 16 MiB of zeros compress to a few KiB: over the 1 MiB limit once inflated.
        let bomb = gzip(&vec![0u8; 16 << 20]);
        let mut request = format!(
            "POST /z HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            bomb.len()
        )
        .into_bytes();
        request.extend_from_slice(&bomb);
        let reply = raw_request(addr, &request).await;
        assert_eq!(status_of(&reply), Some(413));
        server.stop();
    });
}

#[test]
fn handler_sees_client_going_away() {
    run_test(async {
        let closed = Rc::new(std::cell::Cell::new(false));
        let seen = Rc::clone(&closed);
        let server = HTTPServer::new(move |_request, response| {
            let seen = Rc::clone(&seen);
            async move {
                response.connection_closed().await;
                seen.set(true);
            }
        });
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        sleep(Duration::from_millis(20)).await;
        client.close();
        for _ in 0..100 {
            if closed.get() {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert!(closed.get(), "on_connection_close never ran");
        server.stop();
    });
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        let idle = connect(addr).await;
        idle.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let _ = read_response(&idle, false).await; // now idle in keep-alive
        let busy = connect(addr).await;
        busy.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        sleep(Duration::from_millis(50)).await;
        let shutdown = {
            let server = server.clone();
            IOLoop::current().spawn(async move { server.shutdown(Duration::from_secs(5)).await })
        };
        // The idle connection is closed at once.
        assert!(idle.read_until_close().await.expect("eof").is_empty());
        // The in-flight request completes, then its connection closes.
        let response = read_response(&busy, false).await;
        assert_eq!(response.body, b"slow done");
        assert_eq!(response.header("Connection").as_deref(), Some("close"));
        assert_eq!(
            shutdown.await.expect("shutdown"),
            0,
            "nothing had to be cut"
        );
        // New connections are refused.
        assert!(
            typhoon_iostream::TCPClient::new()
                .connect("127.0.0.1", addr.port())
                .await
                .is_err()
        );
    });
}

#[test]
fn start_loops_serves_from_several_loops() {
    let server = typhoon_iostream::start_loops(2, 0, "127.0.0.1", || {
        HTTPServer::new(|_request, mut response| async move {
            response.write(format!("{:?}", std::thread::current().id()).as_bytes());
        })
    })
    .expect("start_loops");
    let addr = server.local_addr();
    let mut threads = std::collections::HashSet::new();
    for _ in 0..64 {
        use std::io::{Read, Write};
        let mut socket = std::net::TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        socket
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut reply = String::new();
        socket.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 200"));
        threads.insert(reply.rsplit("\r\n\r\n").next().expect("body").to_owned());
    }
    server.stop();
    assert!(threads.len() > 1, "all 64 requests went to one loop");
}

/// `n` loops whose `/slow?ms=N` handlers tell `started` when they begin, then sleep N ms.
fn slow_loops(
    n: usize,
    started: std::sync::mpsc::Sender<()>,
) -> typhoon_iostream::MultiLoopServer<HTTPServer> {
    typhoon_iostream::start_loops(n, 0, "127.0.0.1", move || {
        let started = started.clone();
        HTTPServer::new(move |request, mut response| {
            let started = started.clone();
            async move {
                let ms = request
                    .query()
                    .strip_prefix("ms=")
                    .and_then(|ms| ms.parse().ok())
                    .unwrap_or(0);
                let _ = started.send(());
                sleep(Duration::from_millis(ms)).await;
                response.write(b"slow done");
            }
        })
    })
    .expect("start_loops")
}

/// Connects and sends `GET path`, keep-alive.
fn send_get(addr: SocketAddr, path: &str) -> std::net::TcpStream {
    use std::io::Write;
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    socket
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .expect("write");
    socket
}

#[test]
fn start_loops_shutdown_finishes_requests_in_flight_on_every_loop() {
    use std::io::Read;
    let (started, starts) = std::sync::mpsc::channel();
    let loops = slow_loops(2, started);
    let addr = loops.local_addr();
    // Eight requests in flight, spread over the loops by the kernel, and two idle connections.
    let busy: Vec<_> = (0..8).map(|_| send_get(addr, "/slow?ms=300")).collect();
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
        .collect();
    for _ in 0..8 {
        starts
            .recv_timeout(Duration::from_secs(10))
            .expect("every request reached its handler");
    }
    let cut = loops.shutdown(Duration::from_secs(10));
    assert_eq!(cut, 0, "every request in flight finished within the grace");
    for mut socket in busy {
        let mut reply = String::new();
        socket.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("slow done"), "{reply}");
    }
    for mut socket in idle {
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut rest = Vec::new();
        assert_eq!(
            socket.read_to_end(&mut rest).map(|_| rest.len()).ok(),
            Some(0),
            "idle closed"
        );
    }
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nothing listens after the shutdown"
    );
}

#[test]
fn duration_max_means_no_deadline_for_every_timeout_and_the_shutdown_grace() {
    // `Duration::MAX` overflowed `Instant` arithmetic: a panic in every connection, and a
    // multi-loop shutdown that never returned.
    let forever = Duration::MAX;
    let options = move || HTTPServerOptions {
        idle_connection_timeout: forever,
        header_timeout: forever,
        body_inactivity_timeout: forever,
        body_timeout: Some(forever),
        send_timeout: forever,
        ..HTTPServerOptions::default()
    };
    run_test(async move {
        let (server, addr) = serve(options());
        let stream = connect(addr).await;
        stream
            .write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            .await
            .expect("write");
        let response = read_response(&stream, false).await;
        assert_eq!(String::from_utf8_lossy(&response.body), "POST /echo  hi");
        drop(stream);
        assert_eq!(server.shutdown(forever).await, 0);
    });
    let loops = typhoon_iostream::start_loops(2, 0, "127.0.0.1", move || {
        HTTPServer::with_options(app, options())
    })
    .expect("start_loops");
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(loops.shutdown(forever));
    });
    assert_eq!(
        finished.recv_timeout(Duration::from_secs(10)).ok(),
        Some(0),
        "the shutdown of idle loops returns at once"
    );
}

#[test]
fn start_loops_shutdown_cuts_what_outlasts_the_grace() {
    let (started, starts) = std::sync::mpsc::channel();
    let loops = slow_loops(2, started);
    let socket = send_get(loops.local_addr(), "/slow?ms=30000");
    starts
        .recv_timeout(Duration::from_secs(10))
        .expect("the request reached its handler");
    let begun = std::time::Instant::now();
    assert_eq!(
        loops.shutdown(Duration::from_millis(200)),
        1,
        "one connection cut"
    );
    assert!(
        begun.elapsed() < Duration::from_secs(10),
        "the grace bounds the wait"
    );
    drop(socket);
}

#[test]
fn send_timeout_closes_a_client_that_never_reads() {
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(200),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            |_request, mut response| async move {
                // Far more than the socket buffers hold.
                response.write(&vec![b'x'; 32 << 20]);
            },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let client = connect(addr).await;
        client
            .write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        // The client reads nothing for a while: the server gives up on it.
        sleep(Duration::from_millis(600)).await;
        let received = client
            .read_until_close()
            .await
            .map(|d| d.len())
            .unwrap_or(0);
        assert!(
            received < 32 << 20,
            "the whole body was delivered to a client that never read"
        );
        assert_eq!(server.connection_count(), 0, "the connection was closed");
        server.stop();
    });
}

#[test]
fn send_timeout_covers_handler_flushes_and_send_file() {
    // Before, only the server's own flushes had a send timeout: a handler's `flush` or
    // `send_file` to a client that stopped reading waited for ever.
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(200),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        for path in ["/stream-big", "/big-file"] {
            let failed = SEND_FAILED.with(Clone::clone);
            failed.clear();
            let client = connect(addr).await;
            client
                .write(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .expect("write");
            // The client reads nothing: the handler's wait fails after the send timeout.
            timeout(Duration::from_secs(10), failed.wait())
                .await
                .unwrap_or_else(|_| panic!("{path}: the handler's send never timed out"));
            let received = timeout(Duration::from_secs(10), client.read_until_close())
                .await
                .expect("the connection closes")
                .map_or(0, |d| d.len());
            assert!(received < 64 << 20, "{path}: cut short, {received} bytes");
        }
        assert_eq!(server.connection_count(), 0, "the connections were closed");
        server.stop();
    });
}

#[test]
fn send_timeout_spares_a_slow_reader_that_keeps_reading() {
    // The send timeout runs between successive writes (nginx's), not over the response:
    // a client taking 1 MiB every 40 ms needs far longer than 200 ms for 16 MiB in all.
    // Before, the server's own flush of a buffered response had 200 ms in all.
    run_test(async {
        let options = HTTPServerOptions {
            send_timeout: Duration::from_millis(200),
            ..HTTPServerOptions::default()
        };
        let (server, addr) = serve(options);
        let reader = IOLoop::current().run_in_executor(move || {
            use std::io::{Read, Write};
            let mut socket = std::net::TcpStream::connect(addr)?;
            socket
                .write_all(b"GET /big-buffered HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let started = std::time::Instant::now();
            let mut all = Vec::new();
            let mut piece = vec![0u8; 1 << 20];
            loop {
                let mut filled = 0;
                while filled < piece.len() {
                    let n = socket.read(&mut piece[filled..])?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                all.extend_from_slice(&piece[..filled]);
                if filled < piece.len() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(40));
            }
            Ok::<_, std::io::Error>((all, started.elapsed()))
        });
        let (all, took) = reader.await.expect("thread").expect("read");
        assert!(all.starts_with(b"HTTP/1.1 200"));
        let body = split_head(&all).1;
        assert_eq!(body.len(), 16 << 20, "the whole body arrived");
        assert!(body.iter().all(|&b| b == b'c'));
        assert!(
            took > Duration::from_millis(400),
            "the transfer outlasted the limit: {took:?}"
        );
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

#[test]
fn client_reset_mid_request_is_cleaned_up() {
    run_test(async {
        let (server, addr) = serve(HTTPServerOptions::default());
        for partial in [
            &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf"[..],
            b"GET / HTTP/1.1\r\nHo",
        ] {
            let stream = connect(addr).await;
            stream.write(partial).await.expect("write");
            sleep(Duration::from_millis(20)).await;
            drop(stream); // closes with data unread by nobody: a FIN or a reset
        }
        for _ in 0..100 {
            if server.connection_count() == 0 {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.connection_count(), 0);
        let reply = raw_request(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status_of(&reply), Some(200));
        server.stop();
    });
}
