//! The wire-level cases of Tornado's `httpserver_test.py` (`HTTPServerRawTest`, `KeepAliveTest`,
//! `MaxHeaderSizeTest`, `BodyLimitsTest`), `http1connection_test.py` and
//! `security_corpus_test.py` that concern parsing and framing, as a table of request bytes →
//! outcome, plus the limits of `shared/HTTP-LIMITS.md`. A property test feeds random and mutated
//! requests in random splits to the head parser and the chunked decoder.
//!
//! Where Typhoon answers differently from Tornado the row says so (`deviation`).

use proptest::prelude::*;
use typhoon_httpserver::HttpInputError;
use typhoon_httpserver::h1::{
    BodyKind, Chunk, ChunkedDecoder, Limits, RequestHead, Version, parse_request_head,
    request_framing,
};

/// What a server would do with the bytes: serve a request, wait for more, or answer an error.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// A complete request: method, routing path, body, keep-alive, and the bytes after it.
    Request {
        method: String,
        path: String,
        body: Vec<u8>,
        keep_alive: bool,
        rest: Vec<u8>,
    },
    /// Incomplete: the server would read more.
    Partial,
    /// Answer this status and close.
    Status(u16),
}

/// Parses one request (head, framing, body) from `buf` as a connection would, with `limits`.
fn run_with(buf: &[u8], limits: &Limits) -> Outcome {
    match run_inner(buf, limits) {
        Ok(Some(o)) => o,
        Ok(None) => Outcome::Partial,
        Err(e) => Outcome::Status(e.status()),
    }
}

fn run(buf: &[u8]) -> Outcome {
    run_with(buf, &Limits::default())
}

fn run_inner(buf: &[u8], limits: &Limits) -> Result<Option<Outcome>, HttpInputError> {
    let mut head = RequestHead::new();
    let Some(n) = parse_request_head(buf, limits, &mut head)? else {
        return Ok(None);
    };
    let framing = request_framing(&head, limits.max_body_size)?;
    let mut rest = &buf[n..];
    let body = match framing.body {
        BodyKind::Empty => Vec::new(),
        BodyKind::Length(len) => {
            let len = usize::try_from(len).expect("test bodies are small");
            if rest.len() < len {
                return Ok(None);
            }
            let (body, after) = rest.split_at(len);
            rest = after;
            body.to_vec()
        }
        BodyKind::Chunked => {
            let mut d = ChunkedDecoder::new(limits);
            let mut body = Vec::new();
            loop {
                let (used, chunk) = d.decode(rest)?;
                rest = &rest[used..];
                match chunk {
                    Chunk::Data(data) => body.extend_from_slice(data),
                    Chunk::NeedMore => return Ok(None),
                    Chunk::Done => break body,
                }
            }
        }
    };
    Ok(Some(Outcome::Request {
        method: head.method().to_owned(),
        path: head.path().to_owned(),
        body,
        keep_alive: framing.keep_alive,
        rest: rest.to_vec(),
    }))
}

fn ok(method: &str, path: &str, body: &[u8], keep_alive: bool) -> Outcome {
    Outcome::Request {
        method: method.to_owned(),
        path: path.to_owned(),
        body: body.to_vec(),
        keep_alive,
        rest: Vec::new(),
    }
}

/// Tornado's security-corpus `request()`: HTTP/1.1, Host, Connection: close, Content-Length
/// unless chunked.
fn corpus(method: &str, target: &str, headers: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n");
    if let Some(b) = body
        && !headers.contains("Transfer-Encoding")
    {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str(headers);
    head.push_str("\r\n");
    let mut out: Vec<u8> = head.chars().map(|c| c as u8).collect(); // latin-1, as Python's
    out.extend_from_slice(body.unwrap_or_default());
    out
}

fn chunked_post(te: &str, body: &str) -> Vec<u8> {
    format!("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: {te}\r\n\r\n{body}")
        .into_bytes()
}

/// The table: (name, request bytes, expected outcome).
fn cases() -> Vec<(&'static str, Vec<u8>, Outcome)> {
    let s = |x: &str| x.as_bytes().to_vec();
    let big_header = |n: usize| {
        format!(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Filler: {}\r\n\r\n",
            "a".repeat(n)
        )
    };
    let many_headers = |n: usize| {
        let mut r = String::from("GET / HTTP/1.1\r\nHost: h\r\n");
        for i in 1..n {
            r.push_str(&format!("X-{i}: v\r\n"));
        }
        r.push_str("\r\n");
        r
    };
    vec![
        // --- HTTPServerRawTest ---
        ("malformed_first_line", s("asdf\r\n\r\n"), Outcome::Status(400)),
        ("malformed_headers", s("GET / HTTP/1.0\r\nasdf\r\n\r\n"), Outcome::Status(400)),
        ("invalid_host_header_with_whitespace", s("GET / HTTP/1.0\r\nHost: foo bar\r\n\r\n"), Outcome::Status(400)),
        ("chunked_request_body", s("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n4\r\nfoo=\r\n3\r\nbar\r\n0\r\n\r\n"), ok("POST", "/echo", b"foo=bar", true)),
        ("chunked_request_uppercase", chunked_post("Chunked", "4\r\nfoo=\r\n3\r\nbar\r\n0\r\n\r\n"), ok("POST", "/echo", b"foo=bar", true)),
        ("chunked_request_body_invalid_size", chunked_post("chunked", "1_a\r\n1234567890abcdef1234567890\r\n0\r\n\r\n"), Outcome::Status(400)),
        ("chunked_request_body_duplicate_header", s("POST /echo HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\nTransfer-encoding: chunked\n\n2\nok\n0\n\n"), Outcome::Status(400)),
        // deviation: Tornado answers 400; RFC 9112 §6.1 and HTTP-LIMITS.md ask for 501.
        ("chunked_request_body_unsupported_transfer_encoding", s("POST /echo HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: gzip, chunked\n\n2\nok\n0\n\n"), Outcome::Status(501)),
        ("chunked_request_body_transfer_encoding_and_content_length", s("POST /echo HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\nContent-Length: 2\n\n2\nok\n0\n\n"), Outcome::Status(400)),
        ("content_length_list_whitespace_a0", s("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_iter().chain(*b"Content-Length: 5,\xa05\r\nConnection: close\r\n\r\nhello").collect(), Outcome::Status(400)),
        ("content_length_list_whitespace_85", s("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_iter().chain(*b"Content-Length: 5,\x855\r\nConnection: close\r\n\r\nhello").collect(), Outcome::Status(400)),
        ("content_length_list_equal", s("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\nhello"), ok("POST", "/echo", b"hello", false)),
        ("content_length_lines_equal", s("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), ok("POST", "/echo", b"hello", true)),
        ("content_length_unequal", s("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), Outcome::Status(400)),
        ("invalid_content_length_alphabetic", s("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: foo\r\nConnection: close\r\n\r\n1234567890\r\n"), Outcome::Status(400)),
        ("invalid_content_length_leading_plus", s("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +10\r\nConnection: close\r\n\r\n1234567890\r\n"), Outcome::Status(400)),
        ("invalid_content_length_internal_underscore", s("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1_0\r\nConnection: close\r\n\r\n1234567890\r\n"), Outcome::Status(400)),
        ("invalid_content_length_negative", s("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), Outcome::Status(400)),
        ("invalid_content_length_empty", s("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), Outcome::Status(400)),
        ("invalid_methods_unknown_is_valid", s("FOO /echo HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"), ok("FOO", "/echo", b"", true)),
        ("invalid_methods_comma", s("FOO,BAR /echo HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"), Outcome::Status(400)),
        // --- HTTPConnectionTest ---
        ("newlines_crlf", s("GET /hello HTTP/1.0\r\n\r\n"), ok("GET", "/hello", b"", false)),
        ("newlines_lf", s("GET /hello HTTP/1.0\n\n"), ok("GET", "/hello", b"", false)),
        ("multipart_form_latin1_header", b"POST /multipart HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=1234567890\r\nX-Header-encoding-test: \xe9\r\nContent-Length: 2\r\n\r\nab".to_vec(), ok("POST", "/multipart", b"ab", false)),
        ("100_continue_head", s("POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1024\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"), Outcome::Partial),
        // --- KeepAliveTest ---
        ("two_requests_first", s("GET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"), ok("GET", "/", b"", true)),
        ("request_close", s("GET / HTTP/1.1\r\nHost:127.0.0.1\r\nConnection: close\r\n\r\n"), ok("GET", "/", b"", false)),
        ("http10", s("GET / HTTP/1.0\r\n\r\n"), ok("GET", "/", b"", false)),
        ("http10_keepalive", s("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), ok("GET", "/", b"", true)),
        ("http10_keepalive_extra_crlf_before_next", s("\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), ok("GET", "/", b"", true)),
        ("pipelined_requests", s("GET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"), Outcome::Request { method: "GET".into(), path: "/".into(), body: vec![], keep_alive: true, rest: s("GET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n") }),
        // deviation: Tornado accepts chunked HTTP/1.0 bodies; RFC 9112 §6.1 and HTTP-LIMITS.md reject.
        ("keepalive_chunked_http10", s("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), Outcome::Status(400)),
        ("keepalive_chunked_head_no_body", s("HEAD /chunked HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"), ok("HEAD", "/chunked", b"", true)),
        // --- MaxHeaderSizeTest, BodyLimitsTest (server-side limits) ---
        ("small_headers", big_header(100).into_bytes(), ok("GET", "/", b"", true)),
        ("large_headers", big_header(70 * 1024).into_bytes(), Outcome::Status(431)),
        ("large_body_declared", s("PUT /buffered HTTP/1.1\r\nHost: h\r\nContent-Length: 104857601\r\n\r\n"), Outcome::Status(413)),
        ("body_at_limit_declared", s("PUT /buffered HTTP/1.1\r\nHost: h\r\nContent-Length: 104857600\r\n\r\n"), Outcome::Partial),
        // --- http1connection_test.py (the same framing, server side) ---
        ("chunked_body_bad_chunk_terminator", chunked_post("chunked", "3\r\nfooXX0\r\n\r\n"), Outcome::Status(400)),
        ("chunked_body_tiny_chunks", chunked_post("chunked", &format!("{}0\r\n\r\n", "1\r\nx\r\n".repeat(5000))), ok("POST", "/echo", &[b'x'; 5000], true)),
        // --- security_corpus_test.py ---
        ("6.3.3 content-length plus sign", [corpus("POST", "/echo", "Content-Length: +1\r\n", Some(b"")), s("x")].concat(), Outcome::Status(400)),
        ("6.3.3 content-length underscore", [corpus("POST", "/echo", "Content-Length: 1_0\r\n", Some(b"")), vec![b'x'; 10]].concat(), Outcome::Status(400)),
        ("6.3.3 content-length not a number", corpus("POST", "/echo", "Content-Length: foo\r\n", Some(b"")), Outcome::Status(400)),
        ("6.3.3 chunk size underscore", corpus("POST", "/echo", "Transfer-Encoding: chunked\r\n", Some(&[&b"1_a\r\n"[..], &[b'x'; 26], b"\r\n0\r\n\r\n"].concat())), Outcome::Status(400)),
        ("6.3.3 chunk size hex prefix", corpus("POST", "/echo", "Transfer-Encoding: chunked\r\n", Some(b"0x2\r\nok\r\n0\r\n\r\n")), Outcome::Status(400)),
        ("6.3.3 chunk size sign", corpus("POST", "/echo", "Transfer-Encoding: chunked\r\n", Some(b"+2\r\nok\r\n0\r\n\r\n")), Outcome::Status(400)),
        // deviation: 501, as above.
        ("6.4.1 transfer-encoding gzip, chunked", corpus("POST", "/echo", "Transfer-Encoding: gzip, chunked\r\n", Some(b"2\r\nok\r\n0\r\n\r\n")), Outcome::Status(501)),
        ("6.4.1 transfer-encoding repeated", corpus("POST", "/echo", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", Some(b"2\r\nok\r\n0\r\n\r\n")), Outcome::Status(400)),
        ("6.4.1 transfer-encoding and content-length", corpus("POST", "/echo", "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", Some(b"2\r\nok\r\n0\r\n\r\n")), Outcome::Status(400)),
        ("6.4.1 transfer-encoding with no-break space", corpus("POST", "/echo", "Transfer-Encoding: \u{a0}chunked\r\n", Some(b"2\r\nok\r\n0\r\n\r\n")), Outcome::Status(400)),
        ("6.4.1 content-length with no-break space", [corpus("POST", "/echo", "Content-Length: 2\u{a0}\r\n", Some(b"")), s("ok")].concat(), Outcome::Status(400)),
        ("6.5.3 repeated header parses", corpus("GET", "/echo", &"X: a\r\n".repeat(90), None), ok("GET", "/echo", b"", false)),
        // --- HTTP-LIMITS.md and RFC 9112 ---
        ("missing host http11", s("GET / HTTP/1.1\r\n\r\n"), Outcome::Status(400)),
        ("multiple host lines", s("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Outcome::Status(400)),
        ("comma separated host", s("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), Outcome::Status(400)),
        ("host with port and ipv6", s("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), ok("GET", "/", b"", true)),
        ("obs-fold", s("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), Outcome::Status(400)),
        ("space before first header", s("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), Outcome::Status(400)),
        ("space before colon", s("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), Outcome::Status(400)),
        ("bare cr in value", s("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"), Outcome::Status(400)),
        ("bare cr in request line", s("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), Outcome::Status(400)),
        ("nul in value", s("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), Outcome::Status(400)),
        ("del in value", s("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n"), Outcome::Status(400)),
        ("invalid header name", s("GET / HTTP/1.1\r\nHost: h\r\nX(y): a\r\n\r\n"), Outcome::Status(400)),
        ("empty header name", s("GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n"), Outcome::Status(400)),
        ("obs-text value accepted", b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xe9\r\n\r\n".to_vec(), ok("GET", "/", b"", true)),
        ("double space in request line", s("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), Outcome::Status(400)),
        ("lowercase version", s("GET / http/1.1\r\nHost: h\r\n\r\n"), Outcome::Status(400)),
        ("http/1.2", s("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), Outcome::Status(505)),
        ("http/2.0", s("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), Outcome::Status(505)),
        ("http/0.9 style", s("GET /\r\n\r\n"), Outcome::Status(400)),
        ("http2 preface", s("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Outcome::Status(505)),
        ("uri at 8000 octets", format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(7999)).into_bytes(), ok("GET", &format!("/{}", "a".repeat(7999)), b"", true)),
        ("uri over 16 KiB", format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(16 * 1024)).into_bytes(), Outcome::Status(414)),
        ("uri over 16 KiB, line incomplete", format!("GET /{}", "a".repeat(16 * 1024 + 1)).into_bytes(), Outcome::Status(414)),
        ("100 headers", many_headers(100).into_bytes(), ok("GET", "/", b"", true)),
        ("101 headers", many_headers(101).into_bytes(), Outcome::Status(431)),
        ("head over 64 KiB incomplete", format!("GET / HTTP/1.1\r\nHost: h\r\nX: {}", "a".repeat(64 * 1024)).into_bytes(), Outcome::Status(431)),
        ("endless empty lines", s(&"\r\n".repeat(40 * 1024)), Outcome::Status(431)),
        ("absolute-form target", s("GET http://example.com/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n"), ok("GET", "/a/b?c=d", b"", true)),
        ("absolute-form without path", s("OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"), ok("OPTIONS", "/", b"", true)),
        ("asterisk-form", s("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), ok("OPTIONS", "*", b"", true)),
        ("stray crlf before request", s("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), ok("GET", "/", b"", true)),
        ("transfer-encoding in http/1.0", s("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), Outcome::Status(400)),
        ("transfer-encoding identity", s("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"), Outcome::Status(501)),
        ("transfer-encoding chunked, gzip", s("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), Outcome::Status(400)),
        ("chunk extensions accepted", chunked_post("chunked", "2;name=value\r\nok\r\n3;a;b=\"q;x\"\r\n!!!\r\n0;last\r\n\r\n"), ok("POST", "/echo", b"ok!!!", true)),
        ("chunk trailers accepted", chunked_post("chunked", "2\r\nok\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n"), ok("POST", "/echo", b"ok", true)),
        ("chunk size overflow", chunked_post("chunked", "fffffffffffffffff\r\n"), Outcome::Status(400)),
        ("chunked body over limit", chunked_post("chunked", "6400001\r\n"), Outcome::Status(413)),
        ("chunk size bare lf", chunked_post("chunked", "2\nok\r\n0\r\n\r\n"), Outcome::Status(400)),
        ("chunk data bare lf", chunked_post("chunked", "2\r\nok\n0\r\n\r\n"), Outcome::Status(400)),
        ("chunked then smuggled request stays in rest", chunked_post("chunked", "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n"), Outcome::Request { method: "POST".into(), path: "/echo".into(), body: vec![], keep_alive: true, rest: s("GET /admin HTTP/1.1\r\nHost: h\r\n\r\n") }),
        ("content-length body then next", s("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET"), Outcome::Request { method: "POST".into(), path: "/a".into(), body: s("abc"), keep_alive: true, rest: s("GET") }),
        ("content-length zero", s("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), ok("POST", "/a", b"", true)),
        ("non-utf8 target", b"GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(), Outcome::Status(400)),
        ("control in target", s("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), Outcome::Status(400)),
        ("partial request line", s("GET /ind"), Outcome::Partial),
        ("partial headers", s("GET / HTTP/1.1\r\nHost: h\r\n"), Outcome::Partial),
        ("partial chunked body", chunked_post("chunked", "5\r\nhel"), Outcome::Partial),
    ]
}

#[test]
fn raw_bytes_table() {
    let cases = cases();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (name, bytes, want) in &cases {
        let got = run(bytes);
        if &got != want {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn large_headers_with_small_limit() {
    // MaxHeaderSizeTest: max_header_size=1024 and a 1000-byte header → 431.
    let limits = Limits {
        max_header_size: 1024,
        ..Limits::default()
    };
    let req = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(1000)
    );
    assert_eq!(run_with(req.as_bytes(), &limits), Outcome::Status(431));
    let req = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(100)
    );
    assert!(matches!(
        run_with(req.as_bytes(), &limits),
        Outcome::Request { .. }
    ));
}

#[test]
fn body_limits() {
    // BodyLimitsTest: max_body_size=4096 → a 10240-byte body is refused, declared or chunked.
    let limits = Limits {
        max_body_size: 4096,
        ..Limits::default()
    };
    let req = format!(
        "PUT /buffered HTTP/1.1\r\nHost: h\r\nContent-Length: 10240\r\n\r\n{}",
        "a".repeat(10240)
    );
    assert_eq!(run_with(req.as_bytes(), &limits), Outcome::Status(413));
    let req = format!(
        "PUT /buffered HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n{}\r\n1\r\na\r\n0\r\n\r\n",
        "a".repeat(4096)
    );
    assert_eq!(run_with(req.as_bytes(), &limits), Outcome::Status(413));
    let req = format!(
        "PUT /small HTTP/1.1\r\nHost: h\r\nContent-Length: 4096\r\n\r\n{}",
        "a".repeat(4096)
    );
    assert!(matches!(
        run_with(req.as_bytes(), &limits),
        Outcome::Request { .. }
    ));
}

#[test]
fn head_details() {
    let mut head = RequestHead::new();
    let req = b"GET /p?q=1 HTTP/1.0\r\nHost: Example.COM:80\r\nX-A: 1\r\nx-a: 2\r\n\r\n";
    parse_request_head(req, &Limits::default(), &mut head).unwrap();
    assert_eq!(head.version(), Version::Http10);
    assert_eq!(head.headers().get_joined("X-A").unwrap(), "1,2");
    let line = head.to_start_line();
    assert_eq!(
        (
            line.method.as_str(),
            line.path.as_str(),
            line.version.as_str()
        ),
        ("GET", "/p?q=1", "HTTP/1.0")
    );
}

// --- property tests ---

/// Generates a valid request: method, path, headers, and a body framed by length or chunks.
fn valid_request() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let method = prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "X-CUSTOM"]);
    let path = "/[a-zA-Z0-9._~%!$&'()*+,;=:@/?-]{0,40}";
    let header = ("X-[A-Za-z0-9-]{1,20}", "[!-~]([ -~]{0,30}[!-~])?");
    let headers = prop::collection::vec(header, 0..20);
    let body = prop::collection::vec(any::<u8>(), 0..300);
    let chunks = prop::collection::vec(1usize..50, 0..10);
    (method, path, headers, body, any::<bool>(), chunks).prop_map(
        |(method, path, headers, body, chunked, chunk_sizes)| {
            let mut r = format!("{method} {path} HTTP/1.1\r\nHost: example.com\r\n");
            for (n, v) in headers {
                r.push_str(&format!("{n}: {v}\r\n"));
            }
            let mut bytes;
            if chunked {
                r.push_str("Transfer-Encoding: chunked\r\n\r\n");
                bytes = r.into_bytes();
                let mut rest = &body[..];
                let mut sizes = chunk_sizes.into_iter().cycle();
                while !rest.is_empty() {
                    let n = sizes.next().unwrap_or(7).min(rest.len());
                    bytes.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    bytes.extend_from_slice(&rest[..n]);
                    bytes.extend_from_slice(b"\r\n");
                    rest = &rest[n..];
                }
                bytes.extend_from_slice(b"0\r\n\r\n");
            } else {
                r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                bytes = r.into_bytes();
                bytes.extend_from_slice(&body);
            }
            (bytes, body)
        },
    )
}

/// Feeds `input` to head parser and body decoder in pieces cut at `cuts`, as a connection
/// reading from a socket would (the head is re-parsed from the growing buffer).
fn run_split(input: &[u8], cuts: &[usize]) -> Outcome {
    let limits = Limits::default();
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let mut head = RequestHead::new();
    let mut head_end = None;
    let mut framing = None;
    let mut decoder = ChunkedDecoder::new(&limits);
    let mut body = Vec::new();
    let mut pos = 0; // body bytes consumed up to here
    for &end in &ends {
        let buf = &input[..end];
        if head_end.is_none() {
            match parse_request_head(buf, &limits, &mut head) {
                Ok(Some(n)) => {
                    head_end = Some(n);
                    pos = n;
                    match request_framing(&head, limits.max_body_size) {
                        Ok(f) => framing = Some(f),
                        Err(e) => return Outcome::Status(e.status()),
                    }
                }
                Ok(None) => continue,
                Err(e) => return Outcome::Status(e.status()),
            }
        }
        let Some(f) = framing else { continue };
        match f.body {
            BodyKind::Empty => return finish(&head, f.keep_alive, body, &input[pos..]),
            BodyKind::Length(n) => {
                let want = pos + n as usize;
                if end >= want {
                    body.extend_from_slice(&input[pos..want]);
                    return finish(&head, f.keep_alive, body, &input[want..]);
                }
            }
            BodyKind::Chunked => loop {
                match decoder.decode(&buf[pos..]) {
                    Ok((used, chunk)) => {
                        pos += used;
                        match chunk {
                            Chunk::Data(d) => body.extend_from_slice(d),
                            Chunk::NeedMore => break,
                            Chunk::Done => return finish(&head, f.keep_alive, body, &input[pos..]),
                        }
                    }
                    Err(e) => return Outcome::Status(e.status()),
                }
            },
        }
    }
    Outcome::Partial
}

fn finish(head: &RequestHead, keep_alive: bool, body: Vec<u8>, rest: &[u8]) -> Outcome {
    Outcome::Request {
        method: head.method().to_owned(),
        path: head.path().to_owned(),
        body,
        keep_alive,
        rest: rest.to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A valid request always parses, to the same result in any split.
    #[test]
    fn valid_requests_parse_in_any_split(
        (req, body) in valid_request(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = run(&req);
        match &whole {
            Outcome::Request { body: got, rest, .. } => {
                prop_assert_eq!(got, &body);
                prop_assert!(rest.is_empty());
            }
            other => prop_assert!(false, "valid request gave {:?}", other),
        }
        prop_assert_eq!(run_split(&req, &cuts), whole);
    }

    /// A mutated request never panics, and splitting it never changes the outcome.
    #[test]
    fn mutated_requests_never_panic_and_split_consistently(
        (req, _) in valid_request(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut req = req;
        for (at, byte, op) in edits {
            let at = at % (req.len() + 1);
            match op {
                0 if at < req.len() => req[at] = byte,
                1 => req.insert(at, byte),
                _ if at < req.len() => { req.remove(at); }
                _ => {}
            }
        }
        prop_assert_eq!(run_split(&req, &cuts), run(&req));
    }

    /// Random bytes never panic the head parser or the chunked decoder.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = run(&bytes);
        let mut d = ChunkedDecoder::new(&Limits::default());
        let mut input = &bytes[..];
        while let Ok((n, Chunk::Data(_))) = d.decode(input) {
            input = &input[n..];
        }
    }
}
