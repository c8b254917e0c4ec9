//! The apps behind Typhoon's runnable examples, kept in a library so tests drive exactly what the
//! examples run (axum's `app()` pattern).
//!
//! Each example in `examples/examples/` is a thin `main` over a function here; see
//! `examples/README.md` for the index:
//!
//! - [`helloworld`], `tls_hello` (HTTPS, feature `tls`), [`multi_core`] (n loops on one port);
//! - [`sleep`]: the synchronous-vs-asynchronous experiment from the Tornado performance
//!   articles, blocking vs. async vs. executor sleeps on one loop;
//! - [`file_upload`]: streamed multipart and PUT uploads to disk, and a streaming client;
//! - [`graceful_shutdown`]: draining a server on a stop trigger;
//! - [`options`]: `typhoon-options` with a config file and `--help`;
//! - [`echo`] and [`tcpecho`]: line echo servers on the bare loop and on `TCPServer`;
//! - [`webspider`]: Tornado's crawler demo, a queue of URLs and concurrent client workers;
//! - [`tower_api`]: an axum router under `/api` beside Typhoon handlers, on one loop;
//! - [`google_auth`]: Tornado's sign-in demo on `typhoon-auth`, against a fake Google it serves
//!   itself unless given real credentials.
//!
//! # Examples
//!
//! The line-echo server of `ioloop_echo`, on a free port, answering one client:
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::TcpStream;
//! use typhoon_examples::echo::{EchoConfig, EchoServer};
//! use typhoon_ioloop::IOLoop;
//!
//! let (server, addr) = EchoServer::spawn_thread("127.0.0.1:0".parse()?, EchoConfig::default())?;
//! let mut client = TcpStream::connect(addr)?;
//! client.write_all(b"hello\n")?;
//! let mut line = String::new();
//! BufReader::new(&client).read_line(&mut line)?;
//! assert_eq!(line, "hello\n");
//! server.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod blog;
pub mod chat;
#[cfg(feature = "tls")]
pub mod demo;
pub mod echo;
pub mod fetch_bench;
pub mod file_upload;
pub mod google_auth;
pub mod graceful_shutdown;
pub mod helloworld;
pub mod httpserver_hello;
pub mod multi_core;
pub mod options;
pub mod random;
pub mod redirects;
pub mod sleep;
pub mod static_server;
pub mod tcpecho;
#[cfg(feature = "tls")]
pub mod tls_hello;
pub mod tower_api;
pub mod websocket_chat;
pub mod websocket_client_autobahn;
pub mod websocket_echo;
pub mod webspider;
