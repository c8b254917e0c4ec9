//! Streaming: `flush` in chunks, streamed request bodies, `max_body_size`.

use std::time::Duration;

use typhoon_ioloop::timeout;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{self, fetch, get, run, serve};

#[test]
fn flush_streams_chunks() {
    struct Chunks;
    impl RequestHandler for Chunks {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            for i in 0..3 {
                cx.write(format!("chunk{i};"));
                cx.flush().await?;
            }
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Chunks)]));
        let r = get(addr, "/").await;
        assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
        assert_eq!(r.text(), "chunk0;chunk1;chunk2;");
        assert!(r.header("Etag").is_none(), "no etag for streamed responses");
    });
}

#[test]
fn streaming_request_body() {
    struct Upload {
        chunks: usize,
        bytes: usize,
    }
    impl RequestHandler for Upload {
        const STREAM_REQUEST_BODY: bool = true;
        async fn data_received(
            &mut self,
            _cx: &mut Context,
            chunk: Vec<u8>,
        ) -> Result<(), HTTPError> {
            self.chunks += 1;
            self.bytes += chunk.len();
            Ok(())
        }
        async fn put(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let text = format!(
                "{} bytes, body kept: {}",
                self.bytes,
                cx.request().body.len()
            );
            cx.write(text);
            assert!(self.chunks >= 1);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Upload {
            chunks: 0,
            bytes: 0,
        })]));
        let body = vec![b'a'; 300_000];
        let r = fetch(addr, "PUT", "/", &[], &body).await;
        assert_eq!(r.text(), "300000 bytes, body kept: 0");
    });
}

#[test]
fn max_body_size_413_before_reading() {
    struct Small;
    impl RequestHandler for Small {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write("read");
            Ok(())
        }
        fn write_error(&mut self, cx: &mut Context, error: &HTTPError) {
            cx.write(format!("too big: {}", error.status()));
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/", || Small).max_body_size(10),
        ]));
        // Only the head is sent: the 413 must come without reading the body.
        let stream = util::connect(addr).await;
        stream
            .write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
            .await
            .expect("write");
        let r = timeout(Duration::from_secs(5), util::read_response(&stream, false))
            .await
            .expect("answer");
        assert_eq!((r.status, r.text().as_str()), (413, "too big: 413"));
        let r = fetch(addr, "POST", "/", &[], b"0123456789").await;
        assert_eq!(r.text(), "read");
        // chunked bodies are counted as they arrive
        let stream = util::connect(addr).await;
        stream
            .write(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
            .await
            .expect("write");
        let r = util::read_response(&stream, false).await;
        assert_eq!(r.status, 413);
    });
}
