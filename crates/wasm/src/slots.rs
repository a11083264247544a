//! Waking calls that wait for one of the engine's instance slots. Every call frees a slot,
//! almost always with nobody waiting, and an unconditional `Notify::notify_waiters` takes a
//! lock shared by every pool of the engine: so waiters announce themselves and a free with
//! nobody waiting costs one atomic load.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The engine-wide "an instance slot was freed" signal.
#[derive(Debug, Default)]
pub struct SlotSignal {
    notify: tokio::sync::Notify,
    waiting: AtomicUsize,
}

impl SlotSignal {
    /// A slot was freed (an instance went back idle or was dropped).
    pub fn freed(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// Announces a caller that may wait for a slot until the guard is dropped; register
    /// before looking for a slot so a free in between is not missed.
    pub fn waiter(&self) -> SlotWaiter<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        SlotWaiter { signal: self }
    }
}

/// A registered waiter; see [`SlotSignal::waiter`].
pub struct SlotWaiter<'a> {
    signal: &'a SlotSignal,
}

impl SlotWaiter<'_> {
    /// Resolves at the next [`SlotSignal::freed`] after it is enabled.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.signal.notify.notified()
    }
}

impl Drop for SlotWaiter<'_> {
    fn drop(&mut self) {
        self.signal.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}
