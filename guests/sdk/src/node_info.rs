//! The `node-info` interface: who the node is and what the host shows about it. See
//! `wit/node-info.wit`.

use crate::bindings::tinysystems::component::node_info as wit;

/// What `_identity` carries upstream: node name, namespace, flow, project and module.
pub use wit::NodeIdentity as Identity;

/// Who the node is.
pub fn identity() -> Identity {
    wit::identity()
}

/// Whether this replica leads the module (always true locally). Long-running triggers act
/// on the leader only.
pub fn is_leader() -> bool {
    wit::is_leader()
}

/// Asks the host to re-read the node's ports and republish its status (debounced).
pub fn refresh_status() {
    wit::refresh_status()
}
