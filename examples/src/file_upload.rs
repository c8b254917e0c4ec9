//! Tornado's `demos/file_upload`, streamed: uploads go to disk as they arrive, never whole in
//! memory, on the server and on the client.
//!
//! Server ([`make_app`]):
//!
//! - `POST /upload`: a `multipart/form-data` body, parsed while it streams in
//!   ([`MultipartStreamer`]); each file part is written to the upload directory and hashed
//!   piece by piece. The answer is a JSON summary: every file's field, name, stored name, size
//!   and SHA-256, the form's other fields, and how the body arrived (chunks, largest chunk,
//!   the most the parser held back).
//! - `PUT /upload/<name>`: the raw body, streamed to `<dir>/<name>`, answered with the same
//!   kind of summary (so `curl -T bigfile http://127.0.0.1:8888/upload/` works).
//! - `GET /`: an HTML form to try it from a browser.
//!
//! Client ([`put_request`], [`multipart_request`], used by the `file_uploader` example): requests
//! whose bodies a [`body_producer`](HTTPRequest::body_producer) reads from the files in
//! [`CHUNK_SIZE`] pieces, with a `Content-Length` computed up front. (Tornado's
//! `file_uploader.py` builds the multipart body in memory; this one streams it too.)
//!
//! Files are written with blocking `std::fs` calls on the loop, as Tornado's demo does: writes
//! of a chunk to the page cache are short. A server on slow disks would move them to
//! [`IOLoop::run_in_executor`](typhoon_ioloop::IOLoop::run_in_executor).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use typhoon_httpclient::{BodyWriter, HTTPClientError, HTTPRequest};
use typhoon_web::multipart::{MultipartStreamer, PartInfo, PartSink};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

/// The largest upload the example accepts by default (4 GiB: room for the 1 GiB check).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 4 << 30;

/// The client's read size, and the size of the server's file write buffers.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// The largest non-file form field kept (in memory) by the multipart handler.
pub const MAX_FIELD_SIZE: usize = 64 * 1024;

/// The most non-file form data kept in memory for one request, all fields together (413
/// beyond it: only files stream to disk).
pub const MAX_FIELDS_TOTAL: usize = 1024 * 1024;

/// Where uploads go and how large they may be.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// The directory files are written to (it must exist).
    pub dir: PathBuf,
    /// The largest request body accepted (413 beyond it).
    pub max_body_size: u64,
}

impl UploadConfig {
    /// Uploads to `dir`, up to [`DEFAULT_MAX_BODY_SIZE`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }
}

/// How a streamed body arrived: the evidence that nothing was buffered whole.
#[derive(Debug, Default, Clone, Copy)]
pub struct BodyStats {
    /// Chunks received.
    pub chunks: u64,
    /// Bytes received.
    pub bytes: u64,
    /// The largest chunk.
    pub max_chunk: usize,
    /// The most bytes the multipart parser held between chunks (0 for `PUT`).
    pub max_parser_buffer: usize,
}

impl BodyStats {
    fn record(&mut self, chunk: &[u8]) {
        self.chunks += 1;
        self.bytes += chunk.len() as u64;
        self.max_chunk = self.max_chunk.max(chunk.len());
    }

    fn to_json(self) -> Value {
        json!({
            "chunks": self.chunks,
            "bytes": self.bytes,
            "max_chunk": self.max_chunk,
            "max_parser_buffer": self.max_parser_buffer,
        })
    }
}

/// A file being written: buffered writes, a running SHA-256, its size.
#[derive(Debug)]
struct FileSink {
    /// The file, through a [`CHUNK_SIZE`] buffer.
    file: BufWriter<File>,
    /// Where it is.
    path: PathBuf,
    /// The hash of what was written.
    hasher: Sha256,
    /// Bytes written.
    size: u64,
}

impl FileSink {
    /// Creates a new file in `dir` named after `wanted` (sanitised; `1-name`, `2-name`, ... if
    /// taken).
    fn create(dir: &Path, wanted: &str) -> Result<Self, HTTPError> {
        let name = safe_file_name(wanted);
        for attempt in 0..1000 {
            let candidate = if attempt == 0 {
                name.clone()
            } else {
                format!("{attempt}-{name}")
            };
            let path = dir.join(&candidate);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(Self {
                        file: BufWriter::with_capacity(CHUNK_SIZE, file),
                        path,
                        hasher: Sha256::new(),
                        size: 0,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(io_error("create upload file", &error)),
            }
        }
        Err(HTTPError::with_log_message(
            409,
            format!("no free name for {name}"),
        ))
    }

    fn write(&mut self, data: &[u8]) -> Result<(), HTTPError> {
        self.file
            .write_all(data)
            .map_err(|e| io_error("write upload file", &e))?;
        self.hasher.update(data);
        self.size += data.len() as u64;
        Ok(())
    }

    /// Flushes and closes the file; returns its stored name, size and hex SHA-256.
    fn finish(self) -> Result<(String, u64, String), HTTPError> {
        let file = self
            .file
            .into_inner()
            .map_err(|e| io_error("flush upload file", e.error()))?;
        drop(file);
        let stored = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok((stored, self.size, hex::encode(self.hasher.finalize())))
    }
}

/// A 500 whose log message names what failed.
fn io_error(what: &str, error: &io::Error) -> HTTPError {
    HTTPError::with_log_message(500, format!("{what}: {error}"))
}

/// A client-supplied file name made safe to create in the upload directory: its last path
/// component, with anything but ASCII letters, digits, `.`, `-` and `_` replaced by `_`, and
/// no leading dot (so no `..`, no hidden files); `upload` if nothing is left.
pub fn safe_file_name(wanted: &str) -> String {
    let last = wanted.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .take(200)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The multipart parser's sink: file parts to disk, other fields (small) to memory.
#[derive(Debug)]
struct DiskParts {
    /// The upload directory.
    dir: PathBuf,
    /// The part being received.
    current: Option<CurrentPart>,
    /// Summaries of the finished file parts.
    files: Vec<Value>,
    /// The form's other fields.
    fields: BTreeMap<String, String>,
    /// Every file created, removed again if the request fails.
    created: Vec<PathBuf>,
    /// Bytes held in `fields` so far (bounded by [`MAX_FIELDS_TOTAL`]).
    field_bytes: usize,
}

/// The part being received.
#[derive(Debug)]
enum CurrentPart {
    /// A part with nothing to keep (a file input left empty).
    Skipped,
    /// A file part, and its field name, file name and content type.
    File {
        /// Where its bytes go.
        sink: FileSink,
        /// The form field.
        field: String,
        /// The name the client gave.
        filename: String,
        /// The part's `Content-Type`.
        content_type: String,
    },
    /// A plain field, and its value so far.
    Field {
        /// The form field.
        name: String,
        /// Its value (at most [`MAX_FIELD_SIZE`] bytes).
        value: Vec<u8>,
    },
}

impl PartSink for DiskParts {
    fn begin_part(&mut self, part: &PartInfo) -> Result<(), HTTPError> {
        self.current = Some(match &part.filename {
            // A browser form submitted without choosing a file sends an empty part with
            // `filename=""`: there is nothing to store.
            Some(filename) if filename.is_empty() => CurrentPart::Skipped,
            Some(filename) => {
                let sink = FileSink::create(&self.dir, filename)?;
                self.created.push(sink.path.clone());
                CurrentPart::File {
                    sink,
                    field: part.name.clone(),
                    filename: filename.clone(),
                    content_type: part.content_type.clone(),
                }
            }
            None => CurrentPart::Field {
                name: part.name.clone(),
                value: Vec::new(),
            },
        });
        Ok(())
    }

    fn part_data(&mut self, data: &[u8]) -> Result<(), HTTPError> {
        match &mut self.current {
            Some(CurrentPart::File { sink, .. }) => sink.write(data),
            Some(CurrentPart::Field { value, .. }) => {
                if value.len() + data.len() > MAX_FIELD_SIZE {
                    return Err(HTTPError::with_log_message(413, "form field too large"));
                }
                if self.field_bytes + data.len() > MAX_FIELDS_TOTAL {
                    return Err(HTTPError::with_log_message(413, "form fields too large"));
                }
                self.field_bytes += data.len();
                value.extend_from_slice(data);
                Ok(())
            }
            Some(CurrentPart::Skipped) => Ok(()),
            None => Err(HTTPError::with_log_message(400, "part data outside a part")),
        }
    }

    fn end_part(&mut self) -> Result<(), HTTPError> {
        match self.current.take() {
            Some(CurrentPart::File {
                sink,
                field,
                filename,
                content_type,
            }) => {
                let (stored, size, sha256) = sink.finish()?;
                self.files.push(json!({
                    "field": field,
                    "filename": filename,
                    "stored_as": stored,
                    "content_type": content_type,
                    "size": size,
                    "sha256": sha256,
                }));
            }
            Some(CurrentPart::Field { name, value }) => {
                self.fields
                    .insert(name, String::from_utf8_lossy(&value).into_owned());
            }
            Some(CurrentPart::Skipped) | None => {}
        }
        Ok(())
    }
}

/// Removes files of a request that did not complete.
fn remove_all(paths: &mut Vec<PathBuf>) {
    for path in paths.drain(..) {
        if let Err(error) = std::fs::remove_file(&path) {
            tracing::warn!(target: "typhoon::application", path = %path.display(), %error, "could not remove a partial upload");
        }
    }
}

/// `POST /upload`: a streamed `multipart/form-data` body, file parts to disk.
#[derive(Debug)]
pub struct MultipartUploadHandler {
    /// Where files go.
    config: Rc<UploadConfig>,
    /// The parser, made in `prepare` from the request's boundary.
    parser: Option<MultipartStreamer>,
    /// Where the parser puts the parts.
    parts: DiskParts,
    /// How the body arrived.
    stats: BodyStats,
    /// The summary went out: keep the files.
    completed: bool,
}

impl MultipartUploadHandler {
    /// A handler writing to `config.dir`.
    pub fn new(config: Rc<UploadConfig>) -> Self {
        let dir = config.dir.clone();
        Self {
            config,
            parser: None,
            parts: DiskParts {
                dir,
                current: None,
                files: Vec::new(),
                fields: BTreeMap::new(),
                created: Vec::new(),
                field_bytes: 0,
            },
            stats: BodyStats::default(),
            completed: false,
        }
    }
}

impl RequestHandler for MultipartUploadHandler {
    const ALLOWED_METHODS: &'static [&'static str] = &["POST"];
    const STREAM_REQUEST_BODY: bool = true;

    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.request().method == "POST" {
            let content_type = cx.request().headers.get("Content-Type").unwrap_or_default();
            self.parser = Some(MultipartStreamer::from_content_type(content_type)?);
        }
        Ok(())
    }

    async fn data_received(&mut self, _cx: &mut Context, chunk: Vec<u8>) -> Result<(), HTTPError> {
        self.stats.record(&chunk);
        let parser = self
            .parser
            .as_mut()
            .ok_or_else(|| HTTPError::with_log_message(405, "body on a non-POST"))?;
        parser.feed(&chunk, &mut self.parts)?;
        self.stats.max_parser_buffer = self.stats.max_parser_buffer.max(parser.buffered());
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let parser = self
            .parser
            .as_ref()
            .ok_or_else(|| HTTPError::with_log_message(400, "no multipart body"))?;
        parser.finish()?;
        let summary = json!({
            "files": std::mem::take(&mut self.parts.files),
            "fields": std::mem::take(&mut self.parts.fields),
            "body": self.stats.to_json(),
        });
        cx.write_json(&summary)?;
        self.completed = true;
        tracing::info!(target: "typhoon::application", dir = %self.config.dir.display(), files = self.parts.created.len(), bytes = self.stats.bytes, "multipart upload stored");
        Ok(())
    }

    fn on_finish(&mut self, _cx: &mut Context) {
        if !self.completed {
            // Drop (and close) an open file before removing it.
            self.parts.current = None;
            remove_all(&mut self.parts.created);
        }
    }
}

/// `PUT /upload/<name>`: the raw body streamed to `<dir>/<name>`.
#[derive(Debug)]
pub struct PutUploadHandler {
    /// Where the file goes.
    config: Rc<UploadConfig>,
    /// The file, opened in `prepare`.
    file: Option<FileSink>,
    /// Its path, removed again if the request fails.
    created: Vec<PathBuf>,
    /// How the body arrived.
    stats: BodyStats,
    /// The summary went out: keep the file.
    completed: bool,
}

impl PutUploadHandler {
    /// A handler writing to `config.dir`.
    pub fn new(config: Rc<UploadConfig>) -> Self {
        Self {
            config,
            file: None,
            created: Vec::new(),
            stats: BodyStats::default(),
            completed: false,
        }
    }
}

impl RequestHandler for PutUploadHandler {
    const ALLOWED_METHODS: &'static [&'static str] = &["PUT"];
    const STREAM_REQUEST_BODY: bool = true;

    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.request().method == "PUT" {
            let name = cx.path_args().first().cloned().unwrap_or_default();
            let file = FileSink::create(&self.config.dir, &name)?;
            self.created.push(file.path.clone());
            self.file = Some(file);
        }
        Ok(())
    }

    async fn data_received(&mut self, _cx: &mut Context, chunk: Vec<u8>) -> Result<(), HTTPError> {
        self.stats.record(&chunk);
        match &mut self.file {
            Some(file) => file.write(&chunk),
            None => Err(HTTPError::with_log_message(405, "body on a non-PUT")),
        }
    }

    async fn put(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let file = self
            .file
            .take()
            .ok_or_else(|| HTTPError::with_log_message(500, "no upload file"))?;
        let (stored, size, sha256) = file.finish()?;
        cx.set_status(201);
        cx.write_json(&json!({
            "filename": cx.path_args().first(),
            "stored_as": stored,
            "size": size,
            "sha256": sha256,
            "body": self.stats.to_json(),
        }))?;
        self.completed = true;
        Ok(())
    }

    fn on_finish(&mut self, _cx: &mut Context) {
        if !self.completed {
            self.file = None;
            remove_all(&mut self.created);
        }
    }
}

/// `GET /`: a form to upload from a browser.
#[derive(Debug)]
pub struct FormHandler;

impl RequestHandler for FormHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write(concat!(
            "<!DOCTYPE html><title>Typhoon file upload</title>",
            "<form enctype=\"multipart/form-data\" action=\"/upload\" method=\"post\">",
            "<p><input type=\"file\" name=\"file\" multiple>",
            "<p><input type=\"text\" name=\"note\" placeholder=\"a note\">",
            "<p><input type=\"submit\" value=\"Upload\"></form>",
        ));
        Ok(())
    }
}

/// The `file_upload` example's application.
pub fn make_app(config: UploadConfig) -> Application {
    let max = config.max_body_size;
    let config = Rc::new(config);
    let post = Rc::clone(&config);
    let settings = Settings {
        // The server's own limit follows the application's (see `Application::into_server`).
        max_body_size: max,
        ..Settings::default()
    };
    Application::with_settings(
        vec![
            route("/", || FormHandler),
            route("/upload", move || {
                MultipartUploadHandler::new(Rc::clone(&post))
            }),
            route("/upload/([^/]+)", move || {
                PutUploadHandler::new(Rc::clone(&config))
            }),
        ],
        settings,
    )
}

// ----- the client half ---------------------------------------------------------------------

/// Streams `length` bytes of `path` to `writer` in [`CHUNK_SIZE`] pieces (blocking reads of a
/// local file, as Tornado's demo does; each waits for the network to take the last piece).
async fn send_file(
    writer: &BodyWriter,
    path: &Path,
    length: u64,
) -> typhoon_httpclient::Result<()> {
    let producer_error = |error: io::Error| HTTPClientError::BodyProducer {
        source: Box::new(error),
    };
    let mut file = File::open(path).map_err(producer_error)?.take(length);
    let mut buffer = vec![0; CHUNK_SIZE];
    loop {
        let n = file.read(&mut buffer).map_err(producer_error)?;
        if n == 0 {
            return Ok(());
        }
        writer.write(&buffer[..n]).await?;
    }
}

/// A `PUT` of the file at `path` to `url` (`.../upload/<name>`), its body streamed from the
/// file with a `Content-Length` of the file's size.
///
/// # Errors
///
/// If the file's size cannot be read.
pub fn put_request(url: &str, path: &Path) -> io::Result<HTTPRequest> {
    let length = std::fs::metadata(path)?.len();
    let path = Rc::new(path.to_owned());
    Ok(HTTPRequest::new(url)
        .method("PUT")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", &length.to_string())
        .body_producer(move |writer: BodyWriter| {
            let path = Rc::clone(&path);
            async move { send_file(&writer, &path, length).await }
        }))
}

/// A `multipart/form-data` `POST` of `files` (each as field `file`) to `url`, streamed from
/// the files with a `Content-Length` computed up front.
///
/// # Errors
///
/// If a file's size cannot be read.
pub fn multipart_request(url: &str, files: &[PathBuf]) -> io::Result<HTTPRequest> {
    let boundary = format!(
        "typhoon-{:x}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    );
    let mut parts = Vec::with_capacity(files.len());
    let mut total = 0_u64;
    for path in files {
        let length = std::fs::metadata(path)?.len();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .replace(['"', '\\', '\r', '\n'], "_");
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        total += head.len() as u64 + length + 2;
        parts.push((head, path.clone(), length));
    }
    let closing = format!("--{boundary}--\r\n");
    total += closing.len() as u64;
    let parts = Rc::new((parts, closing));
    Ok(HTTPRequest::new(url)
        .method("POST")
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .header("Content-Length", &total.to_string())
        .body_producer(move |writer: BodyWriter| {
            let parts = Rc::clone(&parts);
            async move {
                let (files, closing) = &*parts;
                for (head, path, length) in files {
                    writer.write(head.as_bytes()).await?;
                    send_file(&writer, path, *length).await?;
                    writer.write(b"\r\n").await?;
                }
                writer.write(closing.as_bytes()).await
            }
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_file_name("report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\me\\a b.txt"), "a_b.txt");
        assert_eq!(safe_file_name(".."), "upload");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        assert_eq!(safe_file_name(""), "upload");
        assert_eq!(safe_file_name("naïve.txt"), "na_ve.txt");
    }
}
