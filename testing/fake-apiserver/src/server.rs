//! The server task: binds loopback, serves the routes over the shared state, stops on drop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use tokio::sync::watch;

use crate::routes;
use crate::shared::Shared;

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
