//! The operator, in-process, against a real API server (etcd and kube-apiserver on
//! loopback, `tinyhost-control-plane`): finalizers, leader-only status, signals taken
//! once, the `_settings` dedup across a relist, other modules' nodes left alone, a
//! partitioned replica and an API server outage with etcd compacted meanwhile, broken and
//! newer-schema objects, modules finding each other, leader election and failover, and the
//! binary with upstream's flags. Each replica acts as its own user, so the audit log says
//! which replica made which request; a replica is partitioned by cutting the TCP relay it
//! alone reaches the server through, and an outage is the API server killed for real.
//!
//! `api_errors_are_retried_and_no_node_is_lost` stays on the in-process fake API server:
//! it needs errors answered to chosen requests (409 Conflict to the first PATCHes of a
//! TinyNode, 500 to status PATCHes, 500 to the first LIST of TinyNodes), and a real server
//! cannot be made to fail a chosen request. `the_binary_explains_a_missing_cluster` needs
//! no server at all.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
};
use serde_json::{Value, json};
use support::cluster::{
    acting_user, apply, audit_events, install_crds, kube_client_as, kubectl_ok,
};
use support::{KillOnDrop, free_port};
use tinyhost::metrics::Metrics;
use tinyhost::operator::{LeaseTiming, Operator, OperatorConfig, Readiness};
use tinyhost::runtime::RuntimeConfig;
use tinyhost_control_plane::{ControlPlane, Options};
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

const GROUP: &str = "operator.tinysystems.io";
const GROUP_VERSION: &str = "operator.tinysystems.io/v1alpha1";
const NS: &str = "flows";
const MODULE: &str = "common-module";
const LEASE: &str = "common-module-lock";
/// The user the test itself acts as (creating, changing and deleting objects).
const TESTER: &str = "tester";
/// How long a test waits for something the operator does eventually; a real API server
/// on a loaded machine, and watches that reconnect with backoff after an outage.
const WAIT: Duration = Duration::from_secs(60);
/// How long a signal waits for a node missing from the cluster, shortened for the tests.
const SIGNAL_NODE_GRACE: Duration = Duration::from_secs(2);

/// Upstream's timings: leadership stays put through an API server restart, for the tests
/// that are not about failover.
fn steady_lease() -> LeaseTiming {
    LeaseTiming::default()
}

/// Short timings so failover happens within a test; whole seconds, as a Lease records its
/// duration.
fn fast_lease() -> LeaseTiming {
    LeaseTiming {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(250),
    }
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

/// A TinyNode object of `module` running `component`, with settings and edges.
fn tinynode(name: &str, module: &str, component: &str, settings: Value, edges: Value) -> Value {
    json!({
        "apiVersion": GROUP_VERSION,
        "kind": "TinyNode",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "module": module,
            "component": component,
            "ports": [{"port": "_settings", "configuration": b64(&settings)}],
            "edges": edges,
        }
    })
}

fn chaos(name: &str) -> Value {
    tinynode(name, MODULE, "chaos", json!({}), json!([]))
}

fn tinysignal(name: &str, node: &str, port: &str, data: Value) -> Value {
    json!({
        "apiVersion": GROUP_VERSION,
        "kind": "TinySignal",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"node": node, "port": port, "data": b64(&data)}
    })
}

/// A replica's configuration: `module`, known as `identity`; with `grpc`, serving other
/// modules there and advertising it.
fn config(
    module: &str,
    identity: &str,
    grpc: Option<SocketAddr>,
    lease: LeaseTiming,
) -> OperatorConfig {
    OperatorConfig {
        module: module.into(),
        version: "1.2.3".into(),
        namespace: NS.into(),
        advertise_addr: grpc
            .map(|a| a.to_string())
            .unwrap_or_else(|| format!("{identity}.peers:8483")),
        image: "example/tinyhost:test".into(),
        identity: identity.into(),
        lease,
        requeue_after: Duration::from_secs(300),
        signal_node_grace: SIGNAL_NODE_GRACE,
        grpc_listen: grpc,
        grpc_client: tinyhost::grpc::client::ClientConfig {
            deadline: Duration::from_secs(5),
            ..Default::default()
        },
        grpc_server_tls: None,
        expose: None,
        runtime: RuntimeConfig {
            engine: support::engine_config(),
            components: vec![tinyhost::registry::ComponentSource::Path(support::testkit())],
            ..RuntimeConfig::default()
        },
    }
}

async fn start(config: OperatorConfig, client: kube::Client) -> Operator {
    Operator::start(
        config,
        client,
        Arc::new(Metrics::new()),
        Arc::new(Readiness::default()),
    )
    .await
    .expect("operator starts")
}

/// A control plane (writing its audit log if `audit`) with the CRDs and the test's
/// namespace. Its servers live as long as the calling thread: call it from the test body.
fn cluster(audit: bool) -> ControlPlane {
    let cp = support::cluster::control_plane_with(Options {
        audit,
        ..Options::default()
    });
    install_crds(&cp);
    kubectl_ok(&cp, &["create", "namespace", NS]);
    cp
}

/// The test's own client.
async fn tester(cp: &ControlPlane) -> kube::Client {
    kube_client_as(cp, TESTER).await
}

/// A replica of `MODULE` on the real API server, acting as user `identity`.
async fn replica(cp: &ControlPlane, identity: &str) -> Operator {
    module_replica(cp, MODULE, identity, None).await
}

/// A replica of `module` on the real API server, acting as user `identity`.
async fn module_replica(
    cp: &ControlPlane,
    module: &str,
    identity: &str,
    grpc: Option<SocketAddr>,
) -> Operator {
    start(
        config(module, identity, grpc, steady_lease()),
        kube_client_as(cp, identity).await,
    )
    .await
}

/// A replica of `MODULE` reaching the API server through `link` only, acting as user
/// `identity`.
async fn linked_replica(
    cp: &ControlPlane,
    link: &Link,
    identity: &str,
    lease: LeaseTiming,
) -> Operator {
    start(
        config(MODULE, identity, None, lease),
        link.client_as(cp, identity).await,
    )
    .await
}

/// A TCP relay between one replica and the API server that the test can cut: that replica
/// alone loses the API server (a network partition) while everyone else keeps it.
struct Link {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
    relay: tokio::task::JoinHandle<()>,
}

impl Link {
    async fn to(cp: &ControlPlane) -> Link {
        let server: SocketAddr = cp
            .server()
            .trim_start_matches("https://")
            .parse()
            .expect("the API server's address");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let (cut, state) = tokio::sync::watch::channel(false);
        let relay = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *state.borrow() {
                    continue;
                }
                let mut state = state.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(server).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Link { port, cut, relay }
    }

    /// A client of the control plane's admin through this link, acting as `user`.
    async fn client_as(&self, cp: &ControlPlane, user: &str) -> kube::Client {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        support::cluster::kube_client_through(cp, user, Some(address)).await
    }

    /// Closes every connection through the link and refuses new ones.
    fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Lets connections through again.
    fn heal(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

/// The Tiny Systems resource `kind` in the test's namespace.
fn api(client: &kube::Client, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(GROUP, "v1alpha1", kind);
    let plural = format!("{}s", kind.to_lowercase());
    Api::namespaced_with(
        client.clone(),
        NS,
        &ApiResource::from_gvk_with_plural(&gvk, &plural),
    )
}

/// Creates `object` or replaces what the test set of it before (server-side apply).
async fn try_put(client: &kube::Client, object: &Value) -> Result<(), kube::Error> {
    let kind = object["kind"].as_str().expect("a kind");
    let name = object["metadata"]["name"].as_str().expect("a name");
    let typed: DynamicObject = serde_json::from_value(object.clone()).expect("an object");
    api(client, kind)
        .patch(
            name,
            &PatchParams::apply(TESTER).force(),
            &Patch::Apply(&typed),
        )
        .await
        .map(|_| ())
}

async fn put(client: &kube::Client, object: Value) {
    try_put(client, &object)
        .await
        .unwrap_or_else(|e| panic!("the API server refused {object}: {e}"));
}

async fn get(client: &kube::Client, kind: &str, name: &str) -> Option<Value> {
    api(client, kind)
        .get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("GET {kind} {name}: {e}"))
        .map(|o| serde_json::to_value(o).expect("an object as JSON"))
}

async fn list(client: &kube::Client, kind: &str) -> Vec<Value> {
    api(client, kind)
        .list(&Default::default())
        .await
        .unwrap_or_else(|e| panic!("LIST {kind}: {e}"))
        .items
        .into_iter()
        .map(|o| serde_json::to_value(o).expect("an object as JSON"))
        .collect()
}

async fn node_object(client: &kube::Client, name: &str) -> Option<Value> {
    get(client, "TinyNode", name).await
}

async fn signal_object(client: &kube::Client, name: &str) -> Option<Value> {
    get(client, "TinySignal", name).await
}

async fn lease(client: &kube::Client) -> Value {
    let lease = Api::<Lease>::namespaced(client.clone(), NS)
        .get(LEASE)
        .await
        .expect("the module's Lease");
    serde_json::to_value(lease).expect("a Lease as JSON")
}

fn has_finalizer(object: &Value) -> bool {
    object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == "io.tinysystems/node-finalizer"))
}

async fn status_of(client: &kube::Client, name: &str) -> Value {
    node_object(client, name)
        .await
        .map(|o| o["status"].clone())
        .unwrap_or(Value::Null)
}

/// Polls `check` until it holds; fails the test with `what` otherwise.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` (which asks the API server) until it gives a value; fails the test with
/// `what` otherwise.
async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_leader(replicas: &[&Operator]) -> usize {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let leaders: Vec<usize> = (0..replicas.len())
            .filter(|i| replicas[*i].is_leader())
            .collect();
        if leaders.len() == 1 {
            return leaders[0];
        }
        assert!(leaders.len() <= 1, "two leaders at once");
        assert!(tokio::time::Instant::now() < deadline, "no leader elected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The node's status once the leader has reported it (it has a heartbeat).
async fn reported_status(client: &kube::Client, name: &str) -> Value {
    until(&format!("{name}'s status is reported"), async || {
        let status = status_of(client, name).await;
        status.get("lastUpdateTime").is_some().then_some(status)
    })
    .await
}

/// The completed requests on `resource` (`tinysignals`, `tinynodes/status`; a bare
/// resource also matches its subresources), on object `name` if given, as (user, verb):
/// the API server's audit log.
fn requests_on(cp: &ControlPlane, resource: &str, name: Option<&str>) -> Vec<(String, String)> {
    let (resource, subresource) = match resource.split_once('/') {
        Some((resource, sub)) => (resource, Some(sub)),
        None => (resource, None),
    };
    audit_events(cp)
        .iter()
        .filter(|e| {
            let object = &e["objectRef"];
            object["resource"] == resource
                && subresource.is_none_or(|s| object["subresource"] == s)
                && name.is_none_or(|n| object["name"] == n)
        })
        .map(|e| {
            let verb = e["verb"].as_str().unwrap_or_default();
            (acting_user(e).to_string(), verb.to_string())
        })
        .collect()
}

/// How often `user` has listed the TinyNodes.
fn lists_of_nodes(cp: &ControlPlane, user: &str) -> usize {
    requests_on(cp, "tinynodes", None)
        .iter()
        .filter(|(who, verb)| who == user && verb == "list")
        .count()
}

fn is_write(verb: &str) -> bool {
    ["create", "update", "patch", "delete", "deletecollection"].contains(&verb)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_finalizer_guards_a_node_until_it_stops() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    put(&client, chaos("a")).await;
    let op = replica(&cp, "one").await;
    until("the finalizer is added", async || {
        node_object(&client, "a").await.filter(has_finalizer)
    })
    .await;
    eventually("node a runs", || op.runtime().node_names() == ["a"]).await;
    let status = reported_status(&client, "a").await;
    assert_eq!(status["status"], "OK", "{status}");
    assert_eq!(status["module"]["name"], MODULE);
    assert_eq!(status["module"]["version"], "1.2.3");
    assert_eq!(status["component"]["description"], "Chaos");
    let ports: Vec<&str> = status["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(ports.contains(&"in") && ports.contains(&"out"), "{ports:?}");

    // Deleting the object: the API server keeps it (the finalizer) until the runtime has
    // dropped the node.
    let deleted = api(&client, "TinyNode")
        .delete("a", &DeleteParams::default())
        .await
        .expect("DELETE answered");
    let kept = deleted
        .left()
        .expect("the object kept while its finalizer is on");
    assert!(kept.metadata.deletion_timestamp.is_some(), "{kept:?}");
    until("the finalizer removed and the object gone", async || {
        node_object(&client, "a").await.is_none().then_some(())
    })
    .await;
    assert!(op.runtime().node_names().is_empty());
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_leader_writes_status() {
    let cp = cluster(true);
    let client = tester(&cp).await;
    put(&client, chaos("a")).await;
    let one = replica(&cp, "one").await;
    let two = replica(&cp, "two").await;
    let leader = wait_leader(&[&one, &two]).await;
    let leader_name = ["one", "two"][leader];
    reported_status(&client, "a").await;
    // Both replicas run the node...
    eventually("both replicas run the node", || {
        one.runtime().node_names() == ["a"] && two.runtime().node_names() == ["a"]
    })
    .await;
    // ...and a status change on both is written once, by the leader.
    for op in [&one, &two] {
        let reply = op
            .runtime()
            .send("a:in", &json!({"do": "count"}))
            .await
            .expect("count");
        assert_eq!(reply, Some(json!(1)));
    }
    until("the metadata is written", async || {
        (status_of(&client, "a").await["metadata"]["count"] == "1").then_some(())
    })
    .await;
    let writers: Vec<String> = requests_on(&cp, "tinynodes/status", None)
        .into_iter()
        .filter(|(_, verb)| is_write(verb))
        .map(|(user, _)| user)
        .collect();
    assert!(!writers.is_empty());
    assert!(
        writers.iter().all(|w| w == leader_name),
        "status written by {writers:?}, leader is {leader_name}"
    );
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_is_taken_once_and_delivered_once() {
    let cp = cluster(true);
    let client = tester(&cp).await;
    let node = "00000001.common-module.chaos-counter";
    put(&client, chaos(node)).await;
    let one = replica(&cp, "one").await;
    let two = replica(&cp, "two").await;
    let leader = wait_leader(&[&one, &two]).await;
    reported_status(&client, node).await;
    put(
        &client,
        tinysignal("press", node, "in", json!({"do": "count"})),
    )
    .await;
    until("the signal is deleted", async || {
        signal_object(&client, "press")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    let replicas = [&one, &two];
    eventually("the leader's node counted the signal", || {
        replicas[leader]
            .runtime()
            .status(node)
            .is_some_and(|s| s.metadata.get("count").map(String::as_str) == Some("1"))
    })
    .await;
    // Give a second delivery every chance to happen, then check there was none.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts: Vec<Option<String>> = replicas
        .iter()
        .map(|r| {
            r.runtime()
                .status(node)
                .and_then(|s| s.metadata.get("count").cloned())
        })
        .collect();
    assert_eq!(
        counts.iter().filter(|c| c.is_some()).count(),
        1,
        "delivered on {counts:?}"
    );
    // A second DELETE would be in the audit log even though it found nothing to delete.
    let deletes: Vec<String> = requests_on(&cp, "tinysignals", Some("press"))
        .into_iter()
        .filter(|(_, verb)| verb == "delete")
        .map(|(user, _)| user)
        .collect();
    assert_eq!(deletes, [["one", "two"][leader]]);
    one.shutdown().await;
    two.shutdown().await;
}

/// The TinyNode and TinySignal watches are separate, so a signal can be seen before its
/// node: it must wait for the node, reach it, and only then be deleted.
#[tokio::test(flavor = "multi_thread")]
async fn a_signal_created_before_its_node_waits_for_it_and_is_deleted_after_delivery() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    let op = replica(&cp, "one").await;
    wait_leader(&[&op]).await;
    let node = "00000002.common-module.chaos-late";
    put(
        &client,
        tinysignal("early", node, "in", json!({"do": "count"})),
    )
    .await;
    // The signal is observed and waits; its node arrives a moment later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        signal_object(&client, "early").await.is_some(),
        "a signal whose node is not there yet is kept"
    );
    put(&client, chaos(node)).await;
    until("the signal is deleted once delivered", async || {
        signal_object(&client, "early")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    // Deleted only after the node counted it.
    let count = op
        .runtime()
        .status(node)
        .and_then(|s| s.metadata.get("count").cloned());
    assert_eq!(count.as_deref(), Some("1"));
    op.shutdown().await;
}

/// A signal whose node never appears is dropped once it has waited the grace, as an error.
#[tokio::test(flavor = "multi_thread")]
async fn a_signal_for_a_missing_node_is_dropped_not_retried() {
    let cp = cluster(true);
    let client = tester(&cp).await;
    let op = replica(&cp, "one").await;
    wait_leader(&[&op]).await;
    let missing = "00000009.common-module.chaos-gone";
    put(&client, tinysignal("lost", missing, "in", json!({}))).await;
    // Bad data: base64 of text that is not JSON.
    let mut broken = tinysignal("broken", missing, "in", json!({}));
    broken["spec"]["data"] = json!("bm90IGpzb24=");
    put(&client, broken).await;
    // Another module's signal is not ours to take.
    put(
        &client,
        tinysignal("theirs", "00000001.other-module.x-y", "in", json!({})),
    )
    .await;
    until("our signals are deleted", async || {
        list(&client, "TinySignal")
            .await
            .iter()
            .all(|s| s["metadata"]["name"] == "theirs")
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deletes: Vec<(String, String)> = requests_on(&cp, "tinysignals", None)
        .into_iter()
        .filter(|(_, verb)| verb == "delete")
        .collect();
    assert_eq!(
        deletes.len(),
        2,
        "each signal taken once, the other module's left alone: {deletes:?}"
    );
    assert!(signal_object(&client, "theirs").await.is_some());
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_are_delivered_once_per_change() {
    let mut cp = cluster(true);
    let client = tester(&cp).await;
    // The replica leads before the nodes arrive, so each delivery is the leader's and its
    // count reaches the status.
    let op = replica(&cp, "one").await;
    wait_leader(&[&op]).await;
    let settings = json!({"countDeliveries": true});
    put(
        &client,
        tinynode("s", MODULE, "chaos", settings.clone(), json!([])),
    )
    .await;
    put(&client, chaos("t")).await;
    let deliveries = async || {
        status_of(&client, "s").await["metadata"]["settings-deliveries"]
            .as_str()
            .map(str::to_string)
    };
    let delivered = until("the settings are delivered", deliveries).await;
    assert_eq!(delivered, "1", "{:?}", op.runtime().status("s"));
    // Reconciles that change nothing do not deliver the settings again: status writes
    // (each one is a watch event) and a relisted watch.
    for _ in 0..3 {
        op.runtime()
            .send("s:in", &json!({"do": "count"}))
            .await
            .expect("count");
    }
    until("the status is written three times over", async || {
        (status_of(&client, "s").await["metadata"]["count"] == "3").then_some(())
    })
    .await;
    // The API server goes away and etcd's history with it: the watches resume from a
    // compacted resourceVersion, are answered 410 Gone and list again.
    let listed = lists_of_nodes(&cp, "one");
    cp.stop_apiserver();
    cp.compact_etcd().expect("etcd compacts");
    cp.resume_apiserver().expect("the API server starts again");
    put(&client, chaos("u")).await;
    eventually("the watch relisted", || {
        op.runtime().node_names().len() == 3
    })
    .await;
    reported_status(&client, "u").await;
    assert!(
        lists_of_nodes(&cp, "one") > listed,
        "no relist of the TinyNodes"
    );
    assert_eq!(deliveries().await.as_deref(), Some("1"));
    assert_eq!(
        op.runtime()
            .status("s")
            .and_then(|s| s.metadata.get("settings-deliveries").cloned())
            .as_deref(),
        Some("1")
    );
    // Changed settings are delivered again.
    put(
        &client,
        tinynode(
            "s",
            MODULE,
            "chaos",
            json!({"countDeliveries": true, "x": 1}),
            json!([]),
        ),
    )
    .await;
    until("the changed settings are delivered", async || {
        deliveries().await.filter(|d| d == "2")
    })
    .await;
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_delivered_before_this_replica_leads_are_kept_when_it_takes_over() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    // Another replica holds the Lease and is gone before it reported anything: this one
    // follows until the Lease runs out, and its node's settings are delivered meanwhile.
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    let held = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LEASE, "namespace": NS},
        "spec": {"holderIdentity": "gone", "leaseDurationSeconds": 3, "acquireTime": now, "renewTime": now}
    });
    let out = support::cluster::apply(&cp, held.to_string().as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    put(
        &client,
        tinynode(
            "s",
            MODULE,
            "chaos",
            json!({"countDeliveries": true}),
            json!([]),
        ),
    )
    .await;
    let op = start(
        config(MODULE, "one", None, fast_lease()),
        kube_client_as(&cp, "one").await,
    )
    .await;
    eventually("the node running on the follower", || {
        op.runtime().node_names().contains(&"s".to_string())
    })
    .await;
    wait_leader(&[&op]).await;
    // Leading, it reports what its node did while it followed: the one delivery.
    let delivered = until("the delivery in the status", async || {
        status_of(&client, "s").await["metadata"]["settings-deliveries"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    assert_eq!(delivered, "1", "{:?}", op.runtime().status("s"));
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn finalizer_races_between_replicas_are_settled_without_failed_reconciles() {
    let cp = cluster(true);
    let client = tester(&cp).await;
    let metrics: Vec<Arc<Metrics>> = vec![Arc::new(Metrics::new()), Arc::new(Metrics::new())];
    let mut replicas = Vec::new();
    for (identity, metrics) in ["one", "two"].into_iter().zip(&metrics) {
        let op = Operator::start(
            config(MODULE, identity, None, steady_lease()),
            kube_client_as(&cp, identity).await,
            metrics.clone(),
            Arc::new(Readiness::default()),
        )
        .await
        .expect("operator starts");
        replicas.push(op);
    }
    // Both replicas add the finalizer to every new node; the loser's patch, made from a
    // cache that has not seen the winner's yet, fails its test (422) or conflicts (409).
    let names: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
    for name in &names {
        put(&client, chaos(name)).await;
    }
    for name in &names {
        let object = until("the node finalised and reported", async || {
            node_object(&client, name)
                .await
                .filter(|o| has_finalizer(o) && o["status"]["status"] == "OK")
        })
        .await;
        let finalizers = object["metadata"]["finalizers"].as_array().map(Vec::len);
        assert_eq!(finalizers, Some(1), "{name}: {object}");
    }
    // Such a race is looked at again, not reported as a failed reconcile.
    for (identity, metrics) in ["one", "two"].iter().zip(&metrics) {
        let rendered = metrics.render();
        let failed = rendered
            .lines()
            .find(|l| {
                l.starts_with("tinyhost_reconciliations_total")
                    && l.contains("controller=\"tinynode\"")
                    && l.contains("result=\"error\"")
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        assert_eq!(failed, 0.0, "{identity}: {rendered}");
    }
    for op in replicas {
        op.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_of_other_modules_are_left_alone() {
    let cp = cluster(true);
    let client = tester(&cp).await;
    put(
        &client,
        tinynode("theirs", "other-module", "chaos", json!({}), json!([])),
    )
    .await;
    put(&client, chaos("ours")).await;
    let op = replica(&cp, "one").await;
    wait_leader(&[&op]).await;
    reported_status(&client, "ours").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let theirs = node_object(&client, "theirs").await.expect("still there");
    assert!(!has_finalizer(&theirs), "{theirs}");
    assert!(theirs.get("status").is_none_or(Value::is_null), "{theirs}");
    assert_eq!(op.runtime().node_names(), ["ours"]);
    let on_theirs = requests_on(&cp, "tinynodes", Some("theirs"));
    assert!(
        on_theirs
            .iter()
            .any(|(user, verb)| user == TESTER && is_write(verb)),
        "the audit log shows the test creating it: {on_theirs:?}"
    );
    let written: Vec<&(String, String)> = on_theirs
        .iter()
        .filter(|(user, verb)| user != TESTER && is_write(verb))
        .collect();
    assert!(
        written.is_empty(),
        "wrote to another module's node: {written:?}"
    );
    op.shutdown().await;
}

/// Errors the API server answers to chosen requests: retried, and no node is lost.
#[tokio::test]
async fn api_errors_are_retried_and_no_node_is_lost() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    fake.fail(
        Fault::new(409, "Conflict")
            .method("PATCH")
            .path_contains("/tinynodes/a")
            .times(2),
    );
    fake.fail(
        Fault::new(500, "InternalError")
            .method("PATCH")
            .path_contains("/status")
            .times(2),
    );
    fake.fail(
        Fault::new(500, "InternalError")
            .method("GET")
            .path_contains("/tinynodes")
            .times(1),
    );
    fake.put(GROUP_VERSION, "tinynodes", NS, chaos("a"));
    let op = start(
        config(MODULE, "one", None, fast_lease()),
        fake.client_as(NS, "one"),
    )
    .await;
    wait_leader(&[&op]).await;
    let status = fake
        .wait_until(WAIT, |f| {
            f.get(GROUP_VERSION, "tinynodes", NS, "a")
                .map(|o| o["status"].clone())
                .filter(|s| s.get("lastUpdateTime").is_some())
        })
        .await
        .expect("status reported");
    assert_eq!(status["status"], "OK");
    assert!(
        fake.get(GROUP_VERSION, "tinynodes", NS, "a")
            .is_some_and(|o| has_finalizer(&o))
    );
    assert!(
        fake.pending_faults().is_empty(),
        "{:?}",
        fake.pending_faults()
    );
    assert_eq!(op.runtime().node_names(), ["a"]);
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn work_goes_on_while_the_api_server_is_away() {
    let mut cp = cluster(false);
    let client = tester(&cp).await;
    put(&client, chaos("a")).await;
    let link = Link::to(&cp).await;
    let op = linked_replica(&cp, &link, "one", steady_lease()).await;
    wait_leader(&[&op]).await;
    reported_status(&client, "a").await;

    // This replica alone loses the API server: its watches break, and a node created
    // meanwhile arrives once it is back.
    link.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    put(&client, chaos("b")).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        op.runtime().node_names(),
        ["a"],
        "node b reached the replica through a cut link"
    );
    link.heal();
    eventually("node b runs after the partition", || {
        op.runtime().node_names() == ["a", "b"]
    })
    .await;
    reported_status(&client, "b").await;

    // The API server itself goes down, and etcd's history is compacted meanwhile.
    cp.stop_apiserver();
    cp.compact_etcd().expect("etcd compacts");
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The node still answers, and its state changes while nobody can write status.
    for expected in 1..=3 {
        let reply = op
            .runtime()
            .send("a:in", &json!({"do": "count"}))
            .await
            .expect("the node answers during the outage");
        assert_eq!(reply, Some(json!(expected)));
    }
    assert_eq!(
        op.runtime().node_names(),
        ["a", "b"],
        "nodes kept during the outage"
    );
    cp.resume_apiserver().expect("the API server starts again");
    // Nodes created as it comes back arrive, though the history they would follow from is
    // gone: the watches list again.
    put(&client, chaos("c")).await;
    eventually("node c runs after the outage", || {
        op.runtime().node_names() == ["a", "b", "c"]
    })
    .await;
    until("the state is written after the outage", async || {
        (status_of(&client, "a").await["metadata"]["count"] == "3").then_some(())
    })
    .await;
    op.shutdown().await;
}

/// Widens the TinyNode schema as an older or a newer definition of it would be: a port's
/// configuration without the byte format (so text that is not base64 is stored), and
/// fields this version does not know (so the server keeps them instead of pruning them).
fn widen_the_tinynode_schema(cp: &ControlPlane) {
    let spec = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties";
    let patch = json!([
        {"op": "remove", "path": format!("{spec}/ports/items/properties/configuration/format")},
        {"op": "add", "path": format!("{spec}/somethingNew"),
         "value": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
        {"op": "add", "path": format!("{spec}/edges/items/properties/nonRetryableErrorCodes"),
         "value": {"type": "array", "items": {"type": "integer"}}},
    ]);
    kubectl_ok(
        cp,
        &[
            "patch",
            "crd",
            "tinynodes.operator.tinysystems.io",
            "--type=json",
            "-p",
            &patch.to_string(),
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_nodes_are_reported_in_their_own_status() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    widen_the_tinynode_schema(&cp);
    let mut bad_base64 = chaos("bad-base64");
    bad_base64["spec"]["ports"][0]["configuration"] = json!("%%% not base64");
    let mut bad_json = chaos("bad-json");
    bad_json["spec"]["ports"][0]["configuration"] = json!("eyJhIjo=");
    let unknown_component = tinynode("unknown", MODULE, "no-such-component", json!({}), json!([]));
    let dangling = tinynode(
        "dangling",
        MODULE,
        "chaos",
        json!({}),
        json!([{"id": "e1", "port": "out", "to": "nowhere:in"}]),
    );
    // Fields a newer schema has and this version does not know are ignored.
    let mut future = chaos("future");
    future["spec"]["somethingNew"] = json!({"x": 1});
    future["spec"]["edges"] =
        json!([{"id": "e2", "port": "out", "to": "bad-json:in", "nonRetryableErrorCodes": [1]}]);
    let objects = [bad_base64, bad_json, unknown_component, dangling, future];
    // The server takes a moment to serve the widened schema.
    until(
        "the server stores what the widened schema allows",
        async || {
            for object in &objects {
                try_put(&client, object).await.ok()?;
            }
            let stored = node_object(&client, "future").await?;
            (stored["spec"]["somethingNew"] == json!({"x": 1})
                && stored["spec"]["edges"][0]["nonRetryableErrorCodes"] == json!([1]))
            .then_some(())
        },
    )
    .await;
    let op = replica(&cp, "one").await;
    wait_leader(&[&op]).await;

    for (node, expected) in [
        ("bad-base64", "configuration"),
        ("bad-json", "configuration"),
        ("unknown", "component `no-such-component` is not loaded"),
        ("dangling", "target node `nowhere` not found"),
        ("future", "target node `bad-json` not found"),
    ] {
        let status = reported_status(&client, node).await;
        assert_eq!(status["error"], true, "{node}: {status}");
        let text = status["status"].as_str().unwrap_or_default();
        assert!(text.contains(expected), "{node}: {text}");
    }
    // The valid ones run; the unreadable ones do not.
    assert_eq!(op.runtime().node_names(), ["dangling", "future", "unknown"]);
    // Fixing an object clears its error.
    put(&client, chaos("bad-json")).await;
    until("the fixed nodes report OK", async || {
        (status_of(&client, "bad-json").await["status"] == "OK"
            && status_of(&client, "future").await["status"] == "OK")
            .then_some(())
    })
    .await;
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_module_reports_itself_and_peers_are_tracked() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    put(
        &client,
        json!({
            "apiVersion": GROUP_VERSION, "kind": "TinyModule",
            "metadata": {"name": "http-module", "namespace": NS},
            "spec": {},
        }),
    )
    .await;
    let op = replica(&cp, "one").await;
    wait_leader(&[&op]).await;
    let module = until("the module is reported", async || {
        get(&client, "TinyModule", MODULE)
            .await
            .filter(|m| m["status"]["addr"].is_string())
    })
    .await;
    assert_eq!(module["spec"]["image"], "example/tinyhost:test");
    assert_eq!(module["status"]["addr"], "one.peers:8483");
    assert_eq!(module["status"]["name"], MODULE);
    assert_eq!(module["status"]["version"], "1.2.3");
    let components: Vec<&str> = module["status"]["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        components.contains(&"router") && components.contains(&"chaos"),
        "{components:?}"
    );
    let peers = &op.context().peers;
    eventually("own address known", || {
        peers.address(MODULE).as_deref() == Some("one.peers:8483")
    })
    .await;
    assert_eq!(
        peers.address("http-module"),
        None,
        "no address reported yet"
    );
    // A peer's status goes through the status subresource, as its leader would write it.
    let api: Api<tinyhost::crd::TinyModule> = Api::namespaced(client.clone(), NS);
    api.patch_status(
        "http-module",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"addr": "http.peers:8483", "name": "http-module"}})),
    )
    .await
    .expect("peer status written");
    eventually("peer address known", || {
        peers.address("http-module").as_deref() == Some("http.peers:8483")
    })
    .await;
    api.delete("http-module", &DeleteParams::default())
        .await
        .expect("peer deleted");
    eventually("peer forgotten", || peers.address("http-module").is_none()).await;
    op.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_leader_among_replicas_and_failover_when_it_stops() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    let links = [Link::to(&cp).await, Link::to(&cp).await];
    let one = linked_replica(&cp, &links[0], "one", fast_lease()).await;
    let two = linked_replica(&cp, &links[1], "two", fast_lease()).await;
    let first = wait_leader(&[&one, &two]).await;
    // Stays stable over several renewals.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            [one.is_leader(), two.is_leader()]
                .iter()
                .filter(|l| **l)
                .count(),
            1
        );
    }
    let held = lease(&client).await;
    assert_eq!(held["spec"]["holderIdentity"], ["one", "two"][first]);
    assert_eq!(held["spec"]["leaseDurationSeconds"], 3);

    // The leader loses the API server (a partition): it steps down within the renew
    // deadline, before its lease can expire, and the other replica takes over after that.
    let (leader, follower) = if first == 0 { (one, two) } else { (two, one) };
    links[first].cut();
    let lost_at = tokio::time::Instant::now();
    eventually("the partitioned leader steps down", || {
        assert!(
            !follower.is_leader(),
            "the follower led before the leader stepped down"
        );
        !leader.is_leader()
    })
    .await;
    assert!(
        lost_at.elapsed() < fast_lease().lease_duration,
        "stepped down {:?} after the partition",
        lost_at.elapsed()
    );
    eventually("the follower takes over", || follower.is_leader()).await;
    assert!(!leader.is_leader());
    links[first].heal();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        follower.is_leader() && !leader.is_leader(),
        "leadership flapped back"
    );
    leader.shutdown().await;

    // A clean shutdown releases the lease: a new replica leads without waiting it out.
    follower.shutdown().await;
    let released = lease(&client).await;
    assert!(
        released["spec"]["holderIdentity"].is_null() || released["spec"]["holderIdentity"] == "",
        "{released}"
    );
    let three = replica(&cp, "three").await;
    let started = tokio::time::Instant::now();
    wait_leader(&[&three]).await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    three.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_runs_the_hello_flow_from_the_cluster_with_upstream_flags() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    // The hello example as cluster objects, the way `tinyhost export` prints them.
    let export = support::tinyhost_command()
        .args(["export", "--namespace", NS])
        .arg(support::examples().join("hello"))
        .output()
        .expect("tinyhost export runs");
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let applied = apply(&cp, &export.stdout);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let text = String::from_utf8(export.stdout).expect("UTF-8");
    let mut names = Vec::new();
    let mut signals = Vec::new();
    for document in text.split("---\n").filter(|d| !d.trim().is_empty()) {
        let object: Value = serde_norway::from_str(document).expect("exported YAML");
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if object["kind"] == "TinySignal" {
            signals.push(name);
        } else {
            names.push(name);
        }
    }
    assert!(names.len() >= 4, "{names:?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let (health, metrics, grpc) = (free_port(), free_port(), free_port());
    let log = std::fs::File::create(dir.path().join("log")).expect("log file");
    // Upstream's chart arguments, verbatim apart from the addresses.
    let child = support::tinyhost_command()
        .args([
            "operator",
            &format!("--health-probe-bind-address=127.0.0.1:{health}"),
            &format!("--metrics-bind-address=127.0.0.1:{metrics}"),
            &format!("--grpc-server-bind-address=:{grpc}"),
            "--name=common-module",
            "--version=v1.0.0",
            &format!("--namespace={NS}"),
            "--log=info",
        ])
        .arg(format!("--kubeconfig={}", cp.kubeconfig().display()))
        .env("HOSTNAME", "pod-0")
        .env("SELF_SERVICE_HOST", "common-module.flows.svc:8483")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("tinyhost operator starts");
    let mut child = KillOnDrop(child);
    let log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match support::http::get_status_and_body(health, "/readyz").await {
            Some((200, _)) => break,
            other => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never ready: {other:?}\n{}",
                    log()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    assert_eq!(
        support::http::get_status_and_body(health, "/healthz")
            .await
            .map(|r| r.0),
        Some(200)
    );
    for name in &names {
        let status = reported_status(&client, name).await;
        assert_eq!(status["status"], "OK", "{name}: {status}");
        assert_eq!(status["module"]["version"], "1.0.0");
    }
    let module = until("the module is reported", async || {
        get(&client, "TinyModule", MODULE)
            .await
            .filter(|m| m["status"]["addr"].is_string())
    })
    .await;
    assert_eq!(module["status"]["addr"], "common-module.flows.svc:8483");
    for signal in &signals {
        until(&format!("signal {signal} is taken"), async || {
            signal_object(&client, signal).await.is_none().then_some(())
        })
        .await;
    }
    let (code, body) = support::http::get_status_and_body(metrics, "/metrics")
        .await
        .expect("metrics answer");
    assert_eq!(code, 200);
    assert!(body.contains("tinyhost_leader 1"), "{body}");
    assert!(body.contains("tinyhost_nodes"), "{body}");
    assert!(
        body.contains("tinyhost_reconciliations_total{controller=\"tinynode\",result=\"ok\"}"),
        "{body}"
    );

    // SIGTERM, as the kubelet sends: the lease is released and the process exits cleanly.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            panic!("the operator did not exit after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = log();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        log.contains("Hello World!"),
        "debug output in the log:\n{log}"
    );
    let released = lease(&client).await;
    assert!(
        released["spec"]["holderIdentity"].is_null() || released["spec"]["holderIdentity"] == "",
        "released on shutdown: {released}"
    );
}

#[test]
fn the_binary_explains_a_missing_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = support::tinyhost_command()
        .args([
            "operator",
            "--name",
            "m",
            "--health-probe-bind-address=0",
            "--metrics-bind-address=0",
        ])
        .arg("--kubeconfig")
        .arg(dir.path().join("missing"))
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read kubeconfig"), "{stderr}");

    let output = support::tinyhost_command()
        .args([
            "operator",
            "--name",
            "m",
            "--lease-duration=1s",
            "--renew-deadline=2s",
        ])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lease-duration > renew-deadline"),
        "{stderr}"
    );

    let output = support::tinyhost_command()
        .args(["operator", "--name", "m", "--metrics-bind-address=nonsense"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid bind address"), "{stderr}");
}

/// Counts the `_control` outputs of `node` on one replica (what a debug node shows).
fn count_shown(op: &Operator, node: &str) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let mut events = op.runtime().subscribe();
    let (seen, node) = (count.clone(), node.to_string());
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(tinyhost::Event::Output { node: n, port, .. })
                    if n == node && port == "_control" =>
                {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    count
}

#[tokio::test(flavor = "multi_thread")]
async fn triggers_fire_on_the_leader_only_and_move_with_it() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    let ticker = "00000001.common-module.ticker-t";
    let debug = "00000002.common-module.debug-d";
    put(
        &client,
        tinynode(
            ticker,
            MODULE,
            "ticker",
            json!({"delay": 50, "context": {"n": 1}}),
            json!([{"id": "e", "port": "out", "to": format!("{debug}:in")}]),
        ),
    )
    .await;
    put(
        &client,
        tinynode(debug, MODULE, "debug", json!({}), json!([])),
    )
    .await;
    let links = [Link::to(&cp).await, Link::to(&cp).await];
    let one = linked_replica(&cp, &links[0], "one", fast_lease()).await;
    let two = linked_replica(&cp, &links[1], "two", fast_lease()).await;
    let shown = [count_shown(&one, debug), count_shown(&two, debug)];
    let first = wait_leader(&[&one, &two]).await;
    reported_status(&client, ticker).await;
    put(
        &client,
        tinysignal("start", ticker, "_control", json!({"start": true})),
    )
    .await;
    let load = |i: usize| shown[i].load(Ordering::SeqCst);
    eventually("the leader ticks", || load(first) >= 5).await;
    assert_eq!(load(1 - first), 0, "the follower ticked");
    // The running state reaches the object, so a new leader can resume it.
    until("the running state is in the status", async || {
        (status_of(&client, ticker).await["metadata"]["ticker-running"] == "true").then_some(())
    })
    .await;

    // The leader is cut off from the API server: it stops ticking, the other replica
    // resumes.
    links[first].cut();
    let replicas = [&one, &two];
    eventually("leadership moves", || {
        replicas[1 - first].is_leader() && !replicas[first].is_leader()
    })
    .await;
    let stopped_at = load(first);
    eventually("the new leader ticks", || load(1 - first) >= 5).await;
    // At most a tick in flight when leadership was lost.
    assert!(load(first) <= stopped_at + 1, "the old leader kept ticking");
    links[first].heal();
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn modules_find_each_other_through_their_tinymodules_and_call_over_grpc() {
    let cp = cluster(false);
    let client = tester(&cp).await;
    let caller = "00000001.common-module.chaos-caller";
    let callee = "00000002.other-module.chaos-callee";
    put(
        &client,
        tinynode(
            caller,
            MODULE,
            "chaos",
            json!({}),
            json!([
                {"id": "e", "port": "out", "to": format!("{callee}:in")},
                {"id": "g", "port": "other", "to": "00000003.ghost-module.chaos-x:in"},
            ]),
        ),
    )
    .await;
    let mut callee_object = tinynode(callee, "other-module", "chaos", json!({}), json!([]));
    callee_object["spec"]["ports"] = json!([{
        "from": format!("{caller}:out"),
        "port": "in",
        "configuration": b64(&json!({"do": "echo", "value": "{{$.greeting}}"})),
    }]);
    put(&client, callee_object).await;
    let address = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let ours = module_replica(&cp, MODULE, "ours", Some(address(free_port()))).await;
    let theirs = module_replica(&cp, "other-module", "theirs", Some(address(free_port()))).await;
    wait_leader(&[&ours]).await;
    wait_leader(&[&theirs]).await;
    // The caller's edge points at another module's node: not an error in its status.
    let status = reported_status(&client, caller).await;
    assert_eq!(status["status"], "OK", "{status}");
    eventually("the other module's address is known", || {
        ours.context().peers.address("other-module").is_some()
    })
    .await;
    let reply = ours
        .runtime()
        .send(
            &format!("{caller}:in"),
            &json!({"do": "emit", "value": {"greeting": "hello over gRPC"}}),
        )
        .await
        .expect("answered across modules");
    assert_eq!(reply, Some(json!({"downstream": "hello over gRPC"})));
    // The other module moves (a new pod, a new address): its new leader reports the new
    // address, and the next call goes there.
    theirs.shutdown().await;
    let moved_to = address(free_port());
    let theirs = module_replica(&cp, "other-module", "theirs-2", Some(moved_to)).await;
    wait_leader(&[&theirs]).await;
    eventually("the new address is known", || {
        ours.context().peers.address("other-module") == Some(moved_to.to_string())
    })
    .await;
    let reply = ours
        .runtime()
        .send(
            &format!("{caller}:in"),
            &json!({"do": "emit", "value": {"greeting": "moved"}}),
        )
        .await
        .expect("answered at the new address");
    assert_eq!(reply, Some(json!({"downstream": "moved"})));
    // A module nobody has reported is an error naming it.
    let error = ours
        .runtime()
        .send(
            &format!("{caller}:in"),
            &json!({"do": "emit", "port": "other", "value": {}}),
        )
        .await
        .expect_err("no such module");
    assert!(
        error
            .to_string()
            .contains("`ghost-module` module address is unknown"),
        "{error}"
    );
    ours.shutdown().await;
    theirs.shutdown().await;
}
