//! The response: status, headers, body, flushing, files, `finish` and its transforms, redirects.

use super::Context;
#[cfg(feature = "gzip")]
use super::compression;
use super::deferred::{DEFAULT_CONTENT_TYPE, etag_str};
use crate::error::{Result, WebError};

impl Context {
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

    /// Sets a response header, replacing earlier values (also a default one: `Server`,
    /// `Date`, `Content-Type`).
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidHeader`] for an invalid name or a value with CR, LF or other control
    /// characters.
    pub fn set_header(&mut self, name: &str, value: impl AsRef<str>) -> Result<()> {
        self.headers_mut().set(name, value.as_ref())?;
        Ok(())
    }

    /// Adds a response header value (several may share a name).
    ///
    /// # Errors
    ///
    /// As [`set_header`](Self::set_header).
    pub fn add_header(&mut self, name: &str, value: impl AsRef<str>) -> Result<()> {
        self.headers_mut().add(name, value.as_ref())?;
        Ok(())
    }

    /// Removes a response header, also a default one (`Content-Type`, `Server`, `Date`) until
    /// the next [`clear`](Self::clear).
    pub fn clear_header(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("Content-Type") {
            self.default_content_type = false;
        } else if name.eq_ignore_ascii_case("Server") {
            self.default_server_date.0 = false;
        } else if name.eq_ignore_ascii_case("Date") {
            self.default_server_date.1 = false;
        }
        self.headers_mut().remove(name);
    }

    /// A response header as set so far. The server writes the default `Server` and `Date`
    /// when the head goes out, so they are not seen here unless set.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        // A deferred line's name is in no line of the map (changes materialize it first).
        self.headers.get(name).or_else(|| self.deferred.get(name))
    }

    /// The header map for a change: the deferred lines are moved into it first, so that it
    /// reads as if `finish` or `flush` had set them there.
    pub(super) fn headers_mut(&mut self) -> &mut typhoon_httputil::HTTPHeaders {
        self.deferred.materialize(&mut self.headers);
        &mut self.headers
    }

    /// Resets status, headers and the buffered body, then re-applies the default headers:
    /// `Content-Type: text/html; charset=UTF-8` and whatever the handler's
    /// [`set_default_headers`](crate::RequestHandler::set_default_headers) sets (Tornado's
    /// `clear`). Error pages start with a `clear`, so they carry the handler's default
    /// headers too.
    pub fn clear(&mut self) {
        self.headers.clear();
        self.deferred.clear();
        self.default_content_type = true;
        self.default_server_date = (true, true);
        self.body.clear();
        self.status = 200;
        self.reason = None;
        self.apply_default_headers();
    }

    /// Appends to the response body (str, String, bytes). After `finish` it is ignored and
    /// logged.
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) {
        if self.closed_for_writes() {
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

    /// Whether the response is finished, or an error page is pending
    /// ([`send_error`](Self::send_error)).
    pub fn is_finished(&self) -> bool {
        self.closed_for_writes()
    }

    /// Whether the head has gone out (after a `flush`).
    pub fn head_sent(&self) -> bool {
        self.head_sent
    }

    /// Whether the client went away before the response was finished.
    pub fn is_connection_closed(&self) -> bool {
        self.connection_closed
    }

    /// The headers that go out: defaults applied (deferred: `send_head` writes them).
    fn apply_defaults(&mut self) {
        if self.default_content_type
            && !self.deferred.has_content_type()
            && !self.headers.contains("Content-Type")
        {
            self.deferred.set_content_type();
        }
    }

    /// Moves status and headers to the writer: the map's lines, then the deferred ones (where
    /// the map would have had them). `etag` is the deferred `Etag`'s text when the caller has
    /// it already.
    fn send_head(&mut self, etag: Option<&str>) {
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
        if let Some(quoted) = self.deferred.etag() {
            let _ = writer.add_header("Etag", etag.unwrap_or_else(|| etag_str(quoted)));
        }
        if self.deferred.has_content_type() {
            let _ = writer.add_header("Content-Type", DEFAULT_CONTENT_TYPE);
        }
        if !self.default_server_date.0 {
            writer.clear_header("Server");
        }
        if !self.default_server_date.1 {
            writer.clear_header("Date");
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
        if self.closed_for_writes() {
            return Err(WebError::Finished);
        }
        let chunk = std::mem::take(&mut self.body);
        let chunk = if self.head_sent {
            self.transform_chunk(chunk, false)
        } else {
            self.apply_defaults();
            let chunk = self.transform_first_chunk(chunk, false);
            self.send_head(None);
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
        if self.closed_for_writes() {
            return Err(WebError::Finished);
        }
        if !self.head_sent {
            self.apply_defaults();
            let chunk = std::mem::take(&mut self.body);
            let chunk = self.transform_first_chunk(chunk, false);
            self.send_head(None);
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
        if self.closed_for_writes() {
            return;
        }
        let mut chunk = std::mem::take(&mut self.body);
        if !self.head_sent {
            let method = self.request.method.as_str();
            let etag = if matches!(self.status, 200 | 304)
                && matches!(method, "GET" | "HEAD")
                && !self.headers.contains("Etag")
                && self.app.settings.compute_etag
            {
                self.etag_of(&chunk)
            } else {
                None
            };
            // The value is read once (`as_str` checks the inline SHA-1 form is UTF-8). The
            // default SHA-1 form is valid by construction and deferred; the map has no `Etag`.
            let etag = etag.as_ref().map(|etag| (etag.as_str(), etag.sha1_bytes()));
            let etag = match etag {
                Some((value, Some(quoted))) => {
                    self.deferred.set_etag(quoted);
                    Some(value)
                }
                Some((value, None)) => self.headers.set("Etag", value).is_ok().then_some(value),
                None => None,
            };
            if let Some(value) = etag
                && self.check_etag_header(value)
            {
                chunk.clear();
                self.status = 304;
                self.reason = None;
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
            self.send_head(etag);
        } else {
            chunk = self.transform_chunk(chunk, true);
        }
        self.finished = true;
        if let Some(mut writer) = self.writer.take() {
            writer.write(&chunk);
            writer.finish();
        }
        // The next context on this loop takes the buffer (no allocation per small response).
        super::spare_body::give(chunk);
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
        // The transform reads and changes the map: the deferred lines go in first.
        self.deferred.materialize(&mut self.headers);
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
            self.encoder = Some(Some(Box::new(encoder)));
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

    /// Switches protocols and takes the connection (Tornado's `detach`, after the `101` its
    /// `WebSocketHandler` writes): sends the head with the status set (`101`, or a `2xx`
    /// answering `CONNECT`) and the headers set so far (without the default `Content-Type`),
    /// and returns the connection's stream, with any bytes the client sent after its request
    /// still buffered in it.
    ///
    /// The response is then finished: the HTTP writers answer [`WebError::Finished`] (and
    /// `write` is ignored), the application's `request_timeout` no longer applies, and the
    /// request's lifecycle stops watching the connection. The new protocol runs either in the
    /// handler's method (the connection closes when the method's future ends, or when the
    /// [`Upgraded`](typhoon_httpserver::Upgraded) is dropped, whichever is later), or, to free
    /// the request's future while the connection lives on, in the future the handler returns
    /// from [`RequestHandler::into_detached`](crate::RequestHandler::into_detached), keeping the
    /// `Upgraded` there (what a WebSocket does).
    ///
    /// # Errors
    ///
    /// [`WebError::Finished`] after `finish` or a `flush`; [`WebError::Upgrade`] for a status
    /// that does not switch protocols (the response is left as it was) or if the client went
    /// away.
    pub async fn detach(&mut self) -> Result<typhoon_httpserver::Upgraded> {
        if self.closed_for_writes() || self.head_sent {
            return Err(WebError::Finished);
        }
        let connect = self.request.method == "CONNECT";
        if self.status != 101 && !(connect && (200..300).contains(&self.status)) {
            return Err(typhoon_httpserver::UpgradeError::Status(self.status).into());
        }
        self.default_content_type = false;
        self.send_head(None);
        self.finished = true;
        self.body.clear();
        let writer = self.writer.take().ok_or(WebError::Finished)?;
        let upgraded = writer.upgrade().await?;
        self.detached.set(true);
        // The response is over: what it held goes now, not when the connection ends (a
        // WebSocket lives on with this context).
        self.headers = typhoon_httputil::HTTPHeaders::new();
        self.deferred.clear();
        self.body = Vec::new();
        self.reason = None;
        Ok(upgraded)
    }

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
        if self.head_sent || self.closed_for_writes() {
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
