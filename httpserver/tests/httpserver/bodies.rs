//! Bodies both ways: streamed and chunked responses, `send_file`, `Expect: 100-continue`,
//! streamed and gzip request bodies, and `xheaders`.

use super::*;

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
