//! Waiting for I/O events: `polling::Poller::wait`, with a one-syscall fast path on Linux.
//!
//! `polling` 3.11's `wait` costs five syscalls on Linux whatever the timeout (arm the timerfd,
//! re-arm its oneshot registration, `epoll_pwait`, drain the notifier eventfd, re-arm it). Two
//! tasks ping-ponging over a socket pay that twice per round trip. So on Linux the loop calls
//! `epoll_pwait` itself on the poller's own epoll fd (`Poller` is `AsFd`; rustix's wrapper is
//! safe) and lets `polling` do everything else: registrations, `notify`, and the timerfd for
//! timeouts finer than the kernel's millisecond `epoll_pwait` resolution. An event with
//! `polling`'s notify key means the eventfd fired (a cross-thread wake); then `Poller::wait` with
//! a zero timeout runs once to drain and re-arm it, exactly as `polling` expects.

use std::io;
use std::time::Duration;

use polling::{Events, Poller};

/// `polling`'s reserved key for its notifier and timerfd.
#[cfg(target_os = "linux")]
const NOTIFY_KEY: u64 = usize::MAX as u64;

/// Timeouts shorter than this with a sub-millisecond part go through `polling`'s timerfd, which
/// is exact; `epoll_pwait` rounds up to whole milliseconds (never early, up to 1 ms late).
#[cfg(target_os = "linux")]
const PRECISE_BELOW: Duration = Duration::from_millis(10);

/// The loop's reused event buffers and the wait that fills them (one per loop, in
/// `Inner::events`; not to be confused with a task's `wait_queue::QueuePlace`).
pub(crate) struct EventBuffers {
    /// `polling`'s buffer, for the portable path and the notifier drain.
    events: Events,
    /// The raw epoll buffer of the fast path.
    #[cfg(target_os = "linux")]
    raw: Vec<rustix::event::epoll::Event>,
}

impl EventBuffers {
    pub(crate) fn new() -> Self {
        Self {
            events: Events::new(),
            #[cfg(target_os = "linux")]
            raw: Vec::with_capacity(1024),
        }
    }

    /// Waits up to `timeout` (`None`: forever) and calls `deliver(key, readable, writable)` for
    /// every event.
    pub(crate) fn wait(
        &mut self,
        poller: &Poller,
        timeout: Option<Duration>,
        deliver: &mut dyn FnMut(usize, bool, bool),
    ) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if timeout
            .is_none_or(|t| t.is_zero() || t >= PRECISE_BELOW || t.subsec_micros() % 1000 == 0)
        {
            return self.wait_epoll(poller, timeout, deliver);
        }
        self.wait_polling(poller, timeout, deliver)
    }

    fn wait_polling(
        &mut self,
        poller: &Poller,
        timeout: Option<Duration>,
        deliver: &mut dyn FnMut(usize, bool, bool),
    ) -> io::Result<()> {
        self.events.clear();
        poller.wait(&mut self.events, timeout)?;
        for event in self.events.iter() {
            deliver(event.key, event.readable, event.writable);
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn wait_epoll(
        &mut self,
        poller: &Poller,
        timeout: Option<Duration>,
        deliver: &mut dyn FnMut(usize, bool, bool),
    ) -> io::Result<()> {
        use std::os::fd::AsFd;

        use rustix::event::epoll::{self, EventFlags};

        let timeout = timeout.map(|t| rustix::time::Timespec {
            tv_sec: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(t.subsec_nanos()),
        });
        self.raw.clear();
        match epoll::wait(
            poller.as_fd(),
            rustix::buffer::spare_capacity(&mut self.raw),
            timeout.as_ref(),
        ) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(error) => return Err(error.into()),
        }
        let readable = EventFlags::IN | EventFlags::HUP | EventFlags::ERR | EventFlags::PRI;
        let writable = EventFlags::OUT | EventFlags::HUP | EventFlags::ERR;
        let mut notified = false;
        for event in &self.raw {
            // Copy out of the packed struct before use.
            let (flags, data) = (event.flags, event.data);
            let key = data.u64();
            if key == NOTIFY_KEY {
                notified = true;
                continue;
            }
            let Ok(key) = usize::try_from(key) else {
                continue;
            };
            deliver(key, flags.intersects(readable), flags.intersects(writable));
        }
        if notified {
            // Let polling drain and re-arm its notifier (and deliver anything else ready).
            self.wait_polling(poller, Some(Duration::ZERO), deliver)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for EventBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBuffers").finish()
    }
}
