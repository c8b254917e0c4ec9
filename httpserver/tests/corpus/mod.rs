//! The raw-request corpus shared by the parser table (`h1_parse.rs`) and the same table run
//! against a live server over loopback (`server_table.rs`).
#![allow(dead_code, unreachable_pub)]

/// What a server would do with the bytes: serve a request, wait for more, or answer an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
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

pub fn ok(method: &str, path: &str, body: &[u8], keep_alive: bool) -> Outcome {
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
pub fn corpus(method: &str, target: &str, headers: &str, body: Option<&[u8]>) -> Vec<u8> {
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

pub fn chunked_post(te: &str, body: &str) -> Vec<u8> {
    format!("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: {te}\r\n\r\n{body}")
        .into_bytes()
}

/// The table: (name, request bytes, expected outcome).
pub fn cases() -> Vec<(&'static str, Vec<u8>, Outcome)> {
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
        ("absolute-form target", s("GET http://example.com/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n"), ok("GET", "/a/b", b"", true)),
        ("absolute-form with a query and no path", s("GET http://example.com?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n"), ok("GET", "/", b"", true)),
        ("absolute-form with a UTF-8 host", b"GET http://a\xe2\x82\xac HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), ok("GET", "/", b"", true)),
        ("asterisk-form for OPTIONS", s("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), ok("OPTIONS", "*", b"", true)),
        ("asterisk-form for GET", s("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), Outcome::Status(400)),
        ("authority-form for GET", s("GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n"), Outcome::Status(400)),
        ("target of no form", s("GET ! HTTP/1.1\r\nHost: a\r\n\r\n"), Outcome::Status(400)),
        ("absolute-form without a host", s("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), Outcome::Status(400)),
        ("trailer line without a colon", chunked_post("chunked", "2\r\nok\r\n0\r\nX-Checksum abc\r\n\r\n"), Outcome::Status(400)),
        ("trailer name with a space before the colon", chunked_post("chunked", "2\r\nok\r\n0\r\nX-Checksum : abc\r\n\r\n"), Outcome::Status(400)),
        ("trailer line starting with a colon", chunked_post("chunked", "2\r\nok\r\n0\r\n: abc\r\n\r\n"), Outcome::Status(400)),
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
