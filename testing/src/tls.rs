//! The test certificate authority and the `localhost` certificate it signed, embedded in the
//! crate (`testing/fixtures`, see its README), with ready-made rustls configurations
//! (Tornado's `AsyncHTTPSTestCase` certificate).
//!
//! The certificate names `localhost` and `127.0.0.1`; the CA's key was deleted after signing.
//! They are public test fixtures: never use them to protect anything.
//!
//! # Examples
//!
//! ```
//! use typhoon_iostream::{IOStream, TCPClient, TCPServer};
//! use typhoon_testing::{run_test, tls};
//!
//! let greeting = run_test(async {
//!     let server = TCPServer::new(|stream: IOStream, _peer| async move {
//!         let stream = stream.start_tls_server(tls::server_config()).await.expect("handshake");
//!         let _ = stream.write(b"hello").await;
//!     });
//!     let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
//!     let stream = TCPClient::new().connect("127.0.0.1", port).await.expect("connect");
//!     let stream = stream
//!         .start_tls_client(tls::client_config(), "localhost")
//!         .await
//!         .expect("handshake");
//!     stream.read_bytes(5, false).await.expect("read")
//! });
//! assert_eq!(greeting, b"hello");
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The test CA's certificate (PEM): what a client trusts to accept [`SERVER_CERT_PEM`].
pub const CA_PEM: &[u8] = include_bytes!("../fixtures/ca.pem");

/// The server certificate for `localhost` and `127.0.0.1` (PEM), signed by [`CA_PEM`].
pub const SERVER_CERT_PEM: &[u8] = include_bytes!("../fixtures/server.pem");

/// The private key of [`SERVER_CERT_PEM`] (PEM, SEC1 P-256).
pub const SERVER_KEY_PEM: &[u8] = include_bytes!("../fixtures/server.key");

/// The ALPN protocols both configurations offer.
const ALPN: &[&[u8]] = &[b"http/1.1"];

/// The server certificate chain, parsed.
///
/// # Panics
///
/// Never with the embedded fixture (it is checked by this crate's tests).
pub fn server_certs() -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(SERVER_CERT_PEM)
        .collect::<Result<_, _>>()
        .expect("invariant: the embedded server certificate parses")
}

/// The server certificate's private key, parsed.
///
/// # Panics
///
/// Never with the embedded fixture.
pub fn server_key() -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM)
        .expect("invariant: the embedded server key parses")
}

/// A server configuration presenting the `localhost` certificate, offering ALPN `http/1.1`
/// (through `typhoon_iostream::tls::server_config`, as a real server builds its own).
///
/// # Panics
///
/// Never with the embedded fixtures.
pub fn server_config() -> Arc<ServerConfig> {
    typhoon_iostream::tls::server_config(server_certs(), server_key(), ALPN)
        .expect("invariant: the embedded certificate and key match")
}

/// A client configuration trusting only the test CA, offering ALPN `http/1.1` (verify the
/// server name `localhost` or `127.0.0.1`).
///
/// # Panics
///
/// Never with the embedded fixture.
pub fn client_config() -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(CA_PEM) {
        roots
            .add(cert.expect("invariant: the embedded CA parses"))
            .expect("invariant: the embedded CA is a valid trust anchor");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("invariant: ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// The fixtures written out once per process, for APIs that take a path.
struct Files {
    /// [`CA_PEM`].
    ca: PathBuf,
    /// [`SERVER_CERT_PEM`].
    cert: PathBuf,
    /// [`SERVER_KEY_PEM`].
    key: PathBuf,
}

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("typhoon-testing-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fixture directory");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("write a fixture file");
            path
        };
        Files {
            ca: write("ca.pem", CA_PEM),
            cert: write("server.pem", SERVER_CERT_PEM),
            key: write("server.key", SERVER_KEY_PEM),
        }
    })
}

/// A file holding [`CA_PEM`], for APIs that take a path (`HTTPRequest::ca_certs`,
/// `tls::client_config_with_ca_file`). Prefer [`client_config`] where a configuration will do.
///
/// The file is written once per process under the temporary directory
/// (`typhoon-testing-tls-<pid>/`) and left there.
///
/// # Panics
///
/// If the temporary directory cannot be written.
pub fn ca_file() -> &'static Path {
    &files().ca
}

/// A file holding [`SERVER_CERT_PEM`] (see [`ca_file`]), for APIs that load PEM files.
///
/// # Panics
///
/// If the temporary directory cannot be written.
pub fn server_cert_file() -> &'static Path {
    &files().cert
}

/// A file holding [`SERVER_KEY_PEM`] (see [`ca_file`]), for APIs that load PEM files.
///
/// # Panics
///
/// If the temporary directory cannot be written.
pub fn server_key_file() -> &'static Path {
    &files().key
}
