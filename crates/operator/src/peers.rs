//! Where the other modules of the cluster are: every TinyModule's status advertises its
//! gRPC address; [`PeerTable`] keeps them and [`ClusterPeers`] is the address book the gRPC
//! client routes with.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tinyhost_flow::manifest::{self, sanitize_name};
use tinyhost_grpc::client::AddressBook;

/// Module name → gRPC address, from every TinyModule's status.
#[derive(Debug, Clone, Default)]
pub struct PeerTable {
    addresses: Arc<RwLock<HashMap<String, String>>>,
}

impl PeerTable {
    /// The address of `module` (its name as given or sanitised), if it has reported one.
    pub fn address(&self, module: &str) -> Option<String> {
        let key = manifest::sanitize_name(module);
        self.addresses.read().ok()?.get(&key).cloned()
    }

    /// Every known module and its address, sorted by module.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .addresses
            .read()
            .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        all.sort();
        all
    }

    pub(crate) fn replace(&self, table: HashMap<String, String>) {
        if let Ok(mut a) = self.addresses.write() {
            *a = table;
        }
    }

    pub(crate) fn set(&self, key: String, address: Option<String>) {
        if let Ok(mut a) = self.addresses.write() {
            match address {
                Some(address) => a.insert(key, address),
                None => a.remove(&key),
            };
        }
    }
}

/// Peers as the cluster reports them: every module but this one is remote, at the address
/// its TinyModule advertises.
#[derive(Debug, Clone)]
pub struct ClusterPeers {
    table: PeerTable,
    own: String,
}

impl ClusterPeers {
    /// The modules of `table`, seen from the module `own`.
    pub fn new(table: PeerTable, own: &str) -> ClusterPeers {
        ClusterPeers {
            table,
            own: sanitize_name(own),
        }
    }
}

impl AddressBook for ClusterPeers {
    fn routes(&self, module: &str) -> bool {
        sanitize_name(module) != self.own
    }

    fn address(&self, module: &str) -> Option<String> {
        self.table.address(module)
    }
}
