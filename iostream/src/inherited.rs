//! Listening sockets inherited from the process that started this one (systemd's socket
//! activation, systemfd, or this program before an autoreload re-executed it), handed to the
//! first [`bind_sockets`](crate::netutil::bind_sockets) that asks for their port.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Mutex, PoisonError};

/// The inherited TCP listeners nobody has taken yet (`None`: the environment not read yet).
static POOL: Mutex<Option<Vec<TcpListener>>> = Mutex::new(None);

/// Runs `f` on the pool, reading the environment on first use.
fn with_pool<T>(f: impl FnOnce(&mut Vec<TcpListener>) -> T) -> T {
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    let pool = pool.get_or_insert_with(|| {
        typhoon_ioloop::take_inherited_listeners()
            .into_iter()
            .map(TcpListener::from)
            .filter(|listener| listener.local_addr().is_ok())
            .collect()
    });
    f(pool)
}

/// Takes the inherited listeners bound to `port` on one of `ips` (an unspecified address
/// matches only an unspecified one), made non-blocking; empty if there are none.
pub(crate) fn take_matching(port: u16, ips: &[IpAddr]) -> io::Result<Vec<TcpListener>> {
    if port == 0 {
        return Ok(Vec::new());
    }
    let taken = with_pool(|pool| {
        let mut taken = Vec::new();
        let mut i = 0;
        while i < pool.len() {
            let matches = pool[i]
                .local_addr()
                .is_ok_and(|addr: SocketAddr| addr.port() == port && ips.contains(&addr.ip()));
            if matches {
                taken.push(pool.swap_remove(i));
            } else {
                i += 1;
            }
        }
        taken
    });
    for listener in &taken {
        listener.set_nonblocking(true)?;
    }
    Ok(taken)
}

/// Every inherited listener not taken yet, made non-blocking: for a program started by systemd
/// with sockets of ports it does not know in advance.
///
/// # Errors
///
/// If a socket cannot be made non-blocking.
///
/// # Examples
///
/// ```
/// // Started without socket activation: nothing inherited.
/// assert!(typhoon_iostream::netutil::inherited_listeners()?.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn inherited_listeners() -> io::Result<Vec<TcpListener>> {
    let all = with_pool(std::mem::take);
    for listener in &all {
        listener.set_nonblocking(true)?;
    }
    Ok(all)
}
