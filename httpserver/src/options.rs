//! [`HTTPServerOptions`]: every setting of a server, and the handler types it names.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httputil::h1::Limits;

use crate::request::HTTPServerRequest;

/// The boxed future of a request handler.
pub type HandlerFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Decides per request whether its body is streamed to the handler (through
/// [`HTTPServerRequest::body_reader`]) instead of read first.
pub type StreamBodyPredicate = Rc<dyn Fn(&HTTPServerRequest) -> bool>;

/// Every setting of an [`HTTPServer`](crate::HTTPServer), each limit with the default of `shared/HTTP-LIMITS.md`
/// (Tornado's keyword arguments to `HTTPServer`).
#[derive(Clone)]
pub struct HTTPServerOptions {
    /// Head size, header count, URI length, body size and chunk limits.
    pub limits: Limits,
    /// How long a connection may wait for the first byte of a request, the first one included
    /// (default 60 s). Then it closes silently.
    pub idle_connection_timeout: Duration,
    /// How long a connection just accepted is protected while its client sends the first
    /// request (default 1 s): a graceful shutdown answers a first request that arrives within
    /// it (and the shutdown's grace) instead of closing the connection, and at
    /// `max_connections` the server closes only idle connections that are older. After it, a
    /// silent new connection counts as idle, as a keep-alive one does.
    pub first_request_grace: Duration,
    /// The absolute deadline for a whole request head from its first byte (default 30 s,
    /// against slowloris). Then the connection closes silently.
    pub header_timeout: Duration,
    /// The longest pause between body bytes (default 60 s); then 408 and close.
    pub body_inactivity_timeout: Duration,
    /// A limit on the whole body's arrival (Tornado's `body_timeout`), off by default.
    pub body_timeout: Option<Duration>,
    /// How long a response may wait with no byte reaching the client's socket (a client that
    /// stopped reading); then the connection closes (default 60 s). As nginx's `send_timeout`
    /// it runs between two successive writes, not over the whole response, so a slow download
    /// that keeps moving is never cut. It covers every write: the server's own, a handler's
    /// `flush`, and `send_file`.
    pub send_timeout: Duration,
    /// The most connections this server holds at once, per loop (default 10,000, the role of
    /// nginx's `worker_connections`). Reaching the cap closes the keep-alive connection idle
    /// longest, to make room; while every connection is busy, the server stops accepting, the
    /// kernel's backlog holds the clients that come meanwhile, and it accepts again once a
    /// connection ends. `usize::MAX` means no cap; 0 is taken as 1 (a server that never accepts
    /// would be a setting that silently does nothing). With several listeners (IPv4 and IPv6)
    /// the cap can be passed by one connection per extra listener, accepted at the same time.
    pub max_connections: usize,
    /// The longest a TLS handshake may take (default 10 s); a client that has not finished it
    /// by then is dropped. Only TLS connections have one.
    pub tls_handshake_timeout: Duration,
    /// The most response bytes a connection queues past what the kernel took before it stops
    /// to wait for the client (default 1 MiB). Responses to pipelined requests are batched into
    /// one write up to this; past it the connection sends them and reads no further request
    /// until the client has taken them, so a client that pipelines without reading holds at
    /// most this much of the server's memory. A handler's
    /// [`flush`](crate::ResponseWriter::flush) and `send_file` always wait for the client;
    /// what a handler [`write`](crate::ResponseWriter::write)s without flushing stays in its own
    /// response buffer (as in Tornado) until it finishes or flushes.
    pub max_output_buffer: usize,
    /// Close every connection after one response.
    pub no_keep_alive: bool,
    /// Behind a proxy: take the client's address and scheme from `X-Real-Ip`,
    /// `X-Forwarded-For`, `X-Scheme`, `X-Forwarded-Proto` (invalid values are ignored).
    pub xheaders: bool,
    /// Proxies whose addresses `X-Forwarded-For` skips (with `xheaders`).
    pub trusted_downstream: Vec<IpAddr>,
    /// Inflate `Content-Encoding: gzip` request bodies (Tornado's `decompress_request`),
    /// buffered and streamed alike, as they arrive and in bounded steps; the inflated size is
    /// held to `max_body_size` (a zip bomb gets 413) and a corrupt stream gets 400. The handler
    /// sees `X-Consumed-Content-Encoding: gzip` instead of `Content-Encoding`.
    ///
    /// Only with the feature `gzip`: the field exists without it so that settings read the same
    /// whatever the features, but then it does nothing (and the server says so with a warning
    /// when it is set).
    pub decompress_request: bool,
    /// Stream the bodies of the requests this predicate selects (Tornado's
    /// `@stream_request_body`); others are read whole first.
    pub stream_request_body: Option<StreamBodyPredicate>,
    /// Replaces the access log line (Tornado's `log_function` setting); `None` logs
    /// Tornado's line on `typhoon::access`.
    pub log_function: Option<crate::LogFunction>,
    /// TLS: connections are handshaken first, and requests say `protocol == "https"`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

impl Default for HTTPServerOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            idle_connection_timeout: Duration::from_secs(60),
            first_request_grace: Duration::from_secs(1),
            header_timeout: Duration::from_secs(30),
            body_inactivity_timeout: Duration::from_secs(60),
            body_timeout: None,
            send_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            tls_handshake_timeout: Duration::from_secs(10),
            max_output_buffer: 1024 * 1024,
            no_keep_alive: false,
            xheaders: false,
            trusted_downstream: Vec::new(),
            decompress_request: false,
            stream_request_body: None,
            log_function: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl fmt::Debug for HTTPServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPServerOptions")
            .field("limits", &self.limits)
            .field("idle_connection_timeout", &self.idle_connection_timeout)
            .field("first_request_grace", &self.first_request_grace)
            .field("header_timeout", &self.header_timeout)
            .field("body_inactivity_timeout", &self.body_inactivity_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("max_connections", &self.max_connections)
            .field("tls_handshake_timeout", &self.tls_handshake_timeout)
            .field("max_output_buffer", &self.max_output_buffer)
            .field("no_keep_alive", &self.no_keep_alive)
            .field("xheaders", &self.xheaders)
            .field("decompress_request", &self.decompress_request)
            .field("log_function", &self.log_function.is_some())
            .finish_non_exhaustive()
    }
}
