//! The runtime: a set of applied nodes over a registry of components. Node sources (the
//! local folder today, Kubernetes watchers later) call [`Runtime::apply`] with the desired
//! nodes; the runtime diffs them against what runs, delivers settings (only when they
//! changed, and a failed delivery is not remembered), re-reads ports, and reconciles.
//! Messages enter through [`Runtime::send`] (signals) and timers; the [`crate::scheduler`]
//! routes them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use serde_json::Value;

use crate::engine::{CacheStats, EngineConfig, HostEngine};
use crate::error::{CallError, LoadError};
use crate::events::{Event, EventBus};
use crate::manifest::{self, TinyNode};
use crate::mapping::ExprCache;
use crate::node::{Node, NodeStatus};
use crate::pool::Op;
use crate::registry::{ComponentSource, Registry};
use crate::state::{MemoryStateStore, StateStore};
use crate::timers::Timers;

/// The cycle guard: hops a message may travel (CONTRACT §4).
pub const MAX_DEPTH: u32 = 256;

/// How often changed node metadata is written to the state store.
pub const METADATA_FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// How a runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Engine limits and caches.
    pub engine: EngineConfig,
    /// Component files and folders, loaded after the built-ins.
    pub component_paths: Vec<PathBuf>,
    /// Whether to load the embedded built-ins.
    pub builtins: bool,
    /// Where node metadata persists.
    pub state: Arc<dyn StateStore>,
    /// Whether this replica leads (always true locally).
    pub leader: bool,
    /// Publish every output as an [`Event::Output`], not only `_control`.
    pub trace_outputs: bool,
    /// Hop limit.
    pub max_depth: u32,
    /// Compilers for inline programs by language, beyond `wat` and the toolchains.
    pub compilers: crate::sandbox::Compilers,
    /// The Go/TinyGo/Rust toolchains; `None` = defaults under the engine's cache directory.
    pub toolchain: Option<tinyhost_toolchain::ToolchainConfig>,
    /// Where nodes of other modules are reached (gRPC); `None` = this host alone.
    pub remote: Option<Arc<dyn RemoteModules>>,
}

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

/// Nodes of other modules, reached over the network. The scheduler hands a message here
/// when its target node does not run locally and its name says it lives in a module this
/// host can route to.
pub trait RemoteModules: Send + Sync + std::fmt::Debug {
    /// Whether messages for nodes of `module` (as written in node names) go to a peer.
    fn routes(&self, module: &str) -> bool;
    /// Delivers one message and waits for the peer's downstream response.
    fn call(
        &self,
        call: RemoteCall,
    ) -> futures::future::BoxFuture<'static, Result<Option<String>, CallError>>;
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            engine: EngineConfig::default(),
            component_paths: Vec::new(),
            builtins: true,
            state: Arc::new(MemoryStateStore::default()),
            leader: true,
            trace_outputs: false,
            max_depth: MAX_DEPTH,
            compilers: Vec::new(),
            toolchain: None,
            remote: None,
        }
    }
}

/// What [`Runtime::apply`] did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ApplyReport {
    /// Nodes created.
    pub added: Vec<String>,
    /// Nodes whose manifest changed.
    pub updated: Vec<String>,
    /// Nodes deleted.
    pub removed: Vec<String>,
    /// Nodes whose status is an error after the apply, with the error.
    pub errors: Vec<(String, String)>,
}

/// State shared by the runtime handle, the scheduler and every call in flight.
pub struct Shared {
    pub(crate) engine: Arc<HostEngine>,
    pub(crate) registry: Registry,
    pub(crate) nodes: RwLock<HashMap<String, Arc<Node>>>,
    pub(crate) events: EventBus,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) timers: Timers,
    pub(crate) leader: AtomicBool,
    pub(crate) exprs: ExprCache,
    pub(crate) sandbox: crate::sandbox::Sandbox,
    pub(crate) toolchain: Arc<tinyhost_toolchain::Toolchain>,
    pub(crate) trace_outputs: bool,
    pub(crate) max_depth: u32,
    pub(crate) remote: Option<Arc<dyn RemoteModules>>,
    next_id: AtomicU64,
    /// Settings text last delivered successfully per node (the `_settings` dedup).
    delivered_settings: Mutex<HashMap<String, Arc<str>>>,
    /// Nodes whose metadata changed since the last flush.
    dirty_metadata: Mutex<std::collections::HashSet<String>>,
    apply_lock: tokio::sync::Mutex<()>,
    self_ref: Weak<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// A running flow host.
#[derive(Debug, Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

impl Runtime {
    /// Creates the engine, loads components and starts with no nodes.
    pub async fn start(config: RuntimeConfig) -> Result<Runtime, LoadError> {
        let engine = HostEngine::new(config.engine.clone())?;
        let mut sources = Vec::new();
        if config.builtins {
            sources.push(ComponentSource::builtins());
        }
        sources.extend(
            config
                .component_paths
                .iter()
                .cloned()
                .map(ComponentSource::Path),
        );
        let registry = Registry::load(&engine, &sources).await?;
        let (toolchain, sandbox) = build_sandbox(&config, &engine)?;
        let shared = Arc::new_cyclic(|me| Shared {
            engine,
            registry,
            nodes: RwLock::new(HashMap::new()),
            events: EventBus::new(4096),
            state: config.state.clone(),
            timers: Timers::default(),
            leader: AtomicBool::new(config.leader),
            exprs: ExprCache::default(),
            sandbox,
            toolchain,
            trace_outputs: config.trace_outputs,
            max_depth: config.max_depth,
            remote: config.remote.clone(),
            next_id: AtomicU64::new(1),
            delivered_settings: Mutex::new(HashMap::new()),
            dirty_metadata: Mutex::new(std::collections::HashSet::new()),
            apply_lock: tokio::sync::Mutex::new(()),
            self_ref: me.clone(),
        });
        let weak = Arc::downgrade(&shared);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(METADATA_FLUSH_INTERVAL).await;
                let Some(shared) = weak.upgrade() else { break };
                // Small files, but still blocking I/O: keep it off the async workers.
                let _ = tokio::task::spawn_blocking(move || shared.flush_metadata()).await;
            }
        });
        Ok(Runtime { shared })
    }

    /// The component registry (for listing and load errors).
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// The toolchains' compile cache (counters, clearing).
    pub fn toolchain(&self) -> &tinyhost_toolchain::Toolchain {
        &self.shared.toolchain
    }

    /// The inline-program sandbox (start-up snapshot counters, program entries).
    pub fn sandbox(&self) -> &crate::sandbox::Sandbox {
        self.shared.sandbox()
    }

    /// Component cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.shared.engine.cache_stats()
    }

    /// Subscribes to events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// Makes `nodes` the complete set of running nodes.
    pub async fn apply(&self, nodes: Vec<TinyNode>) -> ApplyReport {
        self.shared.apply(nodes).await
    }

    /// Delivers a raw payload to `node:port` as a signal does (no edge mapping) and waits
    /// for the whole downstream subtree; returns its response.
    pub async fn send(&self, to: &str, payload: &Value) -> Result<Option<Value>, CallError> {
        let reply = self.send_text(to, payload.to_string()).await?;
        Ok(reply.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// [`Runtime::send`] for a payload that is already JSON text, answering with text: JSON
    /// text is what crosses into components, so a caller holding text skips a parse and an
    /// encode on each side. The payload is not checked here; a component rejects bad JSON.
    pub async fn send_text(&self, to: &str, payload: String) -> Result<Option<String>, CallError> {
        let (node, port) =
            manifest::split_address(to).ok_or_else(|| CallError::BadAddress(to.to_string()))?;
        self.shared
            .deliver_raw("signal", node, port, payload, 0)
            .await
    }

    /// The status of a node.
    pub fn status(&self, node: &str) -> Option<NodeStatus> {
        self.shared.node(node).map(|n| n.status())
    }

    /// Messages a node's component has received on its target ports since it was
    /// (re)created; `None` when no such node runs.
    pub fn received(&self, node: &str) -> Option<u64> {
        self.shared.node(node).map(|n| n.received())
    }

    /// Replaces a node's durable metadata with what another replica (the leader) recorded;
    /// `false` when no such node runs.
    pub fn adopt_metadata(
        &self,
        node: &str,
        metadata: std::collections::BTreeMap<String, String>,
    ) -> bool {
        let Some(node) = self.shared.node(node) else {
            return false;
        };
        self.shared.set_status(&node, |s| s.metadata = metadata);
        true
    }

    /// Delivers a message from another module to `node:port`: through the target node's
    /// mapping for `from`, as a local edge would, waiting for the downstream subtree.
    /// `depth` is the sender's hop count.
    pub async fn deliver_incoming(
        &self,
        from: &str,
        to: &str,
        payload: &str,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        let (node, port) =
            manifest::split_address(to).ok_or_else(|| CallError::BadAddress(to.to_string()))?;
        if self.shared.node(node).is_none() {
            // Never bounce a message on to a third module: the caller routed it here.
            return Err(CallError::NodeNotFound(node.to_string()));
        }
        self.shared
            .deliver_incoming(from, node, port, "", payload, depth)
            .await
    }

    /// Names of the running nodes, sorted.
    pub fn node_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .shared
            .nodes
            .read()
            .map(|n| n.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Sets leadership (cluster mode); gaining it reconciles every node so long-running
    /// triggers resume.
    pub async fn set_leader(&self, leader: bool) {
        let was = self.shared.leader.swap(leader, Ordering::AcqRel);
        if leader && !was {
            for node in self.shared.all_nodes() {
                self.shared.reconcile(&node).await;
            }
        }
    }

    /// Stops timers and drops every node.
    pub async fn shutdown(&self) {
        self.shared.timers.cancel_all();
        self.shared.flush_metadata();
        let nodes: Vec<Arc<Node>> = self
            .shared
            .nodes
            .write()
            .map(|mut n| n.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for node in nodes {
            node.retire();
        }
    }
}

/// The sandbox with `wat`, the toolchains and any extra compilers of `config`.
pub fn build_sandbox(
    config: &RuntimeConfig,
    engine: &Arc<HostEngine>,
) -> Result<(Arc<tinyhost_toolchain::Toolchain>, crate::sandbox::Sandbox), LoadError> {
    let toolchain_config = config.toolchain.clone().unwrap_or_else(|| {
        let base = config
            .engine
            .cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("tinyhost"));
        tinyhost_toolchain::ToolchainConfig::new(base.join("toolchain"))
    });
    let (toolchain, compilers) = crate::toolchains::compilers(toolchain_config);
    let mut sandbox = crate::sandbox::Sandbox::new(engine.clone())?;
    for (language, compiler) in compilers
        .into_iter()
        .chain(config.compilers.iter().cloned())
    {
        sandbox = sandbox.with_compiler(&language, compiler);
    }
    Ok((toolchain, sandbox))
}

impl Shared {
    /// The current incarnation of a node.
    pub fn node(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes.read().ok().and_then(|n| n.get(name).cloned())
    }

    fn all_nodes(&self) -> Vec<Arc<Node>> {
        self.nodes
            .read()
            .map(|n| n.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Compiles and runs inline programs (the `sandbox` import).
    pub fn sandbox(&self) -> &crate::sandbox::Sandbox {
        &self.sandbox
    }

    /// The expression caches used by the `expr` import.
    pub fn exprs(&self) -> &ExprCache {
        &self.exprs
    }

    /// Whether `node` does not run here but lives in a module a peer serves.
    pub(crate) fn routes_remotely(&self, node: &str) -> bool {
        match (&self.remote, manifest::module_of(node)) {
            (Some(remote), Some(module)) => remote.routes(module),
            _ => false,
        }
    }

    /// Whether this replica leads.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    /// Publishes the node's status.
    pub fn publish_status(&self, node: &Node) {
        self.events.publish(Event::Status {
            node: node.name.clone(),
            status: Box::new(node.status()),
        });
    }

    fn set_status(&self, node: &Node, f: impl FnOnce(&mut NodeStatus)) {
        if let Some(status) = node.update_status(f) {
            self.events.publish(Event::Status {
                node: node.name.clone(),
                status: Box::new(status),
            });
        }
    }

    /// Writes one durable entry and persists the node's metadata.
    pub fn set_metadata(&self, node: &Node, key: String, value: Option<String>) {
        self.set_status(node, |s| {
            match value {
                Some(v) => s.metadata.insert(key, v),
                None => s.metadata.remove(&key),
            };
        });
        // Persisted by the flusher: a kv store or a fast ticker writes far more often
        // than the state needs to reach the disk.
        if let Ok(mut dirty) = self.dirty_metadata.lock() {
            dirty.insert(node.name.clone());
        }
    }

    /// Writes the metadata of every node changed since the last flush.
    pub(crate) fn flush_metadata(&self) {
        let names: Vec<String> = match self.dirty_metadata.lock() {
            Ok(mut dirty) => dirty.drain().collect(),
            Err(_) => return,
        };
        for name in names {
            if let Some(node) = self.node(&name) {
                self.state.save(&name, &node.status().metadata);
            }
        }
    }

    /// Arms a node timer; it fires on the leader only.
    pub fn set_timer(&self, node: &Node, id: String, after: Duration) {
        let weak = self.self_ref.clone();
        let name = node.name.clone();
        let timer_id = id.clone();
        self.timers.set(&node.name, &id, after, async move {
            if let Some(shared) = weak.upgrade() {
                shared.fire_timer(&name, &timer_id).await;
            }
        });
    }

    /// Cancels a node timer.
    pub fn cancel_timer(&self, node: &Node, id: &str) {
        self.timers.cancel(&node.name, id);
    }

    async fn fire_timer(self: &Arc<Self>, node_name: &str, id: &str) {
        if !self.is_leader() {
            return;
        }
        let Some(node) = self.node(node_name) else {
            return;
        };
        let Some(entry) = node.component.clone() else {
            return;
        };
        if let Err(e) = entry.pool.call(self, &node, 0, Op::Timer(id)).await {
            tracing::warn!(node = node_name, timer = id, error = %e, "timer handler failed");
        }
    }

    async fn apply(self: &Arc<Self>, desired: Vec<TinyNode>) -> ApplyReport {
        let _one_at_a_time = self.apply_lock.lock().await;
        let mut report = ApplyReport::default();
        let mut changed = Vec::new();
        let wanted: std::collections::HashSet<String> =
            desired.iter().map(|n| n.metadata.name.clone()).collect();

        for manifest in desired {
            let name = manifest.metadata.name.clone();
            let existing = self.node(&name);
            if existing.as_ref().is_some_and(|n| n.manifest == manifest) {
                continue;
            }
            let metadata = match &existing {
                Some(old) => old.status().metadata,
                None => self.state.load(&name),
            };
            let component = self.registry.get(&manifest.spec.component);
            let node = Arc::new(Node::new(
                self.next_id.fetch_add(1, Ordering::Relaxed),
                manifest,
                component,
                metadata,
            ));
            if let Some(old) = &existing {
                // Carry the control state and the accepted settings over to the new incarnation.
                let control = old.status().control;
                node.update_status(|s| s.control = control);
                if let Some(text) = old.settings().text {
                    node.set_settings(text);
                }
                old.retire();
                report.updated.push(name.clone());
            } else {
                report.added.push(name.clone());
            }
            if let Ok(mut nodes) = self.nodes.write() {
                nodes.insert(name, node.clone());
            }
            changed.push(node);
        }

        let removed: Vec<Arc<Node>> = match self.nodes.write() {
            Ok(mut nodes) => {
                let gone: Vec<String> = nodes
                    .keys()
                    .filter(|k| !wanted.contains(*k))
                    .cloned()
                    .collect();
                gone.iter().filter_map(|k| nodes.remove(k)).collect()
            }
            Err(_) => Vec::new(),
        };
        for node in removed {
            node.retire();
            self.timers.cancel_node(&node.name);
            if let Ok(mut d) = self.delivered_settings.lock() {
                d.remove(&node.name);
            }
            report.removed.push(node.name.clone());
        }

        // Concurrently: one node's slow settings (an inline program compiling) must not
        // hold up the others.
        futures::future::join_all(changed.iter().map(|node| self.initialise(node))).await;
        // Edge targets can only be checked once every node of the batch has its ports.
        for node in self.all_nodes() {
            self.check_edges(&node);
        }
        for node in &changed {
            self.reconcile(node).await;
        }
        for node in self.all_nodes() {
            let status = node.status();
            if status.error {
                report.errors.push((node.name.clone(), status.status));
            }
        }
        report.errors.sort();
        report
    }

    /// Settings (deduplicated) and ports of a new or changed node.
    async fn initialise(self: &Arc<Self>, node: &Arc<Node>) {
        let Some(entry) = node.component.clone() else {
            let message = format!("component `{}` is not loaded", node.manifest.spec.component);
            self.set_status(node, |s| {
                s.status = message;
                s.error = true;
            });
            return;
        };
        let mut problem = None;
        if let Some(settings) = node.manifest.spec.settings() {
            let owned = settings.to_string();
            let text: Arc<str> = Arc::from(owned.as_str());
            let already = self
                .delivered_settings
                .lock()
                .ok()
                .and_then(|d| d.get(&node.name).cloned());
            if already.as_deref() != Some(&*text) {
                match entry.pool.call(self, node, 0, Op::Settings(&owned)).await {
                    Ok(_) => {
                        if let Ok(mut d) = self.delivered_settings.lock() {
                            d.insert(node.name.clone(), text);
                        }
                    }
                    // Not remembered as delivered: the next reconcile tries again and the
                    // error stays visible until the settings are fixed.
                    Err(e) => problem = Some(format!("settings: {e}")),
                }
            } else if node.settings().text.as_deref() != Some(&*text) {
                node.set_settings(text);
            }
        }
        let ports_read = self.refresh_ports(node).await;
        match problem {
            Some(message) => self.set_status(node, |s| {
                s.status = message;
                s.error = true;
            }),
            // A ports error found just now stays visible.
            None if ports_read => self.set_status(node, |s| {
                if s.error {
                    s.status = "OK".into();
                    s.error = false;
                }
            }),
            None => {}
        }
    }

    /// Re-reads the node's ports for its current settings (ports are dynamic).
    /// Returns whether the ports could be read (the status says why not).
    pub(crate) async fn refresh_ports(&self, node: &Arc<Node>) -> bool {
        let Some(entry) = node.component.clone() else {
            return false;
        };
        let settings = node.settings().text;
        let result = entry
            .pool
            .ports(&node.manifest.spec.component, settings.as_deref())
            .await;
        let read = match result {
            Ok(ports) => {
                node.set_ports(ports);
                true
            }
            Err(e) => {
                self.set_status(node, |s| {
                    s.status = format!("ports: {e}");
                    s.error = true;
                });
                false
            }
        };
        self.publish_status(node);
        read
    }

    /// Marks edges whose target node or port does not exist.
    fn check_edges(&self, node: &Node) {
        let mut problems = Vec::new();
        for edge in node.manifest.spec.edges.iter() {
            let Some((to_node, to_port)) = manifest::split_address(&edge.to) else {
                problems.push(format!(
                    "edge `{}`: invalid target `{}` (expected node:port)",
                    edge.id, edge.to
                ));
                continue;
            };
            match self.node(to_node) {
                // Another module's node: only its own module can tell whether it exists.
                None if self.routes_remotely(to_node) => {}
                None => problems.push(format!(
                    "edge `{}`: target node `{to_node}` not found",
                    edge.id
                )),
                Some(target) if target.component.is_some() && !target.has_port(to_port) => problems
                    .push(format!(
                        "edge `{}`: node `{to_node}` has no port `{to_port}`",
                        edge.id
                    )),
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            self.set_status(node, |s| {
                if s.error && s.status.starts_with("edge `") {
                    s.status = "OK".into();
                    s.error = false;
                }
            });
        } else {
            let message = problems.join("; ");
            self.set_status(node, |s| {
                if !s.error || s.status.starts_with("edge `") {
                    s.status = message;
                    s.error = true;
                }
            });
        }
    }

    /// Lets the component resume work recorded in metadata (start-up, leadership gained).
    pub(crate) async fn reconcile(self: &Arc<Self>, node: &Arc<Node>) {
        let Some(entry) = node.component.clone() else {
            return;
        };
        if node.status().error && node.status().status.starts_with("settings:") {
            return;
        }
        if let Err(e) = entry.pool.call(self, node, 0, Op::Reconcile).await {
            tracing::warn!(node = %node.name, error = %e, "reconcile failed");
            self.set_status(node, |s| {
                s.status = format!("reconcile: {e}");
                s.error = true;
            });
        }
    }
}
