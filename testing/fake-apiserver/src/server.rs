//! State shared by the public handle and the HTTP handlers, and the server task.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::sync::watch;

use crate::faults::{Fault, RecordedRequest};
use crate::routes;
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
    fn new() -> Self {
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

/// A running server: its address, shared state and the switch that stops it.
pub(crate) struct Running {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl Running {
    /// Binds 127.0.0.1 on a free port and serves on the current Tokio runtime.
    pub(crate) async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        let (shutdown, mut shutdown_rx) = watch::channel(false);
        let app = Router::new()
            .fallback(routes::handle)
            .with_state(shared.clone());
        tokio::spawn(async move {
            let signal = async move {
                // An error means the handle is gone: stop as well.
                let _ = shutdown_rx.wait_for(|stop| *stop).await;
            };
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(%err, "fake API server stopped with an error");
            }
        });
        Ok(Self {
            addr,
            shared,
            shutdown,
        })
    }

    /// Refuses further requests, ends open watches and stops accepting connections.
    pub(crate) fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.end_watches();
        self.shutdown.send_replace(true);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
