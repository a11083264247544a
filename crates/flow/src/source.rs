//! Where nodes come from. The runtime does not care: a source yields the complete desired
//! node set (and signals) whenever it changes. The operator's cluster source follows
//! TinyNode objects in a cluster; the local folder source — the embedded default — reads
//! TinyNode/TinySignal manifests from a folder or file and watches it, so editing a YAML
//! file re-applies the flow and dropping a TinySignal file delivers it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::error::ManifestError;
use crate::manifest::{self, Resource, TinyNode, TinySignal};

/// What a source reports.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The complete desired node set.
    pub nodes: Vec<TinyNode>,
    /// Signals not delivered before.
    pub new_signals: Vec<TinySignal>,
    /// Documents that could not be read (the rest still apply).
    pub errors: Vec<ManifestError>,
}

/// A stream of desired states: the local folder and the cluster's watchers both feed the
/// runtime through this, so the runtime never knows where its nodes come from.
#[allow(async_fn_in_trait)]
pub trait NodeSource {
    /// The next desired state; `None` when the source ends.
    async fn next(&mut self) -> Option<Snapshot>;

    /// Told when the last snapshot has been applied, so a source can release what waited
    /// for it (the cluster source removes a deleted node's finalizer only after the node
    /// has stopped).
    fn applied(&mut self, _report: &crate::apply::ApplyReport) {}
}

/// Manifests in a folder (non-recursive, `*.yaml`/`*.yml`) or one file, watched for changes.
pub struct FolderSource {
    path: PathBuf,
    delivered_signals: HashSet<[u8; 32]>,
    last_good: HashMap<PathBuf, Vec<TinyNode>>,
    changes: Option<mpsc::Receiver<()>>,
    _watcher: Option<notify::RecommendedWatcher>,
    first: bool,
}

impl FolderSource {
    /// A source over `path`; with `watch`, later snapshots follow file changes.
    pub fn new(path: PathBuf, watch: bool) -> Result<FolderSource, ManifestError> {
        if !path.exists() {
            return Err(ManifestError {
                file: path,
                field: None,
                message: "no such file or folder".into(),
            });
        }
        let (changes, watcher) = if watch {
            let (tx, rx) = mpsc::channel(16);
            let mut watcher =
                notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                    if event.is_ok_and(|e| !e.kind.is_access()) {
                        let _ = tx.try_send(());
                    }
                })
                .map_err(|e| ManifestError {
                    file: path.clone(),
                    field: None,
                    message: format!("cannot watch: {e}"),
                })?;
            watcher
                .watch(&path, RecursiveMode::NonRecursive)
                .map_err(|e| ManifestError {
                    file: path.clone(),
                    field: None,
                    message: format!("cannot watch: {e}"),
                })?;
            (Some(rx), Some(watcher))
        } else {
            (None, None)
        };
        Ok(FolderSource {
            path,
            delivered_signals: HashSet::new(),
            last_good: HashMap::new(),
            changes,
            _watcher: watcher,
            first: true,
        })
    }

    fn snapshot(&mut self) -> Snapshot {
        let (nodes, signals, errors) = combine(read_files(&self.path), &mut self.last_good);
        let new_signals = signals
            .into_iter()
            .filter(|s| {
                let key: [u8; 32] =
                    Sha256::digest(format!("{}|{:?}", s.metadata.name, s.spec).as_bytes()).into();
                self.delivered_signals.insert(key)
            })
            .collect();
        Snapshot {
            nodes,
            new_signals,
            errors,
        }
    }
}

impl NodeSource for FolderSource {
    async fn next(&mut self) -> Option<Snapshot> {
        if self.first {
            self.first = false;
            return Some(self.snapshot());
        }
        let changes = self.changes.as_mut()?;
        changes.recv().await?;
        // Editors write files in several steps; let them settle, then read once.
        tokio::time::sleep(Duration::from_millis(150)).await;
        while changes.try_recv().is_ok() {}
        Some(self.snapshot())
    }
}

/// Reads every manifest file under `path`, each with its resources or its error.
pub fn read_files(path: &Path) -> Vec<(PathBuf, Result<Vec<Resource>, ManifestError>)> {
    let files: Vec<PathBuf> = if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml")
                    })
                    .collect();
                files.sort();
                files
            }
            Err(e) => {
                let error = ManifestError {
                    file: path.to_path_buf(),
                    field: None,
                    message: format!("cannot list folder: {e}"),
                };
                return vec![(path.to_path_buf(), Err(error))];
            }
        }
    } else {
        vec![path.to_path_buf()]
    };
    files
        .into_iter()
        .map(|file| {
            let parsed = std::fs::read_to_string(&file)
                .map_err(|e| ManifestError {
                    file: file.clone(),
                    field: None,
                    message: format!("cannot read: {e}"),
                })
                .and_then(|text| manifest::parse_file(&file, &text));
            (file, parsed)
        })
        .collect()
}

/// Reads every manifest under `path`: nodes, signals and errors. Duplicate node names are
/// an error naming both files (the first one is kept).
pub fn read_manifests(path: &Path) -> (Vec<TinyNode>, Vec<TinySignal>, Vec<ManifestError>) {
    combine(read_files(path), &mut HashMap::new())
}

/// Merges per-file results; a file that fails keeps serving the nodes it last had, so a
/// half-saved edit does not tear down a running flow.
fn combine(
    files: Vec<(PathBuf, Result<Vec<Resource>, ManifestError>)>,
    last_good: &mut HashMap<PathBuf, Vec<TinyNode>>,
) -> (Vec<TinyNode>, Vec<TinySignal>, Vec<ManifestError>) {
    let mut errors = Vec::new();
    let mut nodes: Vec<TinyNode> = Vec::new();
    let mut origin: HashMap<String, PathBuf> = HashMap::new();
    let mut signals = Vec::new();
    let present: HashSet<PathBuf> = files.iter().map(|(f, _)| f.clone()).collect();
    last_good.retain(|f, _| present.contains(f));
    for (file, parsed) in files {
        let file_nodes = match parsed {
            Ok(resources) => {
                let mut file_nodes = Vec::new();
                for resource in resources {
                    match resource {
                        Resource::Node(node) => file_nodes.push(node),
                        Resource::Signal(signal) => signals.push(signal),
                    }
                }
                last_good.insert(file.clone(), file_nodes.clone());
                file_nodes
            }
            Err(e) => {
                errors.push(e);
                last_good.get(&file).cloned().unwrap_or_default()
            }
        };
        for node in file_nodes {
            if let Some(first) = origin.get(&node.metadata.name) {
                errors.push(ManifestError {
                    file: file.clone(),
                    field: Some("metadata.name".into()),
                    message: format!(
                        "node `{}` is already defined in {}",
                        node.metadata.name,
                        first.display()
                    ),
                });
                continue;
            }
            origin.insert(node.metadata.name.clone(), file.clone());
            nodes.push(node);
        }
    }
    (nodes, signals, errors)
}
