//! tinyhost against a real Kubernetes control plane (etcd and kube-apiserver built from
//! their Go modules, on loopback, `tinyhost-control-plane`): the CRDs are structural and
//! accepted, local flows round-trip through the API server unchanged, and invalid objects
//! are refused with the server's own message; the chart installs through real helm, and the
//! operator, running with the token of the chart's service account, serves a flow with
//! exactly the access the chart grants.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tinyhost_control_plane::{ControlPlane, Options};

use support::cluster::{
    NS, Operator, WAIT, account_kubeconfig, account_user, apply, apply_flow, audit_events,
    control_plane, control_plane_with, difference, documents, eventually, exported, get_json,
    install_chart, install_crds, kubectl_ok, node_yaml, requests_by, signal_yaml, status_port,
};
use support::examples;
use support::http::{Backend, backend, respond};

const EXAMPLES: &[&str] = &[
    "hello",
    "request-response",
    "two-modules/module-a",
    "two-modules/module-b",
    "wasm-eval",
    "http-echo",
    "http-proxy",
    "bench",
    "compare",
];

#[test]
fn the_crds_are_accepted_and_every_example_round_trips_unchanged() {
    let cp = control_plane();
    install_crds(&cp);
    // Structural schemas: the server reports any violation as a condition.
    let crd = get_json(&cp, &["get", "crd", "tinynodes.operator.tinysystems.io"]);
    let conditions = crd["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !conditions
            .iter()
            .any(|c| c["type"] == "NonStructuralSchema" && c["status"] == "True"),
        "{conditions:?}"
    );
    kubectl_ok(&cp, &["create", "namespace", "flows"]);
    for example in EXAMPLES {
        let yaml = exported(example, "flows");
        let out = apply(&cp, &yaml);
        assert!(
            out.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let objects = documents(&yaml);
        assert_eq!(
            objects.len(),
            String::from_utf8_lossy(&yaml).matches("\nkind: ").count(),
            "{example}: every exported object read back"
        );
        for object in objects {
            let kind = object["kind"].as_str().expect("kind").to_lowercase();
            let name = object["metadata"]["name"].as_str().expect("name");
            let stored = get_json(&cp, &["get", &kind, name, "-n", "flows"]);
            assert_eq!(stored["spec"], object["spec"], "{example}: {kind} {name}");
            for (key, value) in object["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
            {
                assert_eq!(
                    &stored["metadata"]["labels"][key], value,
                    "{example}: {name}"
                );
            }
        }
    }
}

#[test]
fn upstream_shaped_objects_are_accepted_and_invalid_ones_refused_with_the_servers_message() {
    let cp = control_plane();
    install_crds(&cp);
    kubectl_ok(&cp, &["create", "namespace", "flows"]);
    // As upstream's editor writes them: byte fields base64, flow ids, the platform's labels.
    let settings = base64_of(&json!({"routes": ["A"], "enableDefaultPort": true}));
    let upstream = json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1",
        "kind": "TinyNode",
        "metadata": {
            "name": "1a2b3c4d.common-module.router-x7k2p",
            "namespace": "flows",
            "labels": {
                "tinysystems.io/flow-name": "f1",
                "tinysystems.io/project-name": "p1",
                "tinysystems.io/node-name": "router-x7k2p"
            }
        },
        "spec": {
            "module": "common-module",
            "component": "router",
            "ports": [
                {"port": "_settings", "configuration": settings, "schema": base64_of(&json!({"type": "object"})), "flowID": "f1"}
            ],
            "edges": [
                {"id": "e1", "port": "out_a", "to": "1a2b3c4d.common-module.debug-q9w8e:in", "flowID": "f1"}
            ]
        }
    });
    let out = apply(&cp, upstream.to_string().as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let refused = |object: Value, expected: &[&str]| {
        let out = apply(&cp, object.to_string().as_bytes());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "accepted: {object}");
        for text in expected {
            assert!(stderr.contains(text), "{text:?} not in: {stderr}");
        }
    };
    let node = |spec: Value| {
        json!({
            "apiVersion": "operator.tinysystems.io/v1alpha1",
            "kind": "TinyNode",
            "metadata": {"name": "00000001.common-module.debug-bad", "namespace": "flows"},
            "spec": spec
        })
    };
    refused(
        node(json!({"component": "debug"})),
        &["spec.module", "Required value"],
    );
    refused(
        node(
            json!({"module": "common-module", "component": "debug", "ports": [{"port": "in", "configuration": "not base64!"}]}),
        ),
        &["spec.ports[0].configuration"],
    );
    refused(
        node(json!({"module": "common-module", "component": "debug", "edges": {"id": "e"}})),
        &["spec.edges"],
    );
    refused(
        json!({
            "apiVersion": "operator.tinysystems.io/v1alpha1",
            "kind": "TinySignal",
            "metadata": {"name": "press", "namespace": "flows"},
            "spec": {"port": "in"}
        }),
        &["spec.node", "Required value"],
    );
}

fn base64_of(value: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

const FINALIZER: &str = "io.tinysystems/node-finalizer";

/// Waits for `check`, failing the test with what it waited for and the operator's log.
fn wait_for<T>(operator: &Operator, what: &str, check: impl FnMut() -> Option<T>) -> T {
    eventually(what, WAIT, check)
        .unwrap_or_else(|e| panic!("{e}\noperator log:\n{}", operator.log()))
}

#[test]
fn the_operator_serves_a_flow_with_the_token_of_the_charts_service_account() {
    let cp = control_plane();
    install_crds(&cp);
    let chart = install_chart(&cp);
    let kubeconfig = account_kubeconfig(&cp, &chart);
    let operator = Operator::start(&chart, &kubeconfig, "common-module-0", &[]);
    operator.wait_ready();
    let grpc = operator.grpc;
    let account = chart.account.as_str();

    let out = apply(&cp, &exported("hello", NS));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = documents(&exported("hello", NS))
        .into_iter()
        .filter(|o| o["kind"] == "TinyNode")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    for name in &names {
        wait_for(&operator, &format!("{name} OK with its finalizer"), || {
            let node = get_json(&cp, &["get", "tinynode", name, "-n", NS]);
            let finalized = node["metadata"]["finalizers"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == FINALIZER));
            (finalized && node["status"]["status"] == "OK").then_some(())
        });
    }
    let module = wait_for(&operator, "the TinyModule's address", || {
        let module = get_json(&cp, &["get", "tinymodules", "-n", NS]);
        module["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
            .filter(|m| m["status"]["addr"].is_string())
    });
    assert_eq!(module["status"]["addr"], format!("127.0.0.1:{grpc}"));
    assert!(
        module["status"]["components"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["name"] == "ticker")),
        "{module}"
    );
    // The start signal is delivered (the ticker runs and the debug nodes show greetings),
    // then deleted.
    wait_for(&operator, "the start signal deleted", || {
        let signals = get_json(&cp, &["get", "tinysignals", "-n", NS]);
        signals["items"]
            .as_array()
            .is_some_and(|s| s.is_empty())
            .then_some(())
    });
    let debug = "00000004.common-module.debug-even";
    wait_for(&operator, "a greeting on the debug node", || {
        let node = get_json(&cp, &["get", "tinynode", debug, "-n", NS]);
        status_port(&node, "_control")
            .to_string()
            .contains("Hello World!")
            .then_some(())
    });

    // A changed node: the greeting follows its new mapping.
    let changed = tempfile::tempdir().expect("temp dir");
    let flow = std::fs::read_to_string(examples().join("hello/flow.yaml")).expect("hello flow");
    std::fs::write(
        changed.path().join("flow.yaml"),
        flow.replace("Hello {{$.name}}!", "Hi {{$.name}}!"),
    )
    .expect("writing the changed flow");
    let out = apply(&cp, &exported(changed.path(), NS));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(&operator, "the changed greeting", || {
        let node = get_json(&cp, &["get", "tinynode", debug, "-n", NS]);
        status_port(&node, "_control")
            .to_string()
            .contains("Hi World!")
            .then_some(())
    });
    // A node added while running.
    let added = json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1",
        "kind": "TinyNode",
        "metadata": {"name": "00000009.common-module.debug-added", "namespace": NS},
        "spec": {"module": "common-module", "component": "debug"}
    });
    let out = apply(&cp, added.to_string().as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(&operator, "the added node OK", || {
        let node = get_json(
            &cp,
            &[
                "get",
                "tinynode",
                "00000009.common-module.debug-added",
                "-n",
                NS,
            ],
        );
        (node["status"]["status"] == "OK").then_some(())
    });
    // A node deleted while running: the operator lets it go.
    kubectl_ok(
        &cp,
        &[
            "delete",
            "tinynode",
            debug,
            "-n",
            NS,
            "--wait=true",
            "--timeout=60s",
        ],
    );
    let left = get_json(&cp, &["get", "tinynodes", "-n", NS]);
    assert!(
        !left["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["metadata"]["name"] == debug),
        "{left}"
    );

    // The chart grants exactly what the operator used, nothing more: its account may do
    // what an account without any binding may do (the server's defaults for every
    // authenticated user), plus the expected list.
    kubectl_ok(&cp, &["create", "serviceaccount", "nobody", "-n", NS]);
    let baseline = grants(&cp, "nobody");
    let granted: Vec<String> = grants(&cp, account)
        .into_iter()
        .filter(|g| !baseline.contains(g))
        .collect();
    let mut expected: Vec<String> = EXPECTED_GRANTS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(granted, expected, "defaults: {baseline:?}");
}

/// `kubectl auth can-i --list` for service account `account` of `NS`, a line per rule with
/// its columns single-spaced, sorted.
fn grants(cp: &tinyhost_control_plane::ControlPlane, account: &str) -> Vec<String> {
    let can = kubectl_ok(
        cp,
        &[
            "auth",
            "can-i",
            "--list",
            "-n",
            NS,
            &format!("--as=system:serviceaccount:{NS}:{account}"),
        ],
    );
    let mut lines: Vec<String> = can
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

/// What the chart's Role grants, as `kubectl auth can-i --list` prints it.
const EXPECTED_GRANTS: &[&str] = &[
    "leases.coordination.k8s.io [] [] [get list watch create update patch]",
    "tinymodules.operator.tinysystems.io [] [] [get list watch create update patch]",
    "tinymodules.operator.tinysystems.io/status [] [] [get update patch]",
    "tinynodes.operator.tinysystems.io [] [] [get list watch update patch]",
    "tinynodes.operator.tinysystems.io/finalizers [] [] [update]",
    "tinynodes.operator.tinysystems.io/status [] [] [get update patch]",
    "tinysignals.operator.tinysystems.io [] [] [get list watch delete]",
    "services [] [common-module-tinyhost] [get update]",
];

/// A loopback HTTP server answering 200 to everything and recording when each path was
/// asked for: what flows' `http_request` nodes did, seen from outside.
struct Recorder {
    _backend: Backend,
    _runtime: tokio::runtime::Runtime,
    port: u16,
    seen: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let seen: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let record = seen.clone();
        let backend = runtime.block_on(backend(Arc::new(move |request| {
            if let Ok(mut seen) = record.lock() {
                seen.push((Instant::now(), request.uri));
            }
            Box::pin(async { respond(200, "text/plain", "ok") })
        })));
        Recorder {
            port: backend.addr.port(),
            _backend: backend,
            _runtime: runtime,
            seen,
        }
    }

    /// When `path` was asked for, in order.
    fn times(&self, path: &str) -> Vec<Instant> {
        self.seen
            .lock()
            .map(|seen| {
                seen.iter()
                    .filter(|(_, p)| p == path)
                    .map(|(t, _)| *t)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How often `path` was asked for in `[from, to)`.
    fn count_between(&self, path: &str, from: Instant, to: Instant) -> usize {
        self.times(path)
            .into_iter()
            .filter(|t| *t >= from && *t < to)
            .count()
    }
}

/// The holder of the module's Lease, if any.
fn lease_holder(cp: &ControlPlane) -> Option<String> {
    let leases = get_json(cp, &["get", "leases", "-n", NS]);
    leases["items"]
        .as_array()?
        .iter()
        .filter_map(|l| l["spec"]["holderIdentity"].as_str())
        .find(|h| h.starts_with("replica-"))
        .map(str::to_string)
}

/// The ticker's pause between beats in the failover flow.
const BEAT_MS: u64 = 250;

#[test]
fn a_killed_leader_is_replaced_within_the_lease_and_nothing_runs_twice() {
    let cp = control_plane();
    install_crds(&cp);
    let chart = install_chart(&cp);
    let kubeconfig = account_kubeconfig(&cp, &chart);
    let recorder = Recorder::start();
    let lease_duration = Duration::from_secs(6);
    let retry_period = Duration::from_secs(1);
    let lease = [
        "--lease-duration=6s",
        "--renew-deadline=4s",
        "--retry-period=1s",
        "--log=info",
    ];
    let mut replicas = [
        Operator::start(&chart, &kubeconfig, "replica-a", &lease),
        Operator::start(&chart, &kubeconfig, "replica-b", &lease),
    ];
    replicas.iter().for_each(Operator::wait_ready);
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", recorder.port);
    let beat = "00000001.common-module.ticker-beat";
    let caller = "00000003.common-module.http-request-signal";
    let mut flow = node_yaml(
        beat,
        "ticker",
        &format!(
            "[{{port: _settings, configuration: {{delay: {BEAT_MS}, context: {{beat: true}}}}}}]"
        ),
        "[{id: beat, port: out, to: \"00000002.common-module.http-request-beat:request\"}]",
    );
    flow += &node_yaml(
        "00000002.common-module.http-request-beat",
        "http_request",
        &format!(
            "[{{from: \"{beat}:out\", port: request, configuration: {{method: POST, url: \"{}\", timeout: 5}}}}]",
            url("/beat")
        ),
        "[]",
    );
    flow += &node_yaml(caller, "http_request", "[]", "[]");
    flow += &signal_yaml("start-beat", beat, "_control", &json!({"start": true}));
    apply_flow(&cp, &flow);
    let logs: Vec<_> = replicas.iter().map(Operator::log_path).collect();
    let log = || {
        logs.iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    let wait = |what: &str, check: &mut dyn FnMut() -> Option<()>| {
        eventually(what, WAIT, check).unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", log()))
    };
    wait("beats", &mut || {
        (recorder.times("/beat").len() >= 3).then_some(())
    });
    let leader = eventually("a lease holder", WAIT, || lease_holder(&cp)).expect("a leader");
    let send = |n: u32| {
        let data = json!({"method": "POST", "url": url(&format!("/signal/{n}")), "timeout": 5});
        apply_flow(
            &cp,
            &signal_yaml(&format!("call-{n}"), caller, "request", &data),
        );
    };
    send(1);
    wait("signal 1 delivered", &mut || {
        (!recorder.times("/signal/1").is_empty()).then_some(())
    });

    // One replica beats: at most one beat per pause (plus one at the window's edge).
    let window = Duration::from_secs(3);
    let most = (window.as_millis() as u64 / BEAT_MS + 1) as usize;
    let from = Instant::now();
    std::thread::sleep(window);
    let before = recorder.count_between("/beat", from, from + window);
    assert!(
        before >= 1 && before <= most,
        "{before} beats in {window:?} with both replicas up"
    );

    let leading = if leader == "replica-a" { 0 } else { 1 };
    replicas[leading].kill();
    let killed = Instant::now();
    let survivor = if leading == 0 {
        "replica-b"
    } else {
        "replica-a"
    };
    eventually("the survivor holding the lease", WAIT, || {
        (lease_holder(&cp).as_deref() == Some(survivor)).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", log()));
    let takeover = killed.elapsed();
    eprintln!("the survivor took the lease {takeover:?} after the leader was killed");
    // The lease runs out at most `lease_duration` after the leader's last renewal; the
    // survivor notices within a retry period. The rest allows for a loaded machine.
    assert!(
        takeover <= lease_duration + retry_period + Duration::from_secs(4),
        "took {takeover:?}"
    );
    wait("beats after the takeover", &mut || {
        recorder
            .times("/beat")
            .last()
            .is_some_and(|t| *t > killed + Duration::from_millis(500))
            .then_some(())
    });
    send(2);
    send(3);
    for n in [2, 3] {
        let path = format!("/signal/{n}");
        wait(&format!("signal {n} delivered"), &mut || {
            (!recorder.times(&path).is_empty()).then_some(())
        });
    }
    let from = Instant::now();
    std::thread::sleep(window);
    let after = recorder.count_between("/beat", from, from + window);
    assert!(
        after >= 1 && after <= most,
        "{after} beats in {window:?} after the takeover"
    );
    for n in 1..=3 {
        assert_eq!(
            recorder.times(&format!("/signal/{n}")).len(),
            1,
            "signal {n}"
        );
    }
    let signals = get_json(&cp, &["get", "tinysignals", "-n", NS]);
    assert_eq!(
        signals["items"].as_array().map(Vec::len),
        Some(0),
        "{signals}"
    );
}

/// Requests that change objects, by `verb resource` (leases left out: renewing is a
/// write every retry period by design).
fn writes(counts: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    counts
        .iter()
        .filter(|(k, _)| {
            let verb = k.split(' ').next().unwrap_or_default();
            ["create", "update", "patch", "delete"].contains(&verb) && !k.contains("leases")
        })
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// A quiet flow (no timers): a chain of `n` transforms ending in a debug node.
fn quiet_flow(n: usize) -> String {
    let mut yaml = String::new();
    for i in 0..n {
        let name = format!("{:08x}.common-module.transform-q{i}", 0x100 + i);
        let next = if i + 1 == n {
            format!("{:08x}.common-module.debug-q:in", 0x100 + n)
        } else {
            format!(
                "{:08x}.common-module.transform-q{}:in",
                0x100 + i + 1,
                i + 1
            )
        };
        yaml += &node_yaml(
            &name,
            "transform",
            "[]",
            &format!("[{{id: e{i}, port: out, to: \"{next}\"}}]"),
        );
    }
    yaml + &node_yaml(
        &format!("{:08x}.common-module.debug-q", 0x100 + n),
        "debug",
        "[]",
        "[]",
    )
}

/// Whether every TinyNode of `NS` reports OK.
fn all_ok(cp: &ControlPlane, expected: usize) -> Option<()> {
    let nodes = get_json(cp, &["get", "tinynodes", "-n", NS]);
    let items = nodes["items"].as_array()?;
    (items.len() == expected && items.iter().all(|n| n["status"]["status"] == "OK")).then_some(())
}

#[test]
fn the_operator_rides_out_an_api_server_restart_and_a_compacted_etcd_without_a_write_storm() {
    let mut cp = control_plane_with(Options {
        audit: true,
        ..Options::default()
    });
    install_crds(&cp);
    let chart = install_chart(&cp);
    let kubeconfig = account_kubeconfig(&cp, &chart);
    let user = account_user(&chart);
    let operator = Operator::start(&chart, &kubeconfig, "common-module-0", &["--log=info"]);
    operator.wait_ready();
    let nodes = 20;
    apply_flow(&cp, &quiet_flow(nodes));
    wait_for(&operator, "every node OK", || all_ok(&cp, nodes + 1));
    std::thread::sleep(Duration::from_secs(2));
    let settled = requests_by(&audit_events(&cp), &user);

    // Killed and started again on the same etcd: the watches break and resume.
    cp.restart_apiserver().expect("the API server restarts");
    apply_flow(
        &cp,
        &node_yaml(
            "00000200.common-module.debug-after-restart",
            "debug",
            "[]",
            "[]",
        ),
    );
    wait_for(&operator, "the node added after the restart OK", || {
        all_ok(&cp, nodes + 2)
    });
    std::thread::sleep(Duration::from_secs(10));
    let restarted = requests_by(&audit_events(&cp), &user);
    let written = writes(&difference(&settled, &restarted));
    eprintln!("after the restart: {:?}", difference(&settled, &restarted));
    // The new node's finalizer and status, and at most one re-report of each object.
    let objects = nodes + 2 + 1;
    assert!(
        written.values().sum::<usize>() <= objects + 3,
        "a write storm after the restart: {written:?}"
    );

    // Down for a while, with etcd compacted meanwhile: every resourceVersion the operator
    // holds is gone, so its watches are answered 410 Gone and it must list again.
    cp.stop_apiserver();
    let revision = cp.compact_etcd().expect("etcd compacts");
    std::thread::sleep(Duration::from_secs(5));
    cp.resume_apiserver().expect("the API server starts again");
    apply_flow(
        &cp,
        &node_yaml(
            "00000201.common-module.debug-after-compaction",
            "debug",
            "[]",
            "[]",
        ),
    );
    wait_for(&operator, "the node added after the compaction OK", || {
        all_ok(&cp, nodes + 3)
    });
    std::thread::sleep(Duration::from_secs(10));
    let compacted = requests_by(&audit_events(&cp), &user);
    let since = difference(&restarted, &compacted);
    eprintln!("after the compaction at revision {revision}: {since:?}");
    assert!(
        since.get("list tinynodes").copied().unwrap_or(0) >= 1,
        "no relist of the nodes after the compaction: {since:?}"
    );
    let written = writes(&since);
    assert!(
        written.values().sum::<usize>() <= objects + 1 + 3,
        "a write storm after the outage: {written:?}"
    );
    // It went on serving: the first flow's nodes are still OK.
    assert!(all_ok(&cp, nodes + 3).is_some());
}
