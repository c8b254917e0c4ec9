//! [`RequestBody`]: the streamed request body a hosted service reads, fed from Typhoon's loop
//! through a bounded queue.
//!
//! axum's `Router` (and most of the tower ecosystem) wants a `Send` body, but Typhoon's
//! [`BodyReader`](typhoon_httpserver::BodyReader) holds the connection's `Rc<IOStream>`. So the
//! handler reads the connection and pushes each chunk into a small queue behind a mutex, which
//! the body (`Send + Sync`) pops. The queue holds at most [`QUEUE_CHUNKS`] chunks: while it is
//! full the handler stops reading, the connection's buffer and then the kernel's fill, and TCP
//! pushes back on the client.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::error::TowerError;

/// How many chunks (each as the connection read it, up to the server's chunk size) wait for
/// the service before the handler stops reading the connection.
pub(crate) const QUEUE_CHUNKS: usize = 2;

/// The queue between the handler and the body.
#[derive(Default)]
struct Shared {
    /// Chunks (or the error that ended the body) not read yet.
    queue: VecDeque<Result<Bytes, TowerError>>,
    /// The handler sent the end of the body, or an error, or went away.
    closed: bool,
    /// The body was dropped: the handler stops reading.
    receiver_gone: bool,
    /// The body's task, waiting for a chunk.
    receiver: Option<Waker>,
    /// The handler's task, waiting for room.
    sender: Option<Waker>,
}

/// Locks the queue; a panic elsewhere while it was held leaves it consistent (each update is
/// one push, pop or flag).
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The body of a request a hosted service receives: the client's body as it arrives, chunk by
/// chunk (data frames of [`Bytes`]), with no trailers. `Send + Sync`, as axum requires.
///
/// It ends with an error frame ([`TowerError::RequestBody`], [`TowerError::BodyTooLarge`],
/// [`TowerError::Abandoned`]) rather than looking complete when the body is cut short.
pub struct RequestBody {
    /// The queue; `None` for a body known to be empty.
    shared: Option<Arc<Mutex<Shared>>>,
}

impl RequestBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self { shared: None }
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody")
            .field("is_end_stream", &self.is_end_stream())
            .finish()
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = TowerError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TowerError>>> {
        let Some(shared) = &self.shared else {
            return Poll::Ready(None);
        };
        let mut state = lock(shared);
        if let Some(item) = state.queue.pop_front() {
            if let Some(sender) = state.sender.take() {
                sender.wake();
            }
            return Poll::Ready(Some(item.map(Frame::data)));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        state.receiver = Some(cx.waker().clone());
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.shared.as_ref().is_none_or(|shared| {
            let state = lock(shared);
            state.closed && state.queue.is_empty()
        })
    }

    fn size_hint(&self) -> SizeHint {
        if self.is_end_stream() {
            SizeHint::with_exact(0)
        } else {
            SizeHint::default()
        }
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            let mut state = lock(shared);
            state.receiver_gone = true;
            state.queue.clear();
            if let Some(sender) = state.sender.take() {
                sender.wake();
            }
        }
    }
}

/// The body is gone (the service dropped it): nothing more need be read.
#[derive(Debug)]
pub(crate) struct ReceiverGone;

/// The handler's end of a [`RequestBody`]'s queue. Dropped before [`finish`](Self::finish)
/// (the request's future was dropped: the client went away, or the timeout fired), the body
/// ends with [`TowerError::Abandoned`].
pub(crate) struct BodySender {
    /// The queue.
    shared: Arc<Mutex<Shared>>,
}

/// A body and the sender that feeds it.
pub(crate) fn channel() -> (BodySender, RequestBody) {
    let shared = Arc::new(Mutex::new(Shared::default()));
    (
        BodySender {
            shared: Arc::clone(&shared),
        },
        RequestBody {
            shared: Some(shared),
        },
    )
}

impl BodySender {
    /// Queues `chunk`, waiting while [`QUEUE_CHUNKS`] chunks wait already (back-pressure).
    ///
    /// # Errors
    ///
    /// [`ReceiverGone`] once the body was dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the chunk is queued only by the poll that returns `Ready`.
    pub(crate) async fn send(&mut self, chunk: Bytes) -> Result<(), ReceiverGone> {
        let mut chunk = Some(chunk);
        poll_fn(|cx| {
            let mut state = lock(&self.shared);
            if state.receiver_gone {
                return Poll::Ready(Err(ReceiverGone));
            }
            if state.queue.len() >= QUEUE_CHUNKS {
                state.sender = Some(cx.waker().clone());
                return Poll::Pending;
            }
            if let Some(chunk) = chunk.take() {
                state.queue.push_back(Ok(chunk));
            }
            if let Some(receiver) = state.receiver.take() {
                receiver.wake();
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Ends the body with `error` (queued after the chunks, whatever room is left).
    pub(crate) fn fail(self, error: TowerError) {
        self.close(Some(error));
    }

    /// Ends the body: the client sent all of it.
    pub(crate) fn finish(self) {
        self.close(None);
    }

    fn close(&self, error: Option<TowerError>) {
        let mut state = lock(&self.shared);
        if state.closed {
            return;
        }
        state.closed = true;
        if let Some(error) = error
            && !state.receiver_gone
        {
            state.queue.push_back(Err(error));
        }
        if let Some(receiver) = state.receiver.take() {
            receiver.wake();
        }
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        self.close(Some(TowerError::Abandoned));
    }
}

impl fmt::Debug for BodySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodySender")
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::Waker;

    use super::*;

    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    fn next_frame(body: &mut RequestBody) -> Poll<Option<Result<Frame<Bytes>, TowerError>>> {
        Pin::new(body).poll_frame(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_full_queue_holds_the_sender_until_the_body_reads() {
        let (mut sender, mut body) = channel();
        for n in 0..QUEUE_CHUNKS {
            let sent = pin!(sender.send(Bytes::from(vec![n as u8])));
            assert!(matches!(poll_once(sent), Poll::Ready(Ok(()))));
        }
        {
            let mut third = pin!(sender.send(Bytes::from_static(b"third")));
            assert!(poll_once(third.as_mut()).is_pending(), "the queue is full");
            assert!(matches!(next_frame(&mut body), Poll::Ready(Some(Ok(_)))));
            assert!(matches!(poll_once(third), Poll::Ready(Ok(()))));
        }
        sender.finish();
        let mut rest = Vec::new();
        while let Poll::Ready(Some(frame)) = next_frame(&mut body) {
            let data = frame.expect("data").into_data().expect("a data frame");
            rest.extend_from_slice(&data);
        }
        assert_eq!(rest, b"\x01third");
        assert!(body.is_end_stream());
    }

    #[test]
    fn an_abandoned_body_ends_with_an_error() {
        let (mut sender, mut body) = channel();
        {
            let sent = pin!(sender.send(Bytes::from_static(b"part")));
            assert!(poll_once(sent).is_ready());
        }
        drop(sender);
        assert!(matches!(next_frame(&mut body), Poll::Ready(Some(Ok(_)))));
        assert!(matches!(
            next_frame(&mut body),
            Poll::Ready(Some(Err(TowerError::Abandoned)))
        ));
        assert!(matches!(next_frame(&mut body), Poll::Ready(None)));
    }

    #[test]
    fn a_dropped_body_releases_the_sender() {
        let (mut sender, body) = channel();
        drop(body);
        let sent = pin!(sender.send(Bytes::from_static(b"x")));
        assert!(matches!(poll_once(sent), Poll::Ready(Err(ReceiverGone))));
    }

    #[test]
    fn an_empty_body_is_at_its_end() {
        let mut body = RequestBody::empty();
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(matches!(next_frame(&mut body), Poll::Ready(None)));
    }
}
