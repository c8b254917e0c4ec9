//! Limits at their extremes: `usize::MAX`/`u64::MAX` mean "no limit" (never an overflow), and a
//! gzip bomb is inflated in bounded steps and refused at `max_body_size`.

mod util;

use typhoon_httpclient::{AsyncHTTPClient, ClientOptions, HTTPRequest};
use typhoon_httpserver::{HTTPServerRequest, ResponseWriter};
use typhoon_testing::run_test;
use util::{gzip, serve};

async fn routes(request: HTTPServerRequest, mut response: ResponseWriter) {
    match request.path() {
        "/hello" => response.write(b"Hello world!"),
        "/gzip" => {
            response.set_header("Content-Encoding", "gzip").expect("h");
            response.write(&gzip(&b"asdfqwer".repeat(100)));
        }
        "/chunks" => {
            for part in [&b"asdf"[..], b"qwer"] {
                response.write(part);
                response.flush().await.expect("flush");
            }
        }
        _ => response.set_status(404),
    }
}

#[test]
fn extreme_limits_mean_no_limit() {
    run_test(async {
        let (_server, base) = serve(routes);
        let client = AsyncHTTPClient::with_options(ClientOptions {
            max_header_size: usize::MAX,
            max_body_size: u64::MAX,
            ..ClientOptions::default()
        });
        let hello = client.fetch(format!("{base}/hello")).await.expect("hello");
        assert_eq!(hello.body, b"Hello world!");
        let chunks = client
            .fetch(format!("{base}/chunks"))
            .await
            .expect("chunks");
        assert_eq!(chunks.body, b"asdfqwer");
        #[cfg(feature = "gzip")]
        {
            let gzip = client.fetch(format!("{base}/gzip")).await.expect("gzip");
            assert_eq!(
                gzip.headers.get("X-Consumed-Content-Encoding"),
                Some("gzip")
            );
            assert_eq!(gzip.body, b"asdfqwer".repeat(100));
        }

        // The same limits set on a request, over the defaults of the client.
        let request = HTTPRequest::new(format!("{base}/chunks"))
            .max_header_size(usize::MAX)
            .max_body_size(u64::MAX);
        let chunks = AsyncHTTPClient::new().fetch(request).await.expect("chunks");
        assert_eq!(chunks.body, b"asdfqwer");
    });
}

/// gzip responses from a raw server: a bomb, and a large body inflated piece by piece.
#[cfg(feature = "gzip")]
mod inflate {
    use std::cell::Cell;
    use std::io::Write;
    use std::rc::Rc;
    use std::sync::Arc;

    use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest};

    use crate::util::raw_server;
    use typhoon_testing::run_test;

    /// The largest piece a streaming callback may get from the gzip inflater: its fixed 32 KiB
    /// output buffer (and never a whole received chunk inflated at once).
    const INFLATE_STEP: usize = 32 * 1024;

    /// `len` zero bytes, gzip-compressed (about 1000:1), written in pieces so the plain bytes are
    /// never all in memory.
    fn gzip_zeros(len: usize) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let piece = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(piece.len());
            encoder.write_all(&piece[..n]).expect("in memory");
            left -= n;
        }
        encoder.finish().expect("in memory")
    }

    /// A raw server answering every request with `body` as a gzip-encoded, `Content-Length`-framed
    /// response.
    fn gzip_server(body: Vec<u8>) -> String {
        let body = Arc::new(body);
        raw_server(move |stream| {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            // The client hangs up once it has seen enough: a failed write is expected.
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body));
        })
    }

    #[test]
    fn gzip_bomb_is_refused_at_max_body_size() {
        let base = gzip_server(gzip_zeros(64 << 20));
        run_test(async move {
            let limit = 1 << 20;
            let request = HTTPRequest::new(format!("{base}/bomb")).max_body_size(limit);
            let result = AsyncHTTPClient::new().fetch(request).await;
            assert!(
                matches!(result, Err(HTTPClientError::BodyTooLarge { limit: l }) if l == limit),
                "{result:?}"
            );
        });
    }

    #[test]
    fn gzip_body_is_inflated_in_bounded_steps() {
        // 16 MiB of zeros arrive as about 16 KiB of gzip: a single read, which once was inflated
        // in one go (16 MiB decoded at once, whatever max_body_size said).
        const PLAIN: usize = 16 << 20;
        let base = gzip_server(gzip_zeros(PLAIN));
        run_test(async move {
            let largest = Rc::new(Cell::new(0));
            let total = Rc::new(Cell::new(0));
            let request = {
                let (largest, total) = (Rc::clone(&largest), Rc::clone(&total));
                HTTPRequest::new(format!("{base}/zeros")).streaming_callback(move |piece| {
                    largest.set(largest.get().max(piece.len()));
                    total.set(total.get() + piece.len());
                })
            };
            let response = AsyncHTTPClient::new().fetch(request).await.expect("fetch");
            assert!(response.body.is_empty(), "streamed, not collected");
            assert_eq!(total.get(), PLAIN);
            assert!(
                largest.get() <= INFLATE_STEP,
                "a piece of {} bytes: inflated in one step of more than {INFLATE_STEP}",
                largest.get()
            );
        });
    }
}
