//! [`Context`]: the request and response state every handler method receives.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use sha1::{Digest, Sha1};
use typhoon_httpserver::{BodyReader, HTTPServerRequest, ResponseWriter};
use typhoon_httputil::{Arguments, Files, HTTPHeaders, reason_phrase};

use crate::application::AppInner;
use crate::cookies;
use crate::error::{HTTPError, Result, WebError};
use crate::routing::RouteOptions;

#[cfg(feature = "gzip")]
mod compression;
mod security;

/// Tornado's `_remove_control_chars_regex`: these become spaces in arguments.
fn clean_argument(value: &[u8]) -> Result<String, HTTPError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| HTTPError::new(400).with_log_message("invalid unicode in argument"))?;
    let cleaned: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\u{0}'..='\u{8}' | '\u{e}'..='\u{1f}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    Ok(cleaned.trim().to_owned())
}

/// The request and response state of one request (the framework half of Tornado's
/// `RequestHandler`), passed to every [`RequestHandler`](crate::RequestHandler) method.
///
/// The response is buffered until [`flush`](Self::flush) or [`finish`](Self::finish) (the
/// framework finishes it when the handler returns). Default headers are Tornado's:
/// `Content-Type: text/html; charset=UTF-8` (unless cleared or replaced), with `Server` and
/// `Date` added by the server; a `GET`/`HEAD` answered in one piece gets an `Etag` (SHA-1 of the
/// body) and a 304 when it matches `If-None-Match`.
pub struct Context {
    /// The request.
    request: HTTPServerRequest,
    /// The connection's response writer; `None` once finished.
    writer: Option<ResponseWriter>,
    /// The application (settings, routes, templates).
    app: Rc<AppInner>,
    /// The matched route's options (none for the default handler).
    route: Option<Rc<RouteOptions>>,
    /// Positional captures.
    path_args: Vec<String>,
    /// Named captures.
    path_kwargs: HashMap<String, String>,
    /// Status code.
    status: u16,
    /// Custom reason phrase.
    reason: Option<String>,
    /// Response headers set so far.
    headers: HTTPHeaders,
    /// Whether the default `Content-Type` applies (not cleared).
    default_content_type: bool,
    /// Body bytes not yet flushed.
    body: Vec<u8>,
    /// `finish` happened.
    finished: bool,
    /// The head went out with a `flush`.
    head_sent: bool,
    /// Parsed query arguments, on first use.
    query_arguments: Option<Arguments>,
    /// Parsed body arguments and files, on first use.
    body_arguments: Option<(Arguments, Files)>,
    /// The streamed body, not read yet.
    body_reader: Option<BodyReader>,
    /// Body bytes read so far (against `max_body_size` for chunked bodies).
    body_bytes: u64,
    /// The current user, once loaded (lazily, by `current_user`) or set.
    current_user: std::cell::OnceCell<Option<String>>,
    /// The handler's `get_current_user`, called on first use.
    user_loader: fn(&Context) -> Option<String>,
    /// The raw XSRF token (from the cookie or new), its timestamp, whether it came from the
    /// cookie, and the masked token handed out.
    xsrf: Option<(Vec<u8>, u64, bool, String)>,
    /// The `Allow` header of a 405, applied after the error clears headers.
    pending_allow: Option<String>,
    /// The client went away.
    connection_closed: bool,
    /// Compression state: undecided (`None`), off, or the encoder (gzip or deflate).
    #[cfg(feature = "gzip")]
    encoder: Option<Option<compression::Encoder>>,
}

impl Context {
    /// A context for `request` routed with `captures`.
    pub(crate) fn new(
        request: HTTPServerRequest,
        writer: ResponseWriter,
        app: Rc<AppInner>,
        route: Option<Rc<RouteOptions>>,
        captures: (Vec<String>, HashMap<String, String>),
    ) -> Self {
        let mut request = request;
        let body_reader = request.body_reader();
        Self {
            request,
            writer: Some(writer),
            app,
            route,
            path_args: captures.0,
            path_kwargs: captures.1,
            status: 200,
            reason: None,
            headers: HTTPHeaders::new(),
            default_content_type: true,
            body: Vec::new(),
            finished: false,
            head_sent: false,
            query_arguments: None,
            body_arguments: None,
            body_reader,
            body_bytes: 0,
            current_user: std::cell::OnceCell::new(),
            user_loader: |_| None,
            xsrf: None,
            pending_allow: None,
            connection_closed: false,
            #[cfg(feature = "gzip")]
            encoder: None,
        }
    }

    // ----- request -------------------------------------------------------------------------

    /// The request (method, uri, headers, body, remote_ip, ...).
    pub fn request(&self) -> &HTTPServerRequest {
        &self.request
    }

    /// The application's settings.
    pub fn settings(&self) -> &crate::Settings {
        &self.app.settings
    }

    /// Positional captures of the route's pattern, URL-unescaped.
    pub fn path_args(&self) -> &[String] {
        &self.path_args
    }

    /// Named captures of the route's pattern, URL-unescaped.
    pub fn path_kwargs(&self) -> &HashMap<String, String> {
        &self.path_kwargs
    }

    fn query_args(&mut self) -> &Arguments {
        self.query_arguments.get_or_insert_with(|| {
            self.request.query_arguments().unwrap_or_else(|error| {
                tracing::warn!(target: "typhoon::general", %error, "invalid query string");
                Arguments::new()
            })
        })
    }

    fn body_args(&mut self) -> &(Arguments, Files) {
        self.body_arguments.get_or_insert_with(|| {
            self.request.body_arguments().unwrap_or_else(|error| {
                tracing::warn!(target: "typhoon::general", %error, "invalid request body");
                (Arguments::new(), Files::new())
            })
        })
    }

    fn collect(values: Option<&Vec<Vec<u8>>>) -> Result<Vec<String>, HTTPError> {
        values
            .map(|values| values.iter().map(|v| clean_argument(v)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// All values of an argument from the query and the body (query first), stripped of
    /// surrounding whitespace (Tornado's `get_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        let mut values = Self::collect(self.query_args().get(name))?;
        values.extend(Self::collect(self.body_args().0.get(name))?);
        Ok(values)
    }

    /// An argument's last value from the query or the body (Tornado's `get_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent, or when not UTF-8.
    pub fn get_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_arguments(name)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// An argument's last value, or `default` when absent or invalid.
    pub fn get_argument_or(&mut self, name: &str, default: &str) -> String {
        self.get_argument(name)
            .unwrap_or_else(|_| default.to_owned())
    }

    /// All values of a query argument (Tornado's `get_query_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_query_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        Self::collect(self.query_args().get(name))
    }

    /// A query argument's last value (Tornado's `get_query_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent.
    pub fn get_query_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_query_arguments(name)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// All values of a body argument (Tornado's `get_body_arguments`).
    ///
    /// # Errors
    ///
    /// 400 for a value that is not UTF-8.
    pub fn get_body_arguments(&mut self, name: &str) -> Result<Vec<String>, HTTPError> {
        Self::collect(self.body_args().0.get(name))
    }

    /// A body argument's last value (Tornado's `get_body_argument`).
    ///
    /// # Errors
    ///
    /// 400 "Missing argument" when absent.
    pub fn get_body_argument(&mut self, name: &str) -> Result<String, HTTPError> {
        self.get_body_arguments(name)?
            .pop()
            .ok_or_else(|| missing_argument(name))
    }

    /// Uploaded files of a multipart body (Tornado's `request.files`).
    pub fn files(&mut self) -> &Files {
        &self.body_args().1
    }

    // ----- body ----------------------------------------------------------------------------

    /// The body limit of this request.
    fn max_body_size(&self) -> u64 {
        self.route
            .as_ref()
            .and_then(|route| route.max_body_size)
            .unwrap_or(self.app.settings.max_body_size)
    }

    /// 413 from `Content-Length` before any body byte is read.
    pub(crate) fn check_body_size(&self) -> Result<(), HTTPError> {
        let declared = self
            .request
            .headers
            .get("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_size()) {
            return Err(HTTPError::new(413).with_log_message("Content-Length too long"));
        }
        Ok(())
    }

    /// The next chunk of a streamed body, counted against `max_body_size`.
    pub(crate) async fn next_body_chunk(&mut self) -> Result<Option<Vec<u8>>, HTTPError> {
        let Some(reader) = self.body_reader.as_mut() else {
            return Ok(None);
        };
        let chunk = reader
            .next_chunk()
            .await
            .map_err(|error| HTTPError::new(error.status()).with_source(error))?;
        if let Some(chunk) = &chunk {
            self.body_bytes += chunk.len() as u64;
            if self.body_bytes > self.max_body_size() {
                self.body_reader = None;
                return Err(HTTPError::new(413).with_log_message("body too large"));
            }
        }
        Ok(chunk)
    }

    /// Reads a streamed body whole into `request.body`.
    pub(crate) async fn read_body(&mut self) -> Result<(), HTTPError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.next_body_chunk().await? {
            body.extend_from_slice(&chunk);
        }
        if !body.is_empty() {
            self.request.body = body;
        }
        Ok(())
    }

    // ----- response ------------------------------------------------------------------------

    /// Sets the status (Tornado's `set_status`); the reason phrase is the standard one, or
    /// `"Unknown"`.
    pub fn set_status(&mut self, status: u16) {
        self.status = status;
        self.reason = None;
    }

    /// Sets the status with a custom reason phrase (CR/LF become spaces).
    pub fn set_status_with_reason(&mut self, status: u16, reason: &str) {
        self.status = status;
        self.reason = Some(reason.replace(['\r', '\n'], " "));
    }

    /// The status set so far.
    pub fn get_status(&self) -> u16 {
        self.status
    }

    /// Sets a response header, replacing earlier values.
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidHeader`] for an invalid name or a value with CR, LF or other control
    /// characters.
    pub fn set_header(&mut self, name: &str, value: impl AsRef<str>) -> Result<()> {
        self.headers.set(name, value.as_ref())?;
        Ok(())
    }

    /// Adds a response header value (several may share a name).
    ///
    /// # Errors
    ///
    /// As [`set_header`](Self::set_header).
    pub fn add_header(&mut self, name: &str, value: impl AsRef<str>) -> Result<()> {
        self.headers.add(name, value.as_ref())?;
        Ok(())
    }

    /// Removes a response header (also the default `Content-Type`).
    pub fn clear_header(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("Content-Type") {
            self.default_content_type = false;
        }
        self.headers.remove(name);
    }

    /// A response header as set so far.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Resets status, headers and the buffered body (Tornado's `clear`).
    pub fn clear(&mut self) {
        self.headers.clear();
        self.default_content_type = true;
        self.body.clear();
        self.status = 200;
        self.reason = None;
    }

    /// Appends to the response body (str, String, bytes). After `finish` it is ignored and
    /// logged.
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) {
        if self.finished {
            tracing::warn!(target: "typhoon::application", "write() after finish() ignored");
            return;
        }
        self.body.extend_from_slice(chunk.as_ref());
    }

    /// Writes `value` as JSON with `Content-Type: application/json; charset=UTF-8` (Tornado's
    /// `write(dict)`); `</` is escaped as `<\/`.
    ///
    /// # Errors
    ///
    /// [`WebError::Json`] if `value` cannot be serialised.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn write_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value)?.replace("</", "<\\/");
        self.set_header("Content-Type", "application/json; charset=UTF-8")?;
        self.write(text);
        Ok(())
    }

    /// Whether the response is finished.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether the head has gone out (after a `flush`).
    pub fn head_sent(&self) -> bool {
        self.head_sent
    }

    /// Whether the client went away before the response was finished.
    pub fn is_connection_closed(&self) -> bool {
        self.connection_closed
    }

    /// The headers that go out: defaults applied.
    fn apply_defaults(&mut self) {
        if self.default_content_type && !self.headers.contains("Content-Type") {
            let _ = self.headers.set("Content-Type", "text/html; charset=UTF-8");
        }
    }

    /// Moves status and headers to the writer.
    fn send_head(&mut self) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        match &self.reason {
            Some(reason) => writer.set_status_with_reason(self.status, reason),
            None => writer.set_status(self.status),
        }
        for (name, value) in self.headers.iter() {
            let _ = writer.add_header(name, value);
        }
        self.head_sent = true;
    }

    /// Sends the buffered head and body now (chunked on HTTP/1.1), waiting until the kernel has
    /// them (back-pressure).
    ///
    /// # Errors
    ///
    /// [`WebError::Finished`] after `finish`, [`WebError::Stream`] if the client went away.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the bytes are queued before the wait.
    pub async fn flush(&mut self) -> Result<()> {
        if self.finished {
            return Err(WebError::Finished);
        }
        let chunk = std::mem::take(&mut self.body);
        let chunk = if self.head_sent {
            self.transform_chunk(chunk, false)
        } else {
            self.apply_defaults();
            let chunk = self.transform_first_chunk(chunk, false);
            self.send_head();
            chunk
        };
        let writer = self.writer.as_mut().ok_or(WebError::Finished)?;
        writer.write(&chunk);
        writer.flush().await?;
        Ok(())
    }

    /// Sends `count` bytes of `file` from `offset` as the rest of the body, then finishes the
    /// response. On plain TCP the bytes go with `sendfile(2)`, never through user space
    /// (tornadoweb/tornado#1448); over TLS, or when the response is being compressed, the range is
    /// read and written in 64 KiB pieces, each flushed (back-pressure). Set `Content-Length`
    /// (or let it be computed: what was written so far plus `count`) and the other headers
    /// first. [`StaticFileHandler`](crate::StaticFileHandler) uses this.
    ///
    /// # Errors
    ///
    /// [`WebError::Finished`] after `finish`; [`WebError::Stream`] if the client went away or the
    /// file is shorter than the range (the connection is then closed, so a short body never
    /// looks complete).
    pub async fn send_file(&mut self, file: &std::fs::File, offset: u64, count: u64) -> Result<()> {
        if self.finished {
            return Err(WebError::Finished);
        }
        if !self.head_sent {
            self.apply_defaults();
            let chunk = std::mem::take(&mut self.body);
            let chunk = self.transform_first_chunk(chunk, false);
            self.send_head();
            if let Some(writer) = self.writer.as_mut() {
                writer.write(&chunk);
            }
        }
        let sent = if self.compressing() {
            self.send_file_through_transforms(file, offset, count).await
        } else {
            let writer = self.writer.as_mut().ok_or(WebError::Finished)?;
            let body = std::mem::take(&mut self.body);
            writer.write(&body);
            writer
                .send_file(file, offset, count)
                .await
                .map_err(WebError::from)
        };
        if let Err(error) = sent {
            // The head is out (or promised): a response cut short must not look complete.
            if let Some(writer) = self.writer.take() {
                writer.abort();
            }
            self.finished = true;
            return Err(error);
        }
        self.finish();
        Ok(())
    }

    /// The copying path of [`send_file`](Self::send_file), for transformed (compressed) bodies.
    async fn send_file_through_transforms(
        &mut self,
        file: &std::fs::File,
        offset: u64,
        count: u64,
    ) -> Result<()> {
        // iostream's copy loop (64 KiB positioned reads), writing through this context so
        // that the pieces are compressed.
        typhoon_iostream::write_file_range(file, offset, count, async |piece: &[u8]| {
            self.write(piece);
            self.flush().await
        })
        .await?;
        Ok(())
    }

    /// Whether the body is being compressed (decided when the head went out).
    fn compressing(&self) -> bool {
        #[cfg(feature = "gzip")]
        {
            matches!(self.encoder, Some(Some(_)))
        }
        #[cfg(not(feature = "gzip"))]
        {
            false
        }
    }

    /// Finishes the response (Tornado's `finish`): ETag and 304, `Content-Length`, transforms.
    /// Done automatically when the handler returns; later writes are ignored.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        let mut chunk = std::mem::take(&mut self.body);
        if !self.head_sent {
            let method = self.request.method.as_str();
            if matches!(self.status, 200 | 304)
                && matches!(method, "GET" | "HEAD")
                && !self.headers.contains("Etag")
                && self.app.settings.compute_etag
            {
                let mut etag = String::with_capacity(42);
                etag.push('"');
                cookies::push_hex(&mut etag, &Sha1::digest(&chunk));
                etag.push('"');
                let _ = self.headers.set("Etag", &etag);
                if self.check_etag_header(&etag) {
                    chunk.clear();
                    self.status = 304;
                    self.reason = None;
                }
            }
            if matches!(self.status, 100..=199 | 204 | 304) {
                chunk.clear();
                for name in [
                    "Content-Encoding",
                    "Content-Language",
                    "Content-Type",
                    "Content-Length",
                ] {
                    self.headers.remove(name);
                }
                self.default_content_type = false;
            }
            self.apply_defaults();
            chunk = self.transform_first_chunk(chunk, true);
            self.send_head();
        } else {
            chunk = self.transform_chunk(chunk, true);
        }
        self.finished = true;
        if let Some(mut writer) = self.writer.take() {
            writer.write(&chunk);
            writer.finish();
        }
    }

    /// Whether `If-None-Match` matches `etag` (weak comparison, `*`).
    fn check_etag_header(&self, etag: &str) -> bool {
        let Some(header) = self.request.headers.get("If-None-Match") else {
            return false;
        };
        etag_matches(header, etag)
    }

    /// Ends a streamed response after an error (the head already went out).
    pub(crate) fn abort_streamed_response(&mut self) {
        if !self.finished {
            // A chunked or compressed body must not get its proper ending (it would look
            // complete): close the connection instead.
            if let Some(writer) = self.writer.take() {
                writer.abort();
            }
            self.finished = true;
        }
    }

    // ----- transforms (gzip, deflate) -------------------------------------------------------

    #[cfg(feature = "gzip")]
    fn transform_first_chunk(&mut self, chunk: Vec<u8>, finishing: bool) -> Vec<u8> {
        if !self.app.settings.compress_response {
            self.encoder = Some(None);
            return chunk;
        }
        let vary = match self.headers.get("Vary") {
            Some(v) => format!("{v}, Accept-Encoding"),
            None => "Accept-Encoding".to_owned(),
        };
        let _ = self.headers.set("Vary", &vary);
        let coding = self
            .request
            .headers
            .get("Accept-Encoding")
            .and_then(compression::negotiate);
        let ctype = self
            .headers
            .get("Content-Type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let coding = coding.filter(|_| {
            compression::compressible_type(&ctype)
                && (!finishing || chunk.len() >= 1024)
                && !self.headers.contains("Content-Encoding")
        });
        let Some(coding) = coding else {
            self.encoder = Some(None);
            return chunk;
        };
        let _ = self.headers.set("Content-Encoding", coding.name());
        let mut encoder = compression::Encoder::new(coding);
        let out = if finishing {
            encoder.finish(&chunk)
        } else {
            let out = encoder.push(&chunk);
            self.encoder = Some(Some(encoder));
            out
        };
        if self.headers.contains("Content-Length") {
            if finishing {
                let _ = self.headers.set("Content-Length", &out.len().to_string());
            } else {
                self.headers.remove("Content-Length");
            }
        }
        out
    }

    #[cfg(feature = "gzip")]
    fn transform_chunk(&mut self, chunk: Vec<u8>, finishing: bool) -> Vec<u8> {
        if finishing {
            match self.encoder.take() {
                Some(Some(encoder)) => encoder.finish(&chunk),
                _ => chunk,
            }
        } else {
            match self.encoder.as_mut() {
                Some(Some(encoder)) => encoder.push(&chunk),
                _ => chunk,
            }
        }
    }

    #[cfg(not(feature = "gzip"))]
    fn transform_first_chunk(&mut self, chunk: Vec<u8>, _finishing: bool) -> Vec<u8> {
        chunk
    }

    #[cfg(not(feature = "gzip"))]
    fn transform_chunk(&mut self, chunk: Vec<u8>, _finishing: bool) -> Vec<u8> {
        chunk
    }

    // ----- redirects and errors ------------------------------------------------------------

    /// Redirects with 302 and finishes (Tornado's `redirect`).
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidHeader`] for a URL with CR/LF.
    pub fn redirect(&mut self, url: &str) -> Result<()> {
        self.redirect_with_status(url, 302)
    }

    /// Redirects with `status` (301, 302, 303, 307 or 308; others become 302) and finishes.
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidHeader`] for a URL with CR/LF, [`WebError::Finished`] if the head went
    /// out.
    pub fn redirect_with_status(&mut self, url: &str, status: u16) -> Result<()> {
        if self.head_sent || self.finished {
            return Err(WebError::Finished);
        }
        let status = if matches!(status, 301 | 302 | 303 | 307 | 308) {
            status
        } else {
            302
        };
        self.set_header("Location", url)?;
        self.set_status(status);
        self.finish();
        Ok(())
    }

    /// Answers with an error page for `status` now (Tornado's `send_error`, without the
    /// handler's `write_error`: return `Err(HTTPError::new(status))` to use it).
    pub fn send_error(&mut self, status: u16) {
        if self.head_sent {
            self.abort_streamed_response();
            return;
        }
        let error = HTTPError::new(status);
        self.prepare_error(&error);
        self.write_default_error(&error);
        self.finish();
    }

    /// Clears the response and sets the error's status (and `Allow` for a 405).
    pub(crate) fn prepare_error(&mut self, error: &HTTPError) {
        self.clear();
        match error.custom_reason() {
            Some(reason) => self.set_status_with_reason(error.status(), reason),
            None => self.set_status(error.status()),
        }
        if let Some(allow) = self.pending_allow.take() {
            let _ = self.headers.set("Allow", &allow);
        }
    }

    pub(crate) fn set_pending_allow(&mut self, allow: String) {
        self.pending_allow = Some(allow);
    }

    /// Tornado's default error page, or the error chain as text with `serve_traceback`.
    pub fn write_default_error(&mut self, error: &HTTPError) {
        let status = self.status;
        let reason = self
            .reason
            .clone()
            .or_else(|| reason_phrase(status).map(str::to_owned))
            .unwrap_or_else(|| error.reason().to_owned());
        if self.app.settings.serves_traceback() && status >= 500 {
            let _ = self.set_header("Content-Type", "text/plain");
            self.write(error.chain());
            return;
        }
        self.write(format!(
            "<html><title>{status}: {reason}</title><body>{status}: {reason}</body></html>"
        ));
    }

    /// Logs an error as Tornado's `log_exception` does.
    pub(crate) fn log_error(&self, error: &HTTPError) {
        let method = &self.request.method;
        let uri = &self.request.uri;
        let ip = &self.request.remote_ip;
        if error.status() >= 500 && error.source().is_some() {
            tracing::error!(target: "typhoon::application", status = error.status(), %method, %uri, "Uncaught exception {method} {uri} ({ip}): {}", error.chain());
        } else if error.status() >= 500
            && error.log_message().is_some_and(|m| m.starts_with("panic"))
        {
            tracing::error!(target: "typhoon::application", status = error.status(), %method, %uri, "Uncaught exception {method} {uri} ({ip}): {}", error.log_message().unwrap_or_default());
        } else if let Some(message) = error.log_message() {
            tracing::warn!(target: "typhoon::general", status = error.status(), "{} {method} {uri} ({ip}): {message}", error.status());
        } else if error.source().is_some() {
            // A 4xx with a cause (a body that failed to read): the cause, once.
            tracing::warn!(target: "typhoon::general", status = error.status(), "{} {method} {uri} ({ip}): {}", error.status(), error.chain());
        }
    }

    // ----- lifecycle helpers ---------------------------------------------------------------

    /// The request timeout of this request.
    pub(crate) fn request_timeout(&self) -> Option<Duration> {
        self.route
            .as_ref()
            .and_then(|route| route.timeout)
            .or(self.app.settings.request_timeout)
    }

    /// A future that completes when the client closes the connection.
    pub(crate) fn connection_closed_future(&self) -> Option<impl Future<Output = ()> + 'static> {
        self.writer.as_ref().map(ResponseWriter::closed)
    }

    pub(crate) fn mark_connection_closed(&mut self) {
        self.connection_closed = true;
        self.finished = true;
        self.writer = None;
    }

    pub(crate) fn route_requires_user(&self) -> bool {
        self.route.as_ref().is_some_and(|route| route.authenticated)
    }

    /// Tornado's `@authenticated` refusal: redirect GET/HEAD to `login_url?next=`, else 403.
    pub(crate) fn deny_anonymous(&mut self) -> Result<(), HTTPError> {
        let method = self.request.method.as_str();
        if matches!(method, "GET" | "HEAD") {
            let Some(mut url) = self.app.settings.login_url.clone() else {
                return Err(HTTPError::new(403).with_log_message("login_url is not set"));
            };
            if !url.contains('?') {
                let next = if url.contains("://") {
                    self.request.full_url()
                } else {
                    self.request.uri.clone()
                };
                url.push_str("?next=");
                url.push_str(&typhoon_escape::url_escape(&next, true));
            }
            self.redirect(&url)?;
            return Err(HTTPError::finish());
        }
        Err(HTTPError::new(403))
    }

    // ----- users ---------------------------------------------------------------------------

    /// The current user (Tornado's `current_user`): loaded on first use by the handler's
    /// [`get_current_user`](crate::RequestHandler::get_current_user), then cached for the
    /// rest of the request, or whatever [`set_current_user`](Self::set_current_user) set.
    /// Nothing is loaded for a request that never asks (no route guard, no template
    /// rendered, no call here).
    ///
    /// # Panics
    ///
    /// If `get_current_user` itself calls `current_user` (it would recurse forever); the
    /// request then gets a 500.
    pub fn current_user(&self) -> Option<&str> {
        self.current_user
            .get_or_init(|| (self.user_loader)(self))
            .as_deref()
    }

    /// Sets the current user, replacing any loaded one: the way to load a user
    /// asynchronously (from a database, say) is to do it in `prepare` and set it here, as
    /// Tornado's documentation advises.
    pub fn set_current_user(&mut self, user: Option<String>) {
        self.current_user = std::cell::OnceCell::from(user);
    }

    /// Installs the handler's user loader (before anything can ask for the user).
    pub(crate) fn set_user_loader(&mut self, loader: fn(&Context) -> Option<String>) {
        self.user_loader = loader;
    }

    // ----- URLs and templates --------------------------------------------------------------

    /// The URL of a named route with `args` filled in (Tornado's `reverse_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::UnknownRoute`], [`WebError::CannotReverse`].
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        crate::application::reverse_named(&self.app.named, name, args)
    }

    /// The versioned URL of a static file: `/static/path?v=<hash>` (Tornado's `static_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::NoStaticPath`] without the `static_path` setting.
    pub fn static_url(&self, path: &str) -> Result<String> {
        self.app.static_urls.static_url(path)
    }

    /// Renders a template to a string with the per-request namespace (`current_user`,
    /// `xsrf_form_html`, `request`) on top of the globals (`static_url`, `reverse_url`).
    ///
    /// # Errors
    ///
    /// [`WebError::NoTemplates`] without a loader, [`WebError::Template`].
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn render_string<S: serde::Serialize>(&mut self, name: &str, ctx: S) -> Result<String> {
        use typhoon_template::{Namespace, Value};
        let xsrf = self.xsrf_enabled().then(|| self.xsrf_form_html());
        let app = Rc::clone(&self.app);
        let loader = app.templates.as_ref().ok_or(WebError::NoTemplates)?;
        let mut namespace = Namespace::new();
        namespace.insert(
            "current_user",
            Value::from(self.current_user().map(str::to_owned)),
        );
        namespace.insert(
            "xsrf_form_html",
            Value::from_safe_string(xsrf.unwrap_or_default()),
        );
        let request: Vec<(&str, String)> = Vec::from([
            ("method", self.request.method.clone()),
            ("uri", self.request.uri.clone()),
            ("path", self.request.path().to_owned()),
            ("query", self.request.query().to_owned()),
            ("host", self.request.host.clone()),
            ("remote_ip", self.request.remote_ip.to_string()),
            ("protocol", self.request.protocol.to_owned()),
        ]);
        let request: std::collections::BTreeMap<&str, String> = request.into_iter().collect();
        namespace.insert("request", Value::from(minijinja::value::Serde(request)));
        Ok(loader.render_with(name, ctx, &namespace)?)
    }

    /// Renders a template as the response and finishes (Tornado's `render`).
    ///
    /// # Errors
    ///
    /// As [`render_string`](Self::render_string).
    #[cfg(feature = "template")]
    #[cfg_attr(docsrs, doc(cfg(feature = "template")))]
    pub fn render<S: serde::Serialize>(&mut self, name: &str, ctx: S) -> Result<()> {
        let html = self.render_string(name, ctx)?;
        self.write(html);
        self.finish();
        Ok(())
    }

    /// Takes the streamed body reader (for handlers that read the body themselves).
    pub fn take_body_reader(&mut self) -> Option<BodyReader> {
        self.body_reader.take()
    }
}

/// Tornado's `MissingArgumentError`.
fn missing_argument(name: &str) -> HTTPError {
    HTTPError::new(400).with_log_message(format!("Missing argument {name}"))
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, `*`).
pub(crate) fn etag_matches(header: &str, etag: &str) -> bool {
    if header.trim() == "*" {
        return true;
    }
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = strip(etag);
    header.split(',').any(|candidate| strip(candidate) == etag)
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("method", &self.request.method)
            .field("uri", &self.request.uri)
            .field("status", &self.status)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
