//! Malformed and hostile responses from raw TCP servers: each ends in a typed error, never a
//! hang (every fetch is bounded by a request timeout, every test by `run`'s) or a panic.

mod util;

use std::io::Write;
use std::time::Duration;

use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest, TimeoutPhase};
use typhoon_testing::run_test;
use util::{never_answer, raw_server, reply_and_close};

/// Fetches `/` from a raw server answering `reply`, with a 5 s request timeout.
fn fetch_raw(reply: &'static [u8]) -> Result<typhoon_httpclient::HTTPResponse, HTTPClientError> {
    let base = raw_server(reply_and_close(reply));
    run_test(async move {
        let request = HTTPRequest::new(format!("{base}/")).request_timeout(Duration::from_secs(5));
        AsyncHTTPClient::new().fetch(request).await
    })
}

#[test]
fn bad_status_lines() {
    for reply in [
        &b"HTTP/1.1 2OO OK\r\n\r\n"[..],
        b"HTTP/1.1 200\r\n\r\n",
        b"ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"\x00\x01\x02\x03 binary garbage\r\n\r\n",
        b"<html>not http at all</html>\n\n",
    ] {
        let result = fetch_raw(reply);
        assert!(
            matches!(result, Err(HTTPClientError::InvalidResponse { .. })),
            "{:?}: {result:?}",
            String::from_utf8_lossy(reply)
        );
    }
}

#[test]
fn bad_headers() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\n folded: line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let result = fetch_raw(reply);
        assert!(
            matches!(result, Err(HTTPClientError::InvalidResponse { .. })),
            "{:?}: {result:?}",
            String::from_utf8_lossy(reply)
        );
    }
}

#[test]
fn lying_content_length() {
    let result = fetch_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    assert!(
        matches!(
            result,
            Err(HTTPClientError::IncompleteBody {
                received: 5,
                expected: Some(100)
            })
        ),
        "{result:?}"
    );
}

#[test]
fn truncated_chunked_body() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let result = fetch_raw(reply);
        assert!(
            matches!(
                result,
                Err(HTTPClientError::IncompleteBody { expected: None, .. })
            ),
            "{result:?}"
        );
    }
}

#[test]
fn invalid_chunked_framing() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    ] {
        let result = fetch_raw(reply);
        assert!(
            matches!(result, Err(HTTPClientError::InvalidResponse { .. })),
            "{result:?}"
        );
    }
}

#[test]
fn truncated_head() {
    let result = fetch_raw(b"HTTP/1.1 200 OK\r\nContent-Le");
    assert!(
        matches!(result, Err(HTTPClientError::ConnectionClosed { .. })),
        "{result:?}"
    );
    let result = fetch_raw(b"");
    assert!(
        matches!(result, Err(HTTPClientError::ConnectionClosed { .. })),
        "{result:?}"
    );
}

#[test]
fn infinite_headers() {
    let base = raw_server(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
        let line = format!("X-Pad: {}\r\n", "a".repeat(1000));
        // Until the client gives up and closes (bounded anyway).
        for _ in 0..100_000 {
            if stream.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    let result = run_test(async move {
        let request = HTTPRequest::new(format!("{base}/")).request_timeout(Duration::from_secs(10));
        AsyncHTTPClient::new().fetch(request).await
    });
    assert!(
        matches!(
            result,
            Err(HTTPClientError::HeaderTooLarge { limit: 65536 })
        ),
        "{result:?}"
    );
}

#[test]
fn infinite_body_hits_max_body_size() {
    let base = raw_server(|stream| {
        let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
        let block = [b'z'; 16 * 1024];
        for _ in 0..100_000 {
            if stream.write_all(&block).is_err() {
                break;
            }
        }
    });
    let result = run_test(async move {
        let request = HTTPRequest::new(format!("{base}/"))
            .max_body_size(1 << 20)
            .request_timeout(Duration::from_secs(10));
        AsyncHTTPClient::new().fetch(request).await
    });
    assert!(
        matches!(
            result,
            Err(HTTPClientError::BodyTooLarge { limit: 1048576 })
        ),
        "{result:?}"
    );
}

#[test]
fn server_that_never_answers() {
    let base = raw_server(never_answer);
    let result = run_test(async move {
        let request =
            HTTPRequest::new(format!("{base}/")).request_timeout(Duration::from_millis(200));
        AsyncHTTPClient::new().fetch(request).await
    });
    assert!(
        matches!(result, Err(HTTPClientError::Timeout(TimeoutPhase::Request))),
        "{result:?}"
    );
}

#[test]
fn server_that_stops_mid_body() {
    let base = raw_server(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
        never_answer(stream);
    });
    let result = run_test(async move {
        let request =
            HTTPRequest::new(format!("{base}/")).request_timeout(Duration::from_millis(200));
        AsyncHTTPClient::new().fetch(request).await
    });
    assert!(
        matches!(result, Err(HTTPClientError::Timeout(TimeoutPhase::Request))),
        "{result:?}"
    );
}

#[test]
fn bad_gzip_body() {
    let result = fetch_raw(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\nnot gzip",
    );
    assert!(
        matches!(result, Err(HTTPClientError::Decompress { .. })),
        "{result:?}"
    );
}
