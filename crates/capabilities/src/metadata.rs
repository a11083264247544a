//! The `metadata` capability: a node's durable key-value state (TinyNode
//! `status.metadata` in a cluster), what lets a ticker that was running run again after a
//! restart. Reads and writes go to the node (an implementation of [`MetadataService`]);
//! persistence goes through a [`MetadataStore`] — a file per node locally, memory for
//! throw-away runs, the observed TinyNode in a cluster (in the operator) — written behind
//! by [`WriteBehind`], because a kv store or a fast ticker writes far more often than the
//! state needs to reach the disk.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::component::{HasData, Linker};

use crate::bindings::tinysystems::component::metadata;

/// The running node's metadata; implemented per call by the flow layer.
pub trait MetadataService: Send + Sync {
    /// One entry.
    fn get(&self, key: &str) -> Option<String>;
    /// Writes (`Some`) or deletes (`None`) one entry.
    fn set(&self, key: String, value: Option<String>);
    /// Every entry, sorted by key.
    fn entries(&self) -> Vec<(String, String)>;
}

/// What the import functions see: the running call's service (none outside a call).
pub struct MetadataView<'a> {
    /// The running call's service.
    pub service: Option<&'a dyn MetadataService>,
}

struct HasMetadata;

impl HasData for HasMetadata {
    type Data<'a> = MetadataView<'a>;
}

/// Adds the `metadata` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> MetadataView<'_>,
) -> wasmtime::Result<()> {
    metadata::add_to_linker::<T, HasMetadata>(linker, get)
}

impl metadata::Host for MetadataView<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.service.and_then(|s| s.get(&key)))
    }

    fn set(&mut self, key: String, value: Option<String>) -> wasmtime::Result<()> {
        if let Some(service) = self.service {
            service.set(key, value);
        }
        Ok(())
    }

    fn entries(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.service.map(|s| s.entries()).unwrap_or_default())
    }
}

/// Where node metadata survives restarts.
pub trait MetadataStore: Send + Sync + std::fmt::Debug {
    /// The stored metadata of `node` (empty when none).
    fn load(&self, node: &str) -> BTreeMap<String, String>;
    /// Replaces the stored metadata of `node`.
    fn save(&self, node: &str, metadata: &BTreeMap<String, String>);
}

/// Keeps metadata in memory only: for tests and throw-away runs.
#[derive(Debug, Default)]
pub struct MemoryMetadataStore {
    nodes: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

impl MetadataStore for MemoryMetadataStore {
    fn load(&self, node: &str) -> BTreeMap<String, String> {
        self.nodes
            .lock()
            .ok()
            .and_then(|m| m.get(node).cloned())
            .unwrap_or_default()
    }
    fn save(&self, node: &str, metadata: &BTreeMap<String, String>) {
        if let Ok(mut m) = self.nodes.lock() {
            m.insert(node.to_string(), metadata.clone());
        }
    }
}

/// One `<node>.json` file per node in a directory; writes are atomic (temp + rename).
#[derive(Debug)]
pub struct FileMetadataStore {
    dir: PathBuf,
}

impl FileMetadataStore {
    /// A store in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        FileMetadataStore { dir }
    }

    fn path(&self, node: &str) -> PathBuf {
        let safe: String = node
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }
}

impl MetadataStore for FileMetadataStore {
    fn load(&self, node: &str) -> BTreeMap<String, String> {
        let path = self.path(node);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable node state");
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        }
    }

    fn save(&self, node: &str, metadata: &BTreeMap<String, String>) {
        let path = self.path(node);
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(metadata)?)?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "cannot persist node state");
        }
    }
}

/// A store written behind: writes mark a node dirty, [`WriteBehind::flush`] saves each
/// dirty node's current metadata once.
#[derive(Debug)]
pub struct WriteBehind {
    store: Arc<dyn MetadataStore>,
    dirty: Mutex<HashSet<String>>,
}

impl WriteBehind {
    /// Writes behind to `store`.
    pub fn new(store: Arc<dyn MetadataStore>) -> WriteBehind {
        WriteBehind {
            store,
            dirty: Mutex::new(HashSet::new()),
        }
    }

    /// What `node` had stored (read through, at node start).
    pub fn load(&self, node: &str) -> BTreeMap<String, String> {
        self.store.load(node)
    }

    /// Notes that `node`'s metadata changed.
    pub fn mark_dirty(&self, node: &str) {
        if let Ok(mut dirty) = self.dirty.lock()
            && !dirty.contains(node)
        {
            dirty.insert(node.to_string());
        }
    }

    /// Forgets a node that was removed (nothing left to write).
    pub fn forget(&self, node: &str) {
        if let Ok(mut dirty) = self.dirty.lock() {
            dirty.remove(node);
        }
    }

    /// Saves every node changed since the last flush; `current` reads a node's metadata
    /// now (`None`: the node is gone).
    pub fn flush(&self, current: impl Fn(&str) -> Option<BTreeMap<String, String>>) {
        let names: Vec<String> = match self.dirty.lock() {
            Ok(mut dirty) => dirty.drain().collect(),
            Err(_) => return,
        };
        for name in names {
            if let Some(metadata) = current(&name) {
                self.store.save(&name, &metadata);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_round_trips_and_names_files_safely() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FileMetadataStore::new(dir.path().join("state"));
        let metadata = BTreeMap::from([("running".to_string(), "true".to_string())]);
        store.save("flow/../ticker", &metadata);
        assert_eq!(store.load("flow/../ticker"), metadata);
        assert!(dir.path().join("state/flow_.._ticker.json").exists());
        assert!(store.load("other").is_empty());
    }

    #[test]
    fn write_behind_saves_each_dirty_node_once_with_its_current_state() {
        let store = Arc::new(MemoryMetadataStore::default());
        let behind = WriteBehind::new(store.clone());
        behind.mark_dirty("a");
        behind.mark_dirty("a");
        behind.mark_dirty("gone");
        let current = BTreeMap::from([("k".to_string(), "2".to_string())]);
        let asked = Mutex::new(Vec::new());
        behind.flush(|name| {
            if let Ok(mut a) = asked.lock() {
                a.push(name.to_string());
            }
            (name == "a").then(|| current.clone())
        });
        let mut asked = asked.into_inner().unwrap_or_default();
        asked.sort();
        assert_eq!(asked, ["a", "gone"]);
        assert_eq!(store.load("a"), current);
        assert!(store.load("gone").is_empty());
        behind.flush(|_| panic!("nothing is dirty any more"));
    }
}
