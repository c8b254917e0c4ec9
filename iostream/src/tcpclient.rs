//! `TCPClient`: connect to a host and port (Tornado's `tornado.tcpclient`).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use typhoon_ioloop::{Async, IOLoop, LoopError, timeout};

use crate::error::{Result, StreamError};
use crate::stream::{IOStream, StreamOptions};
use crate::transport::Transport;

/// Connects to servers: resolves names off the loop, tries each address, bounds it all by a
/// timeout, optionally wraps the stream in TLS.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::IOLoop;
/// use typhoon_iostream::{StreamError, TCPClient};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// IOLoop::new().run_sync(async move {
///     let stream = TCPClient::new().connect("localhost", port).await?;
///     stream.write(b"hi").await?;
///     Ok::<(), StreamError>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TCPClient {
    /// The deadline of resolving plus connecting (plus the TLS handshake); `None` for none.
    connect_timeout: Option<Duration>,
    /// Limits of the streams it creates.
    options: StreamOptions,
}

impl Default for TCPClient {
    fn default() -> Self {
        Self::new()
    }
}

impl TCPClient {
    /// A client with a 20 s connect timeout (Tornado's `connect_timeout` default in
    /// `HTTPRequest`).
    pub fn new() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(20)),
            options: StreamOptions::default(),
        }
    }

    /// Sets the connect timeout (`None`: wait as long as the OS does).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the limits of the streams it creates.
    pub fn stream_options(mut self, options: StreamOptions) -> Self {
        self.options = options;
        self
    }

    /// Connects to `host:port` (a name is resolved on the loop's executor pool, never on the
    /// loop), trying each resolved address in order until one answers.
    ///
    /// # Errors
    ///
    /// [`StreamError::Timeout`] past the connect timeout; [`StreamError::Io`] with the last
    /// address's error (refused, unreachable) or the resolver's.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped connect closes its half-open socket.
    pub async fn connect(&self, host: &str, port: u16) -> Result<IOStream> {
        self.with_deadline(self.connect_inner(host, port)).await
    }

    /// Connects and completes a TLS handshake, with SNI and certificate checks for `host`.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect); [`StreamError::Closed`] with the TLS error if the
    /// handshake fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn connect_tls(
        &self,
        host: &str,
        port: u16,
        config: std::sync::Arc<rustls::ClientConfig>,
    ) -> Result<IOStream> {
        self.with_deadline(async {
            let stream = self.connect_inner(host, port).await?;
            stream.start_tls_client(config, host).await
        })
        .await
    }

    /// Connects to a Unix-domain socket.
    ///
    /// # Errors
    ///
    /// The socket's error.
    pub fn connect_unix(&self, path: impl AsRef<Path>) -> Result<IOStream> {
        let stream = UnixStream::connect(path)?;
        IOStream::from_unix_with_options(stream, self.options.clone())
    }

    async fn with_deadline(
        &self,
        future: impl std::future::Future<Output = Result<IOStream>>,
    ) -> Result<IOStream> {
        match self.connect_timeout {
            Some(deadline) => match timeout(deadline, future).await {
                Ok(result) => result,
                Err(_) => Err(StreamError::Timeout),
            },
            None => future.await,
        }
    }

    async fn connect_inner(&self, host: &str, port: u16) -> Result<IOStream> {
        let addrs = resolve(host, port).await?;
        let mut last_error = None;
        for addr in addrs {
            match connect_addr(addr).await {
                Ok(socket) => {
                    return Ok(IOStream::from_transport(
                        Transport::Tcp(socket),
                        self.options.clone(),
                    ));
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(StreamError::Io(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
        })))
    }
}

/// Resolves `host` on the executor pool (a literal IP needs no lookup).
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let owned = host.to_owned();
    let lookup = IOLoop::current().run_in_executor(move || {
        (owned.as_str(), port)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<_>>)
    });
    match lookup.await {
        Ok(result) => Ok(result?),
        Err(LoopError::Panicked { message }) => Err(StreamError::Io(io::Error::other(message))),
        Err(error) => Err(StreamError::Io(io::Error::other(error))),
    }
}

/// A non-blocking connect: start it, wait for writability, read `SO_ERROR`.
async fn connect_addr(addr: SocketAddr) -> io::Result<Async<TcpStream>> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(error)
            if error.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
        Err(error) => return Err(error),
    }
    let stream = Async::new_nonblocking(TcpStream::from(socket))?;
    // The registration starts optimistic; the connect is done only when an event says so.
    stream.clear_writable();
    stream.writable().await?;
    if let Some(error) = stream.get_ref().take_error()? {
        return Err(error);
    }
    // Writable with no error can still be a failed connect on some systems: confirm.
    stream.get_ref().peer_addr()?;
    Ok(stream)
}
