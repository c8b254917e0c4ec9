//! The `file_upload` example over real sockets: multipart and PUT uploads checked byte for
//! byte (sizes, SHA-256s, the stored files), a large streamed PUT that never sits whole in
//! memory, limits, and the clean-up of failed uploads. The client half (`put_request`,
//! `multipart_request`) is what `file_uploader` runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use typhoon_examples::file_upload::{
    CHUNK_SIZE, UploadConfig, make_app, multipart_request, put_request,
};
use typhoon_httpclient::{BodyWriter, HTTPClientError};
use typhoon_testing::{AsyncHTTPTestServer, connect, run_test_with_timeout, status_of};

/// A fresh directory, removed with everything in it at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "typhoon-file-upload-{}-{what}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random bytes (xorshift64), so nothing compresses or repeats.
struct Noise(u64);

impl Noise {
    fn fill(&mut self, buffer: &mut [u8]) {
        for chunk in buffer.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            chunk.copy_from_slice(&self.0.to_le_bytes()[..chunk.len()]);
        }
    }

    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        Self(seed).fill(&mut out);
        out
    }
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON summary")
}

fn run<F: std::future::Future<Output = ()> + 'static>(future: F) {
    run_test_with_timeout(Duration::from_secs(120), future);
}

/// This process's resident memory in KiB (Linux), `None` elsewhere.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn multipart_upload_of_several_files() {
    let source = TempDir::new("source");
    let target = TempDir::new("target");
    let big = Noise::bytes(1, 3 * 1024 * 1024 + 17);
    let small = b"hello, typhoon\n".to_vec();
    let big_path = source.path().join("big.bin");
    let small_path = source.path().join("small notes.txt");
    std::fs::write(&big_path, &big).expect("write");
    std::fs::write(&small_path, &small).expect("write");
    let app = make_app(UploadConfig::new(target.path()));
    let target_dir = target.path().to_owned();
    run(async move {
        let server = AsyncHTTPTestServer::new(app);
        let request = multipart_request(&server.get_url("/upload"), &[big_path, small_path])
            .expect("request");
        let response = server.fetch_request(request).await.expect("upload");
        assert_eq!(response.code, 200);
        let summary = json(&response.body);
        let files = summary["files"].as_array().expect("files");
        assert_eq!(files.len(), 2, "{summary}");
        assert_eq!(files[0]["filename"], "big.bin");
        assert_eq!(files[0]["size"], big.len());
        assert_eq!(files[0]["sha256"], sha256(&big));
        assert_eq!(files[1]["filename"], "small notes.txt");
        assert_eq!(files[1]["stored_as"], "small_notes.txt");
        assert_eq!(files[1]["sha256"], sha256(&small));
        assert_eq!(
            std::fs::read(target_dir.join("big.bin")).expect("stored"),
            big
        );
        assert_eq!(
            std::fs::read(target_dir.join("small_notes.txt")).expect("stored"),
            small
        );
        // It arrived in pieces, and the parser never held more than a little of it.
        let body = &summary["body"];
        assert!(body["chunks"].as_u64().expect("chunks") > 1, "{body}");
        assert!(
            body["max_chunk"].as_u64().expect("max") <= 1 << 20,
            "{body}"
        );
        assert!(
            body["max_parser_buffer"].as_u64().expect("buffer") <= 64 * 1024,
            "{body}"
        );
    });
    assert_eq!(target.entries(), ["big.bin", "small_notes.txt"]);
}

#[test]
fn multipart_fields_and_hostile_file_names() {
    let target = TempDir::new("hostile");
    let app = make_app(UploadConfig::new(target.path()));
    run(async move {
        let server = AsyncHTTPTestServer::new(app);
        let body = b"--XyZ\r\n\
            Content-Disposition: form-data; name=\"note\"\r\n\r\n\
            a note\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"../../evil.sh\"\r\n\
            Content-Type: text/x-sh\r\n\r\n\
            echo hi\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"evil.sh\"\r\n\r\n\
            again\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"other\"; filename=\"\"\r\n\
            Content-Type: application/octet-stream\r\n\r\n\
            \r\n\
            --XyZ--\r\n";
        let request = server
            .request("/upload")
            .method("POST")
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body.to_vec());
        let response = server.fetch_request(request).await.expect("upload");
        let summary = json(&response.body);
        assert_eq!(summary["fields"]["note"], "a note");
        assert_eq!(summary["files"][0]["stored_as"], "evil.sh");
        assert_eq!(summary["files"][0]["content_type"], "text/x-sh");
        assert_eq!(summary["files"][0]["size"], 7);
        // A second file of the same name does not overwrite the first.
        assert_eq!(summary["files"][1]["stored_as"], "1-evil.sh");
        // A file input left empty (filename="") stores nothing.
        assert_eq!(summary["files"].as_array().map(Vec::len), Some(2));

        // Many small fields: each under the per-field limit, together over the total.
        let mut many = Vec::new();
        for i in 0..40 {
            many.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n")
                    .as_bytes(),
            );
            many.extend_from_slice(&vec![b'x'; 60 * 1024]);
            many.extend_from_slice(b"\r\n");
        }
        many.extend_from_slice(b"--XyZ--\r\n");
        let request = server
            .request("/upload")
            .method("POST")
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(many);
        let refused = server.fetch_request(request).await;
        assert!(
            matches!(refused, Err(HTTPClientError::Http { code: 413, .. })),
            "{refused:?}"
        );

        let not_multipart = server
            .request("/upload")
            .method("POST")
            .header("Content-Type", "text/plain")
            .body(b"x".to_vec());
        let error = server.fetch_request(not_multipart).await;
        assert!(matches!(
            error,
            Err(HTTPClientError::Http { code: 400, .. })
        ));
    });
    assert_eq!(target.entries(), ["1-evil.sh", "evil.sh"]);
}

#[test]
fn put_upload_from_a_file() {
    let source = TempDir::new("put-source");
    let target = TempDir::new("put-target");
    let data = Noise::bytes(2, 2 * 1024 * 1024 + 5);
    let path = source.path().join("data.bin");
    std::fs::write(&path, &data).expect("write");
    let app = make_app(UploadConfig::new(target.path()));
    let target_dir = target.path().to_owned();
    run(async move {
        let server = AsyncHTTPTestServer::new(app);
        let request = put_request(&server.get_url("/upload/data.bin"), &path).expect("request");
        let response = server.fetch_request(request).await.expect("upload");
        assert_eq!(response.code, 201);
        let summary = json(&response.body);
        assert_eq!(summary["size"], data.len());
        assert_eq!(summary["sha256"], sha256(&data));
        assert_eq!(summary["stored_as"], "data.bin");
        assert_eq!(
            std::fs::read(target_dir.join("data.bin")).expect("stored"),
            data
        );
    });
}

/// 64 MiB, made on the fly by the client and streamed to disk by the server: the server takes
/// it in chunks no bigger than its read buffer, and the process's memory does not grow by
/// anything like the body's size (client and server share the process, so this bounds both).
#[test]
fn large_streamed_put_keeps_memory_flat() {
    const TOTAL: usize = 64 * 1024 * 1024;
    let target = TempDir::new("large");
    let app = make_app(UploadConfig::new(target.path()));
    let target_dir = target.path().to_owned();
    run(async move {
        let server = AsyncHTTPTestServer::new(app);
        let baseline = rss_kib();
        let peak = std::rc::Rc::new(std::cell::Cell::new(0_u64));
        let expected = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
        let (peak_in, expected_in) = (peak.clone(), expected.clone());
        let request = server
            .request("/upload/large.bin")
            .method("PUT")
            .header("Content-Length", &TOTAL.to_string())
            .request_timeout(Duration::from_secs(110))
            .body_producer(move |writer: BodyWriter| {
                let (peak, expected) = (peak_in.clone(), expected_in.clone());
                async move {
                    let mut noise = Noise(3);
                    let mut hasher = Sha256::new();
                    let mut buffer = vec![0; CHUNK_SIZE];
                    for i in 0..TOTAL / CHUNK_SIZE {
                        noise.fill(&mut buffer);
                        hasher.update(&buffer);
                        writer.write(&buffer).await?;
                        if i % 16 == 0 {
                            peak.set(peak.get().max(rss_kib().unwrap_or(0)));
                        }
                    }
                    *expected.borrow_mut() = Some(hex::encode(hasher.finalize()));
                    Ok(())
                }
            });
        let response = server.fetch_request(request).await.expect("upload");
        assert_eq!(response.code, 201);
        let summary = json(&response.body);
        assert_eq!(summary["size"], TOTAL);
        assert_eq!(
            Some(summary["sha256"].clone()),
            expected.borrow().clone().map(Value::from)
        );
        let body = &summary["body"];
        assert!(body["chunks"].as_u64().expect("chunks") >= 64, "{body}");
        assert!(
            body["max_chunk"].as_u64().expect("max") <= 1 << 20,
            "{body}"
        );
        assert_eq!(
            std::fs::metadata(target_dir.join("large.bin"))
                .expect("stored")
                .len(),
            TOTAL as u64
        );
        if let Some(baseline) = baseline {
            let grown = peak.get().saturating_sub(baseline);
            assert!(
                grown < 32 * 1024,
                "memory grew by {grown} KiB during a 64 MiB upload"
            );
        }
    });
}

#[test]
fn too_large_bodies_are_refused_before_any_file() {
    let target = TempDir::new("limit");
    let config = UploadConfig {
        max_body_size: 1000,
        ..UploadConfig::new(target.path())
    };
    let app = make_app(config);
    run(async move {
        let server = AsyncHTTPTestServer::new(app);
        let request = server
            .request("/upload/too-big.bin")
            .method("PUT")
            .body(vec![b'x'; 2000]);
        let error = server.fetch_request(request).await;
        assert!(matches!(
            error,
            Err(HTTPClientError::Http { code: 413, .. })
        ));
    });
    assert!(target.entries().is_empty());
}

#[test]
fn failed_uploads_leave_no_partial_file() {
    let target = TempDir::new("broken");
    let app = make_app(UploadConfig::new(target.path()));
    run(async move {
        let server = AsyncHTTPTestServer::new(app);
        let addr = format!("127.0.0.1:{}", server.port())
            .parse()
            .expect("addr");
        let stream = connect(addr).await;
        // A chunked body that breaks after its first chunk: 400, and the file is removed.
        stream
            .write(
                b"PUT /upload/broken.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5\r\nhello\r\nZZ\r\n",
            )
            .await
            .expect("write");
        let answer = stream.read_until_close().await.unwrap_or_default();
        assert_eq!(status_of(&answer), Some(400));
    });
    assert!(target.entries().is_empty(), "{:?}", target.entries());
}
