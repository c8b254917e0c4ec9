//! [`WebSocketClientConnection`] and its frame-reading task.

use std::fmt;
use std::ops::Deref;
use std::time::{Duration, Instant};

use typhoon_httputil::HTTPHeaders;
use typhoon_ioloop::queues::Queue;
use typhoon_ioloop::{CancelOnDrop, IOLoop, catch_unwind_call};
use typhoon_iostream::IOStream;

use crate::connection::{CLOSE_TIMEOUT, FrameReader, Incoming, WebSocketConnection};
use crate::message::{CloseFrame, Event, Message};

/// A hook of [`WebSocketClientOptions`](super::WebSocketClientOptions), called with a control
/// frame's payload (Tornado's `on_ping`/`on_pong` methods, as closures: the client has no
/// subclass to override).
pub type ControlHook = Box<dyn FnMut(&[u8])>;

/// An open client WebSocket (Tornado's `WebSocketClientConnection`), from
/// [`websocket_connect`](super::websocket_connect).
///
/// Messages are read with [`read_message`](Self::read_message). Writing, pinging and closing are
/// the shared [`WebSocketConnection`]'s, reached through `Deref`:
/// [`write_message`](WebSocketConnection::write_message),
/// [`write_text`](WebSocketConnection::write_text),
/// [`write_binary`](WebSocketConnection::write_binary), [`ping`](WebSocketConnection::ping),
/// [`close`](WebSocketConnection::close), [`close_code`](WebSocketConnection::close_code),
/// [`close_reason`](WebSocketConnection::close_reason) and
/// [`selected_subprotocol`](WebSocketConnection::selected_subprotocol).
///
/// A task on the loop reads the server's frames: it answers pings, echoes the server's close,
/// and hands each message to a queue of one (Tornado's `Queue(1)`), so a client that stops
/// reading stops the task, and TCP flow control slows the server down. Dropping the value
/// stops that task (and the periodic pings); the socket closes once every handle of the
/// connection is gone. For a clean end, [`close`](WebSocketConnection::close) and read until
/// `None`.
pub struct WebSocketClientConnection {
    /// The shared engine: writes, pings, the close handshake.
    connection: WebSocketConnection,
    /// The `101`'s headers (Tornado's `headers`).
    headers: HTTPHeaders,
    /// Messages from the reading task; `None` once the connection is over (kept there for
    /// every later read).
    queue: Queue<Option<Message>>,
    /// The reading task (cancelled on drop).
    _reader: CancelOnDrop<()>,
    /// The periodic pings, if asked for (cancelled on drop).
    _pinger: Option<CancelOnDrop<()>>,
}

impl WebSocketClientConnection {
    /// Starts the reading task (and the pinger) over an open connection.
    pub(super) fn start(
        connection: WebSocketConnection,
        reader: FrameReader,
        headers: HTTPHeaders,
        hooks: (Option<ControlHook>, Option<ControlHook>),
        ping: Option<(Duration, Duration)>,
    ) -> Self {
        let queue = Queue::new(1);
        let io_loop = IOLoop::current();
        let task = read_frames(connection.clone(), reader, queue.clone(), hooks);
        let pinger = ping.map(|(interval, timeout)| {
            io_loop
                .spawn(crate::connection::ping_periodically(
                    connection.clone(),
                    interval,
                    timeout,
                ))
                .cancel_on_drop()
        });
        Self {
            _reader: io_loop.spawn(task).cancel_on_drop(),
            _pinger: pinger,
            connection,
            headers,
            queue,
        }
    }

    /// The next message from the server (Tornado's `read_message`), or `None` once the
    /// connection is closed (then [`close_code`](WebSocketConnection::close_code) tells why).
    /// Messages that arrived before the close are all returned first.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a cancelled read takes no message.
    pub async fn read_message(&self) -> Option<Message> {
        let item = self.queue.get().await;
        if item.is_none() {
            // The end stays in the queue for every later read (the queue is empty now).
            let _ = self.queue.put_nowait(None);
        }
        item
    }

    /// The headers of the server's `101` answer (Tornado's `headers`).
    pub fn headers(&self) -> &HTTPHeaders {
        &self.headers
    }

    /// The shared connection handle, which can be cloned and kept (to write from other tasks).
    pub fn connection(&self) -> &WebSocketConnection {
        &self.connection
    }
}

impl Deref for WebSocketClientConnection {
    type Target = WebSocketConnection;

    fn deref(&self) -> &WebSocketConnection {
        &self.connection
    }
}

impl fmt::Debug for WebSocketClientConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketClientConnection")
            .field("connection", &self.connection)
            .field("queued", &self.queue.qsize())
            .finish_non_exhaustive()
    }
}

/// The reading task: frames until the connection is over, messages into `queue`, then `None`.
async fn read_frames(
    connection: WebSocketConnection,
    mut reader: FrameReader,
    queue: Queue<Option<Message>>,
    (mut on_ping, mut on_pong): (Option<ControlHook>, Option<ControlHook>),
) {
    loop {
        match reader.next(connection.stream()).await {
            Incoming::Event(Event::Message(message)) => queue.put(Some(message)).await,
            Incoming::Event(Event::Ping(data)) => {
                connection.queue_pong(&data);
                connection.flush_quietly().await;
                if let Some(hook) = on_ping.as_mut()
                    && catch_unwind_call(|| hook(&data), "WebSocket client on_ping").is_err()
                {
                    connection.mark_closed();
                    break;
                }
            }
            Incoming::Event(Event::Pong(data)) => {
                connection.note_pong();
                if let Some(hook) = on_pong.as_mut()
                    && catch_unwind_call(|| hook(&data), "WebSocket client on_pong").is_err()
                {
                    connection.mark_closed();
                    break;
                }
            }
            Incoming::Event(Event::Close(close)) => {
                finish_close(&connection, close).await;
                break;
            }
            Incoming::Eof => {
                connection.mark_closed();
                break;
            }
            Incoming::Error(error) => {
                tracing::debug!(target: "typhoon::general", %error, "WebSocket protocol error");
                if !connection.is_closing() {
                    let _ = connection.send_close(Some((error.close_code(), "")));
                    connection.flush_quietly().await;
                }
                // Closing with unread input would reset the connection, and the close frame
                // could be lost: let the server end it first.
                await_server_close(connection.stream()).await;
                connection.mark_closed();
                break;
            }
        }
    }
    queue.put(None).await;
}

/// The server's close frame arrived: record it, answer it (echoing its code) unless this side
/// already sent its own, then let the server close TCP first (RFC 6455 §7.1.1), within
/// [`CLOSE_TIMEOUT`].
async fn finish_close(connection: &WebSocketConnection, close: Option<CloseFrame>) {
    let echo = close.as_ref().map(|frame| frame.code);
    connection.set_peer_close(close.map(|frame| (frame.code, frame.reason)));
    if !connection.close_sent() && !connection.is_closed() {
        let _ = connection.send_close(echo.map(|code| (code, "")));
    }
    connection.flush_quietly().await;
    await_server_close(connection.stream()).await;
    connection.mark_closed();
}

/// Discards input until the server closes the connection, or [`CLOSE_TIMEOUT`] passes.
async fn await_server_close(stream: &IOStream) {
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    loop {
        let pending = stream.read_buffer().len();
        stream.consume(pending);
        match stream.fill_buffer_before(deadline).await {
            Some(Ok(n)) if n > 0 => {}
            _ => return,
        }
    }
}
