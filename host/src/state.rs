//! Durable node state: the metadata map a component writes through `host.metadata-set`
//! (TinyNode `status.metadata` in the cluster). Locally it is a JSON file per node in a
//! state directory, so a ticker that was running is running again after a restart.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where node metadata survives restarts.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// The stored metadata of `node` (empty when none).
    fn load(&self, node: &str) -> BTreeMap<String, String>;
    /// Replaces the stored metadata of `node`.
    fn save(&self, node: &str, metadata: &BTreeMap<String, String>);
}

/// Keeps nothing: for tests and throw-away runs.
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    nodes: std::sync::Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

impl StateStore for MemoryStateStore {
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
pub struct FileStateStore {
    dir: PathBuf,
}

impl FileStateStore {
    /// A store in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        FileStateStore { dir }
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

impl StateStore for FileStateStore {
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
