//! [`HTTPClient`]: the blocking client for scripts, on a private loop.

use std::fmt;
use std::io;

use typhoon_ioloop::IOLoop;

use crate::client::{AsyncHTTPClient, ClientOptions};
use crate::error::{HTTPClientError, Result};
use crate::request::HTTPRequest;
use crate::response::HTTPResponse;

/// A blocking HTTP client (Tornado's `HTTPClient`): each [`fetch`](Self::fetch) runs an
/// [`AsyncHTTPClient`] on a private [`IOLoop`] on the calling thread until the response is
/// complete. Keep-alive connections stay pooled between fetches.
///
/// It must not be used on a thread whose loop is running (in a handler, a task, a callback):
/// it would block that loop, so it refuses with [`HTTPClientError::LoopRunning`]. Use
/// [`AsyncHTTPClient`] there.
///
/// # Examples
///
/// ```
/// use typhoon_httpclient::HTTPClient;
/// use typhoon_httpserver::HTTPServer;
/// use typhoon_ioloop::IOLoop;
///
/// // A server on its own thread and loop.
/// let (tx, rx) = std::sync::mpsc::channel();
/// std::thread::spawn(move || {
///     let io_loop = IOLoop::new();
///     io_loop.make_current();
///     let server = HTTPServer::new(|_request, mut response| async move {
///         response.write(b"Hello, world");
///     });
///     let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
///     tx.send(port).expect("send the port");
///     io_loop.start();
/// });
/// let port = rx.recv()?;
///
/// let client = HTTPClient::new()?;
/// let response = client.fetch(format!("http://127.0.0.1:{port}/"))?;
/// assert_eq!(response.body, b"Hello, world");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct HTTPClient {
    /// The async client (declared first: its pooled streams close before their loop goes).
    client: AsyncHTTPClient,
    /// The private loop each fetch runs on.
    io_loop: IOLoop,
}

impl HTTPClient {
    /// A client with the default [`ClientOptions`].
    ///
    /// # Errors
    ///
    /// If the loop's poller cannot be created (no file descriptors left).
    pub fn new() -> io::Result<Self> {
        Self::with_options(ClientOptions::default())
    }

    /// A client with `options`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_options(options: ClientOptions) -> io::Result<Self> {
        Ok(Self {
            client: AsyncHTTPClient::with_options(options),
            io_loop: IOLoop::try_new()?,
        })
    }

    /// Fetches `request` and blocks until the response is complete.
    ///
    /// # Errors
    ///
    /// As [`AsyncHTTPClient::fetch`]; [`HTTPClientError::LoopRunning`] if called on a thread
    /// whose loop is running.
    pub fn fetch(&self, request: impl Into<HTTPRequest>) -> Result<HTTPResponse> {
        if IOLoop::try_current().is_some_and(|current| current.is_running()) {
            return Err(HTTPClientError::LoopRunning);
        }
        let request = request.into();
        let client = self.client.clone();
        self.io_loop
            .run_sync(async move { client.fetch(request).await })
    }

    /// The async client underneath (its pool and counters).
    pub fn async_client(&self) -> &AsyncHTTPClient {
        &self.client
    }
}

impl fmt::Debug for HTTPClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
