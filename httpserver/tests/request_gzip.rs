//! `decompress_request`: gzip request bodies are inflated as they arrive, streamed or buffered,
//! in bounded steps, held to `max_body_size` after inflating, and a corrupt stream is a 400 of
//! its own.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_httputil::HTTPInputError;
use typhoon_testing::{raw_request, run_test, status_of};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A POST of `body` with `Content-Encoding: gzip`, by Content-Length or chunked in 1000-byte
/// chunks.
fn gzip_post(body: &[u8], chunked: bool) -> Vec<u8> {
    let mut request =
        b"POST /z HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nConnection: close\r\n".to_vec();
    if chunked {
        request.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(1000) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
    } else {
        request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
    }
    request
}

/// What a streaming handler saw.
#[derive(Default, Debug)]
struct Seen {
    /// Bytes of body read.
    total: usize,
    /// The largest chunk.
    largest: usize,
    /// The body's error, if any.
    error: Option<HTTPInputError>,
    /// `Content-Encoding`, `X-Consumed-Content-Encoding`.
    headers: (Option<String>, Option<String>),
    /// Times another task ran while the body was being read.
    others_ran: u64,
}

/// A server that streams every body to a handler recording what it saw; it answers with the
/// body's length, or nothing (the server then answers the body's error).
fn streaming_server(
    mut options: HTTPServerOptions,
) -> (HTTPServer, std::net::SocketAddr, Rc<RefCell<Seen>>) {
    options.decompress_request = true;
    options.stream_request_body = Some(Rc::new(|_| true));
    let seen = Rc::new(RefCell::new(Seen::default()));
    let record = Rc::clone(&seen);
    let server = HTTPServer::with_options(
        move |mut request, mut response| {
            let record = Rc::clone(&record);
            async move {
                let headers = (
                    request.headers.get("Content-Encoding").map(str::to_owned),
                    request
                        .headers
                        .get("X-Consumed-Content-Encoding")
                        .map(str::to_owned),
                );
                // Another task on the loop, counting how often it gets to run meanwhile.
                let ticks = Rc::new(Cell::new(0u64));
                let ticker = {
                    let ticks = Rc::clone(&ticks);
                    typhoon_ioloop::IOLoop::current().spawn(async move {
                        loop {
                            ticks.set(ticks.get() + 1);
                            typhoon_ioloop::yield_now().await;
                        }
                    })
                };
                let mut reader = request.body_reader().expect("a streamed body");
                let (mut total, mut largest, mut error) = (0, 0, None);
                loop {
                    match reader.next_chunk().await {
                        Ok(Some(chunk)) => {
                            total += chunk.len();
                            largest = largest.max(chunk.len());
                        }
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                ticker.cancel();
                let failed = error.is_some();
                *record.borrow_mut() = Seen {
                    total,
                    largest,
                    error,
                    headers,
                    others_ran: ticks.get(),
                };
                if !failed {
                    response.write(total.to_string().as_bytes());
                }
            }
        },
        options,
    );
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr, seen)
}

#[test]
fn streamed_gzip_body_is_inflated_in_bounded_steps() {
    run_test(async {
        let (_server, addr, seen) = streaming_server(HTTPServerOptions::default());
        let data = vec![b'z'; 8 << 20];
        for chunked in [false, true] {
            let reply = raw_request(addr, &gzip_post(&gzip(&data), chunked)).await;
            assert_eq!(
                status_of(&reply),
                Some(200),
                "{}",
                String::from_utf8_lossy(&reply)
            );
            assert!(reply.ends_with(b"\r\n\r\n8388608"));
            let seen = seen.borrow();
            assert_eq!(seen.total, data.len());
            assert!(
                seen.largest <= 96 * 1024,
                "a step of {} bytes",
                seen.largest
            );
            assert_eq!(seen.headers, (None, Some("gzip".to_owned())));
            // 8 MiB in steps of at most 96 KiB: the loop ran the other task between them.
            assert!(
                seen.others_ran >= 80,
                "the other task ran {} times",
                seen.others_ran
            );
        }
    });
}

#[test]
fn streamed_gzip_bomb_is_413() {
    run_test(async {
        let mut options = HTTPServerOptions::default();
        options.limits.max_body_size = 1 << 20;
        let (_server, addr, seen) = streaming_server(options);
        let bomb = gzip(&vec![0u8; 64 << 20]);
        let reply = raw_request(addr, &gzip_post(&bomb, false)).await;
        assert_eq!(status_of(&reply), Some(413));
        let seen = seen.borrow();
        assert!(
            matches!(seen.error, Some(HTTPInputError::BodyTooLarge)),
            "{seen:?}"
        );
        assert!(
            seen.total <= 1 << 20,
            "{} bytes handed over past the limit",
            seen.total
        );
    });
}

#[test]
fn corrupt_gzip_body_is_400() {
    run_test(async {
        let (_server, addr, seen) = streaming_server(HTTPServerOptions::default());
        let mut body = gzip(b"hello, hello, hello");
        let n = body.len();
        body[n - 6] ^= 0xff; // the CRC32 of the trailer
        for bad in [
            b"this is not gzip".to_vec(),
            body,
            gzip(b"truncated")[..12].to_vec(),
        ] {
            let reply = raw_request(addr, &gzip_post(&bad, false)).await;
            assert_eq!(status_of(&reply), Some(400));
            let seen = seen.borrow();
            assert!(
                matches!(
                    seen.error,
                    Some(HTTPInputError::CorruptContentEncoding { .. })
                ),
                "{seen:?}"
            );
        }
    });
}

#[test]
fn buffered_gzip_body_with_extreme_settings() {
    run_test(async {
        // Every limit and timeout at its maximum means "very large", never a wrap or a panic.
        let mut options = HTTPServerOptions {
            decompress_request: true,
            idle_connection_timeout: Duration::MAX,
            header_timeout: Duration::MAX,
            body_inactivity_timeout: Duration::MAX,
            body_timeout: Some(Duration::MAX),
            send_timeout: Duration::MAX,
            ..HTTPServerOptions::default()
        };
        options.limits.max_body_size = u64::MAX;
        options.limits.max_header_size = usize::MAX;
        let server = HTTPServer::with_options(
            |request, mut response| async move {
                response.write(&request.body);
            },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let reply = raw_request(addr, &gzip_post(&gzip(b"inflated"), false)).await;
        assert_eq!(status_of(&reply), Some(200));
        assert!(
            reply.ends_with(b"\r\n\r\ninflated"),
            "{}",
            String::from_utf8_lossy(&reply)
        );
        let reply = raw_request(addr, &gzip_post(&gzip(b"chunked too"), true)).await;
        assert!(
            reply.ends_with(b"\r\n\r\nchunked too"),
            "{}",
            String::from_utf8_lossy(&reply)
        );
    });
}
