//! Listening sockets and the accept loop (Tornado's `tornado.netutil`).

use std::cell::Cell;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use typhoon_ioloop::locks::Event;
use typhoon_ioloop::{Async, CancelOnDrop, IOLoop, panic_message, sleep};

use crate::stream::{IOStream, StreamOptions};
use crate::transport::Transport;

/// The listen backlog by default: 1024, as tokio's and mio's listeners use (Tornado's 128 drops
/// SYNs when thousands of clients connect at once while the loop is busy, and each dropped SYN
/// costs its client a one-second retransmission). The kernel caps it at `net.core.somaxconn`.
pub const DEFAULT_BACKLOG: i32 = 1024;

/// Which address family to bind (Tornado's `family`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressFamily {
    /// Every family the address resolves to (IPv4 and IPv6 for "all interfaces").
    #[default]
    Unspecified,
    /// IPv4 only.
    Ipv4,
    /// IPv6 only.
    Ipv6,
}

impl AddressFamily {
    fn allows(self, ip: &IpAddr) -> bool {
        match self {
            AddressFamily::Unspecified => true,
            AddressFamily::Ipv4 => ip.is_ipv4(),
            AddressFamily::Ipv6 => ip.is_ipv6(),
        }
    }
}

/// Options of [`bind_sockets`] (Tornado's keyword arguments).
#[derive(Clone, Debug)]
pub struct BindOptions {
    /// Address family.
    pub family: AddressFamily,
    /// Listen backlog (default [`DEFAULT_BACKLOG`], 1024).
    pub backlog: i32,
    /// Set `SO_REUSEPORT`, so several sockets (one per loop or process) share the port.
    pub reuse_port: bool,
}

impl Default for BindOptions {
    fn default() -> Self {
        Self {
            family: AddressFamily::Unspecified,
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
        }
    }
}

/// Creates listening sockets bound to `port` on `address` (all interfaces if `None`, both IPv4
/// and IPv6 unless `family` says otherwise; IPv6 sockets are `IPV6_V6ONLY` so both can
/// coexist). With port 0 the first socket gets a free port and the others reuse it. Sockets
/// are non-blocking, close-on-exec and `SO_REUSEADDR`.
///
/// Sockets this process inherited for that port and address (systemd's socket activation,
/// systemfd, or an autoreload's re-exec; see [`typhoon_ioloop::take_inherited_listeners`]) are
/// returned instead of new ones: the same listening socket, with the connections already
/// waiting in its backlog.
///
/// # Errors
///
/// If the address does not resolve or a socket cannot be bound (an IPv6 "all interfaces"
/// socket that fails because the host has no IPv6 is skipped when IPv4 succeeded).
///
/// # Examples
///
/// ```
/// use typhoon_iostream::netutil::{BindOptions, bind_sockets};
///
/// let sockets = bind_sockets(0, Some("127.0.0.1"), &BindOptions::default())?;
/// assert_ne!(sockets[0].local_addr()?.port(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn bind_sockets(
    port: u16,
    address: Option<&str>,
    options: &BindOptions,
) -> io::Result<Vec<TcpListener>> {
    let ips = resolve_bind_address(address, options.family)?;
    let inherited = crate::inherited::take_matching(port, &ips)?;
    if !inherited.is_empty() {
        return Ok(inherited);
    }
    let mut port = port;
    let mut sockets = Vec::with_capacity(ips.len());
    let mut last_error = None;
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        match bind_one(addr, options) {
            Ok(listener) => {
                if port == 0 {
                    port = listener.local_addr()?.port();
                }
                sockets.push(listener);
            }
            // No IPv6 on this host: fine if IPv4 works (Tornado does the same).
            Err(error) if address.is_none() && ip.is_ipv6() => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    if sockets.is_empty() {
        return Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to bind")
        }));
    }
    Ok(sockets)
}

fn resolve_bind_address(address: Option<&str>, family: AddressFamily) -> io::Result<Vec<IpAddr>> {
    let mut ips: Vec<IpAddr> = match address {
        None | Some("") => vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ],
        Some(host) => match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => (host, 0).to_socket_addrs()?.map(|addr| addr.ip()).collect(),
        },
    };
    ips.retain(|ip| family.allows(ip));
    let mut seen = Vec::with_capacity(ips.len());
    ips.retain(|ip| {
        let new = !seen.contains(ip);
        seen.push(*ip);
        new
    });
    if ips.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{address:?} has no address of family {family:?}"),
        ));
    }
    Ok(ips)
}

fn bind_one(addr: SocketAddr, options: &BindOptions) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if options.reuse_port {
        socket.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(options.backlog)?;
    Ok(socket.into())
}

pub use crate::inherited::inherited_listeners;

/// Creates a listening Unix-domain socket at `path` with mode 0600 (Tornado's default). A stale
/// socket file left at `path` is removed first.
///
/// # Errors
///
/// If `path` exists and is not a socket (`AlreadyExists`), or binding fails.
pub fn bind_unix_socket(path: impl AsRef<Path>, backlog: i32) -> io::Result<UnixListener> {
    let path = path.as_ref();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&socket2::SockAddr::unix(path)?)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    socket.listen(backlog)?;
    Ok(UnixListener::from(OwnedFd::from(socket)))
}

/// A listening socket for [`add_accept_handler`].
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix domain.
    Unix(UnixListener),
}

impl From<TcpListener> for Listener {
    fn from(listener: TcpListener) -> Self {
        Listener::Tcp(listener)
    }
}

impl From<UnixListener> for Listener {
    fn from(listener: UnixListener) -> Self {
        Listener::Unix(listener)
    }
}

/// The address of an accepted peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerAddr {
    /// An IP peer.
    Inet(SocketAddr),
    /// A Unix-domain peer (unnamed, as accepted sockets are).
    Unix,
}

impl PeerAddr {
    /// The IP address, for IP peers.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            PeerAddr::Inet(addr) => Some(addr.ip()),
            PeerAddr::Unix => None,
        }
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Inet(addr) => write!(f, "{addr}"),
            PeerAddr::Unix => f.write_str("unix"),
        }
    }
}

/// A connection accepted by [`add_accept_handler`]: already non-blocking and close-on-exec.
#[derive(Debug)]
pub enum AcceptedSocket {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix-domain connection.
    Unix(UnixStream),
}

impl AcceptedSocket {
    /// Registers the connection with the current loop as an [`IOStream`].
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    pub fn into_stream(self, options: StreamOptions) -> io::Result<IOStream> {
        // accept4 made it non-blocking already: skip the ioctl.
        let transport = match self {
            AcceptedSocket::Tcp(stream) => Transport::Tcp(Async::new_nonblocking(stream)?),
            AcceptedSocket::Unix(stream) => Transport::Unix(Async::new_nonblocking(stream)?),
        };
        Ok(IOStream::from_transport(transport, options))
    }
}

/// A registered listener of the accept loop.
enum AsyncListener {
    Tcp(Async<TcpListener>),
    Unix(Async<UnixListener>),
}

impl AsyncListener {
    async fn accept(&self) -> io::Result<(AcceptedSocket, PeerAddr)> {
        let flags = rustix::net::SocketFlags::NONBLOCK | rustix::net::SocketFlags::CLOEXEC;
        match self {
            AsyncListener::Tcp(listener) => {
                let (fd, addr) = listener
                    .read_with(|l| rustix::net::acceptfrom_with(l, flags).map_err(io::Error::from))
                    .await?;
                let stream = TcpStream::from(fd);
                let peer = match addr.and_then(|a| SocketAddr::try_from(a).ok()) {
                    Some(addr) => addr,
                    None => stream.peer_addr()?,
                };
                Ok((AcceptedSocket::Tcp(stream), PeerAddr::Inet(peer)))
            }
            AsyncListener::Unix(listener) => {
                let fd = listener
                    .read_with(|l| rustix::net::accept_with(l, flags).map_err(io::Error::from))
                    .await?;
                Ok((AcceptedSocket::Unix(UnixStream::from(fd)), PeerAddr::Unix))
            }
        }
    }
}

/// Stops the accept loop of [`add_accept_handler`] (and closes the listener) when stopped or
/// dropped.
pub struct AcceptHandle {
    /// The accept loop.
    task: Option<CancelOnDrop<()>>,
    /// The listener's address (TCP).
    local_addr: Option<SocketAddr>,
    /// The listener, owned by the accept loop (closed when it ends).
    listener: std::rc::Weak<AsyncListener>,
}

impl fmt::Debug for AcceptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptHandle")
            .field("local_addr", &self.local_addr)
            .field("accepting", &self.task.is_some())
            .finish()
    }
}

impl AcceptHandle {
    /// The listener's address, for TCP listeners.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// A duplicate of the TCP listener (`dup(2)`, close-on-exec): the same listening socket,
    /// which stays open and keeps queueing connections in its backlog after this handle stops
    /// and closes its own descriptor; for handing the socket to another process, as a reload
    /// does. `None` for a Unix listener or once stopped.
    ///
    /// # Errors
    ///
    /// If `dup` fails (out of descriptors).
    pub fn try_clone_listener(&self) -> Option<io::Result<TcpListener>> {
        match &*self.listener.upgrade()? {
            AsyncListener::Tcp(listener) => Some(listener.get_ref().try_clone()),
            AsyncListener::Unix(_) => None,
        }
    }

    /// Stops accepting and closes the listener.
    pub fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.cancel();
        }
    }
}

/// How long accepting pauses after the first `EMFILE`/`ENFILE` of a burst; it doubles up to
/// [`MAX_ACCEPT_BACKOFF`] while the error persists.
const MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// The longest accept pause.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Errors that mean "out of descriptors or memory": wait for some to free up.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(code) if code == rustix::io::Errno::MFILE.raw_os_error()
            || code == rustix::io::Errno::NFILE.raw_os_error()
            || code == rustix::io::Errno::NOBUFS.raw_os_error()
            || code == rustix::io::Errno::NOMEM.raw_os_error()
    )
}

/// Errors about one connection that went away before it was accepted: just go on.
fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(code) if code == rustix::io::Errno::CONNABORTED.raw_os_error()
            || code == rustix::io::Errno::PROTO.raw_os_error()
            || code == rustix::io::Errno::PERM.raw_os_error()
            || code == rustix::io::Errno::INTR.raw_os_error()
    )
}

/// A cap on the connections a server holds at once (nginx's `worker_connections`): at the cap,
/// its accept loops stop accepting, and the kernel's backlog holds the clients that come; each
/// [`ConnectionSlot`] given back lets one more in.
///
/// # Examples
///
/// ```
/// use typhoon_iostream::netutil::ConnectionLimit;
///
/// let limit = ConnectionLimit::new(2);
/// let (a, b) = (limit.acquire(), limit.acquire());
/// assert!(limit.is_full());
/// drop(a);
/// assert_eq!((limit.live(), limit.is_full()), (1, false));
/// # drop(b);
/// ```
#[derive(Debug)]
pub struct ConnectionLimit {
    /// The most connections at once.
    max: usize,
    /// Connections holding a slot now.
    live: Cell<usize>,
    /// Set while below `max`: what a paused accept loop waits for.
    below: Event,
}

impl ConnectionLimit {
    /// A limit of `max` connections (`usize::MAX`: none; 0 is taken as 1, since a limit that
    /// never lets a connection in would be a server that silently never serves).
    #[must_use]
    pub fn new(max: usize) -> Rc<Self> {
        let max = max.max(1);
        let below = Event::new();
        below.set();
        Rc::new(Self {
            max,
            live: Cell::new(0),
            below,
        })
    }

    /// The most connections at once.
    #[must_use]
    pub fn max(&self) -> usize {
        self.max
    }

    /// Connections holding a slot now.
    #[must_use]
    pub fn live(&self) -> usize {
        self.live.get()
    }

    /// Whether the limit is reached.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.live.get() >= self.max
    }

    /// Takes a slot for a connection just accepted (past the cap if called while full: an
    /// accept loop does not call it then). The slot is given back when dropped.
    #[must_use]
    pub fn acquire(self: &Rc<Self>) -> ConnectionSlot {
        self.live.set(self.live.get().saturating_add(1));
        if self.is_full() {
            self.below.clear();
        }
        ConnectionSlot {
            limit: Rc::clone(self),
        }
    }

    /// Waits until a connection may be accepted.
    async fn wait_below(&self) {
        while self.is_full() {
            self.below.wait().await;
        }
    }
}

/// One connection's place under a [`ConnectionLimit`], given back on drop.
#[derive(Debug)]
pub struct ConnectionSlot {
    /// The limit it counts against.
    limit: Rc<ConnectionLimit>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let limit = &self.limit;
        limit.live.set(limit.live.get().saturating_sub(1));
        if !limit.is_full() {
            limit.below.set();
        }
    }
}

/// Accepts connections on `listener` from the current loop, calling `callback` for each
/// (Tornado's `add_accept_handler`).
///
/// Each readiness event accepts until `EAGAIN`. When the process runs out of file descriptors
/// (`EMFILE`, `ENFILE`) accepting pauses, 10 ms at first and doubling up to 1 s while it lasts,
/// with one warning per burst on `typhoon::general`: no busy loop. A panicking callback is
/// logged and accepting goes on.
///
/// # Errors
///
/// If the listener cannot be registered with the loop.
pub fn add_accept_handler(
    listener: impl Into<Listener>,
    callback: impl FnMut(AcceptedSocket, PeerAddr) + 'static,
) -> io::Result<AcceptHandle> {
    add_accept_handler_with_limit(listener, None, callback)
}

/// [`add_accept_handler`] under a [`ConnectionLimit`]: while the limit is full the loop does not
/// accept, and it goes on once a slot is given back. The callback takes the slot
/// ([`ConnectionLimit::acquire`]) for the connection it is given.
///
/// # Errors
///
/// If the listener cannot be registered with the loop.
pub fn add_accept_handler_with_limit(
    listener: impl Into<Listener>,
    limit: Option<Rc<ConnectionLimit>>,
    mut callback: impl FnMut(AcceptedSocket, PeerAddr) + 'static,
) -> io::Result<AcceptHandle> {
    let (listener, local_addr) = match listener.into() {
        Listener::Tcp(listener) => {
            let addr = listener.local_addr().ok();
            (AsyncListener::Tcp(Async::new(listener)?), addr)
        }
        Listener::Unix(listener) => (AsyncListener::Unix(Async::new(listener)?), None),
    };
    let listener = Rc::new(listener);
    let weak = Rc::downgrade(&listener);
    let task = IOLoop::current().spawn(async move {
        let mut backoff: Option<Duration> = None;
        let mut failures = 0u64;
        loop {
            if let Some(limit) = &limit
                && limit.is_full()
            {
                tracing::debug!(target: "typhoon::general", max = limit.max(), "at max_connections: accepting paused");
                limit.wait_below().await;
            }
            match listener.accept().await {
                Ok((socket, peer)) => {
                    if backoff.take().is_some() {
                        tracing::info!(target: "typhoon::general", failures, "accepting again");
                        failures = 0;
                    }
                    let call = std::panic::AssertUnwindSafe(|| callback(socket, peer));
                    if let Err(payload) = std::panic::catch_unwind(call) {
                        let message = panic_message(&*payload);
                        tracing::error!(target: "typhoon::application", panic = %message, "accept callback panicked");
                    }
                }
                Err(error) if is_transient(&error) => {}
                Err(error) if is_resource_exhaustion(&error) => {
                    failures += 1;
                    let delay = match backoff {
                        None => {
                            tracing::warn!(
                                target: "typhoon::general",
                                %error,
                                "accept failed: out of file descriptors; pausing accepts"
                            );
                            MIN_ACCEPT_BACKOFF
                        }
                        Some(delay) => (delay * 2).min(MAX_ACCEPT_BACKOFF),
                    };
                    backoff = Some(delay);
                    sleep(delay).await;
                }
                Err(error) => {
                    tracing::error!(target: "typhoon::general", %error, "accept failed");
                    sleep(MAX_ACCEPT_BACKOFF / 10).await;
                }
            }
        }
    });
    Ok(AcceptHandle {
        task: Some(task.cancel_on_drop()),
        local_addr,
        listener: weak,
    })
}
