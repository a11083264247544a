//! State shared by the public handle and the HTTP handlers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::faults::{Fault, RecordedRequest};
use crate::store::Store;

/// Everything the handlers and the public handle both touch. Only std mutexes,
/// never held across an `.await`.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub faults: Mutex<Vec<Fault>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub down: AtomicBool,
    pub stopped: AtomicBool,
    /// Bumped to end every open watch.
    pub epoch: watch::Sender<u64>,
    pub open_watches: Arc<AtomicUsize>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Self {
            store: Mutex::new(Store::new()),
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            down: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            epoch: watch::Sender::new(0),
            open_watches: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Ends every open watch stream.
    pub(crate) fn end_watches(&self) {
        self.epoch.send_modify(|e| *e = e.wrapping_add(1));
    }

    /// Whether requests are currently refused with 503.
    pub(crate) fn unavailable(&self) -> bool {
        self.down.load(Ordering::SeqCst) || self.stopped.load(Ordering::SeqCst)
    }
}
