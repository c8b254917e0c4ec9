//! One server connection: read requests, hand them to the application, write responses, keep
//! the connection alive or close it (Tornado's `HTTP1ServerConnection`).

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tracing::Instrument;
use typhoon_ioloop::{
    IOLoop, LoopError, Sleep, catch_unwind, catch_unwind_call, deadline_after, sleep_until,
    timeout, timeout_at,
};
use typhoon_iostream::{IOStream, PeerAddr, StreamError};

use crate::access_log::log_access;
use crate::body::{BodyReader, BodyTimeouts};
use crate::request::HTTPServerRequest;
use crate::response::{ResponseState, ResponseWriter};
use crate::shared::{ConnectionHandle, Registration, ServerShared};
use crate::upgrade::Handoff;
use typhoon_httputil::HTTPInputError;
use typhoon_httputil::h1::{BodyKind, RequestHead, parse_request_head, request_framing};

/// How long a lingering close keeps draining the client's input after an error response.
const LINGER: Duration = Duration::from_secs(2);

/// The most bytes a lingering close drains.
const LINGER_BYTES: usize = 1024 * 1024;

/// While a handler runs, the connection reads ahead (to notice the client closing) only while the
/// buffer holds less than this.
const READ_AHEAD_LIMIT: usize = 64 * 1024;

/// What a connection keeps from one request to the next.
struct ConnState {
    /// The peer's address, formatted once.
    peer_ip: Rc<str>,
    /// The response state, reused by every request.
    response: Rc<RefCell<ResponseState>>,
    /// `TCP_NODELAY` was set (once the connection outlived its first response).
    nodelay_set: bool,
}

/// Why reading a request head ended without a request.
enum HeadOutcome {
    /// A complete head of this many bytes.
    Head(usize),
    /// The client closed, went idle too long, or the server is draining: close quietly.
    Close,
    /// Malformed or over a limit: answer with the error's status and close.
    Error(HTTPInputError),
}

/// Serves requests on `stream` until it closes. The connection is registered with the server
/// at once, before the returned future first runs: a graceful shutdown that starts in between
/// counts it, and answers its first request, instead of exiting with it unanswered.
pub(crate) fn serve(
    stream: Rc<IOStream>,
    peer: PeerAddr,
    server: Rc<ServerShared>,
) -> impl Future<Output = ()> {
    let handle = Rc::new(ConnectionHandle {
        stream: Rc::clone(&stream),
        idle: Cell::new(true),
        served: Cell::new(false),
        accepted: coarse_now(),
        idle_since: Cell::new(server.idle_sequence()),
    });
    drop(stream);
    let registration = Registration::new(server, &handle);
    async move {
        let (stream, server) = (&registration.stream, &registration.server);
        let handoff = serve_requests(stream, peer, server, &handle).await;
        if let Some(handoff) = handoff
            && handoff.outlived()
        {
            // An upgraded protocol that outlives the request's future owns the connection
            // now: its `Upgraded` keeps the registration, and the socket closes when it is
            // dropped.
            handoff.keep(Box::new(registration));
            return;
        }
        if !stream.closed() {
            // Whatever is queued goes out (bounded by the send timeout), then the socket
            // closes.
            let _ = stream.flush().await;
        }
        drop(registration);
    }
}

/// Returns the hand-off of an upgraded connection, whose protocol may outlive the request.
async fn serve_requests(
    stream: &Rc<IOStream>,
    peer: PeerAddr,
    server: &Rc<ServerShared>,
    handle: &ConnectionHandle,
) -> Option<Rc<Handoff>> {
    let mut head = RequestHead::new();
    let mut conn = ConnState {
        peer_ip: match peer {
            PeerAddr::Inet(addr) => addr.ip().to_string().into(),
            PeerAddr::Unix => "unix".into(),
        },
        response: Rc::new(RefCell::new(ResponseState::new(Rc::clone(
            &server.draining,
        )))),
        nodelay_set: false,
    };
    // One timer for the idle and header deadlines across requests, re-armed lazily.
    let mut wait_timer: Option<Sleep> = None;
    loop {
        handle.idle.set(true);
        handle.idle_since.set(server.idle_sequence());
        // A draining server closes keep-alive connections between requests; a new one
        // gets its first request answered.
        let fresh = !handle.served.get();
        if server.draining.get() && !fresh {
            return None;
        }
        let response = Rc::clone(&conn.response);
        let release = |all: bool| response.borrow_mut().release(all);
        let reading = read_head(stream, server, &mut head, &release, &mut wait_timer, fresh);
        let consumed = match reading.await {
            HeadOutcome::Head(n) => n,
            HeadOutcome::Close => return None,
            HeadOutcome::Error(error) => {
                tracing::debug!(target: "typhoon::general", %peer, %error, "malformed request");
                Box::pin(send_error_and_linger(stream, error.status())).await;
                return None;
            }
        };
        handle.idle.set(false);
        handle.served.set(true);
        // Each request's processing is a boxed future of its own: an idle connection (waiting
        // in read_head above) keeps only this small loop's state, not the request machinery.
        let request = handle_request(stream, peer, server, &mut head, &mut conn, consumed);
        if !Box::pin(request).await {
            return conn.response.borrow_mut().handoff.take();
        }
    }
}

/// Serves one request whose head (`consumed` bytes) is parsed into `head`. Returns whether
/// the connection goes on to the next request.
async fn handle_request(
    stream: &Rc<IOStream>,
    peer: PeerAddr,
    server: &Rc<ServerShared>,
    head: &mut RequestHead,
    conn: &mut ConnState,
    consumed: usize,
) -> bool {
    let ConnState {
        peer_ip,
        response,
        nodelay_set,
    } = conn;
    let options = &server.options;
    // The loop's wake-up time: exact enough for the access log, and no clock read.
    let start = IOLoop::current().iteration_time();
    stream.consume(consumed);

    let framing = match request_framing(head, options.limits.max_body_size) {
        Ok(framing) => framing,
        Err(error) => {
            tracing::debug!(target: "typhoon::general", %peer, %error, "bad request framing");
            Box::pin(send_error_and_linger(stream, error.status())).await;
            return false;
        }
    };
    let mut request = HTTPServerRequest::from_head(head, peer_ip, &server.context, start);
    // The application's predicate is its code too: a panic in it is a 500, as in a handler.
    let streaming = match options.stream_request_body.as_ref() {
        None => false,
        Some(wants) => match catch_unwind_call(|| wants(&request), "stream_request_body") {
            Ok(streaming) => streaming,
            Err(_) => {
                Box::pin(send_error_and_linger(stream, 500)).await;
                return false;
            }
        },
    };
    let timeouts = BodyTimeouts {
        inactivity: options.body_inactivity_timeout,
        deadline: options
            .body_timeout
            .map(|total| typhoon_ioloop::deadline_after(Instant::now(), total)),
    };
    // Flags the body reader shares with us; none needed for the common bodiless request.
    let mut body_flags = None;
    if streaming || framing.body != BodyKind::Empty {
        let mut reader = BodyReader::new(
            Rc::clone(stream),
            framing.body,
            &options.limits,
            framing.expect_continue,
            timeouts,
        );
        #[cfg(feature = "gzip")]
        if take_gzip_encoding(&mut request, options) {
            reader.inflate_gzip(options.limits.max_body_size);
        }
        body_flags = Some((reader.complete_flag(), reader.failure_flag()));
        if streaming {
            request.set_body_reader(reader);
        } else {
            // Boxed, like the error path: rarer states stay out of every connection's task.
            match Box::pin(reader.read_to_end()).await {
                Ok(body) => request.body = body,
                Err(error) => {
                    tracing::debug!(target: "typhoon::general", %peer, %error, "bad request body");
                    if matches!(error, HTTPInputError::IncompleteBody { .. }) {
                        return false;
                    }
                    Box::pin(send_error_and_linger(stream, error.status())).await;
                    return false;
                }
            }
        }
    }

    let keep_alive = framing.keep_alive && !options.no_keep_alive && !server.draining.get();
    let method_is_head = request.method == "HEAD";
    {
        let mut state = response.borrow_mut();
        state.reset(request.version, method_is_head, keep_alive);
        state.connect = request.method == "CONNECT";
    }
    let remote_ip = Rc::clone(&request.remote_ip);
    let writer = ResponseWriter::new(Rc::clone(response), Rc::clone(stream));
    // A streamed body is the handler's to read; once it has been read to the end, the
    // connection watches for the client closing as it does for buffered bodies.
    let body_complete = body_flags
        .as_ref()
        .filter(|_| streaming)
        .map(|(complete, _)| Rc::clone(complete));
    // The handler's synchronous half (the call that builds its future: routing, in web) is
    // guarded as its future is: a panic in either is a 500, never a dead connection task.
    // STYLE's per-request span, at debug level: with Tornado's default (info) logging it is
    // disabled, and costs one check of the call site's interest.
    let span = tracing::debug_span!(
        target: "typhoon::access",
        "http_request",
        method = head.method(),
        uri = head.target(),
        version = head.version().as_str(),
        remote = &*remote_ip,
    );
    let handler = span
        .in_scope(|| catch_unwind_call(|| (server.handler)(request, writer), "request handler"));
    let outcome = match handler {
        Ok(handler) => {
            let handler = catch_unwind(handler.instrument(span), "request handler");
            run_handler(
                stream,
                handler,
                !streaming,
                body_complete.as_deref(),
                response,
            )
            .await
        }
        Err(panicked) => Err(panicked),
    };

    let failure = body_flags.as_ref().and_then(|(_, failure)| failure.get());
    let Some((status, mut keep_alive)) =
        finish_response(response, stream, &outcome, failure, head, method_is_head)
    else {
        log_access(options.log_function.as_ref(), 500, head, &remote_ip, start);
        stream.close();
        return false;
    };
    log_access(
        options.log_function.as_ref(),
        status,
        head,
        &remote_ip,
        start,
    );
    let complete = body_flags
        .as_ref()
        .is_none_or(|(complete, _)| complete.get());
    if !complete && !stream.closed() {
        // An unread body would be parsed as the next request: never reuse the connection. Close
        // lingeringly, so that the client reads the answer (a 413 for a body it is still
        // sending, say) instead of a reset for the bytes left unread.
        if stream.flush().await.is_ok() {
            Box::pin(linger(stream)).await;
        }
        return false;
    }
    if stream.closed() || stream.is_eof() {
        keep_alive = false;
    }
    if !keep_alive {
        return false;
    }
    if !*nodelay_set {
        // The connection lives on: from now on small responses must not wait for Nagle. A
        // one-request connection never pays for the setsockopt (nginx does the same).
        let _ = stream.set_nodelay(true);
        *nodelay_set = true;
    }
    // Pipelined requests already buffered: batch their responses, within bounds.
    let pipelined = !stream.read_buffer().is_empty();
    // Back-pressure: past `max_output_buffer` queued bytes the connection waits for the client
    // to take them before it reads the next request.
    if !pipelined || stream.write_buffer_len() > options.max_output_buffer {
        // The stream's write timeout is the server's send timeout.
        if stream.flush().await.is_err() {
            return false;
        }
    }
    true
}

/// Completes the response after the handler: a 500 for a panic, the body-read failure's status
/// if the handler did not answer, then the final bytes. Returns the status and whether the
/// connection stays open, or `None` when the connection must be cut (a panic after the head
/// went out, or a failed write).
fn finish_response(
    response: &RefCell<ResponseState>,
    stream: &IOStream,
    outcome: &Result<(), LoopError>,
    failure: Option<u16>,
    head: &RequestHead,
    method_is_head: bool,
) -> Option<(u16, bool)> {
    let mut state = response.borrow_mut();
    if let Err(LoopError::Panicked { .. }) = outcome {
        if state.head_sent {
            // Too late for a 500: cut the connection so the client sees the failure.
            return None;
        }
        state.reset(head.version(), method_is_head, false);
        state.status = 500;
    }
    if let Some(status) = failure {
        // A body that failed to read (framing, a corrupt gzip stream, a timeout): the
        // connection closes after the response, whatever the handler answered.
        state.keep_alive = false;
        if !state.head_sent {
            state.reset(head.version(), method_is_head, false);
            state.status = status;
        }
    }
    state.finish(stream).ok()?;
    Some((state.status, state.keep_alive))
}

/// Runs the handler; meanwhile (for buffered bodies, and for streamed ones once
/// `body_complete` is set) reads ahead so that a client closing the connection is noticed
/// (Tornado's `on_connection_close`): the stream is then closed, which wakes
/// [`ResponseWriter::connection_closed`].
async fn run_handler<F: Future>(
    stream: &IOStream,
    handler: F,
    watch_close: bool,
    body_complete: Option<&Cell<bool>>,
    response: &RefCell<ResponseState>,
) -> F::Output {
    let mut handler = pin!(handler);
    let mut gone = false;
    poll_fn(|cx| {
        if let Poll::Ready(output) = handler.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        // Checked at every wake-up: the handler reads a streamed body to its end in some poll.
        // An upgraded connection's stream is the new protocol's to read: hands off.
        let mut watching = !gone
            && (watch_close || body_complete.is_some_and(Cell::get))
            && !response.borrow().upgraded;
        while watching && !stream.closed() && stream.read_buffer().len() < READ_AHEAD_LIMIT {
            let fill = pin!(stream.fill_buffer());
            match fill.poll(cx) {
                Poll::Pending => break,
                Poll::Ready(Ok(n)) if n > 0 => {}
                Poll::Ready(_) => {
                    // EOF or error: the client is gone.
                    watching = false;
                    gone = true;
                    stream.close();
                    // Let the handler observe it.
                    if let Poll::Ready(output) = handler.as_mut().poll(cx) {
                        return Poll::Ready(output);
                    }
                }
            }
        }
        Poll::Pending
    })
    .await
}

/// How long a keep-alive connection waits for its next request before it gives back even the
/// small buffers kept so that the next request allocates nothing (nginx frees a keep-alive
/// connection's buffers as soon as it goes idle). Busy connections keep them; an idle one's
/// heap shrinks by about 0.9 KB (2.83 -> 1.95 KB, valgrind massif, 2,000 connections).
const IDLE_RELEASE_AFTER: Duration = Duration::from_secs(1);

/// Reads until a complete head is buffered, within the idle timeout (before the first byte) and
/// the header timeout (from the first byte). A draining server stops waiting, except for the
/// `fresh` connection's first request.
async fn read_head(
    stream: &IOStream,
    server: &ServerShared,
    head: &mut RequestHead,
    release_response: &dyn Fn(bool),
    wait_timer: &mut Option<Sleep>,
    fresh: bool,
) -> HeadOutcome {
    let options = &server.options;
    let mut deadline = None;
    // When the wait for this request times out, and when its small buffers go (set on the
    // first wait with nothing buffered).
    let mut idle_deadlines: Option<(Instant, Instant)> = None;
    let mut released_all = false;
    loop {
        let parsed = parse_request_head(&stream.read_buffer(), &options.limits, head);
        match parsed {
            Ok(Some(n)) => return HeadOutcome::Head(n),
            Err(error) => return HeadOutcome::Error(error),
            Ok(None) => {}
        }
        // Nothing complete: send any batched responses before waiting for the client.
        if stream.write_buffer_len() > 0 && stream.flush().await.is_err() {
            return HeadOutcome::Close;
        }
        if server.draining.get() && !fresh && stream.read_buffer().is_empty() {
            return HeadOutcome::Close;
        }
        let idle = stream.read_buffer().is_empty() && deadline.is_none();
        let mut releasing = false;
        let wait_until = if idle {
            // Waiting for a new request: hold no buffers meanwhile (the read buffer goes back to
            // the thread's pool and is taken again by the next read, so this allocates nothing).
            stream.release_buffers();
            release_response(false);
            let (idle_until, release) = *idle_deadlines.get_or_insert_with(|| {
                let now = coarse_now();
                let idle_until = deadline_after(now, options.idle_connection_timeout);
                (idle_until, deadline_after(now, IDLE_RELEASE_AFTER))
            });
            // Wake once on the way, if idle that long, to give back the small buffers too.
            releasing = !released_all && release < idle_until;
            if releasing { release } else { idle_until }
        } else {
            *deadline.get_or_insert_with(|| deadline_after(coarse_now(), options.header_timeout))
        };
        let filled = fill_until(stream, wait_timer, wait_until).await;
        match filled {
            Ok(Ok(0)) => {
                return if stream.read_buffer().is_empty() {
                    HeadOutcome::Close
                } else {
                    // EOF in the middle of a head.
                    HeadOutcome::Error(HTTPInputError::MalformedRequestLine)
                };
            }
            Ok(Ok(_)) => {
                if deadline.is_none() {
                    deadline = Some(deadline_after(coarse_now(), options.header_timeout));
                }
            }
            Ok(Err(StreamError::BufferFull { .. })) => {
                return HeadOutcome::Error(HTTPInputError::HeaderTooLarge);
            }
            // Reset, timeout (silent close, as nginx and hyper do), or closed by shutdown.
            Ok(Err(error)) => {
                tracing::debug!(target: "typhoon::general", %error, "connection closed while waiting for a request");
                return HeadOutcome::Close;
            }
            Err(()) => {
                if releasing {
                    // Idle a while: keep nothing for the next request, then wait on.
                    stream.release_all_buffers();
                    release_response(true);
                    *head = RequestHead::new();
                    released_all = true;
                    continue;
                }
                let which = if idle {
                    "idle_connection_timeout"
                } else {
                    "header_timeout"
                };
                tracing::debug!(
                    target: "typhoon::general",
                    timeout = which,
                    buffered = stream.read_buffer().len(),
                    "closing a connection: no complete request head in time"
                );
                return HeadOutcome::Close;
            }
        }
    }
}

/// Reads more into the stream's buffer unless `deadline` passes first (`Err(())`).
///
/// The connection keeps one timer across requests instead of registering and removing one per
/// request: a timer armed for an earlier, sooner deadline simply fires early and is re-armed
/// for the current one, so a busy keep-alive connection touches the timer table about once per
/// timeout period, not once per request.
async fn fill_until(
    stream: &IOStream,
    timer: &mut Option<Sleep>,
    deadline: Instant,
) -> Result<Result<usize, StreamError>, ()> {
    let mut fill = pin!(stream.fill_buffer());
    poll_fn(|cx| {
        if let Poll::Ready(result) = fill.as_mut().poll(cx) {
            return Poll::Ready(Ok(result));
        }
        loop {
            let sleep = timer.get_or_insert_with(|| sleep_until(deadline));
            if sleep.deadline() > deadline {
                // This wait must end sooner than the armed timer (a header deadline).
                *sleep = sleep_until(deadline);
            }
            match Pin::new(&mut *sleep).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if sleep.deadline() >= deadline => {
                    *timer = None;
                    // After a stalled loop the timer can run before the event of data that
                    // arrived in time: ask the socket itself once more before giving up.
                    stream.recheck_readiness();
                    if let Poll::Ready(result) = fill.as_mut().poll(cx) {
                        return Poll::Ready(Ok(result));
                    }
                    return Poll::Ready(Err(()));
                }
                // An earlier wait's timer: re-arm for this one.
                Poll::Ready(()) => *timer = None,
            }
        }
    })
    .await
}

/// The loop's last wake-up time: deadlines of seconds need no fresh clock read.
fn coarse_now() -> Instant {
    IOLoop::current().iteration_time()
}

/// Answers a framing error with its status and `Connection: close`, then closes lingeringly:
/// shut down our side, drain what the client still sends (bounded), close. The client reads
/// the answer instead of a reset, and nothing it sent after the error is ever answered.
async fn send_error_and_linger(stream: &IOStream, status: u16) {
    let reason = typhoon_httputil::reason_phrase(status).unwrap_or("Error");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: TyphoonServer/0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    // Drop whatever was batched for earlier requests? No: they were answered in order; keep it.
    if stream.write_buffered(response.as_bytes()).is_err() {
        return;
    }
    if !matches!(timeout(LINGER, stream.flush()).await, Ok(Ok(()))) {
        stream.close();
        return;
    }
    linger(stream).await;
}

/// A lingering close (RFC 9112 §9.6, nginx's `lingering_close`): shut down our side, drain what
/// the client still sends (at most [`LINGER_BYTES`], for at most [`LINGER`]), close.
async fn linger(stream: &IOStream) {
    let _ = stream.shutdown_write();
    let deadline = Instant::now() + LINGER;
    let mut drained = stream.read_buffer().len();
    stream.consume(drained);
    while drained < LINGER_BYTES {
        match timeout_at(deadline, stream.fill_buffer()).await {
            Ok(Ok(n)) if n > 0 => {
                drained += n;
                let buffered = stream.read_buffer().len();
                stream.consume(buffered);
            }
            _ => break,
        }
    }
    stream.close();
}

/// Whether this request's body is to be inflated: `decompress_request` is on and the body is
/// `Content-Encoding: gzip`. The handler then sees the inflated body, without the
/// `Content-Encoding` header and with `X-Consumed-Content-Encoding` instead (Tornado's
/// `_GzipMessageDelegate`), so a form body parses as any other.
#[cfg(feature = "gzip")]
fn take_gzip_encoding(request: &mut HTTPServerRequest, options: &crate::HTTPServerOptions) -> bool {
    let Some(encoding) = request
        .headers
        .get("Content-Encoding")
        .filter(|v| options.decompress_request && v.trim().eq_ignore_ascii_case("gzip"))
        .map(str::to_owned)
    else {
        return false;
    };
    // The value came from a parsed header, so it is valid as a header value.
    let _ = request
        .headers
        .add("X-Consumed-Content-Encoding", &encoding);
    request.headers.remove("Content-Encoding");
    true
}
