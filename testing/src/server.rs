//! `AsyncHTTPTestServer`: an `Application` served on a free loopback port, fetched through the
//! HTTP client (Tornado's `AsyncHTTPTestCase` / `AsyncHTTPSTestCase`).

use std::fmt;
use std::net::{SocketAddr, TcpListener};

use typhoon_httpclient::{AsyncHTTPClient, HTTPRequest, HTTPResponse, Result};
use typhoon_httpserver::HTTPServer;
use typhoon_web::Application;

/// Binds a listening socket on a free loopback port (Tornado's `bind_unused_port`).
///
/// # Panics
///
/// If no port can be bound.
pub fn bind_unused_port() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// An application served on `127.0.0.1:0` on the current loop, with a client to fetch from it.
pub struct AsyncHTTPTestServer {
    /// The server (stopped on drop).
    server: HTTPServer,
    /// Where it listens.
    addr: SocketAddr,
    /// `http` or `https`.
    scheme: &'static str,
    /// The client `fetch` uses (keep-alive pool shared by the test's requests).
    client: AsyncHTTPClient,
}

impl AsyncHTTPTestServer {
    /// Serves `app` over plain HTTP. Autoreload is turned off for the process (a test binary
    /// is no program to re-execute), whatever `Settings::debug` says.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound.
    pub fn new(app: Application) -> Self {
        // An app in debug mode would start autoreload on the test binary.
        typhoon_autoreload::disable();
        Self::serve(app.into_server(), "http")
    }

    /// Serves `app` over HTTPS with a test certificate for `localhost`
    /// ([`tls::server_config`](crate::tls::server_config), Tornado's `AsyncHTTPSTestCase`);
    /// `fetch` trusts the test CA.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound.
    pub fn new_tls(app: Application) -> Self {
        typhoon_autoreload::disable();
        let mut options = app.server_options();
        options.tls = Some(crate::tls::server_config());
        Self::serve(app.into_server_with(options), "https")
    }

    /// Serves any [`HTTPServer`] (a bare httpserver callback, or an application built with
    /// other options) over plain HTTP.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound.
    pub fn from_server(server: HTTPServer) -> Self {
        Self::serve(server, "http")
    }

    fn serve(server: HTTPServer, scheme: &'static str) -> Self {
        let addr = server
            .listen(0, Some("127.0.0.1"))
            .expect("listen on 127.0.0.1:0")[0];
        Self {
            server,
            addr,
            scheme,
            client: AsyncHTTPClient::new(),
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The server.
    pub fn server(&self) -> &HTTPServer {
        &self.server
    }

    /// The absolute URL of `path` on this server (Tornado's `get_url`).
    pub fn get_url(&self, path: &str) -> String {
        let host = if self.scheme == "https" {
            "localhost"
        } else {
            "127.0.0.1"
        };
        format!("{}://{host}:{}{path}", self.scheme, self.port())
    }

    /// Fetches `path` with a GET and gives the response whatever its status, as Tornado's
    /// `AsyncHTTPTestCase.fetch` (whose `raise_error` defaults to `False`): a 404 is
    /// `Ok(response)` with `response.code == 404`.
    ///
    /// For the client's usual error on a non-2xx answer (`HTTPClientError::Http`, Tornado's
    /// `fetch(path, raise_error=True)`), use `fetch_request(server.request(path))`: a
    /// [`request`](Self::request) keeps the client's default.
    ///
    /// # Errors
    ///
    /// The client's error when there is no response at all (connection refused, timeout, a
    /// malformed answer).
    ///
    /// # Cancel safety
    ///
    /// As the client's `fetch`: dropping it abandons the request.
    pub async fn fetch(&self, path: &str) -> Result<HTTPResponse> {
        self.fetch_request(self.request(path).raise_error(false))
            .await
    }

    /// A request for `path` on this server, trusting the test CA for HTTPS, to adjust and pass
    /// to [`fetch_request`](Self::fetch_request). It keeps the client's defaults, so a non-2xx
    /// answer is an error unless `.raise_error(false)` is set.
    pub fn request(&self, path: &str) -> HTTPRequest {
        let request = HTTPRequest::new(self.get_url(path));
        if self.scheme == "https" {
            request.ca_certs(crate::tls::ca_file())
        } else {
            request
        }
    }

    /// Fetches `request` as it is (its `raise_error` decides whether a non-2xx answer is an
    /// error).
    ///
    /// # Errors
    ///
    /// The client's error.
    ///
    /// # Cancel safety
    ///
    /// As the client's `fetch`: dropping it abandons the request.
    pub async fn fetch_request(&self, request: HTTPRequest) -> Result<HTTPResponse> {
        self.client.fetch(request).await
    }
}

impl Drop for AsyncHTTPTestServer {
    fn drop(&mut self) {
        self.server.stop();
    }
}

impl fmt::Debug for AsyncHTTPTestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncHTTPTestServer")
            .field("url", &self.get_url("/"))
            .finish()
    }
}
