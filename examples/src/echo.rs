//! A line-echo TCP server on the bare event loop: every line a client sends comes back.
//!
//! It uses only `typhoon-ioloop`: [`Async`] for the listener and connections, one task per
//! connection, [`timeout`] for idle clients, [`PeriodicCallback`] for a stats line, and a
//! [`LoopHandle`] to stop it from another thread. Bad input is bounded: a line longer than
//! [`EchoConfig::max_line`] gets an error line and the connection closes; a client idle longer
//! than [`EchoConfig::idle_timeout`] is closed; either way everyone else is still served.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::{Async, IOLoop, LoopError, LoopHandle, PeriodicCallback, timeout};

/// Limits and settings of the echo server.
#[derive(Clone, Debug)]
pub struct EchoConfig {
    /// The longest line accepted, newline included (default 64 KiB).
    pub max_line: usize,
    /// How long a connection may stay silent before it is closed (default 60 s).
    pub idle_timeout: Duration,
    /// How often the stats line is logged (default 10 s).
    pub stats_period: Duration,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            max_line: 64 * 1024,
            idle_timeout: Duration::from_secs(60),
            stats_period: Duration::from_secs(10),
        }
    }
}

/// Counters for the stats line.
#[derive(Debug, Default)]
struct Stats {
    /// Connections accepted.
    accepted: Cell<u64>,
    /// Connections open now.
    open: Cell<u64>,
    /// Lines echoed.
    lines: Cell<u64>,
}

/// A running echo server.
#[derive(Debug)]
pub struct EchoServer {
    /// Stops the server's loop.
    handle: LoopHandle,
    /// The server's thread, when started by [`EchoServer::spawn_thread`].
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EchoServer {
    /// Binds `addr` and serves on the current loop until the loop stops. Returns the bound
    /// address (useful with port 0).
    ///
    /// # Errors
    ///
    /// If the address cannot be bound.
    pub fn listen(addr: SocketAddr, config: EchoConfig) -> io::Result<SocketAddr> {
        let listener = Async::new(TcpListener::bind(addr)?)?;
        let local = listener.get_ref().local_addr()?;
        let stats = Rc::new(Stats::default());
        let ioloop = IOLoop::current();
        let periodic = {
            let stats = Rc::clone(&stats);
            PeriodicCallback::new(
                move || {
                    tracing::info!(
                        target: "typhoon::general",
                        accepted = stats.accepted.get(),
                        open = stats.open.get(),
                        lines = stats.lines.get(),
                        "echo stats"
                    );
                },
                config.stats_period,
            )
        };
        periodic.start();
        ioloop.spawn(accept_loop(listener, config, stats)).detach();
        Ok(local)
    }

    /// Starts a server on its own thread and loop; returns it and its address.
    ///
    /// # Errors
    ///
    /// If the address cannot be bound.
    pub fn spawn_thread(addr: SocketAddr, config: EchoConfig) -> io::Result<(Self, SocketAddr)> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let ioloop = IOLoop::new();
            ioloop.make_current();
            let bound = EchoServer::listen(addr, config).map(|local| (local, ioloop.handle()));
            let ok = bound.is_ok();
            if tx.send(bound).is_ok() && ok {
                ioloop.start();
            }
            ioloop.close();
            IOLoop::clear_current();
        });
        let (local, handle) = rx
            .recv()
            .map_err(|_| io::Error::other("echo server thread died"))??;
        Ok((
            Self {
                handle,
                thread: Some(thread),
            },
            local,
        ))
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.handle.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: Async<TcpListener>, config: EchoConfig, stats: Rc<Stats>) {
    loop {
        match listener.read_with(|l| l.accept()).await {
            Ok((stream, peer)) => {
                stats.accepted.set(stats.accepted.get() + 1);
                let config = config.clone();
                let stats = Rc::clone(&stats);
                IOLoop::current()
                    .spawn(async move {
                        stats.open.set(stats.open.get() + 1);
                        let result = serve(stream, &config, &stats).await;
                        stats.open.set(stats.open.get() - 1);
                        match result {
                            Ok(()) => {
                                tracing::debug!(target: "typhoon::general", %peer, "closed");
                            }
                            Err(error) => {
                                tracing::info!(target: "typhoon::general", %peer, %error, "connection ended");
                            }
                        }
                    })
                    .detach();
            }
            Err(error) => {
                // EMFILE and friends: log, back off briefly, keep accepting.
                tracing::warn!(target: "typhoon::general", %error, "accept failed");
                typhoon_ioloop::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Echoes complete lines until the peer closes, goes idle, or sends an over-long line.
async fn serve(stream: TcpStream, config: &EchoConfig, stats: &Stats) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let stream = Async::new(stream)?;
    let mut buf = vec![0u8; 4096];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let read = timeout(
            config.idle_timeout,
            stream.read_with(|s| (&*s).read(&mut buf)),
        )
        .await;
        let n = match read {
            Ok(result) => result?,
            Err(LoopError::Timeout) => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "idle timeout"));
            }
            Err(error) => return Err(io::Error::other(error)),
        };
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..n]);
        if let Some(last_newline) = pending.iter().rposition(|&b| b == b'\n') {
            let complete: Vec<u8> = pending.drain(..=last_newline).collect();
            stats
                .lines
                .set(stats.lines.get() + complete.iter().filter(|&&b| b == b'\n').count() as u64);
            write_all(&stream, &complete).await?;
        }
        if pending.len() >= config.max_line {
            write_all(&stream, b"error: line too long\n").await?;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "line longer than max_line",
            ));
        }
    }
}

async fn write_all(stream: &Async<TcpStream>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = stream.write_with(|s| (&*s).write(data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
    }
    Ok(())
}
