//! The client side of one HTTP/1 exchange on a connection: write the request, read the response
//! head (skipping 1xx), frame and read the body, decide whether the connection can be reused.
//!
//! The wire code is `typhoon-httputil`'s, shared with the server: [`parse_response_head`] (on
//! httparse, as the server's request heads), [`HTTPHeaders`] and the [`ChunkedDecoder`] with its
//! [`Limits`].

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use typhoon_httputil::HTTPHeaders;
use typhoon_httputil::HTTPInputError;
use typhoon_httputil::h1::{
    Chunk, ChunkedDecoder, Limits, ResponseHead, Version, parse_response_head,
};
use typhoon_iostream::{IOStream, StreamError};

use crate::body::{BodyWriter, Sink};
use crate::error::{HTTPClientError, Result};
use crate::request::{Body, HTTPRequest};
use crate::url::Url;

/// How many informational (1xx) responses are skipped before the client gives up.
const MAX_INFORMATIONAL: usize = 8;

/// One open connection, idle in the pool or carrying an exchange.
pub(crate) struct Connection {
    /// The stream; shared with a request's [`BodyWriter`] while a producer runs.
    pub(crate) stream: Rc<IOStream>,
    /// When it was last returned to the pool (for the idle timeout).
    pub(crate) idle_since: Instant,
}

impl Connection {
    pub(crate) fn new(stream: IOStream) -> Self {
        let _ = stream.set_nodelay(true);
        Self {
            stream: Rc::new(stream),
            idle_since: Instant::now(),
        }
    }

    /// Whether an idle connection can carry another request: open, nothing unread, and the
    /// peer has not closed it meanwhile (one non-blocking read finds out).
    pub(crate) fn is_reusable(&self) -> bool {
        let stream = &self.stream;
        if stream.closed() || stream.is_eof() || !stream.read_buffer().is_empty() {
            return false;
        }
        let mut fill = pin!(stream.fill_buffer());
        // A pending read is the healthy case: nothing to read, the peer still there. The
        // dropped future leaves the stream as it was (fill_buffer is cancel-safe).
        matches!(
            fill.as_mut().poll(&mut Context::from_waker(Waker::noop())),
            Poll::Pending
        )
    }
}

/// A response as read off the wire, before redirect handling.
#[derive(Debug)]
pub(crate) struct RawResponse {
    /// The status code.
    pub(crate) code: u16,
    /// The reason phrase.
    pub(crate) reason: String,
    /// The headers (`Content-Encoding` moved to `X-Consumed-Content-Encoding` if inflated).
    pub(crate) headers: HTTPHeaders,
    /// The body (empty with a streaming callback, or for a redirect being followed).
    pub(crate) body: Vec<u8>,
}

/// An exchange that failed, with what the retry logic needs to know.
pub(crate) struct ExchangeError {
    /// The failure.
    pub(crate) error: HTTPClientError,
    /// Whether any byte of the response arrived: if not, on a reused connection, the server
    /// may have closed it while idle and the request can be retried.
    pub(crate) response_started: bool,
}

/// What one exchange needs besides the connection.
pub(crate) struct Exchange<'r> {
    /// The request (its method, headers, body and callbacks).
    pub(crate) request: &'r mut HTTPRequest,
    /// The request head, ready to send.
    pub(crate) head: Vec<u8>,
    /// Whether a redirect answer would be followed (then callbacks are skipped).
    pub(crate) following: bool,
    /// Limit on the response head.
    pub(crate) max_header_size: usize,
    /// Limit on the response body.
    pub(crate) max_body_size: u64,
    /// Whether the request asked for the connection to close.
    pub(crate) request_close: bool,
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// HEAD, 1xx, 204, 304.
    Empty,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes.
    Close,
}

/// Runs one request/response exchange. Returns the response and whether the connection may be
/// reused.
pub(crate) async fn exchange(
    conn: &Connection,
    ex: Exchange<'_>,
) -> std::result::Result<(RawResponse, bool), ExchangeError> {
    let started = Cell::new(false);
    match run(conn, ex, &started).await {
        Ok(result) => Ok(result),
        Err(error) => {
            conn.stream.close();
            Err(ExchangeError {
                error,
                response_started: started.get(),
            })
        }
    }
}

async fn run(
    conn: &Connection,
    ex: Exchange<'_>,
    started: &Cell<bool>,
) -> Result<(RawResponse, bool)> {
    let stream = &conn.stream;
    send_request(stream, &ex).await?;

    // The head, skipping informational responses.
    let mut informational = 0;
    let (version_11, code, reason, mut headers) = loop {
        let (version_11, code, reason, headers) =
            read_head(stream, ex.max_header_size, started).await?;
        if (100..200).contains(&code) {
            informational += 1;
            if code == 101 || informational > MAX_INFORMATIONAL {
                return Err(HTTPClientError::UnexpectedInformational { code });
            }
            continue;
        }
        break (version_11, code, reason, headers);
    };

    let redirect = ex.following && is_redirect(code) && headers.contains("Location");
    let framing = framing(&ex.request.method, code, &headers)?;
    let keep_alive = framing != Framing::Close
        && !ex.request_close
        && if version_11 {
            !connection_has(&headers, "close")
        } else {
            connection_has(&headers, "keep-alive")
        };

    let gzip = ex.request.decompress_response
        && framing != Framing::Empty
        && headers
            .get("Content-Encoding")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    if gzip && cfg!(feature = "gzip") && !redirect {
        if let Some(encoding) = headers.get("Content-Encoding").map(str::to_owned) {
            let _ = headers.add("X-Consumed-Content-Encoding", &encoding);
        }
        headers.remove("Content-Encoding");
    }

    if !redirect && let Some(callback) = ex.request.header_callback.as_mut() {
        let version = if version_11 { "HTTP/1.1" } else { "HTTP/1.0" };
        callback(&format!("{version} {code} {reason}"));
        for (name, value) in headers.iter() {
            callback(&format!("{name}: {value}"));
        }
        callback("");
    }

    let callback = if redirect {
        None
    } else {
        ex.request.streaming_callback.as_deref_mut()
    };
    let mut sink = Sink::new(
        callback,
        redirect,
        ex.max_body_size,
        gzip && cfg!(feature = "gzip"),
    );
    match framing {
        Framing::Empty => {}
        Framing::Length(n) => read_length(stream, n, &mut sink, ex.max_body_size).await?,
        Framing::Chunked => read_chunked(stream, &mut sink, ex.max_body_size).await?,
        Framing::Close => read_to_close(stream, &mut sink).await?,
    }
    let body = sink.finish()?;
    // Bytes past the response (a server that sent more than it declared) poison the connection.
    let reusable = keep_alive && stream.read_buffer().is_empty() && !stream.closed();
    Ok((
        RawResponse {
            code,
            reason,
            headers,
            body,
        },
        reusable,
    ))
}

/// Writes the head and the body.
async fn send_request(stream: &Rc<IOStream>, ex: &Exchange<'_>) -> Result<()> {
    match &ex.request.body {
        None => stream
            .write(&ex.head)
            .await
            .map_err(HTTPClientError::closed),
        Some(Body::Bytes(bytes)) => {
            stream
                .write_buffered(&ex.head)
                .and_then(|()| stream.write_buffered(bytes))
                .map_err(HTTPClientError::closed)?;
            stream.flush().await.map_err(HTTPClientError::closed)
        }
        Some(Body::Producer(producer)) => {
            stream
                .write_buffered(&ex.head)
                .map_err(HTTPClientError::closed)?;
            let declared = declared_length(&ex.request.headers)?;
            let written = Rc::new(Cell::new(0));
            let writer = BodyWriter::new(Rc::clone(stream), declared, Rc::clone(&written));
            producer(writer).await?;
            match declared {
                None => stream.write(b"0\r\n\r\n").await,
                Some(n) if n == written.get() => stream.flush().await,
                Some(_) => {
                    return Err(HTTPClientError::InvalidRequest {
                        reason: "the body producer wrote less than Content-Length",
                    });
                }
            }
            .map_err(HTTPClientError::closed)
        }
    }
}

/// The request's own `Content-Length`, if it set one.
fn declared_length(headers: &HTTPHeaders) -> Result<Option<u64>> {
    headers
        .get("Content-Length")
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| HTTPClientError::InvalidRequest {
                    reason: "invalid Content-Length",
                })
        })
        .transpose()
}

/// Builds the request head: request line, `Host`, the caller's headers, then the client's.
pub(crate) fn build_head(request: &HTTPRequest, url: &Url, extra: &[(&str, String)]) -> Vec<u8> {
    let mut head = String::with_capacity(256);
    head.push_str(&request.method);
    head.push(' ');
    head.push_str(&url.path_and_query);
    head.push_str(" HTTP/1.1\r\n");
    if !request.headers.contains("Host") {
        head.push_str("Host: ");
        head.push_str(&url.host_header());
        head.push_str("\r\n");
    }
    for (name, value) in request.headers.iter() {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    for (name, value) in extra {
        if !request.headers.contains(name) {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Reads and parses one response head; leading empty lines are skipped (RFC 9112 §2.2).
async fn read_head(
    stream: &IOStream,
    max_header_size: usize,
    started: &Cell<bool>,
) -> Result<(bool, u16, String, HTTPHeaders)> {
    let limits = Limits {
        max_header_size,
        ..Limits::default()
    };
    let mut head = ResponseHead::new();
    loop {
        let parsed = parse_response_head(&stream.read_buffer(), &limits, &mut head);
        match parsed {
            Ok(Some(n)) => {
                stream.consume(n);
                let headers = std::mem::take(head.headers_mut());
                return Ok((
                    head.version() == Version::Http11,
                    head.code(),
                    head.take_reason(),
                    headers,
                ));
            }
            Ok(None) => {}
            Err(HTTPInputError::HeaderTooLarge) => {
                return Err(HTTPClientError::HeaderTooLarge {
                    limit: max_header_size,
                });
            }
            Err(source) => return Err(HTTPClientError::InvalidResponse { source }),
        }
        match stream.fill_buffer().await {
            Ok(0) => return Err(HTTPClientError::ConnectionClosed { source: None }),
            Ok(_) => started.set(true),
            Err(StreamError::BufferFull { .. }) => {
                return Err(HTTPClientError::HeaderTooLarge {
                    limit: max_header_size,
                });
            }
            Err(error) => return Err(HTTPClientError::closed(error)),
        }
    }
}

/// Whether `code` is a redirect the client follows.
pub(crate) fn is_redirect(code: u16) -> bool {
    matches!(code, 301 | 302 | 303 | 307 | 308)
}

/// Whether the `Connection` header lists `token`.
fn connection_has(headers: &HTTPHeaders, token: &str) -> bool {
    headers
        .get_list("Connection")
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The body framing of a response (RFC 9112 §6.3).
fn framing(method: &str, code: u16, headers: &HTTPHeaders) -> Result<Framing> {
    let invalid = |source| HTTPClientError::InvalidResponse { source };
    if method == "HEAD" || (100..200).contains(&code) || code == 204 || code == 304 {
        return Ok(Framing::Empty);
    }
    if headers.contains("Transfer-Encoding") {
        if headers.contains("Content-Length") {
            return Err(invalid(HTTPInputError::TransferEncodingWithContentLength));
        }
        let last = headers
            .get_list("Transfer-Encoding")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .last();
        return Ok(match last {
            Some(coding) if coding.eq_ignore_ascii_case("chunked") => Framing::Chunked,
            _ => Framing::Close,
        });
    }
    let mut length = None;
    for value in headers
        .get_list("Content-Length")
        .flat_map(|v| v.split(','))
    {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(HTTPInputError::InvalidContentLength));
        }
        let n: u64 = value
            .parse()
            .map_err(|_| invalid(HTTPInputError::InvalidContentLength))?;
        if length.is_some_and(|m| m != n) {
            return Err(invalid(HTTPInputError::ConflictingContentLength));
        }
        length = Some(n);
    }
    Ok(match length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::Close,
    })
}

/// Reads a `Content-Length` body.
async fn read_length(stream: &IOStream, n: u64, sink: &mut Sink<'_>, limit: u64) -> Result<()> {
    if n > limit {
        return Err(HTTPClientError::BodyTooLarge { limit });
    }
    let mut remaining = n;
    while remaining > 0 {
        let taken = {
            let buf = stream.read_buffer();
            let take = buf
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            if take > 0 {
                sink.push(&buf[..take])?;
            }
            take
        };
        if taken > 0 {
            stream.consume(taken);
            remaining -= taken as u64;
            continue;
        }
        if fill(stream).await? == 0 {
            return Err(HTTPClientError::IncompleteBody {
                received: n - remaining,
                expected: Some(n),
            });
        }
    }
    Ok(())
}

/// Reads a chunked body with the shared decoder.
async fn read_chunked(stream: &IOStream, sink: &mut Sink<'_>, limit: u64) -> Result<()> {
    let limits = Limits {
        max_body_size: limit,
        ..Limits::default()
    };
    let mut decoder = ChunkedDecoder::new(&limits);
    loop {
        let (used, done, need_more) = {
            let buf = stream.read_buffer();
            let (used, chunk) = decoder.decode(&buf).map_err(|error| match error {
                HTTPInputError::BodyTooLarge => HTTPClientError::BodyTooLarge { limit },
                source => HTTPClientError::InvalidResponse { source },
            })?;
            match chunk {
                Chunk::Data(data) => {
                    sink.push(data)?;
                    (used, false, false)
                }
                Chunk::NeedMore => (used, false, true),
                Chunk::Done => (used, true, false),
            }
        };
        stream.consume(used);
        if done {
            return Ok(());
        }
        if need_more && fill(stream).await? == 0 {
            return Err(HTTPClientError::IncompleteBody {
                received: decoder.body_len().min(sink.received),
                expected: None,
            });
        }
    }
}

/// Reads a body delimited by the server closing the connection.
async fn read_to_close(stream: &IOStream, sink: &mut Sink<'_>) -> Result<()> {
    loop {
        let taken = {
            let buf = stream.read_buffer();
            if !buf.is_empty() {
                sink.push(&buf)?;
            }
            buf.len()
        };
        stream.consume(taken);
        if fill(stream).await? == 0 {
            return Ok(());
        }
    }
}

/// Reads more; 0 at EOF.
async fn fill(stream: &IOStream) -> Result<usize> {
    stream.fill_buffer().await.map_err(HTTPClientError::closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &str) -> HTTPHeaders {
        HTTPHeaders::parse(lines).expect("valid headers")
    }

    #[test]
    fn framing_rules() {
        let none = HTTPHeaders::new();
        assert_eq!(
            framing("HEAD", 200, &headers("Content-Length: 5")).ok(),
            Some(Framing::Empty)
        );
        assert_eq!(framing("GET", 204, &none).ok(), Some(Framing::Empty));
        assert_eq!(
            framing("GET", 304, &headers("Content-Length: 5")).ok(),
            Some(Framing::Empty)
        );
        assert_eq!(framing("GET", 200, &none).ok(), Some(Framing::Close));
        assert_eq!(
            framing("GET", 200, &headers("Content-Length: 5, 5")).ok(),
            Some(Framing::Length(5))
        );
        assert_eq!(
            framing("GET", 200, &headers("Transfer-Encoding: gzip, chunked")).ok(),
            Some(Framing::Chunked)
        );
        assert_eq!(
            framing("GET", 200, &headers("Transfer-Encoding: gzip")).ok(),
            Some(Framing::Close)
        );
        for bad in [
            "Content-Length: 5, 6",
            "Content-Length: -1",
            "Content-Length: +5",
            "Content-Length: 5\r\nTransfer-Encoding: chunked",
        ] {
            assert!(
                matches!(
                    framing("GET", 200, &headers(bad)),
                    Err(HTTPClientError::InvalidResponse { .. })
                ),
                "{bad}"
            );
        }
    }
}
