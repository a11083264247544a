//! The running nodes by name: what the router looks a message's target up in and what an
//! apply replaces. Lookups take a read lock for a clone of one `Arc`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use crate::node::Node;

/// The current incarnation of every running node.
#[derive(Debug, Default)]
pub struct NodeTable {
    nodes: RwLock<HashMap<String, Arc<Node>>>,
}

impl NodeTable {
    /// The node called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes.read().ok().and_then(|n| n.get(name).cloned())
    }

    /// Every node.
    pub fn all(&self) -> Vec<Arc<Node>> {
        self.nodes
            .read()
            .map(|n| n.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Names of every node, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .nodes
            .read()
            .map(|n| n.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Adds or replaces a node.
    pub fn insert(&self, node: Arc<Node>) {
        if let Ok(mut nodes) = self.nodes.write() {
            nodes.insert(node.name.clone(), node);
        }
    }

    /// Removes and returns every node whose name is not in `wanted`.
    pub fn remove_unwanted(&self, wanted: &HashSet<String>) -> Vec<Arc<Node>> {
        match self.nodes.write() {
            Ok(mut nodes) => {
                let gone: Vec<String> = nodes
                    .keys()
                    .filter(|k| !wanted.contains(*k))
                    .cloned()
                    .collect();
                gone.iter().filter_map(|k| nodes.remove(k)).collect()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Removes and returns every node.
    pub fn drain(&self) -> Vec<Arc<Node>> {
        self.nodes
            .write()
            .map(|mut n| n.drain().map(|(_, v)| v).collect())
            .unwrap_or_default()
    }
}
