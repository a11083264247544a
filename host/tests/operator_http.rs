//! HTTP servers in the cluster: the operator puts an `http_server` node's port on the
//! module's Service and its host names on the module's Ingress, reports them as the node's
//! `listenAddr`, serves requests on the port, reports the Service address when there is no
//! Ingress (and its own when there is no Service), withdraws everything when the node is
//! deleted, retries a conflicting Service update, and is ready only once the nodes (and
//! their listeners) have been applied and published.
//!
//! On a real API server, which validates the Service and the Ingress the operator writes
//! (port names and numbers, host names, paths, backends) as a cluster does. Where the test
//! is about the cluster contract, the chart is installed with real helm and the operator
//! runs as its Deployment would, with the token of the chart's service account: the Role
//! grants `get` and `update` on the release's Service and Ingress by name only, so the
//! server also proves that this is all the operator needs. Readiness and the pod address
//! are behaviour, checked on an in-process replica: readiness at the instant it turns true,
//! against the runtime's listeners.
//!
//! On the in-process fake API server, only the conflicting Service update: a real server
//! answers 409 only when another writer happens to change the Service between the
//! operator's read and its write, which a test cannot time; the fake answers 409 to the
//! chosen writes.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::{Value, json};
use support::cluster::{
    Chart, NS, Operator, WAIT, account_kubeconfig, account_user, acting_user, apply_flow,
    audit_events, control_plane, control_plane_with, documents, eventually, exported, get_json,
    install_chart, install_chart_with, install_crds, kube_client_as, kubectl_ok, node_yaml,
    requests_by, signal_yaml,
};
use support::free_port;
use tinyhost::metrics::Metrics;
use tinyhost::operator::{ExposeConfig, LeaseTiming, OperatorConfig, Readiness};
use tinyhost::runtime::RuntimeConfig;
use tinyhost_control_plane::{ControlPlane, Options};
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

const GROUP_VERSION: &str = "operator.tinysystems.io/v1alpha1";
/// The module the chart is installed for.
const MODULE: &str = "common-module";
const SERVER: &str = "1a2b3c4d.common-module.http-server-x7k2p";
const ECHO: &str = "1a2b3c4e.common-module.transform-x7k2p";
/// The release's Service and Ingress, as the chart names both.
const OBJECTS: &str = "common-module-tinyhost";
const SUFFIX: &str = "apps.example.com";
/// The automatic host name of `SERVER` with `SUFFIX`.
const AUTO_HOST: &str = "http-server-x7k2p-apps.example.com";
/// The chart's placeholder rule of the Ingress, which the operator must leave alone.
const PLACEHOLDER: &str = "common-module-tinyhost.tinysystems.invalid";
/// The operator process's replica identity.
const POD: &str = "common-module-0";
/// An in-process replica's identity (and the user it acts as).
const REPLICA: &str = "replica-a";

/// What the server is started with when host names are asked for.
fn start_with_hosts() -> Value {
    json!({"hostnames": ["echo.example.com"], "autoHostName": true, "readTimeout": 60, "writeTimeout": 10})
}

/// The echo flow of `examples/http-echo`, both nodes in the chart's module, as a local flow
/// file: the server's requests go to a transform whose answer comes back on the server's
/// `response`; a TinySignal starts the server with `start`, if given.
fn flow_yaml(start: Option<&Value>) -> String {
    let server_ports = json!([
        {"port": "_settings", "configuration": {"port": 0}},
        {"from": format!("{ECHO}:out"), "port": "response", "configuration": {
            "statusCode": 200, "contentType": "application/json", "body": "{{$.context}}"
        }}
    ]);
    let echo_ports = json!([{"from": format!("{SERVER}:request"), "port": "in", "configuration": {
        "context": {"method": "{{$.method}}", "uri": "{{$.requestURI}}"}
    }}]);
    let mut yaml = node_yaml(
        SERVER,
        "http_server",
        &server_ports.to_string(),
        &json!([{"id": "request", "port": "request", "to": format!("{ECHO}:in")}]).to_string(),
    );
    yaml += &node_yaml(
        ECHO,
        "transform",
        &echo_ports.to_string(),
        &json!([{"id": "answer", "port": "out", "to": format!("{SERVER}:response")}]).to_string(),
    );
    if let Some(start) = start {
        yaml += &signal_yaml("start-server", SERVER, "start", start);
    }
    yaml
}

/// The chart's Service ports, and the one the operator adds for `port`.
fn chart_ports_and(port: Option<u16>) -> Value {
    let mut ports = vec![
        json!({"name": "grpc", "port": 8483, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "grpc"}),
        json!({"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}),
    ];
    ports.extend(port.map(
        |p| json!({"name": format!("port{p}"), "port": p, "targetPort": p, "protocol": "TCP"}),
    ));
    Value::Array(ports)
}

/// The rule value that routes every path to `port` on the release's Service.
fn route(port: u16) -> Value {
    json!({"paths": [{"path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": OBJECTS, "port": {"number": port}}}}]})
}

fn list(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// `listenAddr` of a TinyNode's `_control` status port, once its state is `Running`.
fn running_addresses(node: &Value) -> Option<Vec<String>> {
    let control = list(&node["status"]["ports"])
        .into_iter()
        .find(|p| p["name"] == "_control")?;
    let text = base64::engine::general_purpose::STANDARD
        .decode(control["configuration"].as_str()?)
        .ok()?;
    let state: Value = serde_json::from_slice(&text).ok()?;
    (state["status"] == "Running").then(|| {
        list(&state["listenAddr"])
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect()
    })
}

/// Waits for `check`, failing with what it waited for and `log` (the operator's).
fn wait_for<T>(what: &str, log: impl Fn() -> String, check: impl FnMut() -> Option<T>) -> T {
    eventually(what, WAIT, check).unwrap_or_else(|e| panic!("{e}\n{}", log()))
}

fn server_node(cp: &ControlPlane) -> Value {
    get_json(cp, &["get", "tinynode", SERVER, "-n", NS])
}

fn service(cp: &ControlPlane) -> Value {
    get_json(cp, &["get", "service", OBJECTS, "-n", NS])
}

fn ingress(cp: &ControlPlane) -> Value {
    get_json(cp, &["get", "ingress", OBJECTS, "-n", NS])
}

/// The server's reported addresses, once its leader has reported it running.
fn reported_addresses(cp: &ControlPlane, log: impl Fn() -> String) -> Vec<String> {
    wait_for("a running _control state in the status", log, || {
        running_addresses(&server_node(cp))
    })
}

/// The port the server recorded in its status (where it listens).
fn recorded_port(cp: &ControlPlane, log: impl Fn() -> String) -> u16 {
    wait_for("the server's recorded port", log, || {
        server_node(cp)["status"]["metadata"]["port"]
            .as_str()?
            .parse()
            .ok()
    })
}

/// The chart installed as `install_chart` does, with its Ingress enabled and the hostname
/// suffix annotation set; what its Deployment would run.
fn install_chart_with_ingress(cp: &ControlPlane) -> Chart {
    let dir = tempfile::tempdir().expect("values dir");
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        format!(
            "module: {{name: {MODULE}}}\ningress:\n  enabled: true\n  annotations:\n    tinysystems.io/ingress-hostname-suffix: {SUFFIX}\n"
        ),
    )
    .expect("writing the values");
    install_chart_with(cp, &["--values".as_ref(), values.as_os_str()])
}

/// The operator process as the chart's Deployment runs it, with its account's token; ready.
fn chart_operator(cp: &ControlPlane, chart: &Chart) -> Operator {
    let kubeconfig = account_kubeconfig(cp, chart);
    let operator = Operator::start(chart, &kubeconfig, POD, &[]);
    operator.wait_ready();
    operator
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_is_published_on_the_charts_service_and_ingress_until_its_node_is_deleted() {
    let cp = control_plane_with(Options {
        audit: true,
        ..Options::default()
    });
    install_crds(&cp);
    let chart = install_chart_with_ingress(&cp);
    assert!(
        chart.args.contains(&format!("--http-ingress={OBJECTS}")),
        "{:?}",
        chart.args
    );
    let operator = chart_operator(&cp, &chart);
    let log = || operator.log();
    apply_flow(&cp, &flow_yaml(Some(&start_with_hosts())));

    // The addresses are reported once the Service and the Ingress carry them.
    let hosts = ["echo.example.com", AUTO_HOST];
    assert_eq!(reported_addresses(&cp, log), hosts);
    let port = recorded_port(&cp, log);
    assert_eq!(service(&cp)["spec"]["ports"], chart_ports_and(Some(port)));
    let ing = ingress(&cp);
    assert_eq!(
        ing["spec"]["rules"],
        json!([
            {"host": PLACEHOLDER},
            {"host": hosts[0], "http": route(port)},
            {"host": hosts[1], "http": route(port)}
        ])
    );
    assert_eq!(
        ing["spec"]["tls"],
        json!([
            {"hosts": [hosts[0]], "secretName": "echo.example.com-tls"},
            {"hosts": [hosts[1]], "secretName": format!("{AUTO_HOST}-tls")}
        ])
    );

    let (code, body) = support::http::get_status_and_body(port, "/hello?name=Ada")
        .await
        .expect("the server answers");
    assert_eq!(code, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer, json!({"method": "GET", "uri": "/hello?name=Ada"}));

    // Deleting the node withdraws what it published (the leader does).
    let lease = get_json(&cp, &["get", "lease", &format!("{MODULE}-lock"), "-n", NS]);
    assert_eq!(lease["spec"]["holderIdentity"], POD);
    kubectl_ok(
        &cp,
        &[
            "delete",
            "tinynode",
            SERVER,
            "-n",
            NS,
            "--wait=true",
            "--timeout=60s",
        ],
    );
    wait_for("the port taken off the Service", log, || {
        (service(&cp)["spec"]["ports"] == chart_ports_and(None)).then_some(())
    });
    let ing = ingress(&cp);
    assert_eq!(ing["spec"]["rules"], json!([{"host": PLACEHOLDER}]));
    assert!(list(&ing["spec"]["tls"]).is_empty(), "{ing}");
    assert_eq!(
        support::http::get_status_and_body(port, "/").await,
        None,
        "the listener is closed"
    );

    // The Role's grants by name were enough: the account was refused nothing, and it
    // only read and replaced the release's own Service and Ingress.
    let user = account_user(&chart);
    let events = audit_events(&cp);
    let mine: Vec<&Value> = events.iter().filter(|e| acting_user(e) == user).collect();
    let refused: Vec<&&Value> = mine
        .iter()
        .filter(|e| e["responseStatus"]["code"] == 403)
        .collect();
    assert!(refused.is_empty(), "refused: {refused:?}");
    let exposing: Vec<&&Value> = mine
        .iter()
        .filter(|e| {
            ["services", "ingresses"]
                .contains(&e["objectRef"]["resource"].as_str().unwrap_or_default())
        })
        .collect();
    for event in &exposing {
        assert_eq!(event["objectRef"]["name"], OBJECTS, "{event}");
        assert_eq!(event["objectRef"]["namespace"], NS, "{event}");
        assert_eq!(event["responseStatus"]["code"], 200, "{event}");
    }
    let verbs: Vec<String> = requests_by(&events, &user)
        .into_keys()
        .filter(|k| k.ends_with(" services") || k.ends_with(" ingresses"))
        .collect();
    assert_eq!(
        verbs,
        [
            "get ingresses",
            "get services",
            "update ingresses",
            "update services"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_ingress_the_charts_service_address_is_reported() {
    let cp = control_plane();
    install_crds(&cp);
    let chart = install_chart(&cp);
    assert!(
        !chart.args.iter().any(|a| a.starts_with("--http-ingress")),
        "{:?}",
        chart.args
    );
    let operator = chart_operator(&cp, &chart);
    let log = || operator.log();
    apply_flow(&cp, &flow_yaml(Some(&start_with_hosts())));
    let port = recorded_port(&cp, log);
    assert_eq!(
        reported_addresses(&cp, log),
        [format!("http://{OBJECTS}.{NS}.svc.cluster.local:{port}")]
    );
    assert_eq!(service(&cp)["spec"]["ports"], chart_ports_and(Some(port)));
    assert_eq!(
        support::http::get_status_and_body(port, "/")
            .await
            .map(|r| r.0),
        Some(200),
        "served"
    );
}

/// An in-process replica of the chart's module, publishing through `expose`.
async fn replica(
    client: kube::Client,
    expose: Option<ExposeConfig>,
    readiness: Arc<Readiness>,
) -> tinyhost::operator::Operator {
    let config = OperatorConfig {
        module: MODULE.into(),
        version: "1.0.0".into(),
        namespace: NS.into(),
        advertise_addr: format!("{OBJECTS}.{NS}.svc:8483"),
        image: String::new(),
        identity: REPLICA.into(),
        lease: LeaseTiming {
            lease_duration: Duration::from_millis(2000),
            renew_deadline: Duration::from_millis(1500),
            retry_period: Duration::from_millis(200),
        },
        requeue_after: Duration::from_secs(300),
        signal_node_grace: Duration::from_secs(10),
        grpc_listen: None,
        grpc_client: Default::default(),
        grpc_server_tls: None,
        expose,
        runtime: RuntimeConfig {
            engine: support::engine_config(),
            ..RuntimeConfig::default()
        },
    };
    tinyhost::operator::Operator::start(config, client, Arc::new(Metrics::new()), readiness)
        .await
        .expect("operator starts")
}

/// Publishing through the release's Service (and Ingress), re-asserted often.
fn expose(ingress: bool) -> Option<ExposeConfig> {
    Some(ExposeConfig {
        resync: Duration::from_millis(200),
        ..ExposeConfig::new(OBJECTS, ingress.then_some(OBJECTS), "cluster.local")
    })
}

/// The port `SERVER` listens on, once it does.
async fn listening_port(op: &tinyhost::operator::Operator) -> u16 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some((_, bound)) = op
            .runtime()
            .listeners()
            .into_iter()
            .find(|(n, _)| n == SERVER)
        {
            return bound.port;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never listened: {:?}",
            op.runtime().status(SERVER)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_service_the_pod_address_is_reported() {
    let cp = control_plane();
    install_crds(&cp);
    kubectl_ok(&cp, &["create", "namespace", NS]);
    let op = replica(kube_client_as(&cp, REPLICA).await, None, Arc::default()).await;
    apply_flow(
        &cp,
        &flow_yaml(Some(&json!({"readTimeout": 60, "writeTimeout": 10}))),
    );
    let port = listening_port(&op).await;
    assert_eq!(
        reported_addresses(&cp, String::new),
        [format!("http://127.0.0.1:{port}")]
    );
    op.shutdown().await;
}

/// When the API server completed `event`.
fn completed_at(event: &Value) -> SystemTime {
    let stamp = event["stageTimestamp"].as_str().expect("a stage timestamp");
    humantime::parse_rfc3339(stamp).expect("an RFC 3339 timestamp")
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_only_once_the_nodes_are_applied_and_a_recorded_server_listens_and_is_published() {
    let cp = control_plane_with(Options {
        audit: true,
        ..Options::default()
    });
    install_crds(&cp);
    install_chart(&cp);
    apply_flow(&cp, &flow_yaml(None));
    // The server ran before this replica started: its start and port are in its status.
    let port = free_port();
    let status = json!({"status": {"metadata": {
        "http-start": json!({"autoHostName": true, "readTimeout": 60, "writeTimeout": 10}).to_string(),
        "port": port.to_string(),
    }}});
    kubectl_ok(
        &cp,
        &[
            "patch",
            "tinynode",
            SERVER,
            "-n",
            NS,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
    );

    let readiness = Arc::new(Readiness::default());
    let op = replica(
        kube_client_as(&cp, REPLICA).await,
        expose(false),
        readiness.clone(),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while readiness.check().is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {:?}",
            readiness.check()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let ready_at = SystemTime::now();
    // The moment it is ready, the server listens on its recorded port...
    let listening = op.runtime().listeners();
    assert_eq!(
        listening
            .iter()
            .map(|(n, b)| (n.as_str(), b.port))
            .collect::<Vec<_>>(),
        [(SERVER, port)],
        "status: {:?}",
        op.runtime().status(SERVER)
    );
    // ...and the port is on the Service: the server completed that write before.
    assert_eq!(service(&cp)["spec"]["ports"], chart_ports_and(Some(port)));
    let events = audit_events(&cp);
    let published = events
        .iter()
        .find(|e| {
            acting_user(e) == REPLICA
                && e["verb"] == "update"
                && e["objectRef"]["resource"] == "services"
                && e["objectRef"]["name"] == OBJECTS
                && e["responseStatus"]["code"] == 200
        })
        .expect("the replica's update of the Service");
    assert!(
        completed_at(published) <= ready_at,
        "the Service was updated at {} after readiness at {}",
        published["stageTimestamp"],
        humantime::format_rfc3339_micros(ready_at)
    );
    assert_eq!(
        support::http::get_status_and_body(port, "/")
            .await
            .map(|r| r.0),
        Some(200)
    );
    op.shutdown().await;
}

/// The exported objects of the echo flow (TinyNodes, then the TinySignal if any) put on
/// the fake as `kubectl apply` would create them.
fn put_flow(fake: &FakeApiServer, start: Option<&Value>) {
    let dir = tempfile::tempdir().expect("flow dir");
    std::fs::write(dir.path().join("flow.yaml"), flow_yaml(start)).expect("writing the flow");
    for object in documents(&exported(dir.path(), NS)) {
        let plural = match object["kind"].as_str() {
            Some("TinyNode") => "tinynodes",
            Some("TinySignal") => "tinysignals",
            other => panic!("unexpected kind {other:?}"),
        };
        fake.put(GROUP_VERSION, plural, NS, object);
    }
}

#[tokio::test]
async fn a_conflicting_service_update_is_retried_on_a_fresh_read() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    fake.put(
        "v1",
        "services",
        NS,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": OBJECTS, "namespace": NS},
            "spec": {"ports": [{"name": "grpc", "port": 8483, "targetPort": "grpc", "protocol": "TCP"}]}
        }),
    );
    // Someone else writes the Service at the same moment, twice.
    fake.fail(
        Fault::new(409, "Conflict")
            .method("PUT")
            .path_contains(format!("/services/{OBJECTS}"))
            .times(2),
    );
    let op = replica(fake.client_as(NS, REPLICA), expose(false), Arc::default()).await;
    put_flow(&fake, Some(&start_with_hosts()));
    let port = listening_port(&op).await;
    let number = i64::from(port);
    let port_name = format!("port{port}");
    let svc = fake
        .wait_until(WAIT, |f| {
            let svc = f.get("v1", "services", NS, OBJECTS)?;
            list(&svc["spec"]["ports"])
                .iter()
                .any(|p| p["name"] == port_name.as_str())
                .then_some(svc)
        })
        .await
        .expect("the port is added to the Service");
    assert_eq!(
        svc["spec"]["ports"],
        json!([
            {"name": "grpc", "port": 8483, "targetPort": "grpc", "protocol": "TCP"},
            {"name": port_name, "port": number, "targetPort": number, "protocol": "TCP"}
        ])
    );
    assert!(
        fake.pending_faults().is_empty(),
        "both conflicts were met and retried"
    );
    let reported = fake
        .wait_until(WAIT, |f| {
            running_addresses(&f.get(GROUP_VERSION, "tinynodes", NS, SERVER)?)
        })
        .await
        .expect("a running _control state in the status");
    assert_eq!(
        reported,
        [format!("http://{OBJECTS}.{NS}.svc.cluster.local:{port}")]
    );
    op.shutdown().await;
}
