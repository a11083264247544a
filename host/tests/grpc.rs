//! Calls between modules over gRPC (docs/compatibility.md#wire-protocol, #message-semantics): two runtimes in one process, each
//! serving `module.ModuleService` on a local port and reaching the other through the real
//! client, with the `chaos` test component on both sides. Node names carry the module
//! (`{8hex}.{module}.{component}-{suffix}`), which is how a message finds its module.

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{NodeSpec, engine_config, manifests, node, none};
use tinyhost::engine::EngineConfig;
use tinyhost::grpc::MAX_MESSAGE_BYTES;
use tinyhost::grpc::client::{AddressBook, ClientConfig, GrpcClient, StaticPeers};
use tinyhost::grpc::proto::MessageRequest;
use tinyhost::grpc::proto::module_service_client::ModuleServiceClient;
use tinyhost::grpc::server::ServeError;
use tinyhost::manifest::{JsonBytes, NodePort, TinyNode, module_of};
use tinyhost::metrics::Metrics;
use tinyhost::operator::ClusterPeers;
use tinyhost::runtime::MAX_DEPTH;
use tinyhost::{CallError, Runtime, RuntimeConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;

/// A chaos node of module `a`.
const A1: &str = "00000001.a.chaos-x";
/// A second chaos node of module `a`.
const A2: &str = "00000003.a.chaos-local";
/// A chaos node of module `b`.
const B1: &str = "00000002.b.chaos-y";
/// A `debug` node of module `b`: a sink that answers nothing.
const B_SINK: &str = "00000004.b.debug-sink";

/// Longest any single step of a test may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(30);

fn chaos(name: &str) -> NodeSpec {
    node(name, "chaos")
}

fn port(node: &str, port: &str) -> String {
    format!("{node}:{port}")
}

/// How one module of a test is set up.
#[derive(Clone)]
struct Options {
    deadline: Duration,
    max_depth: u32,
    engine: EngineConfig,
    builtins: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            deadline: Duration::from_secs(5),
            max_depth: MAX_DEPTH,
            engine: engine_config(),
            builtins: false,
        }
    }
}

type Server = (oneshot::Sender<()>, JoinHandle<Result<(), ServeError>>);

/// One module: a runtime, its gRPC server and the metrics of its client.
struct Module {
    name: String,
    runtime: Runtime,
    address: SocketAddr,
    metrics: Arc<Metrics>,
    server: Option<Server>,
}

impl Module {
    /// Starts module `name` with `nodes`, serving on `listener` and reaching other modules
    /// through `book`.
    async fn start(
        name: &str,
        listener: TcpListener,
        book: Arc<dyn AddressBook>,
        options: Options,
        nodes: Vec<TinyNode>,
    ) -> Module {
        let metrics = Arc::new(Metrics::new());
        let client = GrpcClient::new(
            book,
            ClientConfig {
                source_module: name.into(),
                deadline: options.deadline,
                tls: None,
            },
            Some(metrics.clone()),
        );
        let runtime = Runtime::start(RuntimeConfig {
            engine: options.engine,
            components: vec![tinyhost::registry::ComponentSource::Path(support::testkit())],
            builtins: options.builtins,
            max_depth: options.max_depth,
            remote: Some(Arc::new(client)),
            ..RuntimeConfig::default()
        })
        .await
        .expect("runtime starts");
        // Edge problems show in node status; tests that expect none check it there.
        runtime.apply(nodes).await;
        let address = listener.local_addr().expect("listener address");
        let mut module = Module {
            name: name.to_string(),
            runtime,
            address,
            metrics,
            server: None,
        };
        module.serve(listener);
        module
    }

    /// Serves the module's runtime on `listener` until [`Module::stop_server`].
    fn serve(&mut self, listener: TcpListener) {
        assert!(self.server.is_none(), "already serving");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(tinyhost::grpc::server::serve(
            listener,
            self.runtime.clone(),
            None,
            async move {
                let _ = stopped.await;
            },
        ));
        self.server = Some((stop, handle));
    }

    /// Stops the gRPC server (the runtime keeps running) and waits until it has let go
    /// of its port.
    async fn stop_server(&mut self) {
        if let Some((stop, handle)) = self.server.take() {
            let _ = stop.send(());
            within(Duration::from_secs(10), "server shutdown", handle)
                .await
                .expect("server task")
                .expect("server ends cleanly");
        }
    }

    /// Delivers a raw payload to `node:port` of this module, as a signal does.
    async fn send(&self, to: &str, payload: Value) -> Result<Option<Value>, CallError> {
        within(STEP, "a message", self.runtime.send(to, &payload)).await
    }

    /// The value of one counter series of this module's calls to `target`, if present.
    fn calls(&self, target: &str, status: &str) -> Option<u64> {
        let series = format!(
            "tinysystems_cross_module_calls_total{{source_module=\"{}\",target_module=\"{target}\",status=\"{status}\"}} ",
            self.name
        );
        self.metrics
            .render()
            .lines()
            .find_map(|line| line.strip_prefix(&series).map(str::to_string))
            .map(|value| value.trim().parse().expect("a counter value"))
    }

    /// All calls of this module to `target`, whatever their status.
    fn all_calls(&self, target: &str) -> u64 {
        let prefix = format!(
            "tinysystems_cross_module_calls_total{{source_module=\"{}\",target_module=\"{target}\",",
            self.name
        );
        self.metrics
            .render()
            .lines()
            .filter(|line| line.starts_with(&prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    async fn stop(mut self) {
        self.stop_server().await;
        self.runtime.shutdown().await;
    }
}

/// Awaits `future`, failing the test if it takes longer than `limit`.
async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {limit:?}"))
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port")
}

/// Binds `address` again after its server stopped, retrying briefly while the port is
/// still being released.
async fn rebind(address: SocketAddr) -> TcpListener {
    let mut last = None;
    for _ in 0..100 {
        match TcpListener::bind(address).await {
            Ok(listener) => return listener,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot bind {address} again: {last:?}");
}

/// Peers at fixed addresses.
fn peers(list: &[(&str, SocketAddr)]) -> Arc<dyn AddressBook> {
    Arc::new(StaticPeers::new(list.iter().map(|(module, address)| {
        (module.to_string(), address.to_string())
    })))
}

/// The manifests of `module`'s nodes out of a flow spanning modules: edges stay on their
/// source node and mappings on their target node, wherever the other end runs.
fn nodes_of(all: &[NodeSpec], module: &str) -> Vec<TinyNode> {
    manifests(all)
        .into_iter()
        .filter(|n| module_of(&n.metadata.name) == Some(module))
        .collect()
}

/// Modules `a` and `b` of one flow, each knowing the other's address.
async fn pair(all: &[NodeSpec], a: Options, b: Options) -> (Module, Module) {
    let (la, lb) = (listener().await, listener().await);
    let (addr_a, addr_b) = (
        la.local_addr().expect("address"),
        lb.local_addr().expect("address"),
    );
    let a = Module::start("a", la, peers(&[("b", addr_b)]), a, nodes_of(all, "a")).await;
    let b = Module::start("b", lb, peers(&[("a", addr_a)]), b, nodes_of(all, "b")).await;
    (a, b)
}

fn text(result: &Result<Option<Value>, CallError>) -> String {
    match result {
        Ok(v) => format!("unexpected success: {v:?}"),
        Err(e) => e.to_string(),
    }
}

// --- 1. Request/response -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_crosses_modules_and_the_answer_comes_back() {
    let all = [
        chaos(A1)
            .edge(
                "out",
                &port(B1, "in"),
                json!({"do": "echo", "value": "{{$.v}}"}),
            )
            .edge("other", &port(B1, "in"), none()),
        chaos(B1),
    ];
    let (a, b) = pair(&all, Options::default(), Options::default()).await;
    let status = a.runtime.status(A1).expect("A1 runs");
    assert!(
        !status.error,
        "an edge to another module's node is not a missing target: {}",
        status.status
    );

    // B maps the message with its own configuration for `A1:out`; the typed result
    // (an object, not its text) reaches B's component, and B's answer comes back.
    let reply = a
        .send(
            &port(A1, "in"),
            json!({"do": "emit", "value": {"v": {"n": [1, 2, 3], "ok": true}}}),
        )
        .await;
    assert_eq!(
        reply,
        Ok(Some(json!({"downstream": {"n": [1, 2, 3], "ok": true}})))
    );

    // An edge without configuration delivers the target port's default (chaos `in`: `{}`,
    // which echoes null), not the source payload.
    let reply = a
        .send(
            &port(A1, "in"),
            json!({"do": "emit", "port": "other", "value": {"do": "echo", "value": "source payload"}}),
        )
        .await;
    assert_eq!(reply, Ok(Some(json!({"downstream": null}))));

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_failure_comes_back_as_an_error_naming_module_and_node() {
    let all = [
        chaos(A1).edge(
            "out",
            &port(B1, "in"),
            json!({"do": "fail", "message": "b says no"}),
        ),
        chaos(B1),
    ];
    let (a, b) = pair(&all, Options::default(), Options::default()).await;
    let reply = a
        .send(&port(A1, "in"), json!({"do": "emit", "value": {}}))
        .await;
    let err = reply.as_ref().expect_err("B's failure travels back");
    let message = err.to_string();
    assert!(message.contains("b says no"), "{message}");
    assert!(
        message.contains(&format!("module `b`, node `{B1}`")),
        "{message}"
    );
    assert!(
        !err.retryable(),
        "a permanent failure stays permanent: {message}"
    );

    // Only `b` knows whether its node exists.
    b.runtime.apply(Vec::new()).await;
    let reply = a
        .send(&port(A1, "in"), json!({"do": "emit", "value": {}}))
        .await;
    let err = reply.as_ref().expect_err("B1 is gone");
    let message = err.to_string();
    assert!(
        message.contains(&format!("module `b`, node `{B1}`: node `{B1}` not found")),
        "{message}"
    );
    assert!(!err.retryable(), "{message}");
    a.stop().await;
    b.stop().await;
}

// --- 2. Fan-out ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fan_out_reaches_nodes_in_both_modules() {
    let all = [
        chaos(A1)
            .edge("out", &port(A2, "in"), json!({"do": "count"}))
            .edge("out", &port(B1, "in"), json!({"do": "count"})),
        chaos(A2),
        chaos(B1),
    ];
    let (a, b) = pair(&all, Options::default(), Options::default()).await;
    let reply = a
        .send(&port(A1, "in"), json!({"do": "emit", "value": {}}))
        .await;
    assert_eq!(reply, Ok(Some(json!({"downstream": 1}))));
    let count = |m: &Module, node: &str| {
        m.runtime
            .status(node)
            .expect("node runs")
            .metadata
            .get("count")
            .cloned()
    };
    assert_eq!(count(&a, A2).as_deref(), Some("1"), "the local edge");
    assert_eq!(count(&b, B1).as_deref(), Some("1"), "the remote edge");

    a.send(&port(A1, "in"), json!({"do": "emit", "value": {}}))
        .await
        .expect("second message");
    assert_eq!(count(&a, A2).as_deref(), Some("2"));
    assert_eq!(count(&b, B1).as_deref(), Some("2"));
    a.stop().await;
    b.stop().await;
}

// --- 3. Cycles -----------------------------------------------------------------------

fn ping_pong() -> [NodeSpec; 2] {
    [
        chaos(A1).edge("out", &port(B1, "in"), json!({"do": "emit", "value": {}})),
        chaos(B1).edge("out", &port(A1, "in"), json!({"do": "emit", "value": {}})),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cycle_across_modules_stops_at_the_depth_limit() {
    let options = Options {
        max_depth: 10,
        ..Options::default()
    };
    let (a, b) = pair(&ping_pong(), options.clone(), options).await;
    let started = Instant::now();
    let reply = within(
        Duration::from_secs(10),
        "the cycle",
        a.runtime
            .send(&port(A1, "in"), &json!({"do": "emit", "value": {}})),
    )
    .await;
    let message = text(&reply);
    assert!(reply.is_err(), "{message}");
    // Hops 1, 3, .. 11 run in `a` and 2, 4, .. 10 in `b`: the 11th is refused in `a`,
    // which only happens if `b` passed its count on.
    assert!(
        message.contains(&format!("message depth limit of 10 exceeded at `{A1}:in`")),
        "{message}"
    );
    assert!(message.contains("module `b`"), "{message}");
    assert_eq!(a.all_calls("b"), 5, "a → b hops\n{}", a.metrics.render());
    assert_eq!(b.all_calls("a"), 5, "b → a hops\n{}", b.metrics.render());
    eprintln!(
        "cross-module cycle of 10 hops failed after {:?}",
        started.elapsed()
    );

    // Both modules still work.
    let alive = a.send(&port(A1, "in"), json!({"value": "alive"})).await;
    assert_eq!(alive, Ok(Some(json!("alive"))));
    let alive = b.send(&port(B1, "in"), json!({"value": "alive"})).await;
    assert_eq!(alive, Ok(Some(json!("alive"))));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cycle_across_modules_stops_at_the_default_limit_of_256() {
    let (a, b) = pair(&ping_pong(), Options::default(), Options::default()).await;
    let started = Instant::now();
    let reply = within(
        Duration::from_secs(20),
        "the cycle",
        a.runtime
            .send(&port(A1, "in"), &json!({"do": "emit", "value": {}})),
    )
    .await;
    let message = text(&reply);
    // Each hop names where the error passed, so the text is long: show its ends.
    let summary = format!(
        "{} bytes, {} hops named, ending with: …{}",
        message.len(),
        message.matches("module `").count(),
        &message[message.len().saturating_sub(300)..]
    );
    assert!(
        message.contains(&format!("message depth limit of 256 exceeded at `{A1}:in`")),
        "{summary}"
    );
    assert_eq!(a.all_calls("b"), 128, "a → b hops");
    assert_eq!(b.all_calls("a"), 128, "b → a hops");
    eprintln!(
        "cross-module cycle of 256 hops failed after {:?}",
        started.elapsed()
    );
    a.stop().await;
    b.stop().await;
}

// --- 4. Unreachable peers ------------------------------------------------------------

/// `a`'s node calls `b`'s, which echoes `v`.
fn a_calls_b() -> [NodeSpec; 2] {
    [
        chaos(A1).edge(
            "out",
            &port(B1, "in"),
            json!({"do": "echo", "value": "{{$.v}}"}),
        ),
        chaos(B1),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_that_is_down_fails_at_once_and_may_be_retried() {
    let dead = listener().await;
    let dead_address = dead.local_addr().expect("address");
    drop(dead);
    let a = Module::start(
        "a",
        listener().await,
        peers(&[("b", dead_address)]),
        Options::default(),
        nodes_of(&a_calls_b(), "a"),
    )
    .await;
    for attempt in 0..2 {
        let started = Instant::now();
        let reply = a
            .send(&port(A1, "in"), json!({"do": "emit", "value": {"v": 1}}))
            .await;
        let took = started.elapsed();
        let err = reply.as_ref().expect_err("nobody listens");
        let message = err.to_string();
        assert!(
            took < Duration::from_secs(2),
            "attempt {attempt}: took {took:?} with a deadline of 5 s"
        );
        assert!(
            message.contains(&format!("module `b`, node `{B1}`")),
            "{message}"
        );
        assert!(
            message.contains(&format!("unreachable at {dead_address}")),
            "{message}"
        );
        assert!(
            err.retryable(),
            "a peer that is down may come back: {message}"
        );
    }
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_that_never_answers_fails_at_the_deadline() {
    let hanging = listener().await;
    let hanging_address = hanging.local_addr().expect("address");
    // Accepts connections and keeps them open, but never says a word.
    let keeper = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            held.push(socket);
        }
    });
    let deadline = Duration::from_millis(400);
    let a = Module::start(
        "a",
        listener().await,
        peers(&[("b", hanging_address)]),
        Options {
            deadline,
            ..Options::default()
        },
        nodes_of(&a_calls_b(), "a"),
    )
    .await;
    let started = Instant::now();
    let reply = a
        .send(&port(A1, "in"), json!({"do": "emit", "value": {"v": 1}}))
        .await;
    let took = started.elapsed();
    let err = reply.as_ref().expect_err("the peer never answers");
    let message = err.to_string();
    assert!(
        took >= deadline,
        "failed before the deadline: {took:?}, {message}"
    );
    assert!(
        took < deadline + Duration::from_millis(800),
        "failed long after the deadline of {deadline:?}: {took:?}"
    );
    assert!(
        message.contains(&format!("module `b`, node `{B1}`")),
        "{message}"
    );
    assert!(
        message.contains(&format!("no answer from {hanging_address}")),
        "{message}"
    );
    assert!(err.retryable(), "{message}");
    keeper.abort();
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_module_missing_from_the_peer_book_is_not_routed() {
    let elsewhere = listener().await;
    let elsewhere_address = elsewhere.local_addr().expect("address");
    let a = Module::start(
        "a",
        listener().await,
        peers(&[("c", elsewhere_address)]),
        Options::default(),
        nodes_of(&a_calls_b(), "a"),
    )
    .await;
    let status = a.runtime.status(A1).expect("A1 runs");
    assert!(
        status.error
            && status
                .status
                .contains(&format!("target node `{B1}` not found")),
        "the edge is reported as broken: {status:?}"
    );
    let reply = a
        .send(&port(A1, "in"), json!({"do": "emit", "value": {"v": 1}}))
        .await;
    let message = text(&reply);
    assert!(
        message.contains(&format!("node `{B1}` not found")),
        "{message}"
    );
    assert!(
        !message.contains("module `b`"),
        "not sent remotely: {message}"
    );
    assert_eq!(a.all_calls("b"), 0);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_module_without_an_address_is_unknown() {
    let a = Module::start(
        "a",
        listener().await,
        Arc::new(ClusterPeers::new(
            tinyhost::operator::PeerTable::default(),
            "a",
        )),
        Options::default(),
        nodes_of(&a_calls_b(), "a"),
    )
    .await;
    let status = a.runtime.status(A1).expect("A1 runs");
    assert!(
        !status.error,
        "every other module is remote in a cluster: {}",
        status.status
    );
    let started = Instant::now();
    let reply = a
        .send(&port(A1, "in"), json!({"do": "emit", "value": {"v": 1}}))
        .await;
    let message = text(&reply);
    assert!(
        message.contains(&format!(
            "module `b`, node `{B1}`: `b` module address is unknown"
        )),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    a.stop().await;
}

// --- 5. Peer restart -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_channel_reconnects_after_a_peer_restarts() {
    let (a, mut b) = pair(&a_calls_b(), Options::default(), Options::default()).await;
    let b_address = b.address;
    let to = port(A1, "in");
    let call = |v: i64| a.send(&to, json!({"do": "emit", "value": {"v": v}}));
    assert_eq!(call(1).await, Ok(Some(json!({"downstream": 1}))));

    b.stop_server().await;
    let reply = call(2).await;
    let err = reply.as_ref().expect_err("b is down");
    assert!(err.retryable(), "{err}");
    // A channel that has not yet seen its connection close sends the call on it and hears
    // it cancelled ("no answer from"); one that has finds nobody to connect to
    // ("unreachable"). Either way the caller learns the peer and may retry.
    let text = err.to_string();
    assert!(
        (text.contains("unreachable at ") || text.contains("no answer from "))
            && text.contains(&b_address.to_string()),
        "{err}"
    );

    b.serve(rebind(b_address).await);
    assert_eq!(
        call(3).await,
        Ok(Some(json!({"downstream": 3}))),
        "the first call after the restart succeeds"
    );
    assert_eq!(call(4).await, Ok(Some(json!({"downstream": 4}))));
    a.stop().await;
    b.stop().await;
}

// --- 6. Load -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_thousand_concurrent_calls_are_all_answered() {
    let all = [
        chaos(A1).edge(
            "out",
            &port(B1, "in"),
            json!({"do": "echo", "value": {"i": "{{$.i}}", "twice": "{{$.i * 2}}"}}),
        ),
        chaos(B1),
    ];
    let (a, b) = pair(&all, Options::default(), Options::default()).await;
    let started = Instant::now();
    let to = port(A1, "in");
    let calls = (0..1000).map(|i| {
        let (runtime, to) = (&a.runtime, &to);
        async move {
            runtime
                .send(to, &json!({"do": "emit", "value": {"i": i}}))
                .await
        }
    });
    let results = within(
        Duration::from_secs(60),
        "1000 concurrent calls",
        futures::future::join_all(calls),
    )
    .await;
    let took = started.elapsed();
    let wrong: Vec<(usize, String)> = results
        .iter()
        .enumerate()
        .filter(|(i, r)| **r != Ok(Some(json!({"downstream": {"i": i, "twice": i * 2}}))))
        .map(|(i, r)| (i, format!("{r:?}")))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of 1000 calls went wrong, e.g. {:?}",
        wrong.len(),
        wrong.iter().take(3).collect::<Vec<_>>()
    );
    assert_eq!(a.calls("b", "Ok"), Some(1000));
    eprintln!("1000 concurrent cross-module calls took {took:?}");
    a.stop().await;
    b.stop().await;
}

// --- 7. Message size -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_up_to_the_size_limit_cross_and_larger_ones_fail_clearly() {
    let all = [
        chaos(A1)
            .edge(
                "out",
                &port(B1, "in"),
                json!({"do": "echo", "value": "{{$.v}}"}),
            )
            .edge(
                "other",
                &port(B1, "in"),
                json!({"do": "echo", "value": {"first": "{{$.v}}", "second": "{{$.v}}"}}),
            ),
        chaos(B1),
    ];
    let options = Options {
        engine: EngineConfig {
            memory_limit: 128 << 20,
            max_instances: 16,
            ..engine_config()
        },
        ..Options::default()
    };
    let (a, b) = pair(&all, options.clone(), options).await;
    let limit = MAX_MESSAGE_BYTES;

    // Just under the limit, both ways: the request carries `{"v":"…"}`, the answer "…".
    let big = "x".repeat(limit - 4096);
    let reply = a
        .send(
            &port(A1, "in"),
            json!({"do": "emit", "value": {"v": big.as_str()}}),
        )
        .await
        .map_err(|e| e.to_string());
    let reply = reply.expect("a message under the limit crosses");
    assert_eq!(
        reply
            .as_ref()
            .and_then(|r| r["downstream"].as_str())
            .map(str::len),
        Some(big.len()),
        "the whole string comes back"
    );
    assert!(reply == Some(json!({"downstream": big})));

    // Over the limit: refused before sending, without waiting for anything.
    let too_big = "x".repeat(limit + 1);
    let started = Instant::now();
    let reply = a
        .send(
            &port(A1, "in"),
            json!({"do": "emit", "value": {"v": too_big}}),
        )
        .await;
    let message = text(&reply);
    assert!(
        message.contains(&format!("exceeds the gRPC limit of {limit} bytes")),
        "{message}"
    );
    assert!(
        message.contains(&format!("module `b`, node `{B1}`")),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(a.all_calls("b"), 1, "the large message was never sent");

    // An answer over the limit: B's mapping doubles a 3 MiB message.
    let half = "y".repeat(3 << 20);
    let started = Instant::now();
    let reply = a
        .send(
            &port(A1, "in"),
            json!({"do": "emit", "port": "other", "value": {"v": half}}),
        )
        .await;
    let message = text(&reply);
    assert!(reply.is_err(), "{message}");
    assert!(message.contains("too large"), "{message}");
    assert!(message.contains(&limit.to_string()), "{message}");
    assert!(
        message.contains(&format!("module `b`, node `{B1}`")),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );

    // Both still work afterwards.
    assert_eq!(
        a.send(
            &port(A1, "in"),
            json!({"do": "emit", "value": {"v": "small"}})
        )
        .await,
        Ok(Some(json!({"downstream": "small"})))
    );
    a.stop().await;
    b.stop().await;
}

// --- 8. The server, seen by any gRPC client ----------------------------------------

/// A sender outside this test's modules, as an upstream Go module would be.
const OUTSIDER: &str = "00000009.z.http-server-q:out";

fn request(from: &str, to: &str, payload: &[u8]) -> MessageRequest {
    MessageRequest {
        id: "test-1".into(),
        from: from.into(),
        to: to.into(),
        payload: payload.to_vec(),
        edge_id: "edge-1".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_answers_a_plain_grpc_client() {
    let mut nodes = nodes_of(&[chaos(B1), node(B_SINK, "debug")], "b");
    // B1's mapping for messages from the outsider, as the editor would store it.
    nodes
        .iter_mut()
        .find(|n| n.metadata.name == B1)
        .expect("B1")
        .spec
        .ports
        .push(NodePort {
            from: OUTSIDER.into(),
            port: "in".into(),
            configuration: Some(JsonBytes(json!({"do": "echo", "value": "{{$.v}}"}))),
            ..NodePort::default()
        });
    let b = Module::start(
        "b",
        listener().await,
        peers(&[]),
        Options {
            builtins: true,
            ..Options::default()
        },
        nodes,
    )
    .await;
    let url = format!("http://{}", b.address);
    let mut client = within(
        Duration::from_secs(5),
        "connect",
        ModuleServiceClient::connect(url.clone()),
    )
    .await
    .expect("connects");

    // A node's answer is the JSON in `Data`.
    let reply = within(
        STEP,
        "a call",
        client.message(request(
            OUTSIDER,
            &port(B1, "in"),
            br#"{"v": {"k": [1, "two"]}}"#,
        )),
    )
    .await
    .expect("answered")
    .into_inner();
    let data: Value = serde_json::from_slice(&reply.data).expect("Data is JSON");
    assert_eq!(data, json!({"k": [1, "two"]}));

    // A subtree that answers nothing: empty `Data`.
    let reply = within(
        STEP,
        "a call",
        client.message(request(OUTSIDER, &port(B_SINK, "in"), br#"{"context": 1}"#)),
    )
    .await
    .expect("answered")
    .into_inner();
    assert!(
        reply.data.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&reply.data)
    );

    // Unknown node.
    let status = within(
        STEP,
        "a call",
        client.message(request(OUTSIDER, "00000005.b.chaos-nobody:in", b"{}")),
    )
    .await
    .expect_err("no such node");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(
        status.message().contains("00000005.b.chaos-nobody"),
        "{status:?}"
    );

    // A payload that is not JSON.
    let status = within(
        STEP,
        "a call",
        client.message(request(OUTSIDER, &port(B1, "in"), b"{not json")),
    )
    .await
    .expect_err("not JSON");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    // A sender already past the depth limit.
    let mut deep = tonic::Request::new(request(OUTSIDER, &port(B1, "in"), b"{}"));
    deep.metadata_mut()
        .insert("x-message-depth", "300".parse().expect("metadata value"));
    let status = within(STEP, "a call", client.message(deep))
        .await
        .expect_err("too deep");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("depth limit of 256"),
        "{status:?}"
    );

    // A component failure: permanent → FAILED_PRECONDITION, retryable → UNAVAILABLE.
    let mut failing = nodes_of(&[chaos(B1)], "b");
    failing[0].spec.ports.push(NodePort {
        from: OUTSIDER.into(),
        port: "in".into(),
        configuration: Some(JsonBytes(json!({"do": "{{$.do}}"}))),
        ..NodePort::default()
    });
    b.runtime.apply(failing).await;
    for (command, code) in [
        ("fail", Code::FailedPrecondition),
        ("retryable", Code::Unavailable),
    ] {
        let payload = json!({"do": command}).to_string();
        let status = within(
            STEP,
            "a call",
            client.message(request(OUTSIDER, &port(B1, "in"), payload.as_bytes())),
        )
        .await
        .expect_err("the component fails");
        assert_eq!(status.code(), code, "{command}: {status:?}");
    }

    // Health.
    let channel = tonic::transport::Channel::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("connects");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let serving = within(
        STEP,
        "health check",
        health.check(tonic_health::pb::HealthCheckRequest {
            service: "module.ModuleService".into(),
        }),
    )
    .await
    .expect("health answers")
    .into_inner();
    assert_eq!(
        serving.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // Reflection lists the service.
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest as Ask;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse as Answer;
    let mut reflection = ServerReflectionClient::new(channel);
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(Ask::ListServices(String::new())),
    };
    let mut answers = within(
        STEP,
        "reflection",
        reflection.server_reflection_info(futures::stream::iter([ask])),
    )
    .await
    .expect("reflection answers")
    .into_inner();
    let answer = within(STEP, "reflection", answers.message())
        .await
        .expect("a reflection answer")
        .expect("one answer");
    let services: Vec<String> = match answer.message_response {
        Some(Answer::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer: {other:?}"),
    };
    assert!(
        services.iter().any(|s| s == "module.ModuleService"),
        "{services:?}"
    );
    b.stop().await;
}

// --- 9. Metrics ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cross_module_calls_are_counted_by_status() {
    let all = [
        chaos(A1)
            .edge(
                "out",
                &port(B1, "in"),
                json!({"do": "echo", "value": "{{$.v}}"}),
            )
            .edge("other", &port(B1, "in"), json!({"do": "retryable"})),
        chaos(B1),
    ];
    let (a, b) = pair(&all, Options::default(), Options::default()).await;
    for v in 0..3 {
        a.send(&port(A1, "in"), json!({"do": "emit", "value": {"v": v}}))
            .await
            .expect("answered");
    }
    let failed = a
        .send(
            &port(A1, "in"),
            json!({"do": "emit", "port": "other", "value": {}}),
        )
        .await;
    assert!(failed.is_err());
    let text = a.metrics.render();
    assert!(
        text.contains(
            "tinysystems_cross_module_calls_total{source_module=\"a\",target_module=\"b\",status=\"Ok\"} 3\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "tinysystems_cross_module_calls_total{source_module=\"a\",target_module=\"b\",status=\"Unavailable\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "tinysystems_cross_module_call_duration_seconds_count{source_module=\"a\",target_module=\"b\"} 4\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("tinysystems_cross_module_call_duration_seconds_bucket{"),
        "{text}"
    );
    assert_eq!(a.calls("b", "Ok"), Some(3));
    assert_eq!(b.all_calls("a"), 0, "b called nobody");
    a.stop().await;
    b.stop().await;
}

// --- Round trip ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_of_a_small_message() {
    let (a, b) = pair(&a_calls_b(), Options::default(), Options::default()).await;
    // Warm up: channel, instances.
    for v in 0..50 {
        a.send(&port(A1, "in"), json!({"do": "emit", "value": {"v": v}}))
            .await
            .expect("answered");
    }
    let mut times = Vec::with_capacity(2000);
    for v in 0..2000 {
        let started = Instant::now();
        let reply = a
            .send(&port(A1, "in"), json!({"do": "emit", "value": {"v": v}}))
            .await;
        times.push(started.elapsed());
        assert_eq!(reply, Ok(Some(json!({"downstream": v}))));
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    eprintln!(
        "a → b → a round trip over 2000 sequential calls: p50 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.99),
        times[times.len() - 1]
    );
    a.stop().await;
    b.stop().await;
}
