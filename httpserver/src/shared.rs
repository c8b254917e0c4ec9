//! What the connections of one server share: the settings, the application, and the registry
//! of live connections (each held by a [`Registration`] guard for as long as its task runs).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use slab::Slab;
use typhoon_ioloop::locks::Event;
use typhoon_iostream::IOStream;

use crate::draining::Draining;
use crate::options::{HTTPServerOptions, HandlerFuture};
use crate::request::{HTTPServerRequest, RequestContext};
use crate::response::ResponseWriter;

/// The registry entry of a live connection, for graceful shutdown.
#[derive(Debug)]
pub(crate) struct ConnectionHandle {
    /// The connection's stream.
    pub(crate) stream: Rc<IOStream>,
    /// Waiting for the next request (nothing in flight).
    pub(crate) idle: Cell<bool>,
    /// A request head has arrived on it: until then the connection is new, and for
    /// `first_request_grace` after `accepted` neither a graceful shutdown nor `max_connections`
    /// closes it, since its client has just connected and is sending.
    pub(crate) served: Cell<bool>,
    /// When it was accepted (the loop's iteration time).
    pub(crate) accepted: std::time::Instant,
    /// When it last went idle, as a server-wide sequence number (a counter, not a clock read):
    /// at `max_connections` the server closes the connection idle longest, the smallest, to
    /// make room (nginx's reusable connections).
    pub(crate) idle_since: Cell<u64>,
}

/// What the connections of one server share.
pub(crate) struct ServerShared {
    /// Settings.
    pub(crate) options: HTTPServerOptions,
    /// Settings that shape requests.
    pub(crate) context: RequestContext,
    /// The application.
    pub(crate) handler: Box<dyn Fn(HTTPServerRequest, ResponseWriter) -> HandlerFuture>,
    /// Graceful shutdown in progress: finish in-flight requests, accept no new ones. Shared with
    /// every connection's response state.
    pub(crate) draining: Rc<Draining>,
    /// Live connections.
    pub(crate) connections: RefCell<Slab<Rc<ConnectionHandle>>>,
    /// Counts connections going idle, to order them by idle time (`ConnectionHandle::idle_since`).
    idle_counter: Cell<u64>,
    /// Set when the last connection goes away (what `shutdown` and `connections_closed`
    /// wait for; they clear it first).
    pub(crate) drained: Event,
}

impl ServerShared {
    /// The shared state of a new server, with no connection yet.
    pub(crate) fn new(
        options: HTTPServerOptions,
        context: RequestContext,
        handler: Box<dyn Fn(HTTPServerRequest, ResponseWriter) -> HandlerFuture>,
    ) -> Self {
        Self {
            options,
            context,
            handler,
            draining: Rc::default(),
            connections: RefCell::new(Slab::new()),
            idle_counter: Cell::new(0),
            drained: Event::new(),
        }
    }

    pub(crate) fn register(&self, handle: Rc<ConnectionHandle>) -> usize {
        self.connections.borrow_mut().insert(handle)
    }

    /// The live connections, outside the registry's borrow (closing one unregisters it).
    pub(crate) fn live_connections(&self) -> Vec<Rc<ConnectionHandle>> {
        self.connections
            .borrow()
            .iter()
            .map(|(_, handle)| Rc::clone(handle))
            .collect()
    }

    /// The next number in the idle order: larger means went idle later.
    pub(crate) fn idle_sequence(&self) -> u64 {
        let n = self.idle_counter.get().wrapping_add(1);
        self.idle_counter.set(n);
        n
    }

    /// At `max_connections`, closes the keep-alive connection that has been idle longest
    /// (never `newcomer`, nor one with a request already buffered, nor one accepted less than
    /// `first_request_grace` ago that has not sent its first request yet: its client is
    /// sending it), so that the accept loop,
    /// paused at the cap, takes the next client instead of leaving it in the backlog until an
    /// idle timeout (nginx reuses idle keep-alive connections the same way).
    pub(crate) fn make_room(&self, newcomer: usize) {
        let connections = self.connections.borrow();
        if connections.len() < self.options.max_connections.max(1) {
            return;
        }
        let oldest = connections
            .iter()
            .filter(|&(key, handle)| {
                key != newcomer
                    && handle.idle.get()
                    && handle.stream.read_buffer().is_empty()
                    && (handle.served.get()
                        || handle.accepted.elapsed() >= self.options.first_request_grace)
            })
            .min_by_key(|(_, handle)| handle.idle_since.get())
            .map(|(_, handle)| Rc::clone(handle));
        drop(connections);
        if let Some(handle) = oldest {
            tracing::debug!(target: "typhoon::general", max = self.options.max_connections, "at max_connections: closing the connection idle longest");
            handle.stream.close();
        }
    }

    pub(crate) fn unregister(&self, key: usize) {
        let removed = self.connections.borrow_mut().try_remove(key);
        drop(removed);
        if self.connections.borrow().is_empty() {
            self.drained.set();
        }
    }
}

/// A connection's place in the server's registry, held for exactly as long as the connection
/// task runs: however the task ends (a normal return, an early one, or a panic that unwinds
/// through it), dropping the guard closes the socket and unregisters the connection, so no
/// path can leave an fd open or a registry entry behind.
pub(crate) struct Registration {
    /// The server whose registry holds the connection.
    pub(crate) server: Rc<ServerShared>,
    /// The connection's key in that registry.
    pub(crate) key: usize,
    /// The connection's stream, closed on drop if it is still open.
    pub(crate) stream: Rc<IOStream>,
}

impl Registration {
    /// Registers the connection of `handle` with `server`, and makes room for it at
    /// `max_connections`.
    pub(crate) fn new(server: Rc<ServerShared>, handle: &Rc<ConnectionHandle>) -> Self {
        let registration = Self {
            key: server.register(Rc::clone(handle)),
            stream: Rc::clone(&handle.stream),
            server,
        };
        registration.server.make_room(registration.key);
        registration
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.stream.closed() {
            self.stream.close();
        }
        self.server.unregister(self.key);
    }
}
