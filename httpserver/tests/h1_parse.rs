//! The wire-level cases of Tornado's `httpserver_test.py` (`HTTPServerRawTest`, `KeepAliveTest`,
//! `MaxHeaderSizeTest`, `BodyLimitsTest`), `http1connection_test.py` and
//! `security_corpus_test.py` that concern parsing and framing, as a table of request bytes →
//! outcome, plus the limits of `shared/HTTP-LIMITS.md`. A property test feeds random and mutated
//! requests in random splits to the head parser and the chunked decoder.
//!
//! Where Typhoon answers differently from Tornado the row says so (`deviation`).

mod corpus;

use corpus::{Outcome, cases};
use proptest::prelude::*;
use typhoon_httputil::HTTPInputError;
use typhoon_httputil::h1::{
    BodyKind, Chunk, ChunkedDecoder, Limits, RequestHead, Version, parse_request_head,
    request_framing,
};

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

fn run_inner(buf: &[u8], limits: &Limits) -> Result<Option<Outcome>, HTTPInputError> {
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
