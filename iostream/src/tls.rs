//! TLS on rustls (feature `tls`): the transport pump and configuration helpers. Upgrading a
//! stream (`IOStream::start_tls_server`/`start_tls_client`) is with the stream, in
//! `stream/start_tls.rs`.
//!
//! The provider is rustls's `ring`: a clean build of rustls with `ring` took 30 s on our 2-core
//! machines against 50 s for `aws-lc-rs` (which compiles AWS-LC's C and assembly); see the
//! crate docs for the figures. Configurations are built with an explicit provider, so no
//! process-wide default needs installing.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use typhoon_ioloop::Async;

use crate::error::{Result, StreamError};

/// A TLS connection over a registered TCP socket.
pub(crate) struct TlsTransport {
    /// The TCP socket carrying TLS records.
    socket: Async<TcpStream>,
    /// rustls's state machine (sans-IO).
    conn: RefCell<rustls::Connection>,
    /// Bytes of TLS records written to the socket (progress, for the write timeout).
    records_written: std::cell::Cell<u64>,
}

fn invalid_data(error: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

impl TlsTransport {
    /// A TLS connection, not yet handshaken, over a plain TCP socket.
    pub(crate) fn new(socket: Async<TcpStream>, conn: rustls::Connection) -> Self {
        Self {
            socket,
            conn: RefCell::new(conn),
            records_written: std::cell::Cell::new(0),
        }
    }

    pub(crate) fn socket(&self) -> &Async<TcpStream> {
        &self.socket
    }

    /// Writes pending TLS records to the socket until rustls has none left.
    fn poll_write_tls(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut conn = self.conn.borrow_mut();
            if !conn.wants_write() {
                return Poll::Ready(Ok(()));
            }
            match self
                .socket
                .poll_write_with(cx, &mut |s: &TcpStream| conn.write_tls(&mut &*s))
            {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(n)) => self
                    .records_written
                    .set(self.records_written.get().wrapping_add(n as u64)),
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            }
        }
    }

    /// Bytes of TLS records written to the socket so far.
    pub(crate) fn records_written(&self) -> u64 {
        self.records_written.get()
    }

    /// Reads TLS records from the socket and processes them. `Ok(false)` at EOF.
    fn poll_read_tls(&self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let read = {
            let mut conn = self.conn.borrow_mut();
            self.socket
                .poll_read_with(cx, &mut |s: &TcpStream| conn.read_tls(&mut &*s))
        };
        match read {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Ready(Ok(n)) => {
                let processed = self.conn.borrow_mut().process_new_packets();
                if let Err(error) = processed {
                    // Send the alert rustls queued, if the socket takes it now.
                    self.flush_now();
                    return Poll::Ready(Err(invalid_data(error)));
                }
                Poll::Ready(Ok(n > 0))
            }
        }
    }

    /// Best-effort, non-blocking write of queued records (alerts, close_notify).
    fn flush_now(&self) {
        let mut conn = self.conn.borrow_mut();
        while conn.wants_write() {
            if conn.write_tls(&mut self.socket.get_ref()).is_err() {
                break;
            }
        }
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.conn.borrow_mut().reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed the TCP connection without a close_notify. Treated as EOF,
                // as browsers do it routinely; message framing above detects truncation.
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                    return Poll::Ready(Ok(0));
                }
                Err(error) => return Poll::Ready(Err(error)),
            }
            // Handshake messages, key updates or alerts may be waiting to go out.
            if let Poll::Ready(Err(error)) = self.poll_write_tls(cx) {
                return Poll::Ready(Err(error));
            }
            match self.poll_read_tls(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(_)) => {}
            }
        }
    }

    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // Two rounds at most: if rustls still takes nothing after its records went out (it
        // cannot send application data yet), report 0 rather than spin.
        for _ in 0..2 {
            let accepted = self.conn.borrow_mut().writer().write_vectored(bufs)?;
            if accepted > 0 {
                // Start sending; whatever does not fit stays queued in rustls for poll_flush.
                if let Poll::Ready(Err(error)) = self.poll_write_tls(cx) {
                    return Poll::Ready(Err(error));
                }
                return Poll::Ready(Ok(accepted));
            }
            if bufs.iter().all(|b| b.is_empty()) {
                return Poll::Ready(Ok(0));
            }
            // rustls's plaintext buffer is full: drain records to the socket first.
            match self.poll_write_tls(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {}
            }
        }
        Poll::Ready(Ok(0))
    }

    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_tls(cx)
    }

    /// Queues a close_notify and tries to send it, then discards what the peer already sent
    /// (TLS 1.3 session tickets arrive after the handshake unasked): closing a TCP socket with
    /// unread input makes the kernel send a reset instead of a FIN, and the reset can destroy
    /// data the peer has not read yet.
    pub(crate) fn send_close_notify(&self) {
        self.conn.borrow_mut().send_close_notify();
        self.flush_now();
        let mut scratch = [0u8; 4096];
        for _ in 0..16 {
            match self.socket.get_ref().read(&mut scratch) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.send_close_notify();
        self.socket.get_ref().shutdown(Shutdown::Write)
    }

    /// The protocol agreed by ALPN, once the handshake is done.
    pub(crate) fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.conn.borrow().alpn_protocol().map(<[u8]>::to_vec)
    }

    /// Drives the handshake to completion.
    pub(crate) async fn handshake(&self) -> io::Result<()> {
        poll_fn(|cx| {
            loop {
                let (handshaking, wants_write) = {
                    let conn = self.conn.borrow();
                    (conn.is_handshaking(), conn.wants_write())
                };
                if wants_write {
                    match self.poll_write_tls(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                        Poll::Ready(Ok(())) => continue,
                    }
                }
                if !handshaking {
                    return Poll::Ready(Ok(()));
                }
                match self.poll_read_tls(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Ready(Ok(false)) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "peer closed the connection during the TLS handshake",
                        )));
                    }
                    Poll::Ready(Ok(true)) => {}
                }
            }
        })
        .await
    }
}

fn pem_error(error: rustls_pki_types::pem::Error) -> StreamError {
    StreamError::Io(io::Error::new(io::ErrorKind::InvalidData, error))
}

/// Loads every certificate of a PEM file.
///
/// # Errors
///
/// If the file cannot be read or holds no valid certificate.
pub fn load_certificates(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path.as_ref())
        .map_err(pem_error)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err(StreamError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no certificate in {}", path.as_ref().display()),
        )));
    }
    Ok(certs)
}

/// Loads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
///
/// # Errors
///
/// If the file cannot be read or holds no private key.
pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path.as_ref()).map_err(pem_error)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration from a certificate chain and key, offering the `alpn` protocols in
/// order of preference (e.g. `&[b"http/1.1"]`).
///
/// # Errors
///
/// [`StreamError::Tls`] if the key does not match or is unsupported.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A server configuration from PEM files (Tornado's `ssl_options={"certfile", "keyfile"}`).
///
/// # Errors
///
/// If a file cannot be read or parsed, or the key does not match.
pub fn server_config_from_pem_files(
    cert_path: impl AsRef<Path>,
    key_path: impl AsRef<Path>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>> {
    server_config(
        load_certificates(cert_path)?,
        load_private_key(key_path)?,
        alpn,
    )
}

/// A client configuration trusting the Mozilla roots bundled by `webpki-roots`.
///
/// # Errors
///
/// [`StreamError::Tls`] if the provider rejects the protocol versions (it does not).
pub fn client_config_webpki_roots(alpn: &[&[u8]]) -> Result<Arc<ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    client_config(roots, alpn)
}

/// A client configuration trusting only the CA certificates in a PEM file.
///
/// # Errors
///
/// If the file cannot be read or a certificate is invalid.
pub fn client_config_with_ca_file(
    ca_path: impl AsRef<Path>,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certificates(ca_path)? {
        roots.add(cert)?;
    }
    client_config(roots, alpn)
}

fn client_config(roots: rustls::RootCertStore, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
