//! Multipart bodies: the streaming parser, and uploaded files.

use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{fetch, run, serve};

#[test]
fn streaming_multipart_upload() {
    use typhoon_web::multipart::{MultipartStreamer, PartInfo, PartSink};

    #[derive(Default)]
    struct Sink {
        parts: Vec<(String, Option<String>, usize, u64)>,
    }
    impl PartSink for Sink {
        fn begin_part(&mut self, part: &PartInfo) -> Result<(), HTTPError> {
            self.parts
                .push((part.name.clone(), part.filename.clone(), 0, 0));
            Ok(())
        }
        fn part_data(&mut self, data: &[u8]) -> Result<(), HTTPError> {
            if let Some(last) = self.parts.last_mut() {
                last.2 += data.len();
                last.3 += data.iter().map(|&b| u64::from(b)).sum::<u64>();
            }
            Ok(())
        }
        fn end_part(&mut self) -> Result<(), HTTPError> {
            Ok(())
        }
    }
    struct Upload {
        parser: Option<MultipartStreamer>,
        sink: Sink,
        max_buffered: usize,
    }
    impl RequestHandler for Upload {
        const STREAM_REQUEST_BODY: bool = true;
        async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let content_type = cx.request().headers.get("Content-Type").unwrap_or("");
            self.parser = Some(MultipartStreamer::from_content_type(content_type)?);
            Ok(())
        }
        async fn data_received(
            &mut self,
            _cx: &mut Context,
            chunk: Vec<u8>,
        ) -> Result<(), HTTPError> {
            if let Some(parser) = self.parser.as_mut() {
                parser.feed(&chunk, &mut self.sink)?;
                self.max_buffered = self.max_buffered.max(parser.buffered());
            }
            Ok(())
        }
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            if let Some(parser) = &self.parser {
                parser.finish()?;
            }
            let text = format!(
                "{:?} max_buffered<=64: {}",
                self.sink.parts,
                self.max_buffered <= 64
            );
            cx.write(text);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/upload", || Upload {
            parser: None,
            sink: Sink::default(),
            max_buffered: 0,
        })]));
        let file: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
        let sum: u64 = file.iter().map(|&b| u64::from(b)).sum();
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
        body.extend_from_slice(&file);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let r = fetch(
            addr,
            "POST",
            "/upload",
            &[("Content-Type", "multipart/form-data; boundary=XyZ")],
            &body,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let title_sum: u64 = b"holiday".iter().map(|&b| u64::from(b)).sum();
        assert_eq!(
            r.text(),
            format!(
                "[(\"title\", None, 7, {title_sum}), (\"photo\", Some(\"p.bin\"), 2000000, {sum})] max_buffered<=64: true"
            )
        );
        let r = fetch(
            addr,
            "POST",
            "/upload",
            &[("Content-Type", "multipart/form-data; boundary=XyZ")],
            b"--XyZ\r\n",
        )
        .await;
        assert_eq!(r.status, 400, "truncated");
    });
}

#[test]
fn multipart_files_and_clear_all_cookies() {
    struct Files;
    impl RequestHandler for Files {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let title = cx.get_body_argument("title")?;
            let file = &cx.files()["photo"][0];
            let text = format!(
                "{title} {} {} {}",
                file.filename,
                file.content_type,
                file.body.len()
            );
            cx.clear_all_cookies()?;
            cx.write(text);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Files)]));
        let body = b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n--B\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n12345\r\n--B--\r\n";
        let r = fetch(
            addr,
            "POST",
            "/",
            &[
                ("Content-Type", "multipart/form-data; boundary=B"),
                ("Cookie", "a=1; b=2"),
            ],
            body,
        )
        .await;
        assert_eq!(r.text(), "hi p.png image/png 5");
        let cleared = r.headers("Set-Cookie");
        assert_eq!(cleared.len(), 2);
        assert!(
            cleared.iter().all(|c| c.contains("=; expires=")),
            "{cleared:?}"
        );
    });
}
