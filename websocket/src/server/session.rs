//! The server's session after the handshake: `open`, then one message at a time with pings
//! answered meanwhile, the close handshake, server pings with their timeout, and `on_close`
//! exactly once.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use typhoon_httpserver::Upgraded;
use typhoon_ioloop::{IOLoop, catch_unwind, catch_unwind_call, timeout};
use typhoon_web::{Context, HTTPError};

use super::handshake::Accepted;
use super::{WebSocket, WebSocketHandler};
use crate::close;
use crate::connection::{
    CLOSE_TIMEOUT, FrameReader, Incoming, WebSocketConnection, ping_periodically,
};
use crate::message::{CloseFrame, Event};

/// How many control frames may wait for their hooks while `on_message` runs; reading pauses
/// past it, so a ping flood against a busy handler holds bounded memory.
const MAX_CONTROLS_WHILE_BUSY: usize = 16;

/// A control frame that arrived while `on_message` ran, for the handler's hooks afterwards.
enum Control {
    /// A ping (already answered).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
}

/// The session as a task of its own, owning the handler, the context and the connection (see
/// [`run`]). Not an `async fn`: one would move its arguments into locals and keep room for
/// two copies of each (rust-lang/rust#62958); the block uses the captured values in place.
#[allow(clippy::manual_async_fn)] // the async fn form is the one that keeps two copies
pub(super) fn run_detached<H: WebSocketHandler>(
    mut handler: H,
    mut cx: Context,
    mut accepted: Accepted,
) -> impl Future<Output = ()> + 'static {
    async move { run(&mut handler, &mut cx, &mut accepted).await }
}

/// Runs the connection until it is over, then calls `on_close`.
///
/// The accepted connection is borrowed, not moved in: moving it would keep two copies of its
/// reader in the future, which lives as long as the connection (rust-lang/rust#62958).
pub(super) async fn run<H: WebSocketHandler>(
    handler: &mut H,
    cx: &mut Context,
    accepted: &mut Accepted,
) {
    let Accepted {
        connection,
        reader,
        upgraded,
    } = accepted;
    let connection = &*connection;
    let settings = cx.settings();
    let pinger = settings
        .websocket_ping_interval
        .filter(|i| !i.is_zero())
        .map(|interval| {
            let timeout = settings
                .websocket_ping_timeout
                .unwrap_or(interval)
                .min(interval);
            let connection = connection.clone();
            IOLoop::current()
                .spawn(ping_periodically(connection, interval, timeout))
                .cancel_on_drop()
        });
    let mut ws = WebSocket {
        connection: connection.clone(),
        cx,
    };
    let opened = catch_unwind(handler.open(&mut ws), "WebSocket open").await;
    if outcome_failed(opened, "open") {
        connection.mark_closed();
    } else {
        // Pinned here and passed by reference: a future passed by value would have room
        // reserved twice in this long-lived future (rust-lang/rust#62958).
        let session = pin!(serve_frames(handler, &mut ws, connection, reader));
        close_on_shutdown(session, upgraded, connection).await;
    }
    if let Some(pinger) = pinger {
        pinger.cancel();
    }
    let _ = guarded(|| handler.on_close(&mut ws), "on_close");
}

/// Runs `session` to its end; when the server begins a graceful shutdown, starts the close
/// handshake with 1001, "going away" (RFC 6455 §7.4.1), the session going on until the peer
/// answers it (or [`CLOSE_TIMEOUT`] aborts it), inside the shutdown's grace.
async fn close_on_shutdown(
    mut session: Pin<&mut impl Future<Output = ()>>,
    upgraded: &Upgraded,
    connection: &WebSocketConnection,
) {
    let shutdown = pin!(upgraded.wait_for_shutdown());
    let mut shutdown = Some(shutdown);
    poll_fn(|cx| {
        if let Some(wait) = shutdown.as_mut()
            && wait.as_mut().poll(cx).is_ready()
        {
            shutdown = None;
            let _ = connection.close(Some(close::GOING_AWAY), Some("server shutting down"));
        }
        session.as_mut().poll(cx)
    })
    .await;
}

/// Reads and handles frames until the connection is over.
async fn serve_frames<H: WebSocketHandler>(
    handler: &mut H,
    ws: &mut WebSocket<'_>,
    connection: &WebSocketConnection,
    reader: &mut FrameReader,
) {
    let mut pending: Option<Incoming> = None;
    loop {
        let incoming = match pending.take() {
            Some(incoming) => incoming,
            None => reader.next(connection.stream()).await,
        };
        match incoming {
            Incoming::Event(Event::Message(message)) => {
                let mut controls = Vec::new();
                let handled = {
                    let on_message = pin!(catch_unwind(
                        handler.on_message(ws, message),
                        "WebSocket on_message"
                    ));
                    answer_pings_meanwhile(
                        on_message,
                        reader,
                        connection,
                        &mut pending,
                        &mut controls,
                    )
                    .await
                };
                if controls.iter().any(|c| matches!(c, Control::Ping(_))) {
                    // Pongs queued meanwhile go out now, whatever the handler's flush did.
                    connection.flush_quietly().await;
                }
                for control in controls {
                    let hook = match &control {
                        Control::Ping(data) => guarded(|| handler.on_ping(ws, data), "on_ping"),
                        Control::Pong(data) => guarded(|| handler.on_pong(ws, data), "on_pong"),
                    };
                    if hook.is_err() {
                        connection.mark_closed();
                        return;
                    }
                }
                if outcome_failed(handled, "on_message") {
                    connection.mark_closed();
                    return;
                }
            }
            Incoming::Event(Event::Ping(data)) => {
                connection.queue_pong(&data);
                connection.flush_quietly().await;
                if guarded(|| handler.on_ping(ws, &data), "on_ping").is_err() {
                    connection.mark_closed();
                    return;
                }
            }
            Incoming::Event(Event::Pong(data)) => {
                connection.note_pong();
                if guarded(|| handler.on_pong(ws, &data), "on_pong").is_err() {
                    connection.mark_closed();
                    return;
                }
            }
            Incoming::Event(Event::Close(close)) => {
                finish_close(connection, close).await;
                return;
            }
            Incoming::Eof => {
                // No close frame: the application sees no code (1006 on the wire's terms).
                connection.mark_closed();
                return;
            }
            Incoming::Error(error) => {
                tracing::debug!(target: "typhoon::general", %error, "WebSocket protocol error");
                if !connection.is_closing() {
                    let _ = connection.send_close(Some((error.close_code(), "")));
                    connection.flush_quietly().await;
                }
                // Closing with unread input would reset the connection, and the peer could
                // lose our close frame: discard what it still sends until it closes (bounded).
                let stream = connection.stream();
                let _ = timeout(CLOSE_TIMEOUT, async {
                    while matches!(stream.fill_buffer().await, Ok(n) if n > 0) {
                        let unread = stream.read_buffer().len();
                        stream.consume(unread);
                    }
                })
                .await;
                connection.mark_closed();
                return;
            }
        }
    }
}

/// The peer's close frame arrived: record it, answer it (echoing its code) unless this side
/// already sent its own, and end the connection (the server closes TCP first, RFC 6455 §7.1.1).
async fn finish_close(connection: &WebSocketConnection, close: Option<CloseFrame>) {
    let echo = close.as_ref().map(|frame| frame.code);
    connection.set_peer_close(close.map(|frame| (frame.code, frame.reason)));
    if !connection.close_sent() && !connection.is_closed() {
        let _ = connection.send_close(echo.map(|code| (code, "")));
    }
    connection.flush_quietly().await;
    connection.mark_closed();
}

/// Polls `on_message` to its end while answering the pings that arrive meanwhile (Tornado's
/// tornado#2021: a busy handler must not miss its pings). Reading stops at the next message or
/// close, kept in `pending`: the connection's flow control stays one message at a time, and a
/// ping queued behind that next message waits with it.
async fn answer_pings_meanwhile<F: Future>(
    mut on_message: Pin<&mut F>,
    reader: &mut FrameReader,
    connection: &WebSocketConnection,
    pending: &mut Option<Incoming>,
    controls: &mut Vec<Control>,
) -> F::Output {
    // The flush of the pongs queued meanwhile, polled alongside the handler.
    let mut pong_flush: Option<Pin<Box<dyn Future<Output = ()>>>> = None;
    poll_fn(|cx| {
        if let Poll::Ready(output) = on_message.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        // Bounded: while the pongs' flush is pending (a peer that pings and does not read), or
        // once a few control frames wait for their hooks, reading waits too.
        while pending.is_none() && pong_flush.is_none() && controls.len() < MAX_CONTROLS_WHILE_BUSY
        {
            match reader.poll_next(connection.stream(), cx) {
                Poll::Pending => break,
                Poll::Ready(Incoming::Event(Event::Ping(data))) => {
                    connection.queue_pong(&data);
                    controls.push(Control::Ping(data));
                    let connection = connection.clone();
                    let mut flush: Pin<Box<dyn Future<Output = ()>>> =
                        Box::pin(async move { connection.flush_quietly().await });
                    if flush.as_mut().poll(cx).is_pending() {
                        pong_flush = Some(flush);
                    }
                }
                Poll::Ready(Incoming::Event(Event::Pong(data))) => {
                    connection.note_pong();
                    controls.push(Control::Pong(data));
                }
                Poll::Ready(other) => *pending = Some(other),
            }
        }
        if let Some(flush) = pong_flush.as_mut()
            && flush.as_mut().poll(cx).is_ready()
        {
            pong_flush = None;
        }
        Poll::Pending
    })
    .await
}

/// Runs a synchronous hook of the handler as the methods run: a panic in it is logged
/// (Tornado's "Uncaught exception") and reported, so the connection is aborted and `on_close`
/// still runs.
fn guarded(hook: impl FnOnce(), name: &'static str) -> Result<(), ()> {
    let outcome = catch_unwind_call(
        || {
            hook();
            Ok::<(), HTTPError>(())
        },
        name,
    );
    if outcome_failed(outcome, name) {
        Err(())
    } else {
        Ok(())
    }
}

/// Whether a handler method failed (an error or a panic); logs it as Tornado's "Uncaught
/// exception".
fn outcome_failed(
    outcome: Result<Result<(), HTTPError>, typhoon_ioloop::LoopError>,
    method: &str,
) -> bool {
    match outcome {
        Ok(Ok(())) => false,
        Ok(Err(error)) => {
            tracing::error!(target: "typhoon::application", "Uncaught exception in WebSocket {method}: {}", error.chain());
            true
        }
        Err(error) => {
            tracing::error!(target: "typhoon::application", "Uncaught exception in WebSocket {method}: {error}");
            true
        }
    }
}
