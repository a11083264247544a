//! The `node-info` capability: who the running node is, whether this replica leads, and
//! a way to republish its status.

use wasmtime::component::{HasData, Linker};

use crate::bindings::tinysystems::component::node_info::{self, NodeIdentity as Identity};

/// What a node may know about itself; implemented per call by the flow layer.
pub trait NodeInfoService: Send + Sync {
    /// Name, namespace, flow, project and module of the node.
    fn identity(&self) -> Identity;
    /// Whether this replica leads (long-running work runs on the leader only).
    fn is_leader(&self) -> bool;
    /// Publishes the node's status again.
    fn refresh_status(&self);
}

/// What the import functions see: the running call's service (none outside a call).
pub struct NodeInfoView<'a> {
    /// The running call's service.
    pub service: Option<&'a dyn NodeInfoService>,
}

struct HasNodeInfo;

impl HasData for HasNodeInfo {
    type Data<'a> = NodeInfoView<'a>;
}

/// Adds the `node-info` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> NodeInfoView<'_>,
) -> wasmtime::Result<()> {
    node_info::add_to_linker::<T, HasNodeInfo>(linker, get)
}

impl node_info::Host for NodeInfoView<'_> {
    fn identity(&mut self) -> wasmtime::Result<Identity> {
        Ok(match self.service {
            Some(service) => service.identity(),
            None => Identity {
                node_name: String::new(),
                namespace: String::new(),
                flow_name: String::new(),
                project_name: String::new(),
                module: String::new(),
                replica: String::new(),
            },
        })
    }

    fn is_leader(&mut self) -> wasmtime::Result<bool> {
        Ok(self.service.is_some_and(|s| s.is_leader()))
    }

    fn refresh_status(&mut self) -> wasmtime::Result<()> {
        if let Some(service) = self.service {
            service.refresh_status();
        }
        Ok(())
    }
}
