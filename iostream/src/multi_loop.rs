//! [`start_loops`]: n loops in n threads sharing a port through `SO_REUSEPORT`, each serving its
//! own per-loop value (a [`TCPServer`], or anything built on one: an `HTTPServer`), and the
//! [`MultiLoopServer`] handle that reaches every loop's value from any thread.
//!
//! The per-loop values are not `Send` (servers hold `Rc`s): each is built by the factory on its
//! loop's thread and never leaves it. The handle reaches them through a mailbox per loop, a queue
//! of `Send` jobs behind a mutex plus the waker of a task, spawned on that loop, which owns the
//! value and runs the jobs there. No thread-local is involved.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use typhoon_ioloop::{IOLoop, LoopHandle, catch_unwind_call};

use crate::netutil::{BindOptions, bind_sockets};
use crate::tcpserver::TCPServer;

/// What each loop of [`start_loops`] serves: the value its factory returns, which gives the
/// [`TCPServer`] that accepts on the loop's socket, and says how it shuts down gracefully.
///
/// [`TCPServer`] implements it, and so does `typhoon_httpserver::HTTPServer`. A value of your
/// own (a server plus per-loop state) implements [`tcp_server`](Self::tcp_server) and keeps the
/// default [`shutdown`](Self::shutdown), or gives its own.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use typhoon_iostream::{LoopServer, TCPServer};
///
/// /// A loop's server and a per-loop counter (a `Cell`: the value never leaves its loop).
/// struct Counted {
///     tcp: TCPServer,
///     hits: Cell<u64>,
/// }
///
/// impl LoopServer for Counted {
///     fn tcp_server(&self) -> &TCPServer {
///         &self.tcp
///     }
/// }
/// ```
pub trait LoopServer: 'static {
    /// The server that accepts connections on this loop: [`start_loops`] adds the loop's
    /// listening socket to it, and stops it when the loop ends.
    fn tcp_server(&self) -> &TCPServer;

    /// Graceful shutdown of this loop's value, run on its loop by
    /// [`MultiLoopServer::shutdown`]: stop accepting, let the connections in flight finish
    /// until `grace` has passed, cut the rest, and resolve to how many had to be cut. The loop
    /// stops once the future resolves.
    ///
    /// The default only stops accepting and resolves to 0 at once: a bare [`TCPServer`] does not
    /// track its connections, so they end when the loop stops (uncounted).
    ///
    /// The future must resolve: [`MultiLoopServer::shutdown`] waits for every loop's. Bound
    /// it by `grace`, as `HTTPServer`'s is.
    ///
    /// # Cancel safety
    ///
    /// The future is dropped, unfinished, if its loop is closed meanwhile; implementations must
    /// leave the value usable then (the default has nothing to cancel).
    fn shutdown(&self, grace: Duration) -> impl Future<Output = usize> {
        let _ = grace;
        self.tcp_server().stop();
        std::future::ready(0)
    }
}

impl LoopServer for TCPServer {
    fn tcp_server(&self) -> &TCPServer {
        self
    }
}

/// A job for one loop's value, run on that loop's thread.
type Job<S> = Box<dyn FnOnce(&Rc<S>) + Send>;

/// One loop's mailbox: jobs sent from any thread, drained on the loop by the task that owns the
/// loop's value ([`Drain`]).
struct Mailbox<S> {
    /// The queue and the drain task's waker, behind one lock so a push never misses a wake-up.
    state: Mutex<MailboxState<S>>,
}

/// What a [`Mailbox`] guards.
struct MailboxState<S> {
    /// Jobs not yet run, in the order they were sent.
    jobs: VecDeque<Job<S>>,
    /// The drain task's waker while it waits for jobs; taken by the push that wakes it.
    waker: Option<Waker>,
    /// The drain task is gone (its loop ended): new jobs are dropped at once, so whatever they
    /// hold (a channel's sender, say) goes with them and nobody waits for them.
    closed: bool,
}

impl<S> Mailbox<S> {
    fn new() -> Self {
        Self {
            state: Mutex::new(MailboxState {
                jobs: VecDeque::new(),
                waker: None,
                closed: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MailboxState<S>> {
        // Jobs run outside the lock, and pushes and takes cannot leave the state half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` and wakes the drain task. Returns `false`, and drops the job, if the loop
    /// has ended.
    fn push(&self, job: Job<S>) -> bool {
        let mut state = self.lock();
        if state.closed {
            drop(state);
            drop(job);
            return false;
        }
        state.jobs.push_back(job);
        let waker = state.waker.take();
        drop(state);
        // ioloop's wakers may be woken from any thread: this schedules the task on its loop.
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }
}

/// The task on each loop that owns the loop's value and runs its mailbox's jobs. When the loop
/// closes, the task is dropped, which closes the mailbox and drops the jobs still queued.
struct Drain<S> {
    /// The loop's value (shared with the loop's thread, which stops its server at the end).
    value: Rc<S>,
    /// The loop's mailbox (shared with the [`MultiLoopServer`]).
    mailbox: Arc<Mailbox<S>>,
}

impl<S> Future for Drain<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // One batch per poll: jobs that keep arriving (or that queue more jobs for this loop)
        // must not keep the loop from its I/O.
        let jobs = {
            let mut state = self.mailbox.lock();
            if state.jobs.is_empty() {
                state.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            std::mem::take(&mut state.jobs)
        };
        for job in jobs {
            // A panicking job is logged and the next one runs: the mailbox stays open.
            let _ = catch_unwind_call(|| job(&self.value), "on_each_loop job");
        }
        // Polled again on the loop's next turn, after the I/O that is ready.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S> Drop for Drain<S> {
    fn drop(&mut self) {
        let jobs = {
            let mut state = self.mailbox.lock();
            state.closed = true;
            state.waker = None;
            std::mem::take(&mut state.jobs)
        };
        // Outside the lock: dropping a job drops what it captured.
        drop(jobs);
    }
}

/// Stops the current loop when dropped: however a loop's shutdown task ends (a panic included),
/// its loop stops, so joining its thread returns.
struct StopLoopOnDrop(IOLoop);

impl Drop for StopLoopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Servers running on several loops, one per thread, each with its own `SO_REUSEPORT` listener
/// on the same port and its own per-loop value `S` (see [`start_loops`]).
///
/// The handle is `Send` and `Sync` whatever `S` is: the values stay on their loops, and
/// [`on_each_loop`](Self::on_each_loop) sends work to them.
pub struct MultiLoopServer<S = TCPServer> {
    /// The shared address.
    addr: SocketAddr,
    /// One handle per loop, in start order.
    handles: Vec<LoopHandle>,
    /// One mailbox per loop, in the same order: how jobs reach each loop's value.
    mailboxes: Vec<Arc<Mailbox<S>>>,
    /// The loops' threads.
    threads: Vec<JoinHandle<()>>,
}

impl<S> fmt::Debug for MultiLoopServer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiLoopServer")
            .field("addr", &self.addr)
            .field("loops", &self.handles.len())
            .finish()
    }
}

impl<S: 'static> MultiLoopServer<S> {
    /// The address every loop listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many loops serve.
    pub fn loops(&self) -> usize {
        self.handles.len()
    }

    /// The loops' handles, one per loop in start order: to add callbacks to, or stop, one loop
    /// from any thread. To reach a loop's value, use [`on_each_loop`](Self::on_each_loop).
    pub fn loop_handles(&self) -> &[LoopHandle] {
        &self.handles
    }

    /// Runs `f` on every loop, on its thread, with that loop's value; callable from any thread.
    /// Returns at once, with how many loops took the job.
    ///
    /// A loop that has ended does not take it; a loop that ends before running it drops it.
    /// Either way whatever `f` holds is dropped once every loop has run or dropped it, so a
    /// caller waiting on a channel whose sender `f` holds never hangs. A panic in `f` is logged
    /// (target `typhoon::application`) and does not affect later jobs.
    ///
    /// `f` runs inside the loop, so it must not block; for async work with the value, spawn a
    /// task from it on [`IOLoop::current`] (with a clone of the value, or of what it needs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::sync::mpsc;
    /// use typhoon_iostream::{LoopServer, TCPServer, start_loops};
    ///
    /// /// A loop's server and how many jobs reached it.
    /// struct Counted {
    ///     tcp: TCPServer,
    ///     jobs: Cell<u32>,
    /// }
    ///
    /// impl LoopServer for Counted {
    ///     fn tcp_server(&self) -> &TCPServer {
    ///         &self.tcp
    ///     }
    /// }
    ///
    /// let loops = start_loops(2, 0, "127.0.0.1", || Counted {
    ///     tcp: TCPServer::new(|_stream, _peer| async {}),
    ///     jobs: Cell::new(0),
    /// })?;
    /// let (tx, rx) = mpsc::channel();
    /// let queued = loops.on_each_loop(move |counted: &Counted| {
    ///     counted.jobs.set(counted.jobs.get() + 1);
    ///     let _ = tx.send(counted.jobs.get());
    /// });
    /// assert_eq!(queued, 2);
    /// // The sender goes once both loops have run the job, which ends the iteration.
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 1]);
    /// loops.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_each_loop<F>(&self, f: F) -> usize
    where
        F: Fn(&S) + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let mut queued = 0;
        for mailbox in &self.mailboxes {
            let f = Arc::clone(&f);
            if mailbox.push(Box::new(move |value: &Rc<S>| f(value))) {
                queued += 1;
            }
        }
        queued
    }

    /// Stops every loop at once (connections in flight are cut) and waits for the threads.
    pub fn stop(self) {
        for handle in &self.handles {
            handle.stop();
        }
        self.join();
    }

    /// Waits until every loop's thread has ended (the loops stop by [`stop`](Self::stop),
    /// [`shutdown`](Self::shutdown), or by themselves through their handles).
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

impl<S: LoopServer> MultiLoopServer<S> {
    /// Graceful shutdown of every loop at once, each by its value's
    /// [`LoopServer::shutdown`] (for an `HTTPServer`: no new connections, idle ones closed,
    /// requests in flight finished until `grace` has passed, the rest cut); then each loop
    /// stops, even if its shutdown panicked, and this waits for the threads. Returns how many
    /// connections had to be cut, summed over the loops (a loop that had already ended counts
    /// 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use typhoon_iostream::{TCPServer, start_loops};
    ///
    /// let loops = start_loops(2, 0, "127.0.0.1", || TCPServer::new(|_stream, _peer| async {}))?;
    /// // A bare TCPServer counts no connections: its shutdown stops accepting and reports 0.
    /// assert_eq!(loops.shutdown(Duration::from_secs(10)), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(self, grace: Duration) -> usize {
        let (tx, rx) = std::sync::mpsc::channel::<usize>();
        for mailbox in &self.mailboxes {
            let tx = tx.clone();
            // A loop that has ended drops the job, and with it its sender.
            mailbox.push(Box::new(move |value: &Rc<S>| {
                let ioloop = IOLoop::current();
                let stop = StopLoopOnDrop(ioloop.clone());
                let value = Rc::clone(value);
                ioloop
                    .spawn(async move {
                        let _stop = stop;
                        let cut = value.shutdown(grace).await;
                        let _ = tx.send(cut);
                    })
                    .detach();
            }));
        }
        drop(tx);
        let cut = rx.iter().sum();
        self.join();
        cut
    }
}

/// Serves on `n` loops in `n` threads sharing `address:port` through `SO_REUSEPORT`: each loop
/// builds its own value with `factory` on its own thread (so servers and handlers need not be
/// `Send`) and accepts on its own socket through the value's
/// [`tcp_server`](LoopServer::tcp_server), and the kernel spreads connections among them. Rust
/// has no GIL, so threads give what Tornado's pre-fork `start(n)` gives, in one process.
///
/// The factory may return a [`TCPServer`], an `HTTPServer`, or a value of your own
/// implementing [`LoopServer`]; the returned [`MultiLoopServer`] reaches every loop's value
/// through [`on_each_loop`](MultiLoopServer::on_each_loop), and shuts them all down gracefully
/// through [`shutdown`](MultiLoopServer::shutdown). With port 0 the first socket picks a free
/// port and the others reuse it. Loops start one after the other, so the factory's `k`-th call
/// builds loop `k`'s value.
///
/// # Errors
///
/// If binding fails, or a loop's thread cannot start (its factory panicked, or its sockets could
/// not be registered); then the loops already started are stopped and their threads joined
/// before the error returns.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use typhoon_iostream::{TCPServer, start_loops};
///
/// let loops = start_loops(2, 0, "127.0.0.1", || {
///     TCPServer::new(|stream, _peer| async move {
///         if let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
///             let _ = stream.write(&line).await;
///         }
///     })
/// })?;
/// let mut socket = std::net::TcpStream::connect(loops.local_addr())?;
/// socket.write_all(b"echo me\n")?;
/// let mut answer = String::new();
/// socket.read_to_string(&mut answer)?;
/// assert_eq!(answer, "echo me\n");
/// loops.stop();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn start_loops<S, F>(
    n: usize,
    port: u16,
    address: &str,
    factory: F,
) -> io::Result<MultiLoopServer<S>>
where
    S: LoopServer,
    F: Fn() -> S + Send + Sync + 'static,
{
    let options = BindOptions {
        reuse_port: true,
        ..BindOptions::default()
    };
    let first = bind_sockets(port, Some(address), &options)?;
    let addr = first[0].local_addr()?;
    let factory = Arc::new(factory);
    let mut sockets = vec![first];
    for _ in 1..n.max(1) {
        sockets.push(bind_sockets(addr.port(), Some(address), &options)?);
    }
    let mut handles: Vec<LoopHandle> = Vec::with_capacity(sockets.len());
    let mut mailboxes: Vec<Arc<Mailbox<S>>> = Vec::with_capacity(sockets.len());
    let mut threads: Vec<JoinHandle<()>> = Vec::with_capacity(sockets.len());
    // If a later loop fails to start, the ones already serving stop too: the caller gets an
    // error and nothing left running without a handle to stop it.
    let fail = |error: io::Error, handles: &[LoopHandle], threads: Vec<JoinHandle<()>>| {
        for handle in handles {
            handle.stop();
        }
        for thread in threads {
            let _ = thread.join();
        }
        error
    };
    for (i, listeners) in sockets.into_iter().enumerate() {
        let factory = Arc::clone(&factory);
        let mailbox = Arc::new(Mailbox::new());
        let loop_mailbox = Arc::clone(&mailbox);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = match std::thread::Builder::new()
            .name(format!("typhoon-loop-{i}"))
            .spawn(move || {
                let ioloop = IOLoop::new();
                ioloop.make_current();
                let value = Rc::new(factory());
                let started = value
                    .tcp_server()
                    .add_sockets(listeners)
                    .map(|()| ioloop.handle());
                let ok = started.is_ok();
                // The drain task, spawned before the handle is sent back, so no job can come
                // before it exists.
                ioloop
                    .spawn(Drain {
                        value: Rc::clone(&value),
                        mailbox: loop_mailbox,
                    })
                    .detach();
                if tx.send(started).is_ok() && ok {
                    ioloop.start();
                }
                value.tcp_server().stop();
                // Cancels the drain task (closing the mailbox) before the value goes.
                ioloop.close();
                drop(value);
                IOLoop::clear_current();
            }) {
            Ok(thread) => thread,
            Err(error) => return Err(fail(error, &handles, threads)),
        };
        let started = rx
            .recv()
            .map_err(|_| io::Error::other("a server loop thread died while starting"))
            .and_then(|started| started);
        threads.push(thread);
        match started {
            Ok(handle) => {
                handles.push(handle);
                mailboxes.push(mailbox);
            }
            Err(error) => return Err(fail(error, &handles, threads)),
        }
    }
    Ok(MultiLoopServer {
        addr,
        handles,
        mailboxes,
        threads,
    })
}
