//! `ResponseWriter`: how the application answers a request.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use typhoon_ioloop::IOLoop;

use typhoon_iostream::{IOStream, StreamError};

use typhoon_httputil::Result;
use typhoon_httputil::h1::Version;
use typhoon_httputil::{HTTPHeaders, reason_phrase, write_timestamp};

use crate::upgrade::{UpgradeError, Upgraded};

/// The `Server` header every response carries, unless the application sets its own or
/// clears it.
const SERVER_HEADER: &str = "TyphoonServer/0.1";

thread_local! {
    /// The `Date` header's value and the loop time until which it stays right: formatted once
    /// per second, and checked against the loop's wake-up time (no clock read per response).
    static DATE: RefCell<(Option<Instant>, String)> = const { RefCell::new((None, String::new())) };
}

/// Appends the current `Date` value, from the per-second cache.
fn push_date(out: &mut Vec<u8>) {
    let loop_time = IOLoop::try_current().map(|ioloop| ioloop.iteration_time());
    DATE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let fresh = matches!((cache.0, loop_time), (Some(until), Some(now)) if now < until);
        if !fresh {
            let now = SystemTime::now();
            cache.1.clear();
            write_timestamp(&mut cache.1, now);
            let into_second = now
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let left = Duration::from_nanos(1_000_000_000 - u64::from(into_second));
            cache.0 = loop_time.map(|t| t + left);
        }
        out.extend_from_slice(cache.1.as_bytes());
    });
}

/// Appends `n` in decimal (no formatter machinery on the per-response path).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// The response being built for the current request; one per connection, reused.
#[derive(Debug)]
pub(crate) struct ResponseState {
    /// Status code.
    pub(crate) status: u16,
    /// Reason phrase, if not the standard one.
    reason: Option<String>,
    /// Response headers set by the application.
    headers: HTTPHeaders,
    /// Body bytes written and not yet sent.
    body: Vec<u8>,
    /// Reused buffer for the serialised head.
    scratch: Vec<u8>,
    /// Whether the head has gone out (after a `flush`).
    pub(crate) head_sent: bool,
    /// Chunked transfer coding in use.
    chunked: bool,
    /// `finish` was called (or the connection finished the response).
    pub(crate) finished: bool,
    /// The request's version.
    version: Version,
    /// The request was HEAD: no body bytes go out.
    head_request: bool,
    /// Whether the connection stays open after this response.
    pub(crate) keep_alive: bool,
    /// Body bytes handed to the stream so far.
    pub(crate) body_bytes: u64,
    /// The `Content-Length` the head declared, checked against `body_bytes` at the end: a
    /// response that fell short (or ran over) closes its connection, so the next response
    /// on it is never read as part of this one.
    declared_length: Option<u64>,
    /// The server is shutting down: responses not yet started close their connection.
    pub(crate) draining: Rc<crate::draining::Draining>,
    /// The connection was handed over to another protocol ([`ResponseWriter::upgrade`]): its
    /// head has no body framing, and the HTTP connection serves no further request.
    pub(crate) upgraded: bool,
    /// Where the connection's registration goes if the upgraded protocol outlives the
    /// request's future (set by `upgrade`).
    pub(crate) handoff: Option<Rc<crate::upgrade::Handoff>>,
    /// The request is a `CONNECT`: a 2xx answer opens a tunnel.
    pub(crate) connect: bool,
    /// The default `Server` header goes out (unless the application set its own): cleared by
    /// `clear_header("Server")`, back for the next request.
    default_server: bool,
    /// The default `Date` header goes out (unless the application set its own): cleared by
    /// `clear_header("Date")`, back for the next request.
    default_date: bool,
}

impl ResponseState {
    /// A response state for one connection of a server whose shutdown flag is `draining`.
    /// (Not `..Default::default()`: that would allocate a flag of its own per connection, only
    /// to drop it.)
    pub(crate) fn new(draining: Rc<crate::draining::Draining>) -> Self {
        Self {
            status: 200,
            reason: None,
            headers: HTTPHeaders::new(),
            body: Vec::new(),
            scratch: Vec::new(),
            head_sent: false,
            chunked: false,
            finished: false,
            version: Version::Http11,
            head_request: false,
            keep_alive: true,
            body_bytes: 0,
            declared_length: None,
            draining,
            upgraded: false,
            handoff: None,
            connect: false,
            default_server: true,
            default_date: true,
        }
    }

    /// Frees the buffers kept between requests that grew large (the connection is idle);
    /// small ones stay, so a keep-alive connection does not allocate per response. With
    /// `all` (the connection has been idle a while), small ones go too.
    pub(crate) fn release(&mut self, all: bool) {
        let keep = if all { 0 } else { 1024 };
        if self.body.capacity() > keep {
            self.body = Vec::new();
        }
        if self.scratch.capacity() > keep {
            self.scratch = Vec::new();
        }
        if all || self.headers.len() > 16 {
            self.headers = HTTPHeaders::new();
        }
    }

    /// Prepares for a new request.
    pub(crate) fn reset(&mut self, version: Version, head_request: bool, keep_alive: bool) {
        self.status = 200;
        self.reason = None;
        self.headers.clear();
        self.body.clear();
        if self.body.capacity() > 256 * 1024 {
            self.body = Vec::new();
        }
        self.head_sent = false;
        self.chunked = false;
        self.finished = false;
        self.version = version;
        self.head_request = head_request;
        self.keep_alive = keep_alive;
        self.body_bytes = 0;
        self.declared_length = None;
        self.upgraded = false;
        self.connect = false;
        self.default_server = true;
        self.default_date = true;
    }

    /// Statuses that never carry a body.
    fn bodiless_status(&self) -> bool {
        matches!(self.status, 100..=199 | 204 | 304)
    }

    /// Serialises the head into `scratch`. `content_length` is the body length when known.
    fn write_head(&mut self, content_length: Option<u64>) {
        if self.draining.get() {
            self.keep_alive = false;
        }
        let bodiless = self.bodiless_status();
        let out = &mut self.scratch;
        out.clear();
        out.extend_from_slice(match self.version {
            Version::Http10 => b"HTTP/1.0 ",
            Version::Http11 => b"HTTP/1.1 ",
        });
        push_decimal(out, u64::from(self.status));
        out.push(b' ');
        let reason = self
            .reason
            .as_deref()
            .or_else(|| reason_phrase(self.status))
            .unwrap_or("Unknown");
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        // Default headers, unless the application replaced or cleared them (one line each).
        if self.default_server && !self.headers.contains("Server") {
            out.extend_from_slice(b"Server: ");
            out.extend_from_slice(SERVER_HEADER.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if self.default_date && !self.headers.contains("Date") {
            out.extend_from_slice(b"Date: ");
            push_date(out);
            out.extend_from_slice(b"\r\n");
        }
        let mut has_length = false;
        self.declared_length = None;
        for (name, value) in self.headers.iter() {
            if name.eq_ignore_ascii_case("Content-Length") {
                has_length = true;
                self.declared_length = value.trim().parse().ok();
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if self.upgraded {
            // The switching head: no body framing, and the connection header is the
            // application's (`Connection: Upgrade`), never `close`.
            out.extend_from_slice(b"\r\n");
            self.head_sent = true;
            return;
        }
        if !bodiless && !has_length {
            match content_length {
                Some(length) => {
                    self.declared_length = Some(length);
                    out.extend_from_slice(b"Content-Length: ");
                    push_decimal(out, length);
                    out.extend_from_slice(b"\r\n");
                }
                None if self.version == Version::Http11 => {
                    self.chunked = true;
                    out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                }
                // HTTP/1.0 and an unknown length: the body ends when the connection closes.
                None => self.keep_alive = false,
            }
        }
        if !self.keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if self.version == Version::Http10 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        self.head_sent = true;
    }

    /// Queues everything pending on `stream`: the head if not sent, the buffered body (as a
    /// chunk if chunked), and with `last` the final chunk.
    fn queue(&mut self, stream: &IOStream, last: bool) -> Result<(), StreamError> {
        if !self.head_sent {
            let length = if last {
                Some(self.body.len() as u64)
            } else {
                None
            };
            self.write_head(length);
            stream.write_buffered(&self.scratch)?;
        }
        let send_body = !self.head_request && !self.bodiless_status();
        if send_body && !self.body.is_empty() {
            self.body_bytes += self.body.len() as u64;
            if self.chunked {
                self.scratch.clear();
                let _ = write!(self.scratch, "{:x}\r\n", self.body.len());
                stream.write_buffered(&self.scratch)?;
                stream.write_buffered(&self.body)?;
                stream.write_buffered(b"\r\n")?;
            } else {
                stream.write_buffered(&self.body)?;
            }
        }
        self.body.clear();
        if last {
            if self.chunked && send_body {
                stream.write_buffered(b"0\r\n\r\n")?;
            }
            self.check_declared_length(send_body);
            self.finished = true;
        }
        Ok(())
    }

    /// At the end of a response: if the body sent differs from the declared
    /// `Content-Length` (a send cut short, a wrong header), the connection must not carry
    /// another response (Tornado's "Tried to write ... bytes less than Content-Length").
    fn check_declared_length(&mut self, send_body: bool) {
        if let Some(declared) = self.declared_length
            && send_body
            && !self.chunked
            && declared != self.body_bytes
        {
            tracing::warn!(
                target: "typhoon::general",
                declared,
                sent = self.body_bytes,
                "response body does not match its Content-Length; closing the connection"
            );
            self.keep_alive = false;
        }
    }

    /// Finishes the response on `stream` (queued; the connection flushes).
    pub(crate) fn finish(&mut self, stream: &IOStream) -> Result<(), StreamError> {
        if self.finished {
            return Ok(());
        }
        self.queue(stream, true)
    }
}

/// Closes a stream when dropped, unless disarmed: for sends that must not be left half done.
struct CloseOnDrop<'a>(Option<&'a IOStream>);

impl CloseOnDrop<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(stream) = self.0 {
            stream.close();
        }
    }
}

/// Writes the response to one request (the response half of Tornado's `HTTPConnection`).
///
/// Set the status and headers, [`write`](Self::write) the body (buffered), and either let the
/// response finish when the handler's future completes (or call [`finish`](Self::finish)) —
/// then it goes out with a `Content-Length` — or [`flush`](Self::flush) along the way to stream
/// it (chunked on HTTP/1.1, close-delimited on HTTP/1.0). `HEAD` requests and 204/304 responses
/// never carry a body. If the handler panics before the head went out, the client gets a 500.
pub struct ResponseWriter {
    /// Shared with the connection, which finishes what the application leaves unfinished.
    state: Rc<RefCell<ResponseState>>,
    /// The connection's stream.
    stream: Rc<IOStream>,
}

impl ResponseWriter {
    pub(crate) fn new(state: Rc<RefCell<ResponseState>>, stream: Rc<IOStream>) -> Self {
        Self { state, stream }
    }

    /// Sets the status code (default 200).
    pub fn set_status(&mut self, status: u16) {
        self.state.borrow_mut().status = status;
    }

    /// Sets the status code with a custom reason phrase.
    pub fn set_status_with_reason(&mut self, status: u16, reason: &str) {
        let mut state = self.state.borrow_mut();
        state.status = status;
        state.reason = Some(reason.replace(['\r', '\n'], " "));
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.state.borrow().status
    }

    /// Sets a header, replacing any value it had.
    ///
    /// # Errors
    ///
    /// An invalid name or a value with control characters (no header injection).
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<()> {
        self.state.borrow_mut().headers.set(name, value)
    }

    /// Adds a header value (several `Set-Cookie`, for instance).
    ///
    /// # Errors
    ///
    /// As [`set_header`](Self::set_header).
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        self.state.borrow_mut().headers.add(name, value)
    }

    /// Removes a header, also the default `Server` or `Date` (for this response).
    pub fn clear_header(&mut self, name: &str) {
        let mut state = self.state.borrow_mut();
        if name.eq_ignore_ascii_case("Server") {
            state.default_server = false;
        } else if name.eq_ignore_ascii_case("Date") {
            state.default_date = false;
        }
        state.headers.remove(name);
    }

    /// A header's first value, as set so far.
    pub fn header(&self, name: &str) -> Option<String> {
        self.state.borrow().headers.get(name).map(str::to_owned)
    }

    /// Appends to the body (buffered until `flush` or the end).
    pub fn write(&mut self, data: &[u8]) {
        self.state.borrow_mut().body.extend_from_slice(data);
    }

    /// Whether the head has been sent (status and headers can no longer change).
    pub fn head_sent(&self) -> bool {
        self.state.borrow().head_sent
    }

    /// Sends what is buffered now: the head (chunked on HTTP/1.1) and the body so far.
    ///
    /// # Errors
    ///
    /// [`StreamError`] if the client went away.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the bytes are queued on the connection before the wait.
    pub async fn flush(&mut self) -> Result<(), StreamError> {
        let queued = {
            let mut state = self.state.borrow_mut();
            if state.finished {
                return Ok(());
            }
            state.queue(&self.stream, false)
        };
        queued?;
        self.stream.flush().await
    }

    /// Sends `count` bytes of `file` from `offset` as the rest of the body and finishes the
    /// response: with `sendfile(2)` on plain TCP (no copy through user space), by reading and
    /// writing over TLS. Before the head went out, the response gets a `Content-Length` of
    /// what was written so far plus `count` (unless the application set one); after a
    /// [`flush`](Self::flush) the range goes out as one more chunk. `HEAD` requests and
    /// bodiless statuses send no body bytes.
    ///
    /// # Errors
    ///
    /// [`StreamError`] if the client went away or the file ends before the range does (the
    /// connection is closed then: a short body must not look complete).
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped part-way, it closes the connection (an unknown part of the
    /// range went out). A `Content-Length` set by the application must equal what was
    /// written plus `count`, else nothing is sent and an error returned.
    pub async fn send_file(
        &mut self,
        file: &std::fs::File,
        offset: u64,
        count: u64,
    ) -> Result<(), StreamError> {
        let (send_body, chunked) = {
            let mut state = self.state.borrow_mut();
            if state.finished {
                return Ok(());
            }
            if !state.head_sent {
                let length = state.body.len() as u64 + count;
                if let Some(declared) = state.headers.get("Content-Length")
                    && declared.trim().parse::<u64>().ok() != Some(length)
                {
                    return Err(StreamError::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "Content-Length {declared} does not match the {length} bytes to send"
                        ),
                    )));
                }
                state.write_head(Some(length));
                self.stream.write_buffered(&state.scratch)?;
            }
            let send_body = !state.head_request && !state.bodiless_status();
            if send_body {
                // What was written before the file goes first (as its own chunk if chunked).
                let chunked = state.chunked;
                if !state.body.is_empty() {
                    let body = std::mem::take(&mut state.body);
                    state.body_bytes += body.len() as u64;
                    if chunked {
                        state.scratch.clear();
                        let _ = write!(state.scratch, "{:x}\r\n", body.len());
                        self.stream.write_buffered(&state.scratch)?;
                        self.stream.write_buffered(&body)?;
                        self.stream.write_buffered(b"\r\n")?;
                    } else {
                        self.stream.write_buffered(&body)?;
                    }
                    state.body = body;
                    state.body.clear();
                }
                if chunked && count > 0 {
                    state.scratch.clear();
                    let _ = write!(state.scratch, "{count:x}\r\n");
                    self.stream.write_buffered(&state.scratch)?;
                }
            }
            state.body.clear();
            (send_body, state.chunked)
        };
        if send_body && count > 0 {
            // Dropped part-way (a timeout, a cancelled handler), an unknown part of the range
            // went out: the connection must close rather than carry another response.
            let guard = CloseOnDrop(Some(&self.stream));
            let sent = self.stream.send_file(file, offset, count).await;
            guard.disarm();
            if let Err(error) = sent {
                self.stream.close();
                return Err(error);
            }
            self.state.borrow_mut().body_bytes += count;
            if chunked {
                self.stream.write_buffered(b"\r\n")?;
            }
        }
        let mut state = self.state.borrow_mut();
        if !chunked {
            // The declared length is complete: nothing more may follow.
            state.finished = true;
            return Ok(());
        }
        drop(state);
        self.stream.flush().await
    }

    /// Finishes the response now (it is queued; the connection sends it). Otherwise the
    /// response finishes when the handler's future completes.
    pub fn finish(self) {
        let result = self.state.borrow_mut().finish(&self.stream);
        if result.is_err() {
            self.stream.close();
        }
    }

    /// Switches protocols: sends the head with the status and headers set so far (`101` with
    /// `Upgrade` and `Connection: Upgrade` for a WebSocket, a `2xx` for `CONNECT`), without body
    /// framing, waits until the kernel has it, and hands the connection over (see
    /// [`Upgraded`]). The HTTP connection then serves no further request; it closes the socket
    /// when the handler's future ends.
    ///
    /// # Errors
    ///
    /// [`UpgradeError::HeadSent`] after a [`flush`](Self::flush), [`UpgradeError::Status`] for a
    /// status other than 101 (or a 2xx answering `CONNECT`), [`UpgradeError::Stream`] if the
    /// client is gone. Refused for the status or a sent head, the response is left as it was,
    /// to be finished as any other.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use typhoon_httpserver::HTTPServer;
    ///
    /// // A toy protocol after the switch: echo whatever arrives until the client closes.
    /// let server = HTTPServer::new(|_request, mut response| async move {
    ///     response.set_status(101);
    ///     let _ = response.set_header("Upgrade", "echo");
    ///     let _ = response.set_header("Connection", "Upgrade");
    ///     let Ok(upgraded) = response.upgrade().await else { return };
    ///     let stream = upgraded.into_stream();
    ///     while let Ok(bytes) = stream.read_bytes(64 * 1024, true).await {
    ///         if stream.write(&bytes).await.is_err() {
    ///             break;
    ///         }
    ///     }
    /// });
    /// # drop(server);
    /// ```
    pub async fn upgrade(self) -> std::result::Result<Upgraded, UpgradeError> {
        {
            let mut state = self.state.borrow_mut();
            if state.head_sent {
                return Err(UpgradeError::HeadSent);
            }
            let status = state.status;
            if status != 101 && !(state.connect && (200..300).contains(&status)) {
                return Err(UpgradeError::Status(status));
            }
            state.upgraded = true;
            state.keep_alive = false;
            state.body.clear();
            state.write_head(None);
            if let Err(error) = self.stream.write_buffered(&state.scratch) {
                state.upgraded = false;
                state.head_sent = false;
                return Err(error.into());
            }
            state.finished = true;
        }
        // The peer waits for the head before it speaks the new protocol (unless it sent early).
        self.stream.flush().await?;
        let mut state = self.state.borrow_mut();
        let handoff = Rc::new(crate::upgrade::Handoff::default());
        state.handoff = Some(Rc::clone(&handoff));
        Ok(Upgraded::new(
            Rc::clone(&self.stream),
            Rc::clone(&state.draining),
            handoff,
        ))
    }

    /// Abandons the response and closes the connection, so that a response cut short (a
    /// failure after the head went out) never looks complete to the client.
    pub fn abort(self) {
        self.state.borrow_mut().finished = true;
        self.stream.close();
    }

    /// Waits until the client closes the connection (Tornado's `on_connection_close`), for
    /// long-polling handlers; returns at once if it already has.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn connection_closed(&self) {
        self.stream.wait_closed().await;
    }

    /// As [`connection_closed`](Self::connection_closed), as a future that does not borrow the
    /// writer (so a framework can watch for the close while a handler uses the writer).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + 'static {
        let stream = Rc::clone(&self.stream);
        async move { stream.wait_closed().await }
    }
}

impl fmt::Debug for ResponseWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("ResponseWriter")
            .field("status", &state.status)
            .field("head_sent", &state.head_sent)
            .field("finished", &state.finished)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::push_decimal;

    #[test]
    fn decimal() {
        for n in [0u64, 7, 10, 200, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
