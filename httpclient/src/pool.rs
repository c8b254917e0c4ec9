//! The keep-alive pool: idle connections by origin, expired by one sweeping timer per client.
//!
//! Connections of one origin sit in a `Vec`, most recently used last; checkout pops the last
//! (the warmest), checkin pushes with the time. So each `Vec` is ordered by idle time and the
//! expired connections are always a prefix. An origin's entry goes away with its last
//! connection (checkout, expiry or [`Pool::close_idle`]), so a crawler's pool holds entries
//! only for the origins it has idle connections to.
//!
//! One timer per pool, armed only while something is idle, closes the connections past the
//! idle timeout. It holds the pool weakly: a dropped client is freed at once (its idle
//! connections close) and its timer is removed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use typhoon_ioloop::{IOLoop, TimeoutHandle, deadline_after};

use crate::connection::Connection;

/// Which certificates a TLS connection trusts; part of the pool key, so a connection made
/// without verification is never handed to a request that wants it.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Plain HTTP.
    Plain,
    /// The Mozilla roots of `webpki-roots`.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    WebpkiRoots,
    /// The CA certificates of a PEM file.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    CaFile(PathBuf),
    /// No verification at all (`validate_cert(false)`).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Insecure,
}

impl TlsMode {
    /// The mode of an `https` request with these settings (`validate_cert` off wins over
    /// `ca_certs`, as in Tornado).
    pub(crate) fn for_https(validate_cert: bool, ca_certs: Option<&std::path::Path>) -> Self {
        match (validate_cert, ca_certs) {
            (false, _) => TlsMode::Insecure,
            (true, Some(path)) => TlsMode::CaFile(path.to_path_buf()),
            (true, None) => TlsMode::WebpkiRoots,
        }
    }
}

/// Connections are shared by requests to the same origin with the same trust settings.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct PoolKey {
    /// The URL's host.
    pub(crate) host: String,
    /// The URL's port (explicit or the scheme's).
    pub(crate) port: u16,
    /// The trust settings (and whether it is TLS at all).
    pub(crate) tls: TlsMode,
}

/// The armed sweep timer.
struct Sweep {
    /// The loop the timer is on (the client's loop), to remove it.
    ioloop: IOLoop,
    /// The timer.
    handle: TimeoutHandle,
}

/// A client's idle keep-alive connections.
pub(crate) struct Pool {
    /// `ClientOptions::max_idle_per_host`.
    max_idle_per_host: usize,
    /// `ClientOptions::idle_timeout`.
    idle_timeout: Duration,
    /// Idle connections by origin, most recently used last; never an empty `Vec`.
    idle: RefCell<HashMap<PoolKey, Vec<Connection>>>,
    /// The sweep timer, while one is armed (only while something is idle).
    sweep: RefCell<Option<Sweep>>,
}

impl Pool {
    pub(crate) fn new(max_idle_per_host: usize, idle_timeout: Duration) -> Rc<Self> {
        Rc::new(Self {
            max_idle_per_host,
            idle_timeout,
            idle: RefCell::new(HashMap::new()),
            sweep: RefCell::new(None),
        })
    }

    /// Idle connections now pooled.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }

    /// Origins with at least one idle connection (the map's entries).
    pub(crate) fn host_count(&self) -> usize {
        self.idle.borrow().len()
    }

    /// An idle connection to `key`'s origin that is still usable. The stale ones found on the
    /// way are closed; the origin's entry goes when its last connection does.
    pub(crate) fn checkout(&self, key: &PoolKey) -> Option<Connection> {
        let mut idle = self.idle.borrow_mut();
        let connections = idle.get_mut(key)?;
        let mut found = None;
        while let Some(connection) = connections.pop() {
            if connection.idle_since.elapsed() < self.idle_timeout && connection.is_reusable() {
                found = Some(connection);
                break;
            }
            connection.stream.close();
        }
        if connections.is_empty() {
            idle.remove(key);
        }
        found
    }

    /// Returns a connection to the pool (or closes it if the origin has `max_idle_per_host`
    /// already), and arms the sweep timer if it is not.
    pub(crate) fn checkin(self: &Rc<Self>, key: PoolKey, mut connection: Connection) {
        {
            let mut idle = self.idle.borrow_mut();
            let held = idle.get(&key).map_or(0, Vec::len);
            if held >= self.max_idle_per_host {
                drop(idle);
                connection.stream.close();
                return;
            }
            connection.idle_since = Instant::now();
            idle.entry(key).or_default().push(connection);
        }
        if self.sweep.borrow().is_none() {
            // Nothing else is idle, or the armed timer is due no later than this connection.
            self.arm(deadline_after(Instant::now(), self.idle_timeout));
        }
    }

    /// Closes every idle connection and disarms the timer.
    pub(crate) fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.idle.borrow_mut());
        for connection in idle.into_values().flatten() {
            connection.stream.close();
        }
        self.disarm();
    }

    /// Arms the sweep timer for `deadline` on the current loop.
    fn arm(self: &Rc<Self>, deadline: Instant) {
        let ioloop = IOLoop::current();
        let pool = Rc::downgrade(self);
        let handle = ioloop.call_at(deadline, move || sweep(&pool));
        *self.sweep.borrow_mut() = Some(Sweep { ioloop, handle });
    }

    fn disarm(&self) {
        let armed = self.sweep.borrow_mut().take();
        if let Some(Sweep { ioloop, handle }) = armed {
            ioloop.remove_timeout(handle);
        }
    }

    /// Closes the connections idle for `idle_timeout` or longer; returns when the next one
    /// expires, if any is left.
    fn expire(&self, now: Instant) -> Option<Instant> {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        {
            let mut idle = self.idle.borrow_mut();
            idle.retain(|_, connections| {
                let stale = connections.partition_point(|c| {
                    now.saturating_duration_since(c.idle_since) >= self.idle_timeout
                });
                expired.extend(connections.drain(..stale));
                if let Some(first) = connections.first() {
                    let expires = deadline_after(first.idle_since, self.idle_timeout);
                    next = Some(next.map_or(expires, |n| n.min(expires)));
                }
                !connections.is_empty()
            });
            // A crawl that once had many origins idle leaves a large, mostly empty table.
            if idle.capacity() >= 64 && idle.len() <= idle.capacity() / 4 {
                let keep = idle.len() * 2;
                idle.shrink_to(keep);
            }
        }
        for connection in expired {
            connection.stream.close();
        }
        next
    }
}

/// The sweep timer's callback: expire what is due, re-arm for the next expiry. Sweeps are at
/// least a quarter of the idle timeout apart, so a pool with many origins expiring at
/// different moments is scanned a few times per timeout period, not once per connection (a
/// connection closes at most that much after it expired; checkout never hands out an expired
/// one).
fn sweep(pool: &Weak<Pool>) {
    let Some(pool) = pool.upgrade() else {
        return; // the client is gone (its Drop removes the timer; this is belt and braces)
    };
    pool.sweep.borrow_mut().take(); // this timer has fired
    let now = Instant::now();
    if let Some(next) = pool.expire(now) {
        let soonest = deadline_after(now, pool.idle_timeout / 4);
        if pool.sweep.borrow().is_none() {
            pool.arm(next.max(soonest));
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Connections first (their streams deregister from the loop), then the timer.
        drop(std::mem::take(self.idle.get_mut()));
        self.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_pool_removes_its_timer() {
        let ioloop = IOLoop::new();
        ioloop.make_current();
        let pool = Pool::new(1, Duration::from_secs(3600));
        pool.arm(deadline_after(Instant::now(), Duration::from_secs(3600)));
        let handle = pool.sweep.borrow().as_ref().map(|s| s.handle);
        let weak = Rc::downgrade(&pool);
        drop(pool);
        assert!(weak.upgrade().is_none(), "the timer holds the pool weakly");
        let handle = handle.expect("armed");
        assert!(
            !ioloop.remove_timeout(handle),
            "the pool's Drop removed its timer"
        );
        IOLoop::clear_current();
    }
}
