//! [`WebSocketConnection`]: one open WebSocket over an [`IOStream`], shared by the server
//! (`WebSocketHandler`) and the client (`websocket_connect`): writing messages with
//! back-pressure, pings, the close handshake, and reading the peer's frames through the
//! sans-IO [`Decoder`].
//!
//! The handle is cheap to clone (an `Rc`) and lives on its loop: a chat server keeps the
//! handles of its open sockets and writes to each from any task of the loop.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use typhoon_ioloop::locks::{Event as Signal, Lock};
use typhoon_ioloop::{IOLoop, sleep};
use typhoon_iostream::IOStream;

use crate::close;
use crate::decoder::Decoder;
use crate::encoder::Encoder;
use crate::error::ProtocolError;
use crate::frame::{MAX_HEADER_LEN, OpCode, Role, encode_header};
use crate::message::{Event, Message};

/// How long [`WebSocketConnection::close`] waits for the peer's close frame before it aborts the
/// connection (Tornado's 5 seconds).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// From this payload size on, an owned message is queued without a copy (below it, one copy into
/// the queue's buffer is cheaper than a separate allocation in the queue).
const OWNED_PAYLOAD_MIN: usize = 4096;

/// Reading stops to let the loop's other tasks run after this many bytes of frames handled in
/// one go (Tornado's `_YIELD_THRESHOLD`), each frame counting [`FRAME_YIELD_COST`] more.
const YIELD_THRESHOLD: usize = 256 * 1024;

/// What each frame adds to the count of [`YIELD_THRESHOLD`] (Tornado's `_FRAME_YIELD_COST`).
const FRAME_YIELD_COST: usize = 1024;

/// Why a write to a WebSocket failed.
#[derive(Debug, thiserror::Error)]
pub enum WebSocketError {
    /// The connection is closed or closing (Tornado's `WebSocketClosedError`).
    #[error("the WebSocket is closed")]
    Closed,
    /// A ping or close payload the protocol does not allow (over 125 bytes, a close code that
    /// may not be sent).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A message could not be serialised to JSON.
    #[cfg(feature = "json")]
    #[error("cannot serialise the message to JSON")]
    Json(#[from] serde_json::Error),
}

/// Where the close handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloseState {
    /// Open both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    Sent,
    /// The connection is over (both closes exchanged, a protocol error, or the TCP connection
    /// ended).
    Closed,
}

/// What the handles of one connection share.
struct Shared {
    /// The socket.
    stream: Rc<IOStream>,
    /// Which end this is: a client masks its frames.
    role: Role,
    /// Frames out (and the compressor, when negotiated).
    encoder: RefCell<Encoder>,
    /// A reused buffer for the frames the encoder builds.
    scratch: RefCell<Vec<u8>>,
    /// One flusher at a time: the stream keeps one waiting task per direction.
    flush_lock: Lock,
    /// A background flush (of [`WebSocketConnection::send_prepared`]) is under way.
    background_flush: Cell<bool>,
    /// The close handshake.
    state: Cell<CloseState>,
    /// The code and reason of the peer's close frame (Tornado's `close_code`/`close_reason`).
    peer_close: RefCell<Option<(u16, String)>>,
    /// Set when the connection is over.
    finished: Signal,
    /// A pong arrived since the last ping this side sent (for the ping timeout).
    pong_received: Cell<bool>,
    /// The subprotocol the handshake selected.
    subprotocol: Option<String>,
}

/// An open WebSocket connection: write messages, ping, close, and read what it was told about
/// the peer. Cheap to clone; every clone is the same connection.
#[derive(Clone)]
pub struct WebSocketConnection {
    /// The connection's state.
    shared: Rc<Shared>,
}

impl WebSocketConnection {
    /// A connection over `stream` after a completed handshake.
    pub(crate) fn new(
        stream: Rc<IOStream>,
        role: Role,
        encoder: Encoder,
        subprotocol: Option<String>,
    ) -> Self {
        Self {
            shared: Rc::new(Shared {
                stream,
                role,
                encoder: RefCell::new(encoder),
                scratch: RefCell::new(Vec::new()),
                flush_lock: Lock::new(),
                background_flush: Cell::new(false),
                state: Cell::new(CloseState::Open),
                peer_close: RefCell::new(None),
                finished: Signal::new(),
                pong_received: Cell::new(false),
                subprotocol,
            }),
        }
    }

    /// Sends `message` as one frame and waits until the kernel has it: awaiting it is the
    /// back-pressure a fast producer needs (Tornado's `write_message` future).
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Closed`] once the connection is closing or closed, or if it fails
    /// meanwhile.
    pub async fn write_message(&self, message: impl Into<Message>) -> Result<(), WebSocketError> {
        let message = message.into();
        let (opcode, payload) = match message {
            Message::Text(text) => (OpCode::Text, text.into_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
        };
        if self.shared.role == Role::Server
            && !self.shared.encoder.borrow().compresses()
            && payload.len() >= OWNED_PAYLOAD_MIN
        {
            // A large payload the caller gave away joins the queue as it is: no copy.
            self.send_owned(opcode, payload)?;
        } else {
            self.send_data(opcode, &payload)?;
        }
        self.flush().await
    }

    /// Sends a text message (see [`write_message`](Self::write_message)).
    ///
    /// # Errors
    ///
    /// As [`write_message`](Self::write_message).
    pub async fn write_text(&self, text: &str) -> Result<(), WebSocketError> {
        self.send_data(OpCode::Text, text.as_bytes())?;
        self.flush().await
    }

    /// Sends a binary message (see [`write_message`](Self::write_message)).
    ///
    /// # Errors
    ///
    /// As [`write_message`](Self::write_message).
    pub async fn write_binary(&self, data: &[u8]) -> Result<(), WebSocketError> {
        self.send_data(OpCode::Binary, data)?;
        self.flush().await
    }

    /// Sends `value` as a JSON text message (Tornado's `write_message(dict)`).
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Json`] if it does not serialise, else as
    /// [`write_message`](Self::write_message).
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub async fn write_json<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<(), WebSocketError> {
        let text = serde_json::to_string(value)?;
        self.write_text(&text).await
    }

    /// Sends a message framed once for many connections (see [`PreparedMessage`]) and waits
    /// until the kernel has it: awaiting it is back-pressure, as for
    /// [`write_message`](Self::write_message). To send to many connections from one task
    /// without a wait per connection, see [`send_prepared`](Self::send_prepared).
    ///
    /// # Errors
    ///
    /// As [`write_message`](Self::write_message).
    pub async fn write_prepared(&self, message: &PreparedMessage) -> Result<(), WebSocketError> {
        self.queue_prepared(message)?;
        self.flush().await
    }

    /// Sends a message framed once for many connections (see [`PreparedMessage`]) without
    /// waiting: the frame is queued and written at once as far as the socket takes it; what a
    /// full socket leaves goes out in the background (one flush per connection at a time). A
    /// broadcast calls it for every open connection from one task: no task and no wait per
    /// connection. Check [`buffered_amount`](Self::buffered_amount) first to skip a reader that
    /// has fallen far behind.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Closed`] once the connection is closing or closed, or if the write
    /// fails (the connection is then over).
    pub fn send_prepared(&self, message: &PreparedMessage) -> Result<(), WebSocketError> {
        self.queue_prepared(message)?;
        // Another task's flush is under way: it writes these bytes too.
        let Some(guard) = self.shared.flush_lock.try_acquire() else {
            return Ok(());
        };
        let flushed = self.shared.stream.try_flush().map_err(|_| {
            self.mark_closed();
            WebSocketError::Closed
        })?;
        drop(guard);
        if !flushed && !self.shared.background_flush.replace(true) {
            let this = self.clone();
            IOLoop::current()
                .spawn(async move {
                    this.flush_quietly().await;
                    this.shared.background_flush.set(false);
                })
                .detach();
        }
        Ok(())
    }

    /// Queues a prepared message's frame: its bytes as they are for a server connection that
    /// does not compress, or that compresses without context takeover (the compressed frame is
    /// made once per compression setting and shared); framed for this connection otherwise.
    fn queue_prepared(&self, message: &PreparedMessage) -> Result<(), WebSocketError> {
        if self.shared.state.get() != CloseState::Open {
            return Err(WebSocketError::Closed);
        }
        if self.shared.role == Role::Client {
            let (opcode, payload) = message.payload();
            return self.send_data(opcode, payload);
        }
        let queued = {
            let mut encoder = self.shared.encoder.borrow_mut();
            if encoder.compresses() {
                #[cfg(feature = "deflate")]
                let shared_params = encoder.stateless_deflate();
                #[cfg(not(feature = "deflate"))]
                let shared_params: Option<(u32, u8)> = None;
                let Some(params) = shared_params else {
                    drop(encoder);
                    let (opcode, payload) = message.payload();
                    return self.send_data(opcode, payload);
                };
                let frame = message.compressed_frame(params, |out| {
                    let (opcode, payload) = message.payload();
                    match opcode {
                        OpCode::Text => encoder.encode_text(
                            out,
                            std::str::from_utf8(payload)
                                .expect("invariant: a text message holds a str"),
                        ),
                        _ => encoder.encode_binary(out, payload),
                    }
                });
                self.shared.stream.write_buffered(&frame)
            } else {
                self.shared.stream.write_buffered(&message.inner.frame)
            }
        };
        queued.map_err(|_| {
            self.mark_closed();
            WebSocketError::Closed
        })
    }

    /// Queues an uncompressed server frame whose payload moves into the stream's queue.
    fn send_owned(&self, opcode: OpCode, payload: Vec<u8>) -> Result<(), WebSocketError> {
        if self.shared.state.get() != CloseState::Open {
            return Err(WebSocketError::Closed);
        }
        let stream = &self.shared.stream;
        let mut header = [0u8; MAX_HEADER_LEN];
        let len = encode_header(&mut header, true, false, opcode, payload.len() as u64, None);
        stream
            .write_buffered(&header[..len])
            .and_then(|()| stream.write_buffered_vec(payload))
            .map_err(|_| {
                self.mark_closed();
                WebSocketError::Closed
            })
    }

    /// Queues one data frame (not flushed).
    fn send_data(&self, opcode: OpCode, payload: &[u8]) -> Result<(), WebSocketError> {
        if self.shared.state.get() != CloseState::Open {
            return Err(WebSocketError::Closed);
        }
        let stream = &self.shared.stream;
        let mut encoder = self.shared.encoder.borrow_mut();
        let queued = if self.shared.role == Role::Server && !encoder.compresses() {
            // The common server frame: header on the stack, the payload copied once, into the
            // stream's queue.
            let mut header = [0u8; MAX_HEADER_LEN];
            let len = encode_header(&mut header, true, false, opcode, payload.len() as u64, None);
            stream
                .write_buffered(&header[..len])
                .and_then(|()| stream.write_buffered(payload))
        } else {
            let mut scratch = self.shared.scratch.borrow_mut();
            scratch.clear();
            match opcode {
                OpCode::Text => {
                    let text = std::str::from_utf8(payload)
                        .expect("invariant: text frames are sent from a str");
                    encoder.encode_text(&mut scratch, text);
                }
                _ => encoder.encode_binary(&mut scratch, payload),
            }
            let queued = stream.write_buffered(&scratch);
            shrink(&mut scratch);
            queued
        };
        queued.map_err(|_| {
            self.mark_closed();
            WebSocketError::Closed
        })
    }

    /// Sends a ping carrying `data` (at most 125 bytes; Tornado's `ping`).
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Protocol`] for more than 125 bytes, [`WebSocketError::Closed`] once the
    /// connection is closing.
    pub async fn ping(&self, data: &[u8]) -> Result<(), WebSocketError> {
        if self.shared.state.get() != CloseState::Open {
            return Err(WebSocketError::Closed);
        }
        self.shared.pong_received.set(false);
        self.send_control(|encoder, out| encoder.encode_ping(out, data))?;
        self.flush().await
    }

    /// Queues a pong answering a ping (unless a close has gone out).
    pub(crate) fn queue_pong(&self, data: &[u8]) {
        // A pong is owed until the peer's close arrives (RFC 6455 §5.5.2), also after ours.
        if self.shared.state.get() != CloseState::Closed {
            let _ = self.send_control(|encoder, out| encoder.encode_pong(out, data));
        }
    }

    /// Encodes a control frame into the scratch buffer and queues it.
    fn send_control(
        &self,
        encode: impl FnOnce(&mut Encoder, &mut Vec<u8>) -> Result<(), ProtocolError>,
    ) -> Result<(), WebSocketError> {
        let mut scratch = self.shared.scratch.borrow_mut();
        scratch.clear();
        encode(&mut self.shared.encoder.borrow_mut(), &mut scratch)?;
        self.shared.stream.write_buffered(&scratch).map_err(|_| {
            self.mark_closed();
            WebSocketError::Closed
        })
    }

    /// Starts the close handshake (Tornado's `close(code, reason)`) and returns at once: queues
    /// a close frame with `code` and `reason` (code 1000 if only a reason is given; an empty
    /// close if neither; a reason over 123 bytes is cut at a character boundary), flushes it in
    /// the background, and aborts the connection if the peer's close has not ended it within
    /// [`CLOSE_TIMEOUT`]. Does nothing once a close has gone out.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Protocol`] for a code that may not be sent (1005, 1006, 1015, or
    /// outside the ranges of RFC 6455 §7.4); nothing is sent then.
    pub fn close(&self, code: Option<u16>, reason: Option<&str>) -> Result<(), WebSocketError> {
        if self.shared.state.get() != CloseState::Open {
            return Ok(());
        }
        let payload = match (code, reason) {
            (None, None) => None,
            (code, reason) => Some((code.unwrap_or(close::NORMAL), reason.unwrap_or(""))),
        };
        self.send_close(payload)?;
        let shared = Rc::downgrade(&self.shared);
        // Flushed now; aborted if the peer does not answer in time.
        let this = self.clone();
        IOLoop::current()
            .spawn(async move { this.flush_quietly().await })
            .detach();
        let _ = IOLoop::current().call_later(CLOSE_TIMEOUT, move || {
            if let Some(shared) = shared.upgrade()
                && shared.state.get() != CloseState::Closed
            {
                // Aborted: the connection is over for every handle and waiter, even if no
                // reader is there to see the socket close.
                WebSocketConnection { shared }.mark_closed();
            }
        });
        Ok(())
    }

    /// Queues a close frame and marks the close as sent.
    pub(crate) fn send_close(&self, payload: Option<(u16, &str)>) -> Result<(), WebSocketError> {
        self.send_control(|encoder, out| encoder.encode_close(out, payload))?;
        self.shared.state.set(CloseState::Sent);
        Ok(())
    }

    /// Writes what is queued, one flusher at a time.
    async fn flush(&self) -> Result<(), WebSocketError> {
        let _guard = self.shared.flush_lock.acquire().await;
        self.shared.stream.flush().await.map_err(|_| {
            self.mark_closed();
            WebSocketError::Closed
        })
    }

    /// Flushes without reporting (for the frames the protocol sends by itself).
    pub(crate) async fn flush_quietly(&self) {
        let _ = self.flush().await;
    }

    /// The code of the peer's close frame (Tornado's `close_code`): `None` until it arrives, or
    /// if it had none.
    pub fn close_code(&self) -> Option<u16> {
        self.shared
            .peer_close
            .borrow()
            .as_ref()
            .map(|(code, _)| *code)
    }

    /// The reason of the peer's close frame (Tornado's `close_reason`).
    pub fn close_reason(&self) -> Option<String> {
        self.shared
            .peer_close
            .borrow()
            .as_ref()
            .map(|(_, reason)| reason.clone())
    }

    /// The subprotocol the handshake selected (Tornado's `selected_subprotocol`).
    pub fn selected_subprotocol(&self) -> Option<&str> {
        self.shared.subprotocol.as_deref()
    }

    /// Whether a close has gone out or the connection is over (writes then fail).
    pub fn is_closing(&self) -> bool {
        self.shared.state.get() != CloseState::Open
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.shared.state.get() == CloseState::Closed
    }

    /// Waits until the connection is over.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait_closed(&self) {
        self.shared.finished.wait().await;
    }

    /// The bytes queued for this connection and not yet taken by the kernel (the browser's
    /// `bufferedAmount`): a broadcaster can skip a reader that has fallen this far behind.
    pub fn buffered_amount(&self) -> usize {
        self.shared.stream.write_buffer_len()
    }

    /// Sets `TCP_NODELAY` on the socket (Tornado's `set_nodelay`): small messages go out at
    /// once instead of waiting to be coalesced.
    ///
    /// # Errors
    ///
    /// If the socket option cannot be set.
    pub fn set_nodelay(&self, nodelay: bool) -> Result<(), typhoon_iostream::StreamError> {
        self.shared.stream.set_nodelay(nodelay)
    }

    /// Ends the connection: the socket closes and every waiter wakes.
    pub(crate) fn mark_closed(&self) {
        self.shared.state.set(CloseState::Closed);
        self.shared.stream.close();
        self.shared.finished.set();
    }

    /// Records the peer's close frame.
    pub(crate) fn set_peer_close(&self, close: Option<(u16, String)>) {
        *self.shared.peer_close.borrow_mut() = close;
    }

    /// Whether a pong arrived since this side's last ping.
    pub(crate) fn pong_received(&self) -> bool {
        self.shared.pong_received.get()
    }

    /// Notes a pong.
    pub(crate) fn note_pong(&self) {
        self.shared.pong_received.set(true);
    }

    /// Whether this side has sent its close frame.
    pub(crate) fn close_sent(&self) -> bool {
        self.shared.state.get() == CloseState::Sent
    }

    /// The socket.
    pub(crate) fn stream(&self) -> &Rc<IOStream> {
        &self.shared.stream
    }
}

impl fmt::Debug for WebSocketConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketConnection")
            .field("role", &self.shared.role)
            .field("state", &self.shared.state.get())
            .field("subprotocol", &self.shared.subprotocol)
            .finish()
    }
}

/// A message framed once, to be sent to many connections (a chat's broadcast): the frame is
/// encoded once and the same bytes are copied to each socket, instead of framing the message
/// again for each (gorilla's and uWebSockets' `PreparedMessage`, beyond Tornado). With
/// permessage-deflate it is also compressed once for every connection that compresses without
/// context takeover with the same level and window (Typhoon's default, [`DeflateOptions`]); a
/// connection with context takeover compresses it with its own state. Cheap to clone.
///
/// [`WebSocketConnection::send_prepared`] sends it to many connections from one task, waiting
/// for none; [`WebSocketConnection::write_prepared`] sends it to one and waits for the kernel.
///
/// [`DeflateOptions`]: crate::deflate::DeflateOptions
///
/// # Examples
///
/// ```
/// use typhoon_websocket::{Message, PreparedMessage, WebSocketConnection};
///
/// let hello = PreparedMessage::new(Message::Text("hello, everyone".into()));
/// assert_eq!(hello.frame_len(), 2 + 15);
///
/// /// Sends `message` to every subscriber that keeps up; returns how many it went to.
/// fn broadcast(subscribers: &[WebSocketConnection], message: &PreparedMessage) -> usize {
///     subscribers
///         .iter()
///         .filter(|ws| ws.buffered_amount() < 1 << 20)
///         .filter(|ws| ws.send_prepared(message).is_ok())
///         .count()
/// }
/// assert_eq!(broadcast(&[], &hello), 0);
/// ```
#[derive(Clone, Debug)]
pub struct PreparedMessage {
    /// The frames, shared by the clones.
    inner: Rc<Prepared>,
}

/// A compressor's level and window bits: what a message compresses to without context
/// takeover.
type DeflateSetting = (u32, u8);

/// What a [`PreparedMessage`]'s clones share.
#[derive(Debug)]
struct Prepared {
    /// The unmasked, uncompressed frame a server sends.
    frame: Box<[u8]>,
    /// Where the payload starts in `frame`.
    header_len: usize,
    /// Text or binary.
    opcode: OpCode,
    /// The compressed frames made so far, by compression level and window bits (for
    /// connections that compress without context takeover; usually one entry).
    compressed: RefCell<Vec<(DeflateSetting, Rc<[u8]>)>>,
}

impl PreparedMessage {
    /// Frames `message` once.
    pub fn new(message: impl Into<Message>) -> Self {
        let message = message.into();
        let (opcode, payload) = match &message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data.as_slice()),
        };
        let mut header = [0u8; MAX_HEADER_LEN];
        let header_len =
            encode_header(&mut header, true, false, opcode, payload.len() as u64, None);
        let mut frame = Vec::with_capacity(header_len + payload.len());
        frame.extend_from_slice(&header[..header_len]);
        frame.extend_from_slice(payload);
        Self {
            inner: Rc::new(Prepared {
                frame: frame.into_boxed_slice(),
                header_len,
                opcode,
                compressed: RefCell::new(Vec::new()),
            }),
        }
    }

    /// The frame's length on the wire (header and payload), uncompressed.
    pub fn frame_len(&self) -> usize {
        self.inner.frame.len()
    }

    /// The message's opcode and payload.
    fn payload(&self) -> (OpCode, &[u8]) {
        (
            self.inner.opcode,
            &self.inner.frame[self.inner.header_len..],
        )
    }

    /// The compressed frame for compression `params`, made by `encode` the first time.
    fn compressed_frame(
        &self,
        params: DeflateSetting,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> Rc<[u8]> {
        let mut compressed = self.inner.compressed.borrow_mut();
        if let Some((_, frame)) = compressed.iter().find(|(p, _)| *p == params) {
            return Rc::clone(frame);
        }
        let mut out = Vec::new();
        encode(&mut out);
        let frame: Rc<[u8]> = out.into();
        compressed.push((params, Rc::clone(&frame)));
        frame
    }
}

/// Tornado's `periodic_ping`: every `interval` a ping; with a non-zero `timeout`, no pong
/// within it closes the connection (code 1000, reason `ping timed out`).
pub(crate) async fn ping_periodically(
    connection: WebSocketConnection,
    interval: Duration,
    timeout: Duration,
) {
    sleep(interval).await;
    loop {
        if connection.is_closing() {
            return;
        }
        let sent_at = Instant::now();
        if timeout.is_zero() {
            if connection.ping(b"").await.is_err() {
                return;
            }
        } else {
            // The deadline runs from the ping, even if a peer that reads nothing keeps the
            // ping itself from going out.
            let answered = typhoon_ioloop::timeout(timeout, async {
                if connection.ping(b"").await.is_err() {
                    return None;
                }
                sleep(timeout).await;
                Some(())
            })
            .await;
            if connection.is_closing() || matches!(answered, Ok(None)) {
                return;
            }
            if !connection.pong_received() {
                let _ = connection.close(None, Some("ping timed out"));
                return;
            }
        }
        sleep(interval.saturating_sub(sent_at.elapsed())).await;
    }
}

/// A large scratch buffer is not kept between messages.
fn shrink(buf: &mut Vec<u8>) {
    if buf.capacity() > 64 * 1024 {
        *buf = Vec::new();
    }
}

/// What reading the next frame gave.
pub(crate) enum Incoming {
    /// A frame event.
    Event(Event),
    /// The TCP connection ended without a close frame.
    Eof,
    /// The peer broke the protocol.
    Error(ProtocolError),
}

/// Reads the peer's frames from the stream through the decoder.
pub(crate) struct FrameReader {
    /// The sans-IO decoder.
    decoder: Decoder,
    /// Bytes handled since the last yield to the loop.
    since_yield: usize,
}

impl FrameReader {
    /// A reader decoding with `decoder`.
    pub(crate) fn new(decoder: Decoder) -> Self {
        Self {
            decoder,
            since_yield: 0,
        }
    }

    /// Polls for the next event. Cancel-safe: decoding is synchronous, and only the wait for
    /// more bytes (a fresh `fill_buffer` per poll) is ever interrupted.
    pub(crate) fn poll_next(&mut self, stream: &IOStream, cx: &mut Context<'_>) -> Poll<Incoming> {
        loop {
            let decoded = {
                let buffer = stream.read_buffer();
                self.decoder.decode(&buffer)
            };
            match decoded {
                Err(error) => return Poll::Ready(Incoming::Error(error)),
                Ok((consumed, event)) => {
                    stream.consume(consumed);
                    self.since_yield += consumed;
                    if let Some(event) = event {
                        self.since_yield += FRAME_YIELD_COST;
                        return Poll::Ready(Incoming::Event(event));
                    }
                    if consumed > 0 {
                        continue;
                    }
                }
            }
            self.since_yield = 0;
            if stream.read_buffer().is_empty() {
                // Everything read is handled: the empty read buffer and the write queue's spare
                // chunk go back to the thread's pools while the connection waits, so an idle
                // WebSocket holds neither (a busy one takes them back from the pools, without
                // allocating).
                stream.release_buffers();
            }
            let fill = pin!(stream.fill_buffer());
            match fill.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(n)) if n > 0 => {}
                Poll::Ready(_) => return Poll::Ready(Incoming::Eof),
            }
        }
    }

    /// Reads until the next event, first letting the loop's other tasks run if this
    /// connection has handled a lot in one go (Tornado's fairness rule).
    pub(crate) async fn next(&mut self, stream: &IOStream) -> Incoming {
        if self.since_yield >= YIELD_THRESHOLD {
            self.since_yield = 0;
            typhoon_ioloop::yield_now().await;
        }
        poll_fn(|cx| self.poll_next(stream, cx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_message_compresses_once_per_setting() {
        let message = PreparedMessage::new(Message::Text("hello".into()));
        let calls = Cell::new(0);
        let encode = |out: &mut Vec<u8>| {
            calls.set(calls.get() + 1);
            out.extend_from_slice(b"frame");
        };
        let first = message.compressed_frame((6, 15), encode);
        let clone = message.clone();
        let again = clone.compressed_frame((6, 15), encode);
        assert_eq!(calls.get(), 1, "the same setting reuses the frame");
        assert!(Rc::ptr_eq(&first, &again));
        message.compressed_frame((1, 9), encode);
        assert_eq!(calls.get(), 2, "another setting gets its own");
        assert_eq!(message.payload(), (OpCode::Text, &b"hello"[..]));
    }
}
