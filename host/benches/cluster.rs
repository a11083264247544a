//! The operator against a real control plane (`tinyhost-control-plane`): 1,000 TinyNodes
//! created at once, and how long until every one reports OK, how many requests the
//! operator made for them (read from the API server's audit log) and its resident memory.
//!
//! `cargo bench -p tinyhost --bench cluster` measures three rounds, each on a fresh
//! control plane, and prints the median; `cargo test --benches` (as CI runs it) does one
//! round, which is also the test that 1,000 nodes all become ready.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::cluster::{
    NS, Operator, account_kubeconfig, account_user, audit_events, control_plane_with, difference,
    eventually, exported, get_json, install_chart, install_crds, node_yaml, requests_by,
};
use tinyhost_control_plane::{ControlPlane, Options};

/// Nodes created at once.
const NODES: usize = 1_000;
/// Nodes per chain: nine transforms and a debug node.
const CHAIN: usize = 10;

/// `NODES` nodes in chains of `CHAIN`, as a local flow file.
fn flow() -> String {
    let name = |i: usize| {
        if i % CHAIN == CHAIN - 1 {
            format!("{i:08x}.common-module.debug-n{i}")
        } else {
            format!("{i:08x}.common-module.transform-n{i}")
        }
    };
    (0..NODES)
        .map(|i| {
            let (component, edges) = if i % CHAIN == CHAIN - 1 {
                ("debug", "[]".to_string())
            } else {
                (
                    "transform",
                    format!("[{{id: e{i}, port: out, to: \"{}:in\"}}]", name(i + 1)),
                )
            };
            node_yaml(&name(i), component, "[]", &edges)
        })
        .collect()
}

/// How many of `NS`'s TinyNodes report OK.
fn ready(cp: &ControlPlane) -> usize {
    let out = cp
        .kubectl()
        .args([
            "get",
            "tinynodes",
            "-n",
            NS,
            "-o",
            "jsonpath={range .items[*]}{.status.status}{\"\\n\"}{end}",
        ])
        .output()
        .expect("kubectl runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| *l == "OK")
        .count()
}

/// Resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Round {
    create: Duration,
    all_ready: Duration,
    requests: BTreeMap<String, usize>,
    /// Answers other than 2xx to the operator, by `verb resource code`.
    refused: BTreeMap<String, usize>,
    /// How many nodes had their status written once, twice, ...
    status_writes: BTreeMap<usize, usize>,
    rss: f64,
}

/// What the audit log says of the operator's requests after `since` events: the answers
/// other than 2xx, and how many status writes each node got.
fn audit_details(
    events: &[serde_json::Value],
    since: usize,
    user: &str,
) -> (BTreeMap<String, usize>, BTreeMap<usize, usize>) {
    let mine = events[since.min(events.len())..]
        .iter()
        .filter(|e| support::cluster::acting_user(e) == user);
    let mut refused = BTreeMap::new();
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for event in mine {
        let code = event["responseStatus"]["code"].as_u64().unwrap_or(0);
        let reference = &event["objectRef"];
        let resource = reference["resource"].as_str().unwrap_or("-");
        let sub = reference["subresource"].as_str();
        if !(200..300).contains(&code) {
            let verb = event["verb"].as_str().unwrap_or("-");
            *refused
                .entry(format!(
                    "{verb} {resource}{} {code}",
                    sub.map(|s| format!("/{s}")).unwrap_or_default()
                ))
                .or_insert(0) += 1;
        } else if resource == "tinynodes" && sub == Some("status") {
            let name = reference["name"].as_str().unwrap_or("-").to_string();
            *per_node.entry(name).or_insert(0) += 1;
        }
    }
    let mut histogram = BTreeMap::new();
    for writes in per_node.values() {
        *histogram.entry(*writes).or_insert(0) += 1;
    }
    (refused, histogram)
}

fn round() -> Round {
    let cp = control_plane_with(Options {
        audit: true,
        ..Options::default()
    });
    install_crds(&cp);
    let chart = install_chart(&cp);
    let kubeconfig = account_kubeconfig(&cp, &chart);
    let operator = Operator::start(&chart, &kubeconfig, "common-module-0", &[]);
    operator.wait_ready();
    let dir = tempfile::tempdir().expect("flow dir");
    std::fs::write(dir.path().join("flow.yaml"), flow()).expect("writing the flow");
    let objects = dir.path().join("objects.yaml");
    std::fs::write(&objects, exported(dir.path(), NS)).expect("writing the objects");
    let before_events = audit_events(&cp);
    let before = requests_by(&before_events, &account_user(&chart));

    let began = Instant::now();
    let out = cp
        .kubectl()
        .args(["create", "-f"])
        .arg(&objects)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let create = began.elapsed();
    eventually("every node OK", Duration::from_secs(600), || {
        (ready(&cp) == NODES).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", operator.log()));
    let all_ready = began.elapsed();
    // Whatever the operator does once all are ready (a storm would show here).
    std::thread::sleep(Duration::from_secs(5));
    let after_events = audit_events(&cp);
    let after = requests_by(&after_events, &account_user(&chart));
    let (refused, status_writes) =
        audit_details(&after_events, before_events.len(), &account_user(&chart));
    let requests = difference(&before, &after)
        .into_iter()
        .filter(|(k, _)| !k.contains("leases"))
        .collect();
    let module = get_json(&cp, &["get", "tinymodules", "-n", NS]);
    assert!(
        module["items"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["status"]["addr"].is_string())),
        "{module}"
    );
    Round {
        create,
        all_ready,
        requests,
        refused,
        status_writes,
        rss: operator.pid().map_or(f64::NAN, rss_mib),
    }
}

fn main() {
    let smoke =
        !std::env::args().any(|a| a == "--bench") || std::env::args().any(|a| a == "--test");
    let rounds = if smoke { 1 } else { 3 };
    println!("{NODES} TinyNodes created at once against a real kube-apiserver");
    let mut results: Vec<Round> = (0..rounds).map(|_| round()).collect();
    for (i, r) in results.iter().enumerate() {
        let total: usize = r.requests.values().sum();
        println!(
            "round {}: created in {:.2?}, all OK after {:.2?}; operator requests {total} ({:.2} per node) {:?}; refused {:?}; nodes by status writes {:?}; RSS {:.0} MiB",
            i + 1,
            r.create,
            r.all_ready,
            total as f64 / NODES as f64,
            r.requests,
            r.refused,
            r.status_writes,
            r.rss
        );
    }
    results.sort_by_key(|r| r.all_ready);
    let median = &results[results.len() / 2];
    println!(
        "median: all {NODES} OK {:.2?} after the create began ({:.2?} of it kubectl creating them)",
        median.all_ready, median.create
    );
}
