//! Handing a connection over to another protocol after its HTTP/1 handshake: a
//! `101 Switching Protocols` (WebSocket, later h2c) or a `2xx` to `CONNECT` (a tunnel).
//!
//! [`ResponseWriter::upgrade`](crate::ResponseWriter::upgrade) sends the head and returns an
//! [`Upgraded`]: the connection's stream, with whatever the client sent after its request head
//! still in the stream's read buffer (a WebSocket client may send its first frame without waiting
//! for the `101`). From then on the HTTP connection reads no more requests and watches nothing.
//!
//! The connection lives as long as the longer of the request's future and the [`Upgraded`]
//! value. A handler may serve the new protocol inside its own future, and when that ends, the
//! queued bytes are flushed and the socket closes (having taken the stream with
//! [`Upgraded::into_stream`], which drops the `Upgraded`, is this case). Or it may move the
//! `Upgraded` into a task of its own and return: the request's future, and all it held, is
//! then gone, and the socket closes when the task drops the `Upgraded` (a WebSocket does this,
//! so that an idle one holds only its own state). Either way the connection still counts as
//! open for [`HTTPServer::connections_closed`](crate::HTTPServer::connections_closed), and a
//! graceful [`shutdown`](crate::HTTPServer::shutdown) cuts it when its grace has passed, unless
//! the protocol ends first (it can see the shutdown coming with
//! [`Upgraded::wait_for_shutdown`]).

use std::fmt;
use std::rc::Rc;

use typhoon_iostream::{IOStream, StreamError};

use crate::draining::Draining;

/// Why a response could not switch protocols.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The head of a response already went out (after a `flush`): too late to switch.
    #[error("the response head was already sent")]
    HeadSent,
    /// Only `101 Switching Protocols`, or a `2xx` answering `CONNECT`, hands the connection over.
    #[error("status {0} does not switch protocols (101, or 2xx for CONNECT)")]
    Status(u16),
    /// Sending the head failed: the client is gone.
    #[error("the connection closed")]
    Stream(#[from] StreamError),
}

/// A connection handed over to another protocol by
/// [`ResponseWriter::upgrade`](crate::ResponseWriter::upgrade).
///
/// The stream's read buffer holds any bytes the client sent after the request head; the switching
/// head has gone out. The stream keeps the server's options (the send timeout bounds every
/// write).
pub struct Upgraded {
    /// The connection's stream.
    stream: Rc<IOStream>,
    /// The server's shutdown flag.
    draining: Rc<Draining>,
    /// Takes over the connection's place in the server's registry if this value outlives the
    /// request's future.
    _handoff: Rc<Handoff>,
}

/// The connection's registration, once the request's future has ended while its [`Upgraded`]
/// lives on: dropped (closing the socket and unregistering the connection) with the last
/// `Upgraded`. Held as `Any` so that this module needs nothing of the server's registry.
#[derive(Default)]
pub(crate) struct Handoff {
    /// The registration guard, moved here by the connection task as it ends.
    registration: std::cell::RefCell<Option<Box<dyn std::any::Any>>>,
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("kept", &self.registration.borrow().is_some())
            .finish()
    }
}

impl Handoff {
    /// Whether an [`Upgraded`] still lives, beside the connection's own reference.
    pub(crate) fn outlived(self: &Rc<Self>) -> bool {
        Rc::strong_count(self) > 1
    }

    /// Keeps the connection's registration guard until the last [`Upgraded`] is dropped.
    pub(crate) fn keep(&self, registration: Box<dyn std::any::Any>) {
        *self.registration.borrow_mut() = Some(registration);
    }
}

impl Upgraded {
    pub(crate) fn new(stream: Rc<IOStream>, draining: Rc<Draining>, handoff: Rc<Handoff>) -> Self {
        Self {
            stream,
            draining,
            _handoff: handoff,
        }
    }

    /// The connection's stream.
    pub fn stream(&self) -> &Rc<IOStream> {
        &self.stream
    }

    /// The connection's stream, for the upgraded protocol to own inside the request's future
    /// (the connection then ends with that future; keep the `Upgraded` instead to outlive it).
    pub fn into_stream(self) -> Rc<IOStream> {
        self.stream
    }

    /// Whether the server has begun a graceful shutdown: a long-lived protocol should end its
    /// connection soon (a WebSocket would send close 1001, "going away"); one that does not
    /// is cut when the shutdown's grace has passed.
    pub fn is_draining(&self) -> bool {
        self.draining.get()
    }

    /// Waits until the server begins a graceful shutdown (at once if it has): the moment for a
    /// long-lived protocol to say goodbye (see [`is_draining`](Self::is_draining)).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn wait_for_shutdown(&self) {
        self.draining.wait().await;
    }
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("peer", &self.stream.peer_addr())
            .field("draining", &self.draining.get())
            .finish()
    }
}
