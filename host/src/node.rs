//! A node: one TinyNode applied to the runtime. It holds everything the scheduler needs
//! per message without touching wasm — compiled outgoing edges, compiled incoming
//! mappings, the current settings and ports — plus the status the node publishes.
//! The component's instances are lent per call by the [`crate::pool`]; a node owns none,
//! so an idle node costs only this struct.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use arc_swap::ArcSwap;
use serde::Serialize;
use serde_json::Value;

use crate::bindings::{ComponentInfo, PortDef, Position};
use crate::manifest::{self, RetryPolicy, TinyNode};
use crate::mapping::EdgeMapping;
use crate::registry::ComponentEntry;

/// Ports the contract keeps out of published status.
pub(crate) const HIDDEN_PORTS: [&str; 3] = ["_reconcile", "_client", "_identity"];

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

/// A port as published in status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortStatus {
    /// Port name.
    pub name: String,
    /// Label.
    pub label: String,
    /// 0 top, 1 right, 2 bottom, 3 left.
    pub position: u8,
    /// Whether it emits.
    pub source: bool,
    /// JSON schema.
    pub schema: Value,
    /// Default configuration.
    pub configuration: Value,
}

/// Component information as published in status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    /// One-line description.
    pub description: String,
    /// Help text.
    pub info: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// What a node publishes (TinyNode status).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Owning module.
    pub module: String,
    /// Component name.
    pub component: String,
    /// What the component says about itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_info: Option<ComponentStatus>,
    /// Ports sorted by name, without the hidden system ports.
    pub ports: Vec<PortStatus>,
    /// "OK" or the error text.
    pub status: String,
    /// Whether `status` is an error.
    pub error: bool,
    /// Durable key-value state.
    pub metadata: BTreeMap<String, String>,
    /// The latest `_control` output (dashboard state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<Value>,
}

/// The node's current settings, versioned so instances know when to re-apply them.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Bumped on every successful change; 0 = never set (component defaults).
    pub version: u64,
    /// JSON text of the settings, if any.
    pub text: Option<Arc<str>>,
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
    settings: RwLock<Settings>,
    /// `settings.version`, readable without the lock: every call compares it with what
    /// its instance last applied, and a shared lock's counter bounced between cores.
    settings_version: AtomicU64,
    /// Every current port with its default configuration. Read on every message from any
    /// thread and replaced only when settings change the ports, so it is swapped whole
    /// rather than locked.
    defaults: ArcSwap<HashMap<String, Value>>,
    status: Mutex<NodeStatus>,
    detached: AtomicU32,
    received: AtomicU64,
    retired: AtomicBool,
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
            // Fan-out is unique by `port + to` (CONTRACT §4).
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
        let status = NodeStatus {
            module: manifest.spec.module.clone(),
            component: manifest.spec.component.clone(),
            component_info: component.as_ref().map(|c| component_status(&c.info)),
            status: "OK".into(),
            metadata,
            ..NodeStatus::default()
        };
        Node {
            id,
            name: manifest.metadata.name.clone(),
            identity,
            component,
            edges,
            mappings,
            settings: RwLock::new(Settings::default()),
            settings_version: AtomicU64::new(0),
            defaults: ArcSwap::from_pointee(HashMap::new()),
            status: Mutex::new(status),
            detached: AtomicU32::new(0),
            received: AtomicU64::new(0),
            retired: AtomicBool::new(false),
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
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// The version of the current settings, without taking the lock.
    pub fn settings_version(&self) -> u64 {
        self.settings_version.load(Ordering::Acquire)
    }

    /// Records settings that a component accepted.
    pub fn set_settings(&self, text: Arc<str>) -> u64 {
        match self.settings.write() {
            Ok(mut s) => {
                s.version += 1;
                s.text = Some(text);
                self.settings_version.store(s.version, Ordering::Release);
                s.version
            }
            Err(_) => 0,
        }
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

    /// Background deliveries in flight (`output-detached`).
    pub fn detached(&self) -> &AtomicU32 {
        &self.detached
    }

    /// Counts one message handed to the component on a target port.
    pub(crate) fn count_received(&self) {
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
        RETIREMENTS.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether the node has been removed or replaced.
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }
}

/// Nodes retired so far, process-wide: instances prune the resources of removed nodes
/// only when this moved since they last looked.
static RETIREMENTS: AtomicU64 = AtomicU64::new(0);

/// See [`RETIREMENTS`].
pub(crate) fn retirements() -> u64 {
    RETIREMENTS.load(Ordering::Acquire)
}

pub(crate) fn position_number(p: Position) -> u8 {
    match p {
        Position::Top => 0,
        Position::Right => 1,
        Position::Bottom => 2,
        Position::Left => 3,
    }
}

/// Component info in status form.
pub fn component_status(info: &ComponentInfo) -> ComponentStatus {
    ComponentStatus {
        description: info.description.clone(),
        info: info.info.clone(),
        tags: info.tags.clone(),
    }
}
