//! `TCPServer`: accept connections and hand each to an async handler (Tornado's
//! `tornado.tcpserver`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixListener;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::IOLoop;

use crate::netutil::{
    AcceptHandle, AcceptedSocket, BindOptions, ConnectionLimit, Listener, PeerAddr,
    add_accept_handler_with_limit, bind_sockets,
};
use crate::stream::{IOStream, StreamOptions};

/// The boxed future of a connection handler.
type HandlerFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A non-blocking TCP (and Unix-socket, and TLS) server: each accepted connection becomes an
/// [`IOStream`] handed to `handle_stream` in a task of its own.
///
/// The three patterns of Tornado's `TCPServer` docstring map to: [`listen`](Self::listen)
/// (one loop), [`add_sockets`](Self::add_sockets) with [`bind_sockets`] (sockets made
/// elsewhere), and [`start_loops`](crate::start_loops) (n loops in n threads sharing a port
/// with `SO_REUSEPORT`, Typhoon's answer to Tornado's pre-fork `start(n)`).
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use typhoon_ioloop::IOLoop;
/// use typhoon_iostream::TCPServer;
///
/// let ioloop = IOLoop::new();
/// ioloop.make_current();
/// let server = TCPServer::new(|stream, _peer| async move {
///     if let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
///         let _ = stream.write(&line).await;
///     }
/// });
/// let addr = server.listen(0, Some("127.0.0.1"))?[0];
/// // The blocking client runs on the loop's executor pool; the loop serves meanwhile.
/// let client = ioloop.run_in_executor(move || {
///     let mut socket = std::net::TcpStream::connect(addr).unwrap();
///     socket.write_all(b"echo me\n").unwrap();
///     let mut answer = String::new();
///     socket.read_to_string(&mut answer).unwrap();
///     answer
/// });
/// assert_eq!(ioloop.run_sync(client).unwrap(), "echo me\n");
/// server.stop();
/// # IOLoop::clear_current();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct TCPServer {
    /// Shared with the accept callbacks.
    inner: Rc<ServerInner>,
}

/// The state of a server.
struct ServerInner {
    /// The user's per-connection handler (Tornado's `handle_stream`).
    handle_stream: Box<dyn Fn(IOStream, PeerAddr) -> HandlerFuture>,
    /// Limits given to every stream.
    options: RefCell<StreamOptions>,
    /// TLS configuration: connections are handshaken before the handler sees them.
    #[cfg(feature = "tls")]
    tls: RefCell<Option<std::sync::Arc<rustls::ServerConfig>>>,
    /// The longest a TLS handshake may take (default 30 s): a client that sends nothing is
    /// dropped then, without affecting anyone else.
    handshake_timeout: Cell<Duration>,
    /// The running accept loops.
    acceptors: RefCell<Vec<AcceptHandle>>,
    /// The cap on connections at once, shared by every listener (none by default).
    limit: RefCell<Option<Rc<ConnectionLimit>>>,
}

impl TCPServer {
    /// A server that runs `handle_stream(stream, peer)` for every connection.
    pub fn new<F, Fut>(handle_stream: F) -> Self
    where
        F: Fn(IOStream, PeerAddr) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Self {
            inner: Rc::new(ServerInner {
                handle_stream: Box::new(move |stream, peer| Box::pin(handle_stream(stream, peer))),
                options: RefCell::new(StreamOptions::default()),
                #[cfg(feature = "tls")]
                tls: RefCell::new(None),
                handshake_timeout: Cell::new(Duration::from_secs(30)),
                acceptors: RefCell::new(Vec::new()),
                limit: RefCell::new(None),
            }),
        }
    }

    /// Sets the limits of the streams it creates.
    pub fn stream_options(self, options: StreamOptions) -> Self {
        *self.inner.options.borrow_mut() = options;
        self
    }

    /// Serves TLS with `config` (Tornado's `ssl_options`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(self, config: std::sync::Arc<rustls::ServerConfig>) -> Self {
        *self.inner.tls.borrow_mut() = Some(config);
        self
    }

    /// Sets the TLS handshake deadline (default 30 s).
    pub fn handshake_timeout(self, timeout: Duration) -> Self {
        self.inner.handshake_timeout.set(timeout);
        self
    }

    /// Holds at most `max` connections at once (nginx's `worker_connections`; default: no
    /// cap): at the cap the server stops accepting, and the kernel's backlog holds the clients
    /// that come meanwhile until a connection ends. Applies to listeners added after it.
    pub fn max_connections(self, max: usize) -> Self {
        *self.inner.limit.borrow_mut() = (max != usize::MAX).then(|| ConnectionLimit::new(max));
        self
    }

    /// How many connections are open (TLS handshakes included), if a cap is set.
    pub fn live_connections(&self) -> Option<usize> {
        self.inner.limit.borrow().as_ref().map(|limit| limit.live())
    }

    /// Binds `port` on `address` (all interfaces if `None`) and starts accepting on the current
    /// loop. Returns the bound addresses (with the chosen port if `port` was 0).
    ///
    /// # Errors
    ///
    /// If binding fails.
    pub fn listen(&self, port: u16, address: Option<&str>) -> io::Result<Vec<SocketAddr>> {
        let sockets = bind_sockets(port, address, &BindOptions::default())?;
        let addrs = sockets
            .iter()
            .map(TcpListener::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        self.add_sockets(sockets)?;
        Ok(addrs)
    }

    /// Starts accepting on already bound sockets (from [`bind_sockets`]).
    ///
    /// # Errors
    ///
    /// If a socket cannot be registered.
    pub fn add_sockets(&self, sockets: Vec<TcpListener>) -> io::Result<()> {
        for socket in sockets {
            self.add_listener(socket.into())?;
        }
        Ok(())
    }

    /// Starts accepting on a Unix-domain listener (from
    /// [`bind_unix_socket`](crate::netutil::bind_unix_socket)).
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    pub fn add_unix_socket(&self, socket: UnixListener) -> io::Result<()> {
        self.add_listener(socket.into())
    }

    fn add_listener(&self, listener: Listener) -> io::Result<()> {
        let inner = Rc::downgrade(&self.inner);
        let limit = self.inner.limit.borrow().clone();
        let handle = add_accept_handler_with_limit(listener, limit, move |socket, peer| {
            if let Some(inner) = inner.upgrade() {
                ServerInner::accept(&inner, socket, peer);
            }
        })?;
        self.inner.acceptors.borrow_mut().push(handle);
        Ok(())
    }

    /// Duplicates (`dup(2)`) of the TCP sockets this server accepts on: the same listening
    /// sockets, which stay open and keep queueing connections after [`stop`](Self::stop)
    /// closes the server's own descriptors. A reload passes them to the next process
    /// (`typhoon-autoreload`).
    ///
    /// # Errors
    ///
    /// If `dup` fails (out of descriptors).
    pub fn listening_sockets(&self) -> io::Result<Vec<TcpListener>> {
        self.inner
            .acceptors
            .borrow()
            .iter()
            .filter_map(AcceptHandle::try_clone_listener)
            .collect()
    }

    /// Stops accepting and closes the listening sockets. Connections already accepted keep
    /// running.
    pub fn stop(&self) {
        let acceptors: Vec<AcceptHandle> = self.inner.acceptors.borrow_mut().drain(..).collect();
        for acceptor in acceptors {
            acceptor.stop();
        }
    }
}

impl ServerInner {
    fn accept(this: &Rc<Self>, socket: AcceptedSocket, peer: PeerAddr) {
        // Taken before anything can fail, so the count never drifts; the connection's task
        // holds it and gives it back when it ends, however it ends.
        let slot = this.limit.borrow().as_ref().map(ConnectionLimit::acquire);
        let stream = match socket.into_stream(this.options.borrow().clone()) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::info!(target: "typhoon::general", %peer, %error, "could not register connection");
                return;
            }
        };
        #[cfg(feature = "tls")]
        if let Some(config) = this.tls.borrow().clone() {
            let server = Rc::clone(this);
            let deadline = this.handshake_timeout.get();
            IOLoop::current()
                .spawn(async move {
                    let _slot = slot;
                    // Boxed: the handshake's state is large and only TLS connections need it.
                    let handshake =
                        Box::pin(typhoon_ioloop::timeout(deadline, stream.start_tls_server(config)));
                    match handshake.await {
                        Ok(Ok(stream)) => (server.handle_stream)(stream, peer).await,
                        Ok(Err(error)) => {
                            tracing::info!(target: "typhoon::general", %peer, %error, "TLS handshake failed");
                        }
                        Err(_) => {
                            tracing::info!(target: "typhoon::general", %peer, "TLS handshake timed out");
                        }
                    }
                })
                .detach();
            return;
        }
        // Plain connections: the task is the handler's own (boxed) future, nothing around it,
        // so an idle connection's task holds no copy of the stream or of TLS state.
        let connection = (this.handle_stream)(stream, peer);
        match slot {
            Some(slot) => IOLoop::current()
                .spawn(async move {
                    let _slot = slot;
                    connection.await;
                })
                .detach(),
            None => IOLoop::current().spawn(connection).detach(),
        }
    }
}

impl fmt::Debug for TCPServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TCPServer")
            .field("listeners", &self.inner.acceptors.borrow().len())
            .finish()
    }
}
