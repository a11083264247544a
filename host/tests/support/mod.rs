//! Test harness: runs a flow of short-named nodes inside the real runtime, with the
//! embedded built-ins, and records every output so tests can assert on what each node
//! emitted. Each test gets its own state directory; the precompiled-component cache is
//! shared by all tests so the built-ins compile once.
#![allow(dead_code)]

pub mod cluster;
pub mod http;
pub mod json_lines;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tinyhost::capabilities::metadata::FileMetadataStore;
use tinyhost::engine::EngineConfig;
use tinyhost::manifest::{JsonBytes, NodeEdge, NodePort, ObjectMeta, TinyNode, TinyNodeSpec};
use tinyhost::{Event, Runtime, RuntimeConfig};

/// A node to put in a test flow.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    name: String,
    component: String,
    settings: Option<Value>,
    edges: Vec<(String, String, Value)>,
}

/// A node named `name` running `component`.
pub fn node(name: &str, component: &str) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        component: component.into(),
        settings: None,
        edges: Vec::new(),
    }
}

impl NodeSpec {
    /// The node's settings (`_settings` configuration).
    pub fn settings(mut self, settings: Value) -> Self {
        self.settings = Some(settings);
        self
    }

    /// An edge from this node's source port `from_port` to `to` (`node:port`); the
    /// configuration (`json!({})` for none) is stored on the target node, as upstream does.
    pub fn edge(mut self, from_port: &str, to: &str, configuration: Value) -> Self {
        self.edges
            .push((from_port.into(), to.into(), configuration));
        self
    }
}

/// Turns test node specs into TinyNode manifests.
pub fn manifests(nodes: &[NodeSpec]) -> Vec<TinyNode> {
    let mut incoming: HashMap<String, Vec<NodePort>> = HashMap::new();
    for n in nodes {
        for (port, to, configuration) in &n.edges {
            let (target, target_port) = to.rsplit_once(':').unwrap_or((to.as_str(), ""));
            incoming
                .entry(target.to_string())
                .or_default()
                .push(NodePort {
                    from: format!("{}:{port}", n.name),
                    port: target_port.to_string(),
                    configuration: Some(JsonBytes(configuration.clone())),
                    ..NodePort::default()
                });
        }
    }
    nodes
        .iter()
        .map(|n| {
            let mut ports = Vec::new();
            if let Some(settings) = &n.settings {
                ports.push(NodePort {
                    port: "_settings".into(),
                    configuration: Some(JsonBytes(settings.clone())),
                    ..NodePort::default()
                });
            }
            ports.extend(incoming.remove(&n.name).unwrap_or_default());
            let edges = n
                .edges
                .iter()
                .enumerate()
                .map(|(i, (port, to, _))| NodeEdge {
                    id: format!("{}-e{i}", n.name),
                    port: port.clone(),
                    to: to.clone(),
                    ..NodeEdge::default()
                })
                .collect();
            TinyNode {
                metadata: ObjectMeta {
                    name: n.name.clone(),
                    ..ObjectMeta::default()
                },
                spec: TinyNodeSpec {
                    module: "common-module".into(),
                    component: n.component.clone(),
                    ports,
                    edges,
                },
            }
        })
        .collect()
}

/// A node's status as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    /// Whether the status is an error.
    pub error: bool,
    /// "OK" or the error text.
    pub status: String,
    /// Port names.
    pub ports: Vec<String>,
    /// Durable metadata.
    pub metadata: BTreeMap<String, String>,
    /// The latest `_control` output.
    pub control: Option<Value>,
}

type Recorded = Arc<Mutex<HashMap<(String, String), Vec<Value>>>>;

/// A running test flow.
pub struct Flow {
    pub runtime: Runtime,
    nodes: Vec<NodeSpec>,
    state_dir: tempfile::TempDir,
    recorded: Recorded,
    recorder: Recorder,
    engine: EngineConfig,
    toolchain: Option<tinyhost_toolchain::ToolchainConfig>,
}

/// The shared precompiled-component cache of the test run.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// Engine settings for tests: a small pool, the shared cache.
pub fn engine_config() -> EngineConfig {
    EngineConfig {
        cache_dir: Some(cache_dir()),
        max_instances: 300,
        ..EngineConfig::default()
    }
}

/// The misbehaving test component (`chaos`), built by the host's build script.
pub fn testkit() -> PathBuf {
    PathBuf::from(tinyhost::guests::TESTKIT_WASM)
}

async fn start_runtime(
    state_dir: PathBuf,
    recorded: Recorded,
    engine: EngineConfig,
    toolchain: Option<tinyhost_toolchain::ToolchainConfig>,
) -> (Runtime, Recorder) {
    let config = RuntimeConfig {
        engine,
        toolchain,
        components: vec![tinyhost::registry::ComponentSource::Path(testkit())],
        state: Arc::new(FileMetadataStore::new(state_dir)),
        trace_outputs: true,
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::start(config).await.expect("runtime starts");
    let events = runtime.subscribe();
    (
        runtime,
        Recorder {
            events: Mutex::new(events),
            recorded,
        },
    )
}

/// Records outputs by draining the event channel on demand: every event published before
/// a call returned is already in the channel, so reading right after `send` is exact.
struct Recorder {
    events: Mutex<tokio::sync::broadcast::Receiver<Event>>,
    recorded: Recorded,
}

impl Recorder {
    fn drain(&self) {
        let mut events = self.events.lock().expect("recorder lock");
        let mut recorded = self.recorded.lock().expect("recorder lock");
        loop {
            match events.try_recv() {
                Ok(Event::Output { node, port, data }) => {
                    recorded.entry((node, port)).or_default().push(data)
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    }
}

impl Flow {
    /// Starts a runtime with the built-ins and applies `nodes`.
    pub async fn start(nodes: Vec<NodeSpec>) -> Flow {
        Self::start_with(nodes, engine_config()).await
    }

    /// Starts with specific engine limits.
    pub async fn start_with(nodes: Vec<NodeSpec>, engine: EngineConfig) -> Flow {
        Self::start_with_toolchain(nodes, engine, None).await
    }

    /// Starts with specific engine limits and toolchain settings.
    pub async fn start_with_toolchain(
        nodes: Vec<NodeSpec>,
        engine: EngineConfig,
        toolchain: Option<tinyhost_toolchain::ToolchainConfig>,
    ) -> Flow {
        let state_dir = tempfile::tempdir().expect("temp dir");
        let recorded: Recorded = Arc::default();
        let (runtime, recorder) = start_runtime(
            state_dir.path().to_path_buf(),
            recorded.clone(),
            engine.clone(),
            toolchain.clone(),
        )
        .await;
        runtime.apply(manifests(&nodes)).await;
        Flow {
            runtime,
            nodes,
            state_dir,
            recorded,
            recorder,
            engine,
            toolchain,
        }
    }

    /// Replaces the node set (settings changes, new edges, removals).
    pub async fn apply(&mut self, nodes: Vec<NodeSpec>) -> tinyhost::apply::ApplyReport {
        self.nodes = nodes;
        self.runtime.apply(manifests(&self.nodes)).await
    }

    /// Stops the runtime and starts a new one on the same state directory with the same
    /// nodes: durable metadata survives, guest memory does not.
    pub async fn restart(&mut self) {
        self.runtime.shutdown().await;
        self.recorder.drain();
        let (runtime, recorder) = start_runtime(
            self.state_dir.path().to_path_buf(),
            self.recorded.clone(),
            self.engine.clone(),
            self.toolchain.clone(),
        )
        .await;
        self.runtime = runtime;
        self.recorder = recorder;
        self.runtime.apply(manifests(&self.nodes)).await;
    }

    /// The state directory (node metadata files).
    pub fn state_dir(&self) -> &std::path::Path {
        self.state_dir.path()
    }

    /// Delivers a raw payload to `node:port` and waits for the downstream subtree.
    pub async fn send(&self, to: &str, payload: Value) -> Result<Option<Value>, String> {
        self.runtime
            .send(to, &payload)
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends a control message to a node.
    pub async fn control(&self, node: &str, payload: Value) -> Result<Option<Value>, String> {
        self.send(&format!("{node}:_control"), payload).await
    }

    /// Everything `node` emitted on `port` so far.
    pub fn outputs(&self, node: &str, port: &str) -> Vec<Value> {
        self.recorder.drain();
        self.recorded
            .lock()
            .expect("recorder lock")
            .get(&(node.to_string(), port.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `node` emitted at least `count` payloads on `port` (or the timeout),
    /// then returns all of them.
    pub async fn wait_output(
        &self,
        node: &str,
        port: &str,
        count: usize,
        timeout_ms: u64,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            let seen = self.outputs(node, port);
            if seen.len() >= count || tokio::time::Instant::now() >= deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A node's status.
    pub async fn status(&self, node: &str) -> NodeView {
        let s = self
            .runtime
            .status(node)
            .unwrap_or_else(|| panic!("node {node} is not running"));
        NodeView {
            error: s.error,
            status: s.status,
            ports: s.ports.iter().map(|p| p.name.clone()).collect(),
            metadata: s.metadata,
            control: s.control,
        }
    }

    /// Stops the runtime.
    pub async fn stop(self) {
        self.runtime.shutdown().await;
    }
}

/// Shorthand used by tests that only need an empty configuration.
pub fn none() -> Value {
    json!({})
}

/// Runs `tinyhost run --output json` (prepared in `cmd`: binary and environment) on an
/// example folder until `max_messages` messages or `duration`, with a fresh state folder,
/// and returns the JSON lines it printed. Panics with its stderr when it fails.
pub fn run_example_json(
    mut cmd: std::process::Command,
    folder: &std::path::Path,
    max_messages: u32,
    duration: &str,
) -> Vec<Value> {
    let state = tempfile::tempdir().expect("temp dir");
    let max_messages = max_messages.to_string();
    let out = cmd
        .args(["run", "--no-watch", "--output", "json", "--max-messages"])
        .args([max_messages.as_str(), "--duration", duration, "--state-dir"])
        .arg(state.path())
        .arg(folder)
        .output()
        .expect("tinyhost runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// What the `debug` nodes of a run showed (the `context` of their `_control` messages).
pub fn debug_shown(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .filter(|v| {
            v["type"] == "message" && v["node"].as_str().is_some_and(|n| n.contains("debug-"))
        })
        .map(|v| v["data"]["context"].clone())
        .collect()
}

/// The `tinyhost` binary on the shared test cache, without the user's log settings.
pub fn tinyhost_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tinyhost"));
    cmd.env("TINYHOST_CACHE_DIR", cache_dir())
        .env_remove("TINYHOST_LOG");
    cmd
}

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// A child process killed when the test ends, however it ends.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free on loopback right now.
///
/// Taken below the kernel's ephemeral range: a port from that range (what binding port 0
/// gives) may be picked again at any moment as the local port of some other test's
/// outgoing connection, before the code under test binds it. Each call in a process
/// moves on to the next port, from a start that differs per process.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let low = ephemeral_low.saturating_sub(12_000).max(1024);
    let span = ephemeral_low - low;
    let start = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let Ok(port) = u16::try_from(low + offset) else {
            continue;
        };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range");
}
