//! Helpers shared by the ioloop integration tests (the bounded runner, log capture and the
//! `Send`/`Sync` checks come from `typhoon-testing`).
#![allow(dead_code, unreachable_pub)]

/// Sets a flag when dropped: proves a future was dropped.
pub struct DropFlag(pub std::rc::Rc<std::cell::Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
