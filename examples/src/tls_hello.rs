//! Hello world over HTTPS: the `helloworld` app behind rustls, from PEM files (Tornado's
//! `ssl_options={"certfile": ..., "keyfile": ...}`).
//!
//! Without `--certfile`/`--keyfile` the example uses the test certificate for `localhost` in
//! `examples/fixtures` (a copy of typhoon-testing's, signed by the test CA there: never use it
//! for anything real).

use std::path::{Path, PathBuf};

use typhoon_httpserver::HTTPServer;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// The directory of the test CA and the `localhost` certificate it signed.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// The test certificate chain for `localhost` (the default `--certfile`).
pub fn default_certfile() -> PathBuf {
    Path::new(FIXTURES).join("server.pem")
}

/// The test certificate's private key (the default `--keyfile`).
pub fn default_keyfile() -> PathBuf {
    Path::new(FIXTURES).join("server.key")
}

/// The test CA that signed [`default_certfile`], for clients (`curl --cacert`).
pub fn test_ca() -> PathBuf {
    Path::new(FIXTURES).join("ca.pem")
}

/// Answers `GET /` with `Hello, world` and the scheme the request came over.
#[derive(Debug)]
pub struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let protocol = cx.request().protocol;
        cx.set_header("Content-Type", "text/plain; charset=UTF-8")?;
        cx.write(format!("Hello, world (over {protocol})\n"));
        Ok(())
    }
}

/// The `tls_hello` example's application.
pub fn make_app() -> Application {
    Application::new(vec![route("/", || MainHandler)])
}

/// The application served over TLS with the certificate chain and key in these PEM files
/// (ALPN offers `http/1.1`).
///
/// # Errors
///
/// If a file cannot be read or parsed, or the key does not match the certificate.
pub fn make_server(
    certfile: impl AsRef<Path>,
    keyfile: impl AsRef<Path>,
) -> typhoon_iostream::Result<HTTPServer> {
    let config =
        typhoon_iostream::tls::server_config_from_pem_files(certfile, keyfile, &[b"http/1.1"])?;
    let app = make_app();
    let mut options = app.server_options();
    options.tls = Some(config);
    Ok(app.into_server_with(options))
}
