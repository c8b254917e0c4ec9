//! [`AsyncHTTPClient`]: fetch with redirects, timeouts, the `max_clients` cap and a keep-alive
//! pool per (scheme, host, port).

use std::cell::Cell;
#[cfg(feature = "tls")]
use std::cell::RefCell;
#[cfg(feature = "tls")]
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use typhoon_escape::url_unescape;
use typhoon_ioloop::locks::Semaphore;
use typhoon_ioloop::{timeout, timeout_at};
use typhoon_iostream::{StreamOptions, TCPClient};

use crate::connection::{
    Connection, Exchange, ExchangeError, RawResponse, build_head, exchange, is_redirect,
};
use crate::error::{HTTPClientError, Result, TimeoutPhase};
use crate::pool::{Pool, PoolKey, TlsMode};
use crate::request::{Body, HTTPRequest};
use crate::response::HTTPResponse;
use crate::url::{Url, join};

/// The default `User-Agent`.
const USER_AGENT: &str = concat!("Typhoon/", env!("CARGO_PKG_VERSION"));

/// Settings of a client (Tornado's `AsyncHTTPClient.configure(None, max_clients=...,
/// max_header_size=..., max_body_size=...)`), plus the pool's.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The most requests in flight at once, over all hosts (default 10, Tornado's); the others
    /// wait in a queue, for at most the smaller of their connect and request timeouts.
    pub max_clients: usize,
    /// The most idle keep-alive connections kept per (scheme, host, port) (default 10).
    pub max_idle_per_host: usize,
    /// How long a connection may stay idle in the pool: older ones are never reused, and a
    /// timer closes them (within a quarter of this after they expire), so that a client that
    /// talked to many hosts does not keep a socket open to each (default 30 s: under the
    /// usual server idle timeouts, nginx 75 s and Typhoon's 60 s, so the server rarely closes
    /// a connection just as the client reuses it; a server that closes sooner is detected
    /// before reuse).
    pub idle_timeout: Duration,
    /// The largest response head (default 64 KiB, Tornado's).
    pub max_header_size: usize,
    /// The largest response body, as received and once inflated (default 100 MiB, Tornado's).
    pub max_body_size: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_clients: 10,
            max_idle_per_host: 10,
            idle_timeout: Duration::from_secs(30),
            max_header_size: 64 * 1024,
            max_body_size: 100 * 1024 * 1024,
        }
    }
}

/// Counters of a client's connection use, for tests and monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections opened (TCP connects that succeeded).
    pub connections_opened: u64,
    /// Requests sent on a connection taken from the pool.
    pub connections_reused: u64,
    /// Requests sent (redirect hops and retries count separately).
    pub requests: u64,
    /// Idle connections in the pool now.
    pub idle: usize,
    /// Origins (scheme, host, port, trust settings) with idle connections in the pool now: an
    /// origin is forgotten with its last idle connection.
    pub hosts: usize,
}

/// The client's state, shared by its clones.
struct Inner {
    /// Its settings.
    options: ClientOptions,
    /// One permit per request in flight (`max_clients`).
    slots: Semaphore,
    /// Idle keep-alive connections, and the timer that expires them.
    pool: Rc<Pool>,
    /// Counters.
    stats: Cell<PoolStats>,
    /// TLS configurations built so far, by trust mode (building one parses the roots).
    #[cfg(feature = "tls")]
    tls_configs: RefCell<HashMap<TlsMode, std::sync::Arc<rustls::ClientConfig>>>,
}

/// An asynchronous HTTP/1.1 client (Tornado's `AsyncHTTPClient`) for the loop it runs on.
///
/// Cloning is cheap and shares the pool and the `max_clients` cap. A client (and its pooled
/// connections) belongs to one loop: create it, and fetch with it, on the same loop.
///
/// Unlike Tornado's `simple_httpclient`, it keeps connections alive: after a response that
/// allows it (HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `keep-alive`; a body with
/// known length), the connection goes back to a pool keyed by scheme, host, port and trust
/// settings, and the next request to that origin reuses it. A pooled connection the server
/// closed meanwhile is detected before use; if one fails before any response byte arrives, an
/// idempotent request with a replayable body is retried once on a new connection (RFC 9110
/// §9.2.2). Connections idle for [`ClientOptions::idle_timeout`] are closed by a timer, and an
/// origin leaves the pool with its last idle connection, so the pool of a client that visited
/// thousands of hosts shrinks back; dropping the last clone of a client closes its idle
/// connections at once.
///
/// # Examples
///
/// ```
/// use typhoon_httpclient::{AsyncHTTPClient, HTTPRequest};
/// use typhoon_httpserver::HTTPServer;
/// use typhoon_ioloop::IOLoop;
///
/// IOLoop::new().run_sync(async {
///     let server = HTTPServer::new(|request, mut response| async move {
///         response.write(format!("{} {}", request.method, request.uri).as_bytes());
///     });
///     let port = server.listen(0, Some("127.0.0.1"))?[0].port();
///     let client = AsyncHTTPClient::new();
///     for _ in 0..3 {
///         let response = client
///             .fetch(HTTPRequest::new(format!("http://127.0.0.1:{port}/echo")).method("DELETE"))
///             .await?;
///         assert_eq!(response.text(), "DELETE /echo");
///     }
///     assert_eq!(client.stats().connections_opened, 1); // kept alive
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AsyncHTTPClient {
    inner: Rc<Inner>,
}

impl Default for AsyncHTTPClient {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AsyncHTTPClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncHTTPClient")
            .field("options", &self.inner.options)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl AsyncHTTPClient {
    /// A client with the default [`ClientOptions`].
    pub fn new() -> Self {
        Self::with_options(ClientOptions::default())
    }

    /// A client with `options` (a `max_clients` of 0 is taken as 1).
    pub fn with_options(options: ClientOptions) -> Self {
        let slots = Semaphore::new(options.max_clients.max(1));
        let pool = Pool::new(options.max_idle_per_host, options.idle_timeout);
        Self {
            inner: Rc::new(Inner {
                options,
                slots,
                pool,
                stats: Cell::new(PoolStats::default()),
                #[cfg(feature = "tls")]
                tls_configs: RefCell::new(HashMap::new()),
            }),
        }
    }

    /// The client's settings.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Connection counters, and the idle connections and origins now pooled.
    pub fn stats(&self) -> PoolStats {
        let mut stats = self.inner.stats.get();
        stats.idle = self.inner.pool.idle_count();
        stats.hosts = self.inner.pool.host_count();
        stats
    }

    /// Closes every idle connection (Tornado's `close`, which a pool makes meaningful);
    /// requests in flight finish normally.
    pub fn close_idle(&self) {
        self.inner.pool.close_idle();
    }

    /// Fetches `request` (a URL string or an [`HTTPRequest`]) and returns the response, after
    /// following redirects.
    ///
    /// # Errors
    ///
    /// [`HTTPClientError::Http`] for a non-2xx final response (unless
    /// [`raise_error(false)`](HTTPRequest::raise_error)); [`HTTPClientError::Timeout`] past a
    /// deadline; [`HTTPClientError::InvalidUrl`], [`UnsupportedScheme`](HTTPClientError::UnsupportedScheme)
    /// or [`InvalidRequest`](HTTPClientError::InvalidRequest) before anything is sent;
    /// [`Connect`](HTTPClientError::Connect) if no connection could be made; and the variants
    /// for a connection that fails or a response that breaks the protocol or a limit.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future drops the request; its connection is closed, not
    /// pooled, and its `max_clients` slot is freed.
    pub async fn fetch(&self, request: impl Into<HTTPRequest>) -> Result<HTTPResponse> {
        let mut request = request.into();
        request.validate()?;
        let start_time = Instant::now();
        let request_url = request.url.clone();
        loop {
            let url = Url::parse(&request.url)?;
            let following = request.follow_redirects && request.max_redirects > 0;
            let raw = self.fetch_once(&mut request, &url, following).await?;
            let effective_url = url.to_string_without_userinfo();
            if following
                && is_redirect(raw.code)
                && let Some(location) = raw.headers.get("Location")
            {
                redirect(&mut request, &url, &effective_url, raw.code, location);
                continue;
            }
            let response = HTTPResponse {
                code: raw.code,
                reason: raw.reason,
                headers: raw.headers,
                body: raw.body,
                request_url,
                effective_url,
                start_time,
                request_time: start_time.elapsed(),
            };
            return if request.raise_error {
                response.rethrow()
            } else {
                Ok(response)
            };
        }
    }

    /// One request and its response: queue, connect or reuse, exchange, pool.
    async fn fetch_once(
        &self,
        request: &mut HTTPRequest,
        url: &Url,
        following: bool,
    ) -> Result<RawResponse> {
        let queue_timeout = request.connect_timeout.min(request.request_timeout);
        let _slot = timeout(queue_timeout, self.inner.slots.acquire())
            .await
            .map_err(|_| HTTPClientError::Timeout(TimeoutPhase::Queue))?;
        let deadline = typhoon_ioloop::deadline_after(Instant::now(), request.request_timeout);
        let key = PoolKey {
            host: url.host.clone(),
            port: url.port,
            tls: tls_mode(request, url)?,
        };
        let head = build_head(request, url, &self.extra_headers(request, url));
        let request_close = request
            .headers
            .get_list("Connection")
            .any(|v| v.to_ascii_lowercase().contains("close"));
        let replayable = !matches!(request.body, Some(Body::Producer(_)))
            && matches!(
                request.method.as_str(),
                "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
            );
        let mut retried = false;
        loop {
            let (connection, reused) = match self.inner.pool.checkout(&key) {
                Some(connection) => (connection, true),
                None => (self.connect(request, url, &key, deadline).await?, false),
            };
            self.count(|stats| {
                stats.requests += 1;
                if reused {
                    stats.connections_reused += 1;
                }
            });
            let ex = Exchange {
                max_header_size: request
                    .max_header_size
                    .unwrap_or(self.inner.options.max_header_size),
                max_body_size: request
                    .max_body_size
                    .unwrap_or(self.inner.options.max_body_size),
                request: &mut *request,
                head: head.clone(),
                following,
                request_close,
            };
            match timeout_at(deadline, exchange(&connection, ex)).await {
                Err(_) => return Err(HTTPClientError::Timeout(TimeoutPhase::Request)),
                Ok(Ok((response, reusable))) => {
                    if reusable {
                        self.inner.pool.checkin(key, connection);
                    }
                    return Ok(response);
                }
                Ok(Err(ExchangeError {
                    error: HTTPClientError::ConnectionClosed { .. },
                    response_started: false,
                })) if reused && replayable && !retried => {
                    tracing::debug!(
                        target: "typhoon::general",
                        host = %url.host,
                        port = url.port,
                        "pooled connection closed by the server, retrying on a new one"
                    );
                    retried = true;
                }
                Ok(Err(failure)) => return Err(failure.error),
            }
        }
    }

    /// The headers the client adds unless the request sets them.
    fn extra_headers(&self, request: &HTTPRequest, url: &Url) -> Vec<(&'static str, String)> {
        let mut extra = Vec::with_capacity(6);
        extra.push((
            "User-Agent",
            request
                .user_agent
                .clone()
                .unwrap_or_else(|| USER_AGENT.to_owned()),
        ));
        if request.decompress_response && cfg!(feature = "gzip") {
            extra.push(("Accept-Encoding", "gzip".to_owned()));
        }
        let credentials = request.auth.clone().or_else(|| {
            url.userinfo.as_ref().map(|info| {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                (url_unescape(user, false), url_unescape(password, false))
            })
        });
        if let Some((user, password)) = credentials {
            extra.push((
                "Authorization",
                format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
            ));
        }
        match &request.body {
            Some(Body::Bytes(bytes)) => {
                extra.push(("Content-Length", bytes.len().to_string()));
                if request.method == "POST" {
                    extra.push((
                        "Content-Type",
                        "application/x-www-form-urlencoded".to_owned(),
                    ));
                }
            }
            Some(Body::Producer(_)) if !request.headers.contains("Content-Length") => {
                extra.push(("Transfer-Encoding", "chunked".to_owned()));
            }
            _ => {}
        }
        extra
    }

    /// Opens a connection, bounded by the connect timeout (and the request's deadline).
    async fn connect(
        &self,
        request: &HTTPRequest,
        url: &Url,
        key: &PoolKey,
        deadline: Instant,
    ) -> Result<Connection> {
        let max_header = request
            .max_header_size
            .unwrap_or(self.inner.options.max_header_size);
        let tcp = TCPClient::new()
            .connect_timeout(None)
            .stream_options(StreamOptions {
                // A head, or a read's worth of body, is all the buffer ever holds (saturating:
                // `usize::MAX` means "no limit", not an overflow).
                max_buffer_size: max_header.max(1024 * 1024).saturating_mul(2),
                ..StreamOptions::default()
            });
        let connect_deadline = deadline.min(typhoon_ioloop::deadline_after(
            Instant::now(),
            request.connect_timeout,
        ));
        let connecting = async {
            match &key.tls {
                TlsMode::Plain => tcp.connect(&url.host, url.port).await,
                #[cfg(feature = "tls")]
                mode => {
                    let config = self.tls_config(mode)?;
                    return tcp
                        .connect_tls(&url.host, url.port, config)
                        .await
                        .map_err(|source| HTTPClientError::Connect { source });
                }
                #[cfg(not(feature = "tls"))]
                _ => unreachable!("tls_mode refuses https without the tls feature"),
            }
            .map_err(|source| HTTPClientError::Connect { source })
        };
        let stream = timeout_at(connect_deadline, connecting)
            .await
            .map_err(|_| HTTPClientError::Timeout(TimeoutPhase::Connect))??;
        self.count(|stats| stats.connections_opened += 1);
        Ok(Connection::new(stream))
    }

    #[cfg(feature = "tls")]
    fn tls_config(&self, mode: &TlsMode) -> Result<std::sync::Arc<rustls::ClientConfig>> {
        if let Some(config) = self.inner.tls_configs.borrow().get(mode) {
            return Ok(std::sync::Arc::clone(config));
        }
        let config = crate::tls::config(mode)?;
        self.inner
            .tls_configs
            .borrow_mut()
            .insert(mode.clone(), std::sync::Arc::clone(&config));
        Ok(config)
    }

    fn count(&self, update: impl FnOnce(&mut PoolStats)) {
        let mut stats = self.inner.stats.get();
        update(&mut stats);
        self.inner.stats.set(stats);
    }
}

/// The trust mode of a request to `url`.
fn tls_mode(request: &HTTPRequest, url: &Url) -> Result<TlsMode> {
    if url.scheme == "http" {
        return Ok(TlsMode::Plain);
    }
    if !cfg!(feature = "tls") {
        return Err(HTTPClientError::UnsupportedScheme {
            scheme: url.scheme.clone(),
        });
    }
    Ok(TlsMode::for_https(
        request.validate_cert,
        request.ca_certs.as_deref(),
    ))
}

/// Turns `request` into the request for a redirect's `location` (Tornado's rules, plus
/// dropping credentials when the origin changes, as browsers and curl do).
fn redirect(request: &mut HTTPRequest, url: &Url, effective_url: &str, code: u16, location: &str) {
    let next = join(effective_url, location);
    request.max_redirects -= 1;
    request.headers.remove("Host");
    let same_origin = Url::parse(&next)
        .is_ok_and(|n| n.scheme == url.scheme && n.host == url.host && n.port == url.port);
    if !same_origin {
        request.auth = None;
        request.headers.remove("Authorization");
        request.headers.remove("Cookie");
    }
    if (code == 303 && request.method != "HEAD")
        || (matches!(code, 301 | 302) && request.method == "POST")
    {
        request.method = "GET".to_owned();
        request.body = None;
        for name in [
            "Content-Length",
            "Content-Type",
            "Content-Encoding",
            "Transfer-Encoding",
        ] {
            request.headers.remove(name);
        }
    }
    request.url = next;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        let url = Url::parse("http://h/a/b").expect("valid");
        let mut post = HTTPRequest::new("http://h/a/b")
            .method("POST")
            .body("x")
            .header("Content-Type", "text/plain")
            .basic_auth("u", "p");
        redirect(&mut post, &url, "http://h/a/b", 302, "c");
        assert_eq!(
            (post.method.as_str(), post.url.as_str()),
            ("GET", "http://h/a/c")
        );
        assert!(post.body.is_none() && !post.headers.contains("Content-Type"));
        assert!(post.auth.is_some(), "same origin keeps credentials");

        let mut put = HTTPRequest::new("http://h/").method("PUT").body("x");
        redirect(&mut put, &url, "http://h/a/b", 307, "http://other/");
        assert_eq!(put.method, "PUT");
        assert!(put.body.is_some());

        let mut head = HTTPRequest::new("http://h/")
            .method("HEAD")
            .basic_auth("u", "p");
        redirect(&mut head, &url, "http://h/a/b", 303, "//elsewhere/x");
        assert_eq!(head.method, "HEAD");
        assert!(head.auth.is_none(), "a new origin gets no credentials");
    }
}
