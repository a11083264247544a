//! A node: one TinyNode applied to the runtime. It holds everything the scheduler needs
//! per message without touching wasm — compiled outgoing edges, compiled incoming
//! mappings, the current settings and ports — plus the status the node publishes.
//! The component's instances are lent per call by its pool; a node owns none, so an idle
//! node costs only this struct.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde_json::Value;
use tinyhost_capabilities::bindings::PortDef;

use crate::components::ComponentEntry;
use crate::instance::CallTarget;
use crate::manifest::{self, RetryPolicy, TinyNode};
use crate::mapping::EdgeMapping;
use crate::settings::{Settings, SettingsCell};
use crate::status::{HIDDEN_PORTS, NodeProblem, NodeStatus, PortStatus, ProblemKind};
use crate::status::{component_status, position_number};

/// An outgoing edge, resolved once when the node is applied.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Edge id from the manifest.
    pub id: String,
    /// Target node name.
    pub to_node: String,
    /// Target port.
    pub to_port: String,
    /// The full target address (`node:port`), for errors.
    pub to: String,
    /// Opt-in retries.
    pub retry: Option<RetryPolicy>,
}

/// Who a node is, beyond its name.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Namespace (`local` for folder runs).
    pub namespace: String,
    /// Flow label.
    pub flow: String,
    /// Project label.
    pub project: String,
    /// Module from the spec.
    pub module: String,
}

/// The edges of one source port, with the address they leave from (`node:port`), which
/// every delivery needs and which is built once here rather than per message.
#[derive(Debug)]
pub struct Outgoing {
    /// `node:port` of the source.
    pub from: String,
    /// Where messages go, unique by target.
    pub edges: Vec<Edge>,
}

/// One applied node.
#[derive(Debug)]
pub struct Node {
    /// Unique per incarnation: instances key their node resources by it.
    pub id: u64,
    /// The routing key.
    pub name: String,
    /// Identity fields.
    pub identity: Identity,
    /// The manifest it came from.
    pub manifest: TinyNode,
    /// The component, or `None` when it is not loaded (status says so).
    pub component: Option<Arc<ComponentEntry>>,
    edges: HashMap<String, Outgoing>,
    /// Incoming-edge mappings by target port, then by source address (`node:port`).
    mappings: HashMap<String, HashMap<String, EdgeMapping>>,
    settings: SettingsCell,
    /// Every current port with its default configuration. Read on every message from any
    /// thread and replaced only when settings change the ports, so it is swapped whole
    /// rather than locked.
    defaults: ArcSwap<HashMap<String, Value>>,
    status: Mutex<NodeStatus>,
    detached: AtomicU32,
    received: AtomicU64,
    retired: AtomicBool,
    /// Set once its first apply (settings, ports, reconcile) finished: signals wait for it.
    ready: AtomicBool,
}

impl Node {
    /// Builds a node from its manifest; edges and mappings are compiled here, once.
    pub fn new(
        id: u64,
        manifest: TinyNode,
        component: Option<Arc<ComponentEntry>>,
        metadata: BTreeMap<String, String>,
    ) -> Node {
        let mut edges: HashMap<String, Outgoing> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for e in &manifest.spec.edges {
            // Fan-out is unique by `port + to` ([compatibility: message semantics](../../../docs/compatibility.md#message-semantics)).
            if !seen.insert((e.port.clone(), e.to.clone())) {
                continue;
            }
            let (to_node, to_port) = manifest::split_address(&e.to).unwrap_or((&e.to, ""));
            let name = &manifest.metadata.name;
            let outgoing = edges.entry(e.port.clone()).or_insert_with(|| Outgoing {
                from: format!("{name}:{}", e.port),
                edges: Vec::new(),
            });
            outgoing.edges.push(Edge {
                id: e.id.clone(),
                to_node: to_node.to_string(),
                to_port: to_port.to_string(),
                to: e.to.clone(),
                retry: e.retry_policy.clone(),
            });
        }
        let mut mappings = HashMap::new();
        for p in &manifest.spec.ports {
            if p.from.is_empty() {
                continue;
            }
            if let Some(conf) = &p.configuration {
                let compiled = EdgeMapping::compile(&conf.0);
                if !compiled.is_empty() {
                    mappings
                        .entry(p.port.clone())
                        .or_insert_with(HashMap::new)
                        .insert(p.from.clone(), compiled);
                }
            }
        }
        let labels = &manifest.metadata.labels;
        let identity = Identity {
            namespace: manifest
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "local".into()),
            flow: labels
                .get(manifest::LABEL_FLOW)
                .cloned()
                .unwrap_or_default(),
            project: labels
                .get(manifest::LABEL_PROJECT)
                .cloned()
                .unwrap_or_default(),
            module: manifest.spec.module.clone(),
        };
        let mut status = NodeStatus::ok(
            manifest.spec.module.clone(),
            manifest.spec.component.clone(),
            component.as_ref().map(|c| component_status(&c.info)),
        );
        status.metadata = metadata;
        Node {
            id,
            name: manifest.metadata.name.clone(),
            identity,
            component,
            edges,
            mappings,
            settings: SettingsCell::default(),
            defaults: ArcSwap::from_pointee(HashMap::new()),
            status: Mutex::new(status),
            detached: AtomicU32::new(0),
            received: AtomicU64::new(0),
            retired: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            manifest,
        }
    }

    /// Outgoing edges of a source port (`None`: the port has none).
    pub fn outgoing(&self, port: &str) -> Option<&Outgoing> {
        self.edges.get(port)
    }

    /// The compiled mapping for messages from `from` (`node:port`) into `port`.
    pub fn mapping(&self, from: &str, port: &str) -> Option<&EdgeMapping> {
        self.mappings.get(port)?.get(from)
    }

    /// The default configuration of a port (delivered by edges without configuration).
    pub fn port_default(&self, port: &str) -> Option<Value> {
        self.defaults.load().get(port).cloned()
    }

    /// Whether the node currently has a port of that name.
    pub fn has_port(&self, port: &str) -> bool {
        self.defaults.load().contains_key(port)
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings.get()
    }

    /// The version of the current settings, without taking the lock.
    pub fn settings_version(&self) -> u64 {
        self.settings.version()
    }

    /// Records settings that a component accepted.
    pub fn set_settings(&self, text: Arc<str>) -> u64 {
        self.settings.set(text)
    }

    /// Replaces the ports (after settings changed) and their defaults.
    pub fn set_ports(&self, ports: Vec<PortDef>) {
        let mut defaults = HashMap::new();
        let mut published = Vec::new();
        for p in &ports {
            let configuration: Value =
                serde_json::from_str(&p.configuration).unwrap_or(Value::Null);
            defaults.insert(p.name.clone(), configuration.clone());
            if HIDDEN_PORTS.contains(&p.name.as_str()) {
                continue;
            }
            published.push(PortStatus {
                name: p.name.clone(),
                label: p.label.clone(),
                position: position_number(p.position),
                source: p.source,
                schema: p
                    .schema
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or(Value::Null),
                configuration,
            });
        }
        published.sort_by(|a, b| a.name.cmp(&b.name));
        self.defaults.store(Arc::new(defaults));
        self.update_status(|s| s.ports = published);
    }

    /// A snapshot of the status.
    pub fn status(&self) -> NodeStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Changes the status; returns the new one when it changed.
    pub fn update_status(&self, f: impl FnOnce(&mut NodeStatus)) -> Option<NodeStatus> {
        let mut s = self.status.lock().ok()?;
        let before = s.clone();
        f(&mut s);
        (*s != before).then(|| s.clone())
    }

    /// Shows `problem` in the status; the new status when it changed.
    pub fn report(&self, problem: NodeProblem) -> Option<NodeStatus> {
        self.update_status(|s| s.report(problem))
    }

    /// Clears a problem of `kind`; the new status when it changed.
    pub fn clear(&self, kind: ProblemKind) -> Option<NodeStatus> {
        self.update_status(|s| s.clear(kind))
    }

    /// Marks the node's first apply finished.
    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Whether the node's first apply finished (a signal may be delivered).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Background deliveries in flight (`output-detached`).
    pub fn detached(&self) -> &AtomicU32 {
        &self.detached
    }

    /// Counts one message handed to the component on a target port.
    pub fn count_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    /// Messages this node's component has been handed on its target ports (not settings,
    /// control, timers): how a benchmark or a dashboard sees that a sink was reached.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Marks the node removed; pools drop its resources.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        crate::instance::note_retirement();
    }

    /// Whether the node has been removed or replaced.
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }
}

impl CallTarget for Node {
    fn incarnation(&self) -> u64 {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn component(&self) -> &str {
        &self.manifest.spec.component
    }
    fn settings(&self) -> Settings {
        Node::settings(self)
    }
    fn settings_version(&self) -> u64 {
        Node::settings_version(self)
    }
    fn accept_settings(&self, text: Arc<str>) -> u64 {
        self.set_settings(text)
    }
    fn is_retired(&self) -> bool {
        Node::is_retired(self)
    }
}
