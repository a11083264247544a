//! Nodes of other modules. The router hands a message here when its target node does not
//! run locally and its name says it lives in a module a peer serves; the gRPC layer
//! implements [`RemoteModules`].

use futures::future::BoxFuture;

use crate::error::CallError;

/// One message for a node of another module.
#[derive(Debug, Clone)]
pub struct RemoteCall {
    /// The target node's module.
    pub module: String,
    /// The sender, `node:port` (or `signal`).
    pub from: String,
    /// The target node.
    pub node: String,
    /// The target port.
    pub port: String,
    /// The edge the message travels along.
    pub edge_id: String,
    /// The message, JSON text, before the target's edge mapping (the target module applies
    /// its node's mapping, as it stores it).
    pub payload: String,
    /// Hops so far; the peer continues counting from here.
    pub depth: u32,
}

/// Nodes of other modules, reached over the network.
pub trait RemoteModules: Send + Sync + std::fmt::Debug {
    /// Whether messages for nodes of `module` (as written in node names) go to a peer.
    fn routes(&self, module: &str) -> bool;
    /// Delivers one message and waits for the peer's downstream response.
    fn call(&self, call: RemoteCall) -> BoxFuture<'static, Result<Option<String>, CallError>>;
}
