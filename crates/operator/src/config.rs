//! What an operator replica is: its module, namespace, addresses, lease timing and the
//! runtime configuration behind it, as the binary's flags give them.

use std::time::Duration;

use tinyhost_flow::RuntimeConfig;

use crate::expose::ExposeConfig;
use crate::lease::LeaseTiming;

/// How often the leader re-reports every node and the module even when nothing changed:
/// `lastUpdateTime` is the heartbeat the platform reads (docs/compatibility.md#resources).
pub const DEFAULT_REQUEUE: Duration = Duration::from_secs(300);

/// How long a TinySignal may wait for a node that is not in the cluster: long enough for
/// a node created with it (or just before) to be observed, short enough that a signal for
/// a deleted node does not linger.
pub const DEFAULT_SIGNAL_NODE_GRACE: Duration = Duration::from_secs(60);

/// What an operator replica is and how it behaves.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    /// The module name as given (`--name`); compared with nodes' `spec.module` sanitised.
    pub module: String,
    /// The module version, without a leading `v`.
    pub version: String,
    /// The namespace holding the module's nodes, signals, TinyModule and Lease.
    pub namespace: String,
    /// The gRPC address other modules dial, written to the TinyModule status.
    pub advertise_addr: String,
    /// The image recorded in the TinyModule spec (may be empty).
    pub image: String,
    /// This replica's name in the Lease (the pod name).
    pub identity: String,
    /// Lease timing.
    pub lease: LeaseTiming,
    /// Heartbeat period of node and module status.
    pub requeue_after: Duration,
    /// How long a TinySignal whose node does not exist in the cluster is kept and retried
    /// before it is dropped as an error ([`DEFAULT_SIGNAL_NODE_GRACE`]). The TinyNode and
    /// TinySignal watches are separate, so a signal may be seen before its node.
    pub signal_node_grace: Duration,
    /// Where the gRPC server for other modules listens (`None`: no server).
    pub grpc_listen: Option<std::net::SocketAddr>,
    /// How this module calls others.
    pub grpc_client: tinyhost_grpc::client::ClientConfig,
    /// TLS of the gRPC server (`None`: plaintext).
    pub grpc_server_tls: Option<tonic::transport::ServerTlsConfig>,
    /// Where the module's HTTP servers are published (`None`: on the pod's address only).
    pub expose: Option<ExposeConfig>,
    /// The runtime behind the controllers.
    pub runtime: RuntimeConfig,
}

impl OperatorConfig {
    /// The sanitised module name: the TinyModule's name and the key nodes are matched on.
    pub fn module_key(&self) -> String {
        tinyhost_flow::manifest::sanitize_name(&self.module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_key_is_sanitised() {
        let config = OperatorConfig {
            module: "Tiny Systems/Common Module".into(),
            version: String::new(),
            namespace: String::new(),
            advertise_addr: String::new(),
            image: String::new(),
            identity: String::new(),
            lease: LeaseTiming::default(),
            requeue_after: DEFAULT_REQUEUE,
            signal_node_grace: DEFAULT_SIGNAL_NODE_GRACE,
            grpc_listen: None,
            grpc_client: Default::default(),
            grpc_server_tls: None,
            expose: None,
            runtime: RuntimeConfig::default(),
        };
        assert_eq!(config.module_key(), "tiny-systems-common-module");
    }
}
