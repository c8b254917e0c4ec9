//! Tornado's `AsyncHTTPClient` and blocking `HTTPClient`: HTTP/1.1 over Typhoon's streams, with
//! a keep-alive connection pool, redirects, timeouts, TLS and gzip.
//!
//! This crate sits on `typhoon-iostream` (connections are `IOStream`s from its `TCPClient`,
//! TLS through rustls) and `typhoon-ioloop` (timeouts, the `max_clients` semaphore), and reuses
//! the HTTP/1 wire code of `typhoon-httpserver`: `HTTPHeaders`, the status-line parser and the
//! chunked decoder, so that client and server agree on what HTTP/1.1 is. `typhoon-testing`
//! builds its `fetch` on it; `typhoon-web` does not depend on it.
//!
//! - [`AsyncHTTPClient::fetch`] takes a URL or an [`HTTPRequest`] (method, headers, a body or
//!   a [`body_producer`](HTTPRequest::body_producer), redirects, connect and request timeouts,
//!   basic auth, gzip, streaming and header callbacks, limits, TLS trust) and returns an
//!   [`HTTPResponse`], or an [`HTTPClientError`] (non-2xx responses too, unless
//!   [`raise_error(false)`](HTTPRequest::raise_error)).
//! - Responses framed by `Content-Length`, chunked, or the server closing (HTTP/1.0); 1xx
//!   responses skipped; HEAD, 204 and 304 bodiless. Malformed or truncated responses, huge
//!   heads and silent servers end in a typed error, never a hang.
//! - A keep-alive pool per (scheme, host, port), whose idle connections a timer closes after
//!   [`ClientOptions::idle_timeout`], and a cap of [`ClientOptions::max_clients`] requests in
//!   flight; the others queue, for at most their timeout. Tornado's `simple_httpclient` opens a
//!   connection per request.
//! - [`HTTPClient`]: the same, blocking, on a private loop.
//!
//! # Examples
//!
//! Start a server on a free port and fetch from it:
//!
//! ```
//! use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest};
//! use typhoon_httpserver::HTTPServer;
//! use typhoon_ioloop::IOLoop;
//!
//! IOLoop::new().run_sync(async {
//!     let server = HTTPServer::new(|request, mut response| async move {
//!         if request.path() == "/missing" {
//!             response.set_status(404);
//!         }
//!         response.write(b"Hello, world");
//!     });
//!     let port = server.listen(0, Some("127.0.0.1"))?[0].port();
//!     let client = AsyncHTTPClient::new();
//!
//!     let response = client.fetch(format!("http://127.0.0.1:{port}/")).await?;
//!     assert_eq!((response.code, response.text().as_ref()), (200, "Hello, world"));
//!
//!     // Non-2xx is an error carrying the response...
//!     let error = client.fetch(format!("http://127.0.0.1:{port}/missing")).await.unwrap_err();
//!     assert!(matches!(error, HTTPClientError::Http { code: 404, .. }));
//!     // ...or a plain response with raise_error(false).
//!     let request = HTTPRequest::new(format!("http://127.0.0.1:{port}/missing")).raise_error(false);
//!     assert_eq!(client.fetch(request).await?.code, 404);
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `tls` | `https` URLs through rustls: webpki roots, [`ca_certs`](HTTPRequest::ca_certs), [`validate_cert`](HTTPRequest::validate_cert); [`tls_client_config`] for other clients on these settings | Yes |
//! | `gzip` | [`decompress_response`](HTTPRequest::decompress_response) (flate2, pure Rust) | Yes |
//!
//! Without `tls`, an `https` URL fails with [`HTTPClientError::UnsupportedScheme`]; without
//! `gzip`, the client does not ask for compressed responses.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod blocking;
mod body;
mod client;
mod connection;
mod error;
mod pool;
mod request;
mod response;
#[cfg(feature = "tls")]
mod tls;
mod url;

pub use blocking::HTTPClient;
pub use body::BodyWriter;
pub use client::{AsyncHTTPClient, ClientOptions, PoolStats};
pub use error::{HTTPClientError, Result, TimeoutPhase};
pub use request::{BodyFuture, HTTPRequest};
pub use response::HTTPResponse;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::tls_client_config;
pub use url::{Url, join as urljoin};
