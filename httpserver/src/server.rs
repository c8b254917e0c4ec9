//! `HTTPServer`: a `TCPServer` whose connections speak HTTP/1.1.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_ioloop::timeout_at;
use typhoon_iostream::{LoopServer, StreamOptions, TCPServer};

use crate::connection;
use crate::options::HTTPServerOptions;
use crate::request::{HTTPServerRequest, RequestContext};
use crate::response::ResponseWriter;
use crate::shared::ServerShared;

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
        let shared = Rc::new(ServerShared::new(
            options,
            context,
            Box::new(move |request, writer| Box::pin(handler(request, writer))),
        ));
        let for_connections = Rc::clone(&shared);
        let tcp = TCPServer::new(move |stream, peer| {
            // The stream goes into an Rc here, outside the connection's future, so the future
            // does not keep a by-value copy of it for its whole life.
            connection::serve(Rc::new(stream), peer, Rc::clone(&for_connections))
        })
        .stream_options(stream_options)
        .max_connections(shared.options.max_connections)
        .handshake_timeout(shared.options.tls_handshake_timeout);
        #[cfg(feature = "tls")]
        let tcp = match tls {
            Some(config) => tcp.tls(config),
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
    /// A connection accepted but still without its first request is not idle at once: its
    /// client has just connected and is likely sending, so a first request arriving within
    /// [`first_request_grace`](HTTPServerOptions::first_request_grace) (1 s; and the grace) is
    /// answered too; a connection silent that long is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it stops the waiting; the server stays in draining mode.
    pub async fn shutdown(&self, grace: Duration) -> usize {
        self.stop();
        self.shared.draining.start();
        let now = Instant::now();
        let deadline = typhoon_ioloop::deadline_after(now, grace);
        for handle in self.shared.live_connections() {
            if handle.idle.get() && handle.served.get() && handle.stream.read_buffer().is_empty() {
                handle.stream.close();
            }
        }
        // New connections get a moment to send their first request; then those still silent
        // are closed like idle ones, and the rest of the grace is for requests in flight.
        let first_requests =
            typhoon_ioloop::deadline_after(now, self.shared.options.first_request_grace)
                .min(deadline);
        for wait_until in [first_requests, deadline] {
            self.shared.drained.clear();
            if self.shared.connections.borrow().is_empty() {
                return 0;
            }
            if timeout_at(wait_until, self.shared.drained.wait())
                .await
                .is_ok()
            {
                return 0;
            }
            for handle in self.shared.live_connections() {
                if handle.idle.get() && handle.stream.read_buffer().is_empty() {
                    handle.stream.close();
                }
            }
        }
        let rest = self.shared.live_connections();
        for handle in &rest {
            handle.stream.close();
        }
        rest.len()
    }
}

/// Two handles are equal when they are the same server (clones of one another).
impl PartialEq for HTTPServer {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Eq for HTTPServer {}

impl fmt::Debug for HTTPServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPServer")
            .field("options", &self.shared.options)
            .field("connections", &self.connection_count())
            .finish()
    }
}

/// An `HTTPServer` is a per-loop value for [`typhoon_iostream::start_loops`]: a factory
/// returning one serves HTTP on `n` loops sharing a port (Typhoon's answer to Tornado's
/// multi-process mode, in one process), and the returned
/// [`MultiLoopServer<HTTPServer>`](typhoon_iostream::MultiLoopServer)'s
/// [`shutdown`](typhoon_iostream::MultiLoopServer::shutdown) runs [`HTTPServer::shutdown`] on
/// every loop, summing the connections cut.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_httpserver::HTTPServer;
/// use typhoon_iostream::start_loops;
///
/// let loops = start_loops(2, 0, "127.0.0.1", || {
///     HTTPServer::new(|_request, mut response| async move { response.write(b"Hello") })
/// })?;
/// assert_eq!(loops.loops(), 2);
/// // Each loop's server, reached on its own loop.
/// let (tx, rx) = std::sync::mpsc::channel();
/// loops.on_each_loop(move |server: &HTTPServer| {
///     let _ = tx.send(server.connection_count());
/// });
/// assert_eq!(rx.iter().collect::<Vec<usize>>(), [0, 0], "both loops, no connection yet");
/// // Stop accepting, finish what is in flight (at most 10 s), then end the threads.
/// let cut = loops.shutdown(Duration::from_secs(10));
/// assert_eq!(cut, 0, "nothing was in flight");
/// # Ok::<(), std::io::Error>(())
/// ```
impl LoopServer for HTTPServer {
    fn tcp_server(&self) -> &TCPServer {
        &self.tcp
    }

    fn shutdown(&self, grace: Duration) -> impl Future<Output = usize> {
        HTTPServer::shutdown(self, grace)
    }
}
