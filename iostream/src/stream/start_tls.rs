//! Upgrading an [`IOStream`] to TLS (feature `tls`): `start_tls_server`, `start_tls_client`,
//! and what a TLS stream can tell (`alpn_protocol`, `is_tls`). The rustls pump itself is
//! [`TlsTransport`], in `tls.rs`.

use std::io;
use std::sync::Arc;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::ServerName;

use super::IOStream;
use crate::error::{Result, StreamError};
use crate::tls::TlsTransport;
use crate::transport::Transport;

impl IOStream {
    /// Runs `f` on the TLS transport, if this is a TLS stream.
    fn tls<R>(&self, f: impl FnOnce(&TlsTransport) -> R) -> Option<R> {
        match self.transport.borrow().as_ref() {
            Some(Transport::Tls(tls)) => Some(f(tls)),
            _ => None,
        }
    }

    fn take_transport(&self) -> Option<Transport> {
        self.transport.borrow_mut().take()
    }

    fn has_buffered_io(&self) -> bool {
        !self.read_buf.borrow().is_empty() || !self.write_queue.borrow().is_empty()
    }

    fn into_tls(self, conn: rustls::Connection) -> Result<TlsTransport> {
        if self.has_buffered_io() {
            return Err(StreamError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start_tls needs a stream with empty read and write buffers",
            )));
        }
        match self.take_transport() {
            Some(Transport::Tcp(socket)) => Ok(TlsTransport::new(socket, conn)),
            Some(_) => Err(StreamError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start_tls needs a plain TCP stream",
            ))),
            None => Err(StreamError::closed()),
        }
    }

    async fn finish_tls(tls: TlsTransport, options: crate::StreamOptions) -> Result<IOStream> {
        match tls.handshake().await {
            Ok(()) => Ok(IOStream::from_transport(
                Transport::Tls(Box::new(tls)),
                options,
            )),
            Err(error) => Err(StreamError::Closed {
                source: Some(error),
            }),
        }
    }

    /// Upgrades a plain TCP stream to TLS as the server (Tornado's `start_tls(server_side=True)`)
    /// and completes the handshake.
    ///
    /// # Errors
    ///
    /// [`StreamError::Closed`] with the cause (a TLS alert, EOF) if the handshake fails: the
    /// error is this stream's only. `Io(InvalidInput)` if the stream is not plain TCP or has
    /// buffered data.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropping it mid-handshake drops the connection.
    pub async fn start_tls_server(self, config: Arc<ServerConfig>) -> Result<IOStream> {
        let conn = rustls::ServerConnection::new(config)?;
        let options = self.options().clone();
        let tls = self.into_tls(conn.into())?;
        Self::finish_tls(tls, options).await
    }

    /// Upgrades a plain TCP stream to TLS as the client, with SNI `server_name` (also the
    /// name the certificate must match), and completes the handshake.
    ///
    /// # Errors
    ///
    /// As [`start_tls_server`](Self::start_tls_server); `Io(InvalidInput)` for an invalid
    /// server name.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe.
    pub async fn start_tls_client(
        self,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> Result<IOStream> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|error| StreamError::Io(io::Error::new(io::ErrorKind::InvalidInput, error)))?;
        let conn = rustls::ClientConnection::new(config, name)?;
        let options = self.options().clone();
        let tls = self.into_tls(conn.into())?;
        Self::finish_tls(tls, options).await
    }

    /// The protocol agreed by ALPN, on a TLS stream.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.tls(TlsTransport::alpn_protocol).flatten()
    }

    /// Whether this is a TLS stream.
    pub fn is_tls(&self) -> bool {
        self.tls(|_| ()).is_some()
    }
}
