//! Tornado's `tcpecho` demo on `typhoon-iostream`: a [`TCPServer`] that echoes every line back,
//! in plain TCP or TLS.

use std::io;
use std::net::SocketAddr;

use typhoon_iostream::{IOStream, PeerAddr, StreamError, TCPServer};

/// The longest line the server accepts (Tornado's demo uses `read_until(b"\n")` unbounded; a
/// server facing the network should not).
pub const MAX_LINE: usize = 64 * 1024;

/// Echoes lines until the client closes or misbehaves.
async fn handle_stream(stream: IOStream, peer: PeerAddr) {
    loop {
        match stream.read_until(b"\n", Some(MAX_LINE)).await {
            Ok(line) => {
                tracing::debug!(target: "typhoon::general", %peer, bytes = line.len(), "echo");
                if stream.write(&line).await.is_err() {
                    break;
                }
            }
            Err(StreamError::Closed { source: None }) => break,
            Err(error) => {
                tracing::info!(target: "typhoon::general", %peer, %error, "connection ended");
                break;
            }
        }
    }
}

/// The echo server, not yet listening.
pub fn echo_server() -> TCPServer {
    TCPServer::new(handle_stream)
}

/// Starts the echo server on the current loop at `address:port`, with TLS if `tls` is given
/// (`--certfile`/`--keyfile` in the example). Returns the bound addresses.
///
/// # Errors
///
/// If binding fails.
pub fn listen(
    port: u16,
    address: &str,
    #[cfg(feature = "tls")] tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> io::Result<(TCPServer, Vec<SocketAddr>)> {
    let server = echo_server();
    #[cfg(feature = "tls")]
    let server = match tls {
        Some(config) => server.tls(config),
        None => server,
    };
    let addrs = server.listen(port, Some(address))?;
    Ok((server, addrs))
}
