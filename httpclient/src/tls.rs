//! rustls client configurations: webpki roots, a CA file, or (tests only) no verification.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use typhoon_iostream::tls;

use crate::error::{HTTPClientError, Result};
use crate::pool::TlsMode;

/// The rustls client configuration an `https` request with these
/// [`validate_cert`](crate::HTTPRequest::validate_cert) and
/// [`ca_certs`](crate::HTTPRequest::ca_certs) settings is made with, offering ALPN `http/1.1`:
/// no verification at all with `validate_cert` off (which wins over `ca_certs`, as in Tornado),
/// else the certificates of the `ca_certs` PEM file, else the webpki (Mozilla) roots.
///
/// For other clients built on [`HTTPRequest`](crate::HTTPRequest)'s TLS settings (the WebSocket
/// client's `wss://`), so that the settings mean the same there. The configuration is built
/// anew on each call (the [`AsyncHTTPClient`](crate::AsyncHTTPClient) caches its own). The
/// result is a rustls type, which couples this API to rustls while we do not publish.
///
/// # Errors
///
/// [`HTTPClientError::TlsConfig`] if the CA file cannot be read or holds no valid certificate.
///
/// # Examples
///
/// ```
/// let config = typhoon_httpclient::tls_client_config(true, None)?;
/// assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
/// # Ok::<(), typhoon_httpclient::HTTPClientError>(())
/// ```
pub fn tls_client_config(
    validate_cert: bool,
    ca_certs: Option<&Path>,
) -> Result<Arc<ClientConfig>> {
    config(&TlsMode::for_https(validate_cert, ca_certs))
}

/// Builds the configuration for `mode`, offering ALPN `http/1.1` (`Plain` never gets here;
/// it is treated as the default roots).
pub(crate) fn config(mode: &TlsMode) -> Result<Arc<ClientConfig>> {
    let alpn: &[&[u8]] = &[b"http/1.1"];
    let to_error = |source| HTTPClientError::TlsConfig { source };
    match mode {
        TlsMode::Plain | TlsMode::WebpkiRoots => {
            tls::client_config_webpki_roots(alpn).map_err(to_error)
        }
        TlsMode::CaFile(path) => tls::client_config_with_ca_file(path, alpn).map_err(to_error),
        TlsMode::Insecure => {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
                .with_safe_default_protocol_versions()
                .map_err(|e| to_error(e.into()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
                .with_no_client_auth();
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(Arc::new(config))
        }
    }
}

/// Accepts any certificate for any name, but still checks the handshake signatures (so the
/// peer holds the key of the certificate it sent). For `validate_cert(false)`: tests only.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
