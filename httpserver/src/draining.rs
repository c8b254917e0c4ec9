//! The server's graceful-shutdown flag, shared by its connections and awaited by the upgraded
//! ones.

use std::cell::Cell;

use typhoon_ioloop::locks::Event;

/// A server's graceful-shutdown flag: read by every connection, and awaited by the upgraded
/// ones (a WebSocket sends its close when the shutdown starts).
#[derive(Default)]
pub(crate) struct Draining {
    /// Whether the shutdown has begun.
    flag: Cell<bool>,
    /// Set when it begins.
    started: Event,
}

impl Draining {
    /// Whether the shutdown has begun.
    pub(crate) fn get(&self) -> bool {
        self.flag.get()
    }

    /// Begins it, waking whoever waits.
    pub(crate) fn start(&self) {
        self.flag.set(true);
        self.started.set();
    }

    /// Waits until it begins.
    pub(crate) async fn wait(&self) {
        self.started.wait().await;
    }
}

impl std::fmt::Debug for Draining {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Draining").field(&self.flag.get()).finish()
    }
}
