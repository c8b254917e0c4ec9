//! `HTTPServer`: a `TCPServer` whose connections speak HTTP/1.1.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slab::Slab;
use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{IOLoop, timeout_at};
use typhoon_iostream::{MultiLoopServer, StreamOptions, TCPServer};

use crate::connection::{self, ConnectionHandle};
use crate::request::{HTTPServerRequest, RequestContext};
use crate::response::ResponseWriter;
use typhoon_httputil::h1::Limits;

/// The boxed future of a request handler.
pub type HandlerFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Decides per request whether its body is streamed to the handler (through
/// [`HTTPServerRequest::body_reader`]) instead of read first.
pub type StreamBodyPredicate = Rc<dyn Fn(&HTTPServerRequest) -> bool>;

/// Every setting of an [`HTTPServer`], each limit with the default of `shared/HTTP-LIMITS.md`
/// (Tornado's keyword arguments to `HTTPServer`).
#[derive(Clone)]
pub struct HTTPServerOptions {
    /// Head size, header count, URI length, body size and chunk limits.
    pub limits: Limits,
    /// How long a connection may wait for the first byte of a request, the first one included
    /// (default 60 s). Then it closes silently.
    pub idle_connection_timeout: Duration,
    /// The absolute deadline for a whole request head from its first byte (default 30 s,
    /// against slowloris). Then the connection closes silently.
    pub header_timeout: Duration,
    /// The longest pause between body bytes (default 60 s); then 408 and close.
    pub body_inactivity_timeout: Duration,
    /// A limit on the whole body's arrival (Tornado's `body_timeout`), off by default.
    pub body_timeout: Option<Duration>,
    /// How long a response may wait with no byte reaching the client's socket (a client that
    /// stopped reading); then the connection closes (default 60 s). As nginx's `send_timeout`
    /// it runs between two successive writes, not over the whole response, so a slow download
    /// that keeps moving is never cut. It covers every write: the server's own, a handler's
    /// `flush`, and `send_file`.
    pub send_timeout: Duration,
    /// The most connections this server holds at once, per loop (default 10,000, the role of
    /// nginx's `worker_connections`). Reaching the cap closes the keep-alive connection idle
    /// longest, to make room; while every connection is busy, the server stops accepting, the
    /// kernel's backlog holds the clients that come meanwhile, and it accepts again once a
    /// connection ends. `usize::MAX` means no cap; 0 is taken as 1 (a server that never accepts
    /// would be a setting that silently does nothing). With several listeners (IPv4 and IPv6)
    /// the cap can be passed by one connection per extra listener, accepted at the same time.
    pub max_connections: usize,
    /// The longest a TLS handshake may take (default 10 s); a client that has not finished it
    /// by then is dropped. Only TLS connections have one.
    pub tls_handshake_timeout: Duration,
    /// The most response bytes a connection queues past what the kernel took before it stops
    /// to wait for the client (default 1 MiB). Responses to pipelined requests are batched into
    /// one write up to this; past it the connection sends them and reads no further request
    /// until the client has taken them, so a client that pipelines without reading holds at
    /// most this much of the server's memory. A handler's
    /// [`flush`](crate::ResponseWriter::flush) and `send_file` always wait for the client;
    /// what a handler [`write`](crate::ResponseWriter::write)s without flushing stays in its own
    /// response buffer (as in Tornado) until it finishes or flushes.
    pub max_output_buffer: usize,
    /// Close every connection after one response.
    pub no_keep_alive: bool,
    /// Behind a proxy: take the client's address and scheme from `X-Real-Ip`,
    /// `X-Forwarded-For`, `X-Scheme`, `X-Forwarded-Proto` (invalid values are ignored).
    pub xheaders: bool,
    /// Proxies whose addresses `X-Forwarded-For` skips (with `xheaders`).
    pub trusted_downstream: Vec<IpAddr>,
    /// Inflate `Content-Encoding: gzip` request bodies (Tornado's `decompress_request`),
    /// buffered and streamed alike, as they arrive and in bounded steps; the inflated size is
    /// held to `max_body_size` (a zip bomb gets 413) and a corrupt stream gets 400. The handler
    /// sees `X-Consumed-Content-Encoding: gzip` instead of `Content-Encoding`.
    ///
    /// Only with the feature `gzip`: the field exists without it so that settings read the same
    /// whatever the features, but then it does nothing (and the server says so with a warning
    /// when it is set).
    pub decompress_request: bool,
    /// Stream the bodies of the requests this predicate selects (Tornado's
    /// `@stream_request_body`); others are read whole first.
    pub stream_request_body: Option<StreamBodyPredicate>,
    /// TLS: connections are handshaken first, and requests say `protocol == "https"`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

impl Default for HTTPServerOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            idle_connection_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(30),
            body_inactivity_timeout: Duration::from_secs(60),
            body_timeout: None,
            send_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            tls_handshake_timeout: Duration::from_secs(10),
            max_output_buffer: 1024 * 1024,
            no_keep_alive: false,
            xheaders: false,
            trusted_downstream: Vec::new(),
            decompress_request: false,
            stream_request_body: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl fmt::Debug for HTTPServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPServerOptions")
            .field("limits", &self.limits)
            .field("idle_connection_timeout", &self.idle_connection_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("body_inactivity_timeout", &self.body_inactivity_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("max_connections", &self.max_connections)
            .field("tls_handshake_timeout", &self.tls_handshake_timeout)
            .field("max_output_buffer", &self.max_output_buffer)
            .field("no_keep_alive", &self.no_keep_alive)
            .field("xheaders", &self.xheaders)
            .field("decompress_request", &self.decompress_request)
            .finish_non_exhaustive()
    }
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
    pub(crate) draining: Rc<Cell<bool>>,
    /// Live connections.
    connections: RefCell<Slab<Rc<ConnectionHandle>>>,
    /// Counts connections going idle, to order them by idle time (`ConnectionHandle::idle_since`).
    idle_counter: Cell<u64>,
    /// Set when the last connection goes away (what `shutdown` and `connections_closed`
    /// wait for; they clear it first).
    drained: Event,
}

impl ServerShared {
    pub(crate) fn register(&self, handle: Rc<ConnectionHandle>) -> usize {
        self.connections.borrow_mut().insert(handle)
    }

    /// The live connections, outside the registry's borrow (closing one unregisters it).
    fn live_connections(&self) -> Vec<Rc<ConnectionHandle>> {
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
    /// (never `newcomer`, nor one with a request already buffered), so that the accept loop,
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
                key != newcomer && handle.idle.get() && handle.stream.read_buffer().is_empty()
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

/// An HTTP/1.1 server (Tornado's `HTTPServer`): each request goes to `handler` with a
/// [`ResponseWriter`].
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use typhoon_httpserver::HTTPServer;
/// use typhoon_ioloop::IOLoop;
///
/// let ioloop = IOLoop::new();
/// ioloop.make_current();
/// let server = HTTPServer::new(|request, mut response| async move {
///     response.set_header("Content-Type", "text/plain").unwrap();
///     response.write(format!("Hello, {}", request.path()).as_bytes());
/// });
/// let addr = server.listen(0, Some("127.0.0.1"))?[0];
/// // The blocking client runs on the loop's executor pool; the loop serves meanwhile.
/// let client = ioloop.run_in_executor(move || {
///     let mut socket = std::net::TcpStream::connect(addr).unwrap();
///     socket.write_all(b"GET /world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
///     let mut answer = String::new();
///     socket.read_to_string(&mut answer).unwrap();
///     answer
/// });
/// let answer = ioloop.run_sync(client).unwrap();
/// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(answer.ends_with("\r\n\r\nHello, /world"));
/// # IOLoop::clear_current();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct HTTPServer {
    /// Shared with the connections.
    shared: Rc<ServerShared>,
    /// Accepts the connections.
    tcp: TCPServer,
}

impl HTTPServer {
    /// A server with the default options.
    pub fn new<F, Fut>(handler: F) -> Self
    where
        F: Fn(HTTPServerRequest, ResponseWriter) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Self::with_options(handler, HTTPServerOptions::default())
    }

    /// A server with `options`.
    pub fn with_options<F, Fut>(handler: F, options: HTTPServerOptions) -> Self
    where
        F: Fn(HTTPServerRequest, ResponseWriter) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        #[cfg(not(feature = "gzip"))]
        if options.decompress_request {
            tracing::warn!(
                target: "typhoon::general",
                "decompress_request is set but typhoon-httpserver was built without the gzip feature: request bodies are not inflated"
            );
        }
        #[cfg(feature = "tls")]
        let protocol = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        #[cfg(not(feature = "tls"))]
        let protocol = "http";
        let context = RequestContext {
            xheaders: options.xheaders,
            trusted_downstream: Rc::new(options.trusted_downstream.clone()),
            protocol,
        };
        let stream_options = StreamOptions {
            // A head, or a chunk of body, is what the buffer ever needs to hold at once.
            max_buffer_size: options
                .limits
                .max_header_size
                .max(1024 * 1024)
                .saturating_mul(2),
            write_timeout: Some(options.send_timeout),
            ..StreamOptions::default()
        };
        #[cfg(feature = "tls")]
        let tls = options.tls.clone();
        let shared = Rc::new(ServerShared {
            options,
            context,
            handler: Box::new(move |request, writer| Box::pin(handler(request, writer))),
            draining: Rc::new(Cell::new(false)),
            connections: RefCell::new(Slab::new()),
            idle_counter: Cell::new(0),
            drained: Event::new(),
        });
        let for_connections = Rc::clone(&shared);
        let tcp = TCPServer::new(move |stream, peer| {
            // The stream goes into an Rc here, outside the connection's future, so the future
            // does not keep a by-value copy of it for its whole life.
            let stream = Rc::new(stream);
            let shared = Rc::clone(&for_connections);
            async move {
                if shared.draining.get() {
                    stream.close();
                    return;
                }
                connection::serve(stream, peer, shared).await;
            }
        })
        .with_stream_options(stream_options)
        .with_max_connections(shared.options.max_connections)
        .with_handshake_timeout(shared.options.tls_handshake_timeout);
        #[cfg(feature = "tls")]
        let tcp = match tls {
            Some(config) => tcp.with_tls(config),
            None => tcp,
        };
        Self { shared, tcp }
    }

    /// The server's options.
    pub fn options(&self) -> &HTTPServerOptions {
        &self.shared.options
    }

    /// Binds `port` on `address` (all interfaces if `None`) and serves on the current loop.
    /// Returns the bound addresses.
    ///
    /// # Errors
    ///
    /// If binding fails.
    pub fn listen(&self, port: u16, address: Option<&str>) -> io::Result<Vec<SocketAddr>> {
        self.tcp.listen(port, address)
    }

    /// Serves on sockets bound elsewhere (`typhoon_iostream::netutil::bind_sockets`).
    ///
    /// # Errors
    ///
    /// If a socket cannot be registered.
    pub fn add_sockets(&self, sockets: Vec<TcpListener>) -> io::Result<()> {
        self.tcp.add_sockets(sockets)
    }

    /// The underlying `TCPServer`.
    pub fn tcp_server(&self) -> &TCPServer {
        &self.tcp
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        self.shared.connections.borrow().len()
    }

    /// Waits until no connection is open (at once if none is): after a burst of clients, or
    /// between [`stop`](Self::stop) and a shutdown of your own. A TLS connection counts from the
    /// end of its handshake, as in [`connection_count`](Self::connection_count).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits.
    pub async fn connections_closed(&self) {
        while !self.shared.connections.borrow().is_empty() {
            self.shared.drained.clear();
            self.shared.drained.wait().await;
        }
    }

    /// Stops accepting (Tornado's `stop`); open connections go on.
    pub fn stop(&self) {
        self.tcp.stop();
    }

    /// Graceful shutdown: stops accepting, closes idle keep-alive connections at once, lets
    /// in-flight requests finish (their connections close after the response) until `grace`
    /// has passed, then closes whatever is left. Returns how many connections had to be cut.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it stops the waiting; the server stays in draining mode.
    pub async fn shutdown(&self, grace: Duration) -> usize {
        self.stop();
        self.shared.draining.set(true);
        let deadline = typhoon_ioloop::deadline_after(Instant::now(), grace);
        for handle in self.shared.live_connections() {
            if handle.idle.get() && handle.stream.read_buffer().is_empty() {
                handle.stream.close();
            }
        }
        if self.shared.connections.borrow().is_empty() {
            return 0;
        }
        self.shared.drained.clear();
        if timeout_at(deadline, self.shared.drained.wait())
            .await
            .is_ok()
        {
            return 0;
        }
        let rest = self.shared.live_connections();
        for handle in &rest {
            handle.stream.close();
        }
        rest.len()
    }
}

impl fmt::Debug for HTTPServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPServer")
            .field("options", &self.shared.options)
            .field("connections", &self.connection_count())
            .finish()
    }
}

thread_local! {
    /// The HTTP server a [`start_loops`] thread runs, for its graceful shutdown.
    static LOOP_SERVER: RefCell<Option<HTTPServer>> =
        const { RefCell::new(None) };
}

/// Serves HTTP on `n` loops in `n` threads sharing `address:port` with `SO_REUSEPORT`, each
/// with its own server built by `factory` (so handlers and applications need not be `Send`):
/// Typhoon's answer to Tornado's multi-process mode, in one process.
///
/// # Errors
///
/// If binding fails or a thread cannot start.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_httpserver::{HTTPServer, start_loops};
///
/// let loops = start_loops(2, 0, "127.0.0.1", || {
///     HTTPServer::new(|_request, mut response| async move { response.write(b"Hello") })
/// })?;
/// assert_eq!(loops.loops(), 2);
/// // Stop accepting, finish what is in flight (at most 10 s), then end the threads.
/// let cut = loops.shutdown(Duration::from_secs(10));
/// assert_eq!(cut, 0, "nothing was in flight");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn start_loops<F>(n: usize, port: u16, address: &str, factory: F) -> io::Result<HTTPLoops>
where
    F: Fn() -> HTTPServer + Send + Sync + 'static,
{
    let loops = typhoon_iostream::start_loops(n, port, address, move || {
        let server = factory();
        LOOP_SERVER.with(|slot| *slot.borrow_mut() = Some(server.clone()));
        server.tcp
    })?;
    Ok(HTTPLoops { loops })
}

/// HTTP servers on several loops sharing one port, from [`start_loops`].
#[derive(Debug)]
pub struct HTTPLoops {
    /// The loops and their threads.
    loops: MultiLoopServer,
}

impl HTTPLoops {
    /// The address every loop listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.loops.local_addr()
    }

    /// How many loops serve.
    pub fn loops(&self) -> usize {
        self.loops.loops()
    }

    /// Stops every loop at once (requests in flight are cut) and waits for the threads.
    pub fn stop(self) {
        self.loops.stop();
    }

    /// Graceful shutdown of every loop at once, as [`HTTPServer::shutdown`] does for one: no
    /// new connections, idle ones closed, requests in flight finished until `grace` has
    /// passed; then each loop stops and this waits for the threads. Returns how many
    /// connections had to be cut, over all loops.
    pub fn shutdown(self, grace: Duration) -> usize {
        let (tx, rx) = std::sync::mpsc::channel::<usize>();
        for handle in self.loops.loop_handles() {
            let tx = tx.clone();
            // A loop that already ended drops the callback, and with it its sender.
            handle.add_callback(move || {
                /// Stops the loop however the shutdown task ends (a panic included), so that
                /// the join below always returns.
                struct StopLoopOnDrop(IOLoop);
                impl Drop for StopLoopOnDrop {
                    fn drop(&mut self) {
                        self.0.stop();
                    }
                }
                let ioloop = IOLoop::current();
                let stop = StopLoopOnDrop(ioloop.clone());
                ioloop
                    .spawn(async move {
                        let _stop = stop;
                        let server = LOOP_SERVER.with(|slot| slot.borrow().clone());
                        let cut = match server {
                            Some(server) => server.shutdown(grace).await,
                            None => 0,
                        };
                        let _ = tx.send(cut);
                    })
                    .detach();
            });
        }
        drop(tx);
        let cut = rx.iter().sum();
        self.loops.join();
        cut
    }
}
