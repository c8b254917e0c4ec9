//! Buffered non-blocking streams for Typhoon: Tornado's `iostream`, `netutil`, `tcpserver` and
//! `tcpclient`, over TCP, Unix-domain sockets and TLS (rustls).
//!
//! This layer sits on `typhoon-ioloop`: every socket is an [`Async`](typhoon_ioloop::Async)
//! source on the current loop, and streams are used from tasks of that loop. Above it,
//! `typhoon-httpserver` runs HTTP/1.1 connections on [`IOStream`]s accepted by a [`TCPServer`],
//! and `typhoon-httpclient` connects with [`TCPClient`].
//!
//! - [`IOStream`]: `read_until`, `read_bytes`, `read_into`, `read_until_close`, in-place
//!   parsing (`fill_buffer`, `read_buffer`, `consume`), `write`/`write_buffered`/`flush`
//!   (`writev`), `close`, close callbacks, `set_nodelay`; every read bounded by
//!   `max_buffer_size` (100 MiB by default) and cancel-safe.
//! - [`write_file_range`]: a range of a file in 64 KiB pieces through any async writer (how
//!   `send_file` copies where it cannot use `sendfile(2)`).
//! - [`netutil`]: `bind_sockets` (IPv4/IPv6, port 0, `SO_REUSEPORT`), `bind_unix_socket`,
//!   `add_accept_handler` (accepts until `EAGAIN`, backs off on `EMFILE` instead of spinning),
//!   and under a `ConnectionLimit` `add_accept_handler_with_limit` (pauses accepting at a cap).
//! - [`TCPServer`] (with `max_connections`), [`TCPClient`], and [`start_loops`]: n loops sharing
//!   a port, each with its own [`LoopServer`] value (a `TCPServer`, an `HTTPServer`, or yours),
//!   reached from any thread through [`MultiLoopServer::on_each_loop`] and shut down gracefully
//!   by [`MultiLoopServer::shutdown`].
//! - [`process`]: Tornado's pre-fork model (`fork_processes`, `task_id`, restarts), by
//!   re-execution: what Tornado's `TCPServer.start(n)` does.
//! - With the `tls` feature: `start_tls_server`/`start_tls_client`, TLS servers and clients, and
//!   configuration helpers in [`tls`] (PEM loading, webpki roots or a given CA, ALPN).
//!
//! # Examples
//!
//! An echo server and a client on one loop:
//!
//! ```
//! use typhoon_ioloop::IOLoop;
//! use typhoon_iostream::{StreamError, TCPClient, TCPServer};
//!
//! IOLoop::new().run_sync(async {
//!     let server = TCPServer::new(|stream, _peer| async move {
//!         while let Ok(line) = stream.read_until(b"\n", Some(4096)).await {
//!             if stream.write(&line).await.is_err() {
//!                 break;
//!             }
//!         }
//!     });
//!     let addr = server.listen(0, Some("127.0.0.1"))?[0];
//!     let client = TCPClient::new().connect("127.0.0.1", addr.port()).await?;
//!     client.write(b"hello\n").await?;
//!     assert_eq!(client.read_until(b"\n", None).await?, b"hello\n");
//!     server.stop();
//!     Ok::<(), StreamError>(())
//! })?;
//! # Ok::<(), StreamError>(())
//! ```
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `tls` | TLS streams on rustls 0.23 with the `ring` provider, `webpki-roots`, PEM loading | No |
//!
//! The TLS provider is `ring` rather than rustls's default `aws-lc-rs`: a clean release build of
//! rustls alone took 30 s with `ring` and 50 s with `aws-lc-rs` on our 2-core machines
//! (measured with `cargo build -j2 --release` on a one-line program per provider, while another
//! build shared the machine), and `aws-lc-rs` compiles AWS-LC's C (and needs CMake or NASM on some
//! targets). Both are maintained by the rustls project's orbit; `ring` covers the TLS 1.2/1.3
//! suites we need.
//!
//! # Cancel safety
//!
//! Every read is cancel-safe: bytes stay in the stream's buffer until a read completes. Writes
//! are cancel-safe: data is queued when the write is first polled, and a dropped write leaves it
//! queued. Only the TLS handshake (`start_tls_*`) is not: dropping it drops the connection.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod buffer;
mod error;
mod file_range;
mod inherited;
mod multi_loop;
pub mod netutil;
pub mod process;
mod stream;
mod tcpclient;
mod tcpserver;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod transport;

pub use error::{Result, StreamError};
pub use file_range::write_file_range;
pub use multi_loop::{LoopServer, MultiLoopServer, start_loops};
pub use netutil::PeerAddr;
pub use stream::{IOStream, StreamOptions};
pub use tcpclient::TCPClient;
pub use tcpserver::TCPServer;
