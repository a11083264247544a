//! tinyhost against a real Kubernetes control plane (etcd and kube-apiserver built from
//! their Go modules, on loopback, `tinyhost-control-plane`): the CRDs are structural and
//! accepted, local flows round-trip through the API server unchanged, and invalid objects
//! are refused with the server's own message; the chart installs through real helm, and the
//! operator, running with the token of the chart's service account, serves a flow with
//! exactly the access the chart grants.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::cluster::{apply, control_plane, get_json, install_crds, kubectl_ok};
use support::{examples, tinyhost_command};

/// Every example flow, as `tinyhost export` prints it for namespace `ns`.
fn exported(example: impl AsRef<std::path::Path>, ns: &str) -> Vec<u8> {
    let example = examples().join(example);
    let out = tinyhost_command()
        .args(["export", "--namespace", ns])
        .arg(&example)
        .output()
        .expect("tinyhost export runs");
    assert!(
        out.status.success(),
        "{}: {}",
        example.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The objects of a multi-document YAML stream.
fn documents(yaml: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(yaml);
    text.split("\n---")
        .filter(|doc| !doc.trim().is_empty() && doc.trim() != "---")
        .map(|doc| serde_norway::from_str::<Value>(doc).expect("a YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

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
        for object in documents(&yaml) {
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

/// `GET path` on loopback `port`: the status code, or `None` when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Waits up to `within` for `check`; fails naming `what` otherwise.
fn eventually<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The configuration of port `port` in a TinyNode's status, decoded.
fn status_port(node: &Value, port: &str) -> Value {
    use base64::Engine as _;
    node["status"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == port)
        .and_then(|p| p["configuration"].as_str())
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

const NS: &str = "tinysystems";
const FINALIZER: &str = "io.tinysystems/node-finalizer";

#[test]
fn the_operator_serves_a_flow_with_the_token_of_the_charts_service_account() {
    let cp = control_plane();
    install_crds(&cp);
    // The chart, installed by real helm: the server takes every object it renders.
    let chart = support::examples().join("../charts/tinyhost");
    let out = cp
        .helm()
        .args(["install", "common-module"])
        .arg(&chart)
        .args([
            "--namespace",
            NS,
            "--create-namespace",
            "--set",
            "module.name=common-module",
        ])
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deployment = get_json(
        &cp,
        &["get", "deployment", "common-module-tinyhost", "-n", NS],
    );
    let pod = &deployment["spec"]["template"]["spec"];
    let account = pod["serviceAccountName"]
        .as_str()
        .expect("a service account");
    let chart_args: Vec<String> = pod["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    let token = kubectl_ok(
        &cp,
        &["create", "token", account, "-n", NS, "--duration=1h"],
    );
    let kubeconfig = cp
        .token_kubeconfig("operator", token.trim())
        .expect("token kubeconfig");

    // The chart's arguments, with its bind addresses moved to free loopback ports and the
    // cache in a folder of the test's.
    let (health, metrics, grpc) = (
        support::free_port(),
        support::free_port(),
        support::free_port(),
    );
    let cache = tempfile::tempdir().expect("cache dir");
    let args: Vec<String> = chart_args
        .iter()
        .map(|a| {
            if a.starts_with("--health-probe-bind-address=") {
                format!("--health-probe-bind-address=127.0.0.1:{health}")
            } else if a.starts_with("--metrics-bind-address=") {
                format!("--metrics-bind-address=127.0.0.1:{metrics}")
            } else if a.starts_with("--grpc-server-bind-address=") {
                format!("--grpc-server-bind-address=127.0.0.1:{grpc}")
            } else if a.starts_with("--cache-dir=") {
                format!("--cache-dir={}", support::cache_dir().display())
            } else {
                a.clone()
            }
        })
        .collect();
    let log_path = cache.path().join("operator.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let child = tinyhost_command()
        .args(&args)
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .env("HOSTNAME", "common-module-0")
        .env("SELF_SERVICE_HOST", format!("127.0.0.1:{grpc}"))
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("tinyhost operator starts");
    let _operator = support::KillOnDrop(child);
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    eventually(&format!("/readyz\n{}", log()), WAIT, || {
        (http_status(health, "/readyz") == Some(200)).then_some(())
    });

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
        eventually(
            &format!("{name} OK with its finalizer\n{}", log()),
            WAIT,
            || {
                let node = get_json(&cp, &["get", "tinynode", name, "-n", NS]);
                let finalized = node["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f == FINALIZER));
                (finalized && node["status"]["status"] == "OK").then_some(())
            },
        );
    }
    let module = eventually("the TinyModule's address", WAIT, || {
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
    eventually("the start signal deleted", WAIT, || {
        let signals = get_json(&cp, &["get", "tinysignals", "-n", NS]);
        signals["items"]
            .as_array()
            .is_some_and(|s| s.is_empty())
            .then_some(())
    });
    let debug = "00000004.common-module.debug-even";
    eventually("a greeting on the debug node", WAIT, || {
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
    eventually("the changed greeting", WAIT, || {
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
    eventually("the added node OK", WAIT, || {
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

/// How long the operator may take for each step against the real API server.
const WAIT: Duration = Duration::from_secs(60);
