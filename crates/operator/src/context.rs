//! What the controllers share: the API client, the configuration, the runtime, the
//! desired nodes, leadership, peers, metrics and readiness, in one value each task holds.

use std::sync::Arc;

use kube::Client;
use tinyhost_flow::Runtime;
use tokio::sync::watch;

use crate::config::OperatorConfig;
use crate::desired::DesiredNodes;
use crate::metrics::Metrics;
use crate::peers::PeerTable;
use crate::readiness::Readiness;

/// Everything the controllers share.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// The replica's configuration.
    pub config: OperatorConfig,
    /// The flow runtime.
    pub runtime: Runtime,
    /// The nodes this module should run, as last observed.
    pub desired: Arc<DesiredNodes>,
    /// Whether this replica leads.
    pub leader: watch::Receiver<bool>,
    /// Peer module addresses.
    pub peers: PeerTable,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Readiness flags.
    pub readiness: Arc<Readiness>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("module", &self.config.module)
            .field("namespace", &self.config.namespace)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// Whether this replica leads right now.
    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }
}

/// Resolves when `shutdown` turns true (or its sender is gone).
pub(crate) async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
