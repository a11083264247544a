//! The runtime: the handle a node source, the CLI, the operator and gRPC hold. It starts
//! the engine, loads components, and wires the [`Router`] (messages), the [`Applier`]
//! (desired node sets) and the shared services of the capabilities together.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tinyhost_capabilities::expr::ExprCache;
use tinyhost_capabilities::http_server::{BoundListener, ListenerConfig, Listeners};
use tinyhost_capabilities::metadata::{MemoryMetadataStore, MetadataStore, WriteBehind};
use tinyhost_capabilities::outbound_http::OutboundPolicy;
use tinyhost_capabilities::state::SharedServices;
use tinyhost_sandbox::Sandbox;
use tinyhost_sandbox::compiler::Compilers;
use tinyhost_sandbox::toolchains::sandbox_with_toolchains;
use tinyhost_toolchain::{Toolchain, ToolchainConfig};
use tinyhost_wasm::cache::CacheStats;
use tinyhost_wasm::engine::{EngineConfig, HostEngine};
use tinyhost_wasm::error::LoadError;
use tinyhost_wasm::registry::ComponentSource;

use crate::apply::{Applier, ApplyReport};
use crate::components::{self, Components};
use crate::error::CallError;
use crate::events::Event;
use crate::manifest::{self, TinyNode};
use crate::remote::RemoteModules;
use crate::router::{RouteLimits, Router};
use crate::status::NodeStatus;

/// The cycle guard: hops a message may travel
/// ([compatibility: message semantics](../../../docs/compatibility.md#message-semantics)).
pub const MAX_DEPTH: u32 = 256;

/// How often changed node metadata is written to the metadata store.
pub const METADATA_FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// How a runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Engine limits and caches.
    pub engine: EngineConfig,
    /// Component files, folders and in-memory components (pulled from a registry), loaded
    /// after the built-ins; the first file to define a component name wins.
    pub components: Vec<ComponentSource>,
    /// Whether to load the embedded built-ins.
    pub builtins: bool,
    /// Where node metadata persists.
    pub state: Arc<dyn MetadataStore>,
    /// Whether this replica leads (always true locally).
    pub leader: bool,
    /// Publish every output as an [`Event::Output`], not only `_control`.
    pub trace_outputs: bool,
    /// Hop limit.
    pub max_depth: u32,
    /// Compilers for inline programs by language, beyond `wat` and the toolchains.
    pub compilers: Compilers,
    /// The Go/TinyGo/Rust toolchains; `None` = defaults under the engine's cache directory.
    pub toolchain: Option<ToolchainConfig>,
    /// Where nodes of other modules are reached (gRPC); `None` = this host alone.
    pub remote: Option<Arc<dyn RemoteModules>>,
    /// How nodes' HTTP listeners bind and are published.
    pub http: ListenerConfig,
    /// Hosts author components may call over `wasi:http` (the built-ins may call any).
    pub outbound: Arc<OutboundPolicy>,
    /// This replica's name: the pod's in a cluster (`HOSTNAME`), the machine's locally.
    pub replica: String,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            engine: EngineConfig::default(),
            components: Vec::new(),
            builtins: true,
            state: Arc::new(MemoryMetadataStore::default()),
            leader: true,
            trace_outputs: false,
            max_depth: MAX_DEPTH,
            compilers: Vec::new(),
            toolchain: None,
            remote: None,
            http: ListenerConfig::default(),
            outbound: Arc::new(OutboundPolicy::deny_all()),
            replica: default_replica(),
        }
    }
}

/// A running flow host.
#[derive(Debug, Clone)]
pub struct Runtime {
    engine: Arc<HostEngine>,
    router: Arc<Router>,
    applier: Arc<Applier>,
    sandbox: Arc<Sandbox>,
    toolchain: Arc<Toolchain>,
}

impl Runtime {
    /// Creates the engine, loads components and starts with no nodes.
    pub async fn start(config: RuntimeConfig) -> Result<Runtime, LoadError> {
        let engine = HostEngine::new(config.engine.clone())?;
        let (toolchain, sandbox) = build_sandbox(&config, &engine)?;
        let sandbox = Arc::new(sandbox);
        let services = SharedServices {
            exprs: Arc::new(ExprCache::default()),
            sandbox: sandbox.clone(),
            outbound: config.outbound.clone(),
        };
        let sources = component_sources(config.builtins, &config.components);
        let components = components::load(&engine, services, &sources).await?;
        let router = Router::new(
            RouteLimits {
                max_depth: config.max_depth,
                trace_outputs: config.trace_outputs,
            },
            config.remote.clone(),
            WriteBehind::new(config.state.clone()),
            Listeners::new(config.http.clone()),
            config.leader,
            Arc::from(config.replica.as_str()),
        );
        let weak = Arc::downgrade(&router);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(METADATA_FLUSH_INTERVAL).await;
                let Some(router) = weak.upgrade() else { break };
                // Small files, but still blocking I/O: keep it off the async workers.
                let _ = tokio::task::spawn_blocking(move || router.flush_metadata()).await;
            }
        });
        let applier = Arc::new(Applier::new(router.clone(), components));
        Ok(Runtime {
            engine,
            router,
            applier,
            sandbox,
            toolchain,
        })
    }

    /// The loaded components (for listing and load errors).
    pub fn registry(&self) -> &Components {
        self.applier.components()
    }

    /// The toolchains' compile cache (counters, clearing).
    pub fn toolchain(&self) -> &Toolchain {
        &self.toolchain
    }

    /// The inline-program sandbox (start-up snapshot counters, program entries).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Component cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.engine.cache_stats()
    }

    /// Subscribes to events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.router.events.subscribe()
    }

    /// Makes `nodes` the complete set of running nodes.
    pub async fn apply(&self, nodes: Vec<TinyNode>) -> ApplyReport {
        self.applier.apply(nodes).await
    }

    /// Waits until the node runs and its first apply finished (a signal for it may be
    /// delivered), for up to `timeout`; whether it did.
    pub async fn wait_ready(&self, node: &str, timeout: Duration) -> bool {
        self.applier.wait_ready(node, timeout).await
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
        self.router
            .deliver_raw("signal", node, port, payload, 0)
            .await
    }

    /// The status of a node.
    pub fn status(&self, node: &str) -> Option<NodeStatus> {
        self.router.node(node).map(|n| n.status())
    }

    /// Messages a node's component has received on its target ports since it was
    /// (re)created; `None` when no such node runs.
    pub fn received(&self, node: &str) -> Option<u64> {
        self.router.node(node).map(|n| n.received())
    }

    /// Replaces a node's durable metadata with what another replica (the leader) recorded;
    /// `false` when no such node runs.
    pub fn adopt_metadata(&self, node: &str, metadata: BTreeMap<String, String>) -> bool {
        let Some(node) = self.router.node(node) else {
            return false;
        };
        self.router.set_status(&node, |s| s.metadata = metadata);
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
        if self.router.node(node).is_none() {
            // Never bounce a message on to a third module: the caller routed it here.
            return Err(CallError::NodeNotFound(node.to_string()));
        }
        self.router
            .deliver_incoming(from, node, port, "", payload, depth)
            .await
    }

    /// Names of the running nodes, sorted.
    pub fn node_names(&self) -> Vec<String> {
        self.router.nodes.names()
    }

    /// Sets leadership (cluster mode); gaining it reconciles every node so long-running
    /// triggers resume.
    pub async fn set_leader(&self, leader: bool) {
        let was = self.router.swap_leader(leader);
        if leader && !was {
            self.applier.reconcile_all().await;
        }
    }

    /// Every node's running HTTP listener, sorted by node.
    pub fn listeners(&self) -> Vec<(String, BoundListener)> {
        self.router.listeners().all()
    }

    /// Stops timers and listeners, persists metadata and drops every node.
    pub async fn shutdown(&self) {
        self.router.cancel_all_timers();
        self.router.listeners().close_all().await;
        self.router.flush_metadata();
        for node in self.router.nodes.drain() {
            node.retire();
        }
    }
}

/// The replica name when none is configured: `HOSTNAME` (a pod's name in Kubernetes), else
/// the machine's host name, else `local`.
pub fn default_replica() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "local".to_string())
}

/// The sandbox of a runtime set up by `config`: `wat`, the toolchains (under the engine's
/// cache directory unless configured) and any extra compilers.
pub fn build_sandbox(
    config: &RuntimeConfig,
    engine: &Arc<HostEngine>,
) -> Result<(Arc<Toolchain>, Sandbox), LoadError> {
    let toolchain_config = config.toolchain.clone().unwrap_or_else(|| {
        let base = config
            .engine
            .cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("tinyhost"));
        ToolchainConfig::new(base.join("toolchain"))
    });
    sandbox_with_toolchains(engine.clone(), toolchain_config, &config.compilers)
}

/// The component sources of a host: the embedded built-ins (when `builtins`), then
/// `others`, in order (the first to define a name wins).
pub fn component_sources(builtins: bool, others: &[ComponentSource]) -> Vec<ComponentSource> {
    builtins
        .then(tinyhost_guests::builtins)
        .into_iter()
        .flatten()
        .chain(others.iter().cloned())
        .collect()
}
