//! The operator against an in-process fake of the Kubernetes API: finalizers, leader-only
//! status, signals taken once, the `_settings` dedup, other modules' nodes, API errors and
//! outages, broken objects, and leader election between replicas.

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use support::{KillOnDrop, free_port};
use tinyhost::metrics::Metrics;
use tinyhost::operator::{LeaseTiming, Operator, OperatorConfig, Readiness};
use tinyhost::runtime::RuntimeConfig;
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

const GROUP_VERSION: &str = "operator.tinysystems.io/v1alpha1";
const NS: &str = "flows";
const MODULE: &str = "common-module";
/// How long a test waits for something the operator does eventually.
const WAIT: Duration = Duration::from_secs(20);
/// How long a signal waits for a node missing from the cluster, shortened for the tests.
const SIGNAL_NODE_GRACE: Duration = Duration::from_secs(2);

/// Short lease timings so failover happens within a test.
fn fast_lease() -> LeaseTiming {
    LeaseTiming {
        lease_duration: Duration::from_millis(2000),
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(200),
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

/// One operator replica on the fake API server.
async fn replica(fake: &FakeApiServer, identity: &str) -> Operator {
    module_replica(fake, MODULE, identity, None).await
}

/// A replica of `module`; with `grpc`, serving other modules there and advertising it.
async fn module_replica(
    fake: &FakeApiServer,
    module: &str,
    identity: &str,
    grpc: Option<std::net::SocketAddr>,
) -> Operator {
    let config = OperatorConfig {
        module: module.into(),
        version: "1.2.3".into(),
        namespace: NS.into(),
        advertise_addr: grpc
            .map(|a| a.to_string())
            .unwrap_or_else(|| format!("{identity}.peers:8483")),
        image: "example/tinyhost:test".into(),
        identity: identity.into(),
        lease: fast_lease(),
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
            component_paths: vec![support::testkit()],
            ..RuntimeConfig::default()
        },
    };
    Operator::start(
        config,
        fake.client_as(NS, identity),
        Arc::new(Metrics::new()),
        Arc::new(Readiness::default()),
    )
    .await
    .expect("operator starts")
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

fn put_node(fake: &FakeApiServer, object: Value) {
    fake.put(GROUP_VERSION, "tinynodes", NS, object);
}

fn put_signal(fake: &FakeApiServer, object: Value) {
    fake.put(GROUP_VERSION, "tinysignals", NS, object);
}

fn node_object(fake: &FakeApiServer, name: &str) -> Option<Value> {
    fake.get(GROUP_VERSION, "tinynodes", NS, name)
}

fn has_finalizer(object: &Value) -> bool {
    object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == "io.tinysystems/node-finalizer"))
}

fn status_of(fake: &FakeApiServer, name: &str) -> Value {
    node_object(fake, name)
        .map(|o| o["status"].clone())
        .unwrap_or(Value::Null)
}

/// The node's status once the leader has reported it (it has a heartbeat).
async fn reported_status(fake: &FakeApiServer, name: &str) -> Value {
    fake.wait_until(WAIT, |f| {
        let status = status_of(f, name);
        status.get("lastUpdateTime").is_some().then_some(status)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "no status reported for {name}: {:?}",
            node_object(fake, name)
        )
    })
}

/// Status PATCHes of TinyNodes, by user.
fn status_writers(fake: &FakeApiServer) -> Vec<Option<String>> {
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.method == "PATCH" && r.path.contains("/tinynodes/") && r.path.ends_with("/status")
        })
        .map(|r| r.user)
        .collect()
}

#[tokio::test]
async fn the_finalizer_guards_a_node_until_it_stops() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_node(&fake, chaos("a"));
    let op = replica(&fake, "one").await;
    fake.wait_until(WAIT, |f| node_object(f, "a").filter(has_finalizer))
        .await
        .expect("finalizer added");
    eventually("node a runs", || op.runtime().node_names() == ["a"]).await;
    let status = reported_status(&fake, "a").await;
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

    // Deleting the object: it stays (finalizer) until the runtime has dropped the node.
    assert!(fake.delete(GROUP_VERSION, "tinynodes", NS, "a"));
    fake.wait_until(WAIT, |f| node_object(f, "a").is_none().then_some(()))
        .await
        .expect("finalizer removed and object gone");
    assert!(op.runtime().node_names().is_empty());
    op.shutdown().await;
}

#[tokio::test]
async fn only_the_leader_writes_status() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_node(&fake, chaos("a"));
    let one = replica(&fake, "one").await;
    let two = replica(&fake, "two").await;
    let leader = wait_leader(&[&one, &two]).await;
    let leader_name = ["one", "two"][leader];
    reported_status(&fake, "a").await;
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
    fake.wait_until(WAIT, |f| {
        (status_of(f, "a")["metadata"]["count"] == "1").then_some(())
    })
    .await
    .expect("metadata written");
    let writers = status_writers(&fake);
    assert!(!writers.is_empty());
    assert!(
        writers.iter().all(|w| w.as_deref() == Some(leader_name)),
        "status written by {writers:?}, leader is {leader_name}"
    );
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test]
async fn a_signal_is_taken_once_and_delivered_once() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let node = "00000001.common-module.chaos-counter";
    put_node(&fake, chaos(node));
    let one = replica(&fake, "one").await;
    let two = replica(&fake, "two").await;
    let leader = wait_leader(&[&one, &two]).await;
    reported_status(&fake, node).await;
    put_signal(
        &fake,
        tinysignal("press", node, "in", json!({"do": "count"})),
    );
    fake.wait_until(WAIT, |f| {
        f.get(GROUP_VERSION, "tinysignals", NS, "press")
            .is_none()
            .then_some(())
    })
    .await
    .expect("signal deleted");
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
    let deletes: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.ends_with("/tinysignals/press"))
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].user.as_deref(), Some(["one", "two"][leader]));
    one.shutdown().await;
    two.shutdown().await;
}

/// The TinyNode and TinySignal watches are separate, so a signal can be seen before its
/// node: it must wait for the node, reach it, and only then be deleted.
#[tokio::test]
async fn a_signal_created_before_its_node_waits_for_it_and_is_deleted_after_delivery() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    let node = "00000002.common-module.chaos-late";
    put_signal(
        &fake,
        tinysignal("early", node, "in", json!({"do": "count"})),
    );
    // The signal is observed and waits; its node arrives a moment later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fake.get(GROUP_VERSION, "tinysignals", NS, "early")
            .is_some(),
        "a signal whose node is not there yet is kept"
    );
    put_node(&fake, chaos(node));
    fake.wait_until(WAIT, |f| {
        f.get(GROUP_VERSION, "tinysignals", NS, "early")
            .is_none()
            .then_some(())
    })
    .await
    .expect("signal deleted once delivered");
    // Deleted only after the node counted it.
    let count = op
        .runtime()
        .status(node)
        .and_then(|s| s.metadata.get("count").cloned());
    assert_eq!(count.as_deref(), Some("1"));
    op.shutdown().await;
}

/// A signal whose node never appears is dropped once it has waited the grace, as an error.
#[tokio::test]
async fn a_signal_for_a_missing_node_is_dropped_not_retried() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    let missing = "00000009.common-module.chaos-gone";
    put_signal(&fake, tinysignal("lost", missing, "in", json!({})));
    // Bad data: base64 of text that is not JSON.
    let mut broken = tinysignal("broken", missing, "in", json!({}));
    broken["spec"]["data"] = json!("bm90IGpzb24=");
    put_signal(&fake, broken);
    // Another module's signal is not ours to take.
    put_signal(
        &fake,
        tinysignal("theirs", "00000001.other-module.x-y", "in", json!({})),
    );
    fake.wait_until(WAIT, |f| {
        f.list(GROUP_VERSION, "tinysignals", NS)
            .iter()
            .all(|s| s["metadata"]["name"] == "theirs")
            .then_some(())
    })
    .await
    .expect("our signals deleted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deletes = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.contains("/tinysignals/"))
        .count();
    assert_eq!(
        deletes, 2,
        "each signal taken once, the other module's left alone"
    );
    assert!(
        fake.get(GROUP_VERSION, "tinysignals", NS, "theirs")
            .is_some()
    );
    op.shutdown().await;
}

#[tokio::test]
async fn settings_are_delivered_once_per_change() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let settings = json!({"countDeliveries": true});
    put_node(
        &fake,
        tinynode("s", MODULE, "chaos", settings.clone(), json!([])),
    );
    put_node(&fake, chaos("t"));
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    let deliveries = |fake: &FakeApiServer| {
        status_of(fake, "s")["metadata"]["settings-deliveries"]
            .as_str()
            .map(str::to_string)
    };
    fake.wait_until(WAIT, |f| deliveries(f).filter(|d| d == "1"))
        .await
        .expect("settings delivered once");
    // Reconciles that change nothing do not deliver the settings again: status writes
    // (each one is a watch event) and a relisted watch.
    for _ in 0..3 {
        op.runtime()
            .send("s:in", &json!({"do": "count"}))
            .await
            .expect("count");
    }
    fake.wait_until(WAIT, |f| {
        (status_of(f, "s")["metadata"]["count"] == "3").then_some(())
    })
    .await
    .expect("status written three times over");
    fake.expire_history();
    fake.drop_watches();
    put_node(&fake, chaos("u"));
    eventually("the watch relisted", || {
        op.runtime().node_names().len() == 3
    })
    .await;
    reported_status(&fake, "u").await;
    assert_eq!(deliveries(&fake).as_deref(), Some("1"));
    assert_eq!(
        op.runtime()
            .status("s")
            .and_then(|s| s.metadata.get("settings-deliveries").cloned())
            .as_deref(),
        Some("1")
    );
    // Changed settings are delivered again.
    put_node(
        &fake,
        tinynode(
            "s",
            MODULE,
            "chaos",
            json!({"countDeliveries": true, "x": 1}),
            json!([]),
        ),
    );
    fake.wait_until(WAIT, |f| deliveries(f).filter(|d| d == "2"))
        .await
        .expect("changed settings delivered");
    op.shutdown().await;
}

#[tokio::test]
async fn nodes_of_other_modules_are_left_alone() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_node(
        &fake,
        tinynode("theirs", "other-module", "chaos", json!({}), json!([])),
    );
    put_node(&fake, chaos("ours"));
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    reported_status(&fake, "ours").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let theirs = node_object(&fake, "theirs").expect("still there");
    assert!(!has_finalizer(&theirs), "{theirs}");
    assert!(theirs.get("status").is_none_or(Value::is_null), "{theirs}");
    assert_eq!(op.runtime().node_names(), ["ours"]);
    assert!(
        fake.requests()
            .iter()
            .all(|r| !(r.path.contains("/tinynodes/theirs") && r.method != "GET")),
        "wrote to another module's node"
    );
    op.shutdown().await;
}

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
    put_node(&fake, chaos("a"));
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    let status = reported_status(&fake, "a").await;
    assert_eq!(status["status"], "OK");
    assert!(node_object(&fake, "a").is_some_and(|o| has_finalizer(&o)));
    assert!(
        fake.pending_faults().is_empty(),
        "{:?}",
        fake.pending_faults()
    );

    // A dropped watch: changes made meanwhile still arrive.
    fake.drop_watches();
    put_node(&fake, chaos("b"));
    eventually("node b runs after the watch reconnected", || {
        op.runtime().node_names() == ["a", "b"]
    })
    .await;
    // History gone (as after etcd compaction): the watch relists and nothing is lost.
    fake.expire_history();
    fake.drop_watches();
    put_node(&fake, chaos("c"));
    eventually("node c runs after a relist", || {
        op.runtime().node_names() == ["a", "b", "c"]
    })
    .await;
    reported_status(&fake, "c").await;
    op.shutdown().await;
}

#[tokio::test]
async fn work_goes_on_while_the_api_server_is_away() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_node(&fake, chaos("a"));
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    reported_status(&fake, "a").await;

    fake.set_down(true);
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
        ["a"],
        "nodes kept during the outage"
    );
    // Nodes created while the API server was away (e.g. by a restore) arrive afterwards.
    put_node(&fake, chaos("b"));
    fake.set_down(false);
    eventually("node b runs after the outage", || {
        op.runtime().node_names() == ["a", "b"]
    })
    .await;
    fake.wait_until(WAIT, |f| {
        (status_of(f, "a")["metadata"]["count"] == "3").then_some(())
    })
    .await
    .expect("state written after the outage");
    op.shutdown().await;
}

#[tokio::test]
async fn broken_nodes_are_reported_in_their_own_status() {
    let fake = FakeApiServer::start().await.expect("fake API server");
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
    // Fields a newer schema might add are dropped, as the API server would.
    let mut future = chaos("future");
    future["spec"]["somethingNew"] = json!({"x": 1});
    future["spec"]["edges"] =
        json!([{"id": "e2", "port": "out", "to": "bad-json:in", "nonRetryableErrorCodes": [1]}]);
    for object in [bad_base64, bad_json, unknown_component, dangling, future] {
        put_node(&fake, object);
    }
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;

    for (node, expected) in [
        ("bad-base64", "configuration"),
        ("bad-json", "configuration"),
        ("unknown", "component `no-such-component` is not loaded"),
        ("dangling", "target node `nowhere` not found"),
        ("future", "target node `bad-json` not found"),
    ] {
        let status = reported_status(&fake, node).await;
        assert_eq!(status["error"], true, "{node}: {status}");
        let text = status["status"].as_str().unwrap_or_default();
        assert!(text.contains(expected), "{node}: {text}");
    }
    // The valid ones run; the unreadable ones do not.
    assert_eq!(op.runtime().node_names(), ["dangling", "future", "unknown"]);
    // Fixing an object clears its error.
    put_node(&fake, chaos("bad-json"));
    fake.wait_until(WAIT, |f| {
        (status_of(f, "bad-json")["status"] == "OK" && status_of(f, "future")["status"] == "OK")
            .then_some(())
    })
    .await
    .expect("fixed nodes report OK");
    op.shutdown().await;
}

#[tokio::test]
async fn the_module_reports_itself_and_peers_are_tracked() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    fake.put(
        GROUP_VERSION,
        "tinymodules",
        NS,
        json!({
            "apiVersion": GROUP_VERSION, "kind": "TinyModule",
            "metadata": {"name": "http-module", "namespace": NS},
            "spec": {},
        }),
    );
    // A peer's status goes through the status subresource, as its leader would write it.
    let op = replica(&fake, "one").await;
    wait_leader(&[&op]).await;
    let module = fake
        .wait_until(WAIT, |f| {
            f.get(GROUP_VERSION, "tinymodules", NS, MODULE)
                .filter(|m| m["status"]["addr"].is_string())
        })
        .await
        .expect("module reported");
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
    let client = fake.client(NS);
    let api: kube::Api<tinyhost::crd::TinyModule> = kube::Api::namespaced(client, NS);
    api.patch_status(
        "http-module",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(
            json!({"status": {"addr": "http.peers:8483", "name": "http-module"}}),
        ),
    )
    .await
    .expect("peer status written");
    eventually("peer address known", || {
        peers.address("http-module").as_deref() == Some("http.peers:8483")
    })
    .await;
    fake.delete(GROUP_VERSION, "tinymodules", NS, "http-module");
    eventually("peer forgotten", || peers.address("http-module").is_none()).await;
    op.shutdown().await;
}

#[tokio::test]
async fn one_leader_among_replicas_and_failover_when_it_stops() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let one = replica(&fake, "one").await;
    let two = replica(&fake, "two").await;
    let first = wait_leader(&[&one, &two]).await;
    // Stays stable over several renewals.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            [one.is_leader(), two.is_leader()]
                .iter()
                .filter(|l| **l)
                .count(),
            1
        );
    }
    let lease = fake
        .get("coordination.k8s.io/v1", "leases", NS, "common-module-lock")
        .expect("lease");
    assert_eq!(lease["spec"]["holderIdentity"], ["one", "two"][first]);
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 2);

    // The leader loses the API server (a partition): it steps down within the renew
    // deadline, and the other replica takes over after the lease expires.
    let (leader, follower) = if first == 0 { (one, two) } else { (two, one) };
    let leader_name = ["one", "two"][first];
    fake.fail(
        Fault::new(503, "ServiceUnavailable")
            .user(leader_name)
            .path_contains("/leases/")
            .times(1_000_000),
    );
    let lost_at = tokio::time::Instant::now();
    eventually("the partitioned leader steps down", || !leader.is_leader()).await;
    assert!(lost_at.elapsed() < Duration::from_millis(2000));
    eventually("the follower takes over", || follower.is_leader()).await;
    assert!(!leader.is_leader());
    fake.clear_faults();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        follower.is_leader() && !leader.is_leader(),
        "leadership flapped back"
    );
    leader.shutdown().await;

    // A clean shutdown releases the lease: a new replica leads without waiting it out.
    let released_by = fake.requests().len();
    follower.shutdown().await;
    let lease = fake
        .get("coordination.k8s.io/v1", "leases", NS, "common-module-lock")
        .expect("lease");
    assert!(
        lease["spec"]["holderIdentity"].is_null() || lease["spec"]["holderIdentity"] == "",
        "{lease}"
    );
    assert!(fake.requests().len() > released_by);
    let three = replica(&fake, "three").await;
    let started = tokio::time::Instant::now();
    wait_leader(&[&three]).await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    three.shutdown().await;
}

#[tokio::test]
async fn the_binary_runs_the_hello_flow_from_the_cluster_with_upstream_flags() {
    let fake = FakeApiServer::start().await.expect("fake API server");
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
            put_signal(&fake, object);
        } else {
            names.push(name);
            put_node(&fake, object);
        }
    }
    assert!(names.len() >= 4, "{names:?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, NS, "pod-0")
        .expect("kubeconfig written");
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
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .env("HOSTNAME", "pod-0")
        .env("SELF_SERVICE_HOST", "common-module.flows.svc:8483")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("tinyhost operator starts");
    let mut child = KillOnDrop(child);

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match support::http::get_status_and_body(health, "/readyz").await {
            Some((200, _)) => break,
            other => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never ready: {other:?}"
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
        let status = reported_status(&fake, name).await;
        assert_eq!(status["status"], "OK", "{name}: {status}");
        assert_eq!(status["module"]["version"], "1.0.0");
    }
    let module = fake
        .wait_until(WAIT, |f| {
            f.get(GROUP_VERSION, "tinymodules", NS, MODULE)
                .filter(|m| m["status"]["addr"].is_string())
        })
        .await
        .expect("module reported");
    assert_eq!(module["status"]["addr"], "common-module.flows.svc:8483");
    for signal in &signals {
        fake.wait_until(WAIT, |f| {
            f.get(GROUP_VERSION, "tinysignals", NS, signal)
                .is_none()
                .then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("signal {signal} taken"));
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
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        log.contains("Hello World!"),
        "debug output in the log:\n{log}"
    );
    let lease = fake
        .get("coordination.k8s.io/v1", "leases", NS, "common-module-lock")
        .expect("lease");
    assert!(
        lease["spec"]["holderIdentity"].is_null() || lease["spec"]["holderIdentity"] == "",
        "released on shutdown: {lease}"
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
fn count_shown(op: &Operator, node: &str) -> Arc<std::sync::atomic::AtomicUsize> {
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut events = op.runtime().subscribe();
    let (seen, node) = (count.clone(), node.to_string());
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(tinyhost::Event::Output { node: n, port, .. })
                    if n == node && port == "_control" =>
                {
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    count
}

#[tokio::test]
async fn triggers_fire_on_the_leader_only_and_move_with_it() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let ticker = "00000001.common-module.ticker-t";
    let debug = "00000002.common-module.debug-d";
    put_node(
        &fake,
        tinynode(
            ticker,
            MODULE,
            "ticker",
            json!({"delay": 50, "context": {"n": 1}}),
            json!([{"id": "e", "port": "out", "to": format!("{debug}:in")}]),
        ),
    );
    put_node(
        &fake,
        tinynode(debug, MODULE, "debug", json!({}), json!([])),
    );
    let one = replica(&fake, "one").await;
    let two = replica(&fake, "two").await;
    let shown = [count_shown(&one, debug), count_shown(&two, debug)];
    let first = wait_leader(&[&one, &two]).await;
    reported_status(&fake, ticker).await;
    put_signal(
        &fake,
        tinysignal("start", ticker, "_control", json!({"start": true})),
    );
    let load = |i: usize| shown[i].load(std::sync::atomic::Ordering::SeqCst);
    eventually("the leader ticks", || load(first) >= 5).await;
    assert_eq!(load(1 - first), 0, "the follower ticked");
    // The running state reaches the object, so a new leader can resume it.
    fake.wait_until(WAIT, |f| {
        (status_of(f, ticker)["metadata"]["ticker-running"] == "true").then_some(())
    })
    .await
    .expect("running state in status");

    // The leader is cut off from the Lease: it stops ticking, the other replica resumes.
    let leader_name = ["one", "two"][first];
    fake.fail(
        Fault::new(500, "InternalError")
            .user(leader_name)
            .path_contains("/leases/")
            .times(1_000_000),
    );
    let replicas = [&one, &two];
    eventually("leadership moves", || {
        replicas[1 - first].is_leader() && !replicas[first].is_leader()
    })
    .await;
    let stopped_at = load(first);
    eventually("the new leader ticks", || load(1 - first) >= 5).await;
    // At most a tick in flight when leadership was lost.
    assert!(load(first) <= stopped_at + 1, "the old leader kept ticking");
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test]
async fn modules_find_each_other_through_their_tinymodules_and_call_over_grpc() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let caller = "00000001.common-module.chaos-caller";
    let callee = "00000002.other-module.chaos-callee";
    put_node(
        &fake,
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
    );
    let mut callee_object = tinynode(callee, "other-module", "chaos", json!({}), json!([]));
    callee_object["spec"]["ports"] = json!([{
        "from": format!("{caller}:out"),
        "port": "in",
        "configuration": b64(&json!({"do": "echo", "value": "{{$.greeting}}"})),
    }]);
    put_node(&fake, callee_object);
    let address = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let ours = module_replica(&fake, MODULE, "ours", Some(address(free_port()))).await;
    let theirs = module_replica(&fake, "other-module", "theirs", Some(address(free_port()))).await;
    wait_leader(&[&ours]).await;
    wait_leader(&[&theirs]).await;
    // The caller's edge points at another module's node: not an error in its status.
    let status = reported_status(&fake, caller).await;
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
    let theirs = module_replica(&fake, "other-module", "theirs-2", Some(moved_to)).await;
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
