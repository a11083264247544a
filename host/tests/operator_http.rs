//! HTTP servers in the cluster: the operator (against the in-process fake API server) puts
//! an `http_server` node's port on the module's Service and its host names on the module's
//! Ingress, reports them as the node's `listenAddr`, serves requests on the port, retries
//! a conflicting Service update, reports the Service address when there is no Ingress,
//! withdraws everything when the node is deleted, and is ready only once the nodes (and
//! their listeners) have been applied.

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use support::free_port;
use tinyhost::metrics::Metrics;
use tinyhost::operator::{ExposeConfig, LeaseTiming, Operator, OperatorConfig, Readiness};
use tinyhost::runtime::RuntimeConfig;
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

const GROUP_VERSION: &str = "operator.tinysystems.io/v1alpha1";
const INGRESS_VERSION: &str = "networking.k8s.io/v1";
const NS: &str = "flows";
const MODULE: &str = "http-module";
const SERVER: &str = "1a2b3c4d.http-module.http-server-x7k2p";
const ECHO: &str = "1a2b3c4e.http-module.transform-x7k2p";
/// The module's Service and Ingress, as the chart names both.
const OBJECTS: &str = "web";
const SUFFIX: &str = "apps.example.com";
/// The automatic host name of `SERVER` with `SUFFIX`.
const AUTO_HOST: &str = "http-server-x7k2p-apps.example.com";
/// The Ingress's own rule, which the operator must leave alone.
const PLACEHOLDER: &str = "web.flows.invalid";
const WAIT: Duration = Duration::from_secs(30);

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

/// The echo flow of `examples/http-echo` as cluster objects, both nodes in one module: the
/// server's requests go to a transform whose answer comes back on the server's `response`.
fn put_flow(fake: &FakeApiServer) {
    let server = json!({
        "apiVersion": GROUP_VERSION, "kind": "TinyNode",
        "metadata": {"name": SERVER, "namespace": NS},
        "spec": {
            "module": MODULE, "component": "http_server",
            "ports": [
                {"port": "_settings", "configuration": b64(&json!({"port": 0}))},
                {"from": format!("{ECHO}:out"), "port": "response", "configuration": b64(&json!({
                    "statusCode": 200, "contentType": "application/json", "body": "{{$.context}}"
                }))}
            ],
            "edges": [{"id": "request", "port": "request", "to": format!("{ECHO}:in")}]
        }
    });
    let echo = json!({
        "apiVersion": GROUP_VERSION, "kind": "TinyNode",
        "metadata": {"name": ECHO, "namespace": NS},
        "spec": {
            "module": MODULE, "component": "transform",
            "ports": [{"from": format!("{SERVER}:request"), "port": "in", "configuration": b64(&json!({
                "context": {"method": "{{$.method}}", "uri": "{{$.requestURI}}"}
            }))}],
            "edges": [{"id": "answer", "port": "out", "to": format!("{SERVER}:response")}]
        }
    });
    fake.put(GROUP_VERSION, "tinynodes", NS, server);
    fake.put(GROUP_VERSION, "tinynodes", NS, echo);
}

/// A TinySignal starting the server with `start` as its configuration.
fn put_start(fake: &FakeApiServer, start: Value) {
    fake.put(
        GROUP_VERSION,
        "tinysignals",
        NS,
        json!({
            "apiVersion": GROUP_VERSION, "kind": "TinySignal",
            "metadata": {"name": "start-server", "namespace": NS},
            "spec": {"node": SERVER, "port": "start", "data": b64(&start)}
        }),
    );
}

/// The module's Service as the chart renders it.
fn put_service(fake: &FakeApiServer) {
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
}

/// The module's Ingress as the chart renders it, with the hostname suffix annotation.
fn put_ingress(fake: &FakeApiServer) {
    fake.put(
        INGRESS_VERSION,
        "ingresses",
        NS,
        json!({
            "apiVersion": INGRESS_VERSION, "kind": "Ingress",
            "metadata": {"name": OBJECTS, "namespace": NS,
                "annotations": {"tinysystems.io/ingress-hostname-suffix": SUFFIX}},
            "spec": {"rules": [{"host": PLACEHOLDER}]}
        }),
    );
}

fn service(fake: &FakeApiServer) -> Value {
    fake.get("v1", "services", NS, OBJECTS)
        .expect("the Service")
}

fn ingress(fake: &FakeApiServer) -> Value {
    fake.get(INGRESS_VERSION, "ingresses", NS, OBJECTS)
        .expect("the Ingress")
}

fn list(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// An operator replica of `http-module` publishing through `expose`.
async fn replica(
    fake: &FakeApiServer,
    expose: Option<ExposeConfig>,
    readiness: Arc<Readiness>,
) -> Operator {
    let config = OperatorConfig {
        module: MODULE.into(),
        version: "1.0.0".into(),
        namespace: NS.into(),
        advertise_addr: "web.flows.svc:8483".into(),
        image: String::new(),
        identity: "pod-0".into(),
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
    Operator::start(
        config,
        fake.client_as(NS, "pod-0"),
        Arc::new(Metrics::new()),
        readiness,
    )
    .await
    .expect("operator starts")
}

fn expose(ingress: bool) -> Option<ExposeConfig> {
    Some(ExposeConfig {
        resync: Duration::from_millis(200),
        ..ExposeConfig::new(OBJECTS, ingress.then_some(OBJECTS), "cluster.local")
    })
}

/// The port `SERVER` listens on, once it does.
async fn listening_port(op: &Operator) -> u16 {
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

/// `listenAddr` of the `_control` port in the server's TinyNode status, once the leader
/// has reported it running.
async fn reported_addresses(fake: &FakeApiServer) -> Vec<String> {
    fake.wait_until(WAIT, |f| {
        let node = f.get(GROUP_VERSION, "tinynodes", NS, SERVER)?;
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
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "no running _control state in the status: {:?}",
            fake.get(GROUP_VERSION, "tinynodes", NS, SERVER)
        )
    })
}

#[tokio::test]
async fn a_server_is_published_on_the_service_and_the_ingress_until_its_node_is_deleted() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    put_ingress(&fake);
    // Someone else writes the Service at the same moment, twice.
    fake.fail(
        Fault::new(409, "Conflict")
            .method("PUT")
            .path_contains("/services/web")
            .times(2),
    );
    let op = replica(&fake, expose(true), Arc::default()).await;
    put_flow(&fake);
    put_start(
        &fake,
        json!({"hostnames": ["echo.example.com"], "autoHostName": true, "readTimeout": 60, "writeTimeout": 10}),
    );
    let port = listening_port(&op).await;
    let number = i64::from(port);

    let port_name = format!("port{port}");
    let svc = fake
        .wait_until(WAIT, |f| {
            let svc = service(f);
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

    let hosts = ["echo.example.com", AUTO_HOST];
    assert_eq!(reported_addresses(&fake).await, hosts);
    let ing = ingress(&fake);
    let route = json!({"paths": [{"path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": OBJECTS, "port": {"number": number}}}}]});
    assert_eq!(
        ing["spec"]["rules"],
        json!([
            {"host": PLACEHOLDER},
            {"host": hosts[0], "http": route},
            {"host": hosts[1], "http": route}
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
    assert!(op.is_leader());
    assert!(fake.delete(GROUP_VERSION, "tinynodes", NS, SERVER));
    fake.wait_until(WAIT, |f| {
        f.get(GROUP_VERSION, "tinynodes", NS, SERVER)
            .is_none()
            .then_some(())
    })
    .await
    .expect("the finalizer lets the node go");
    let svc = fake
        .wait_until(WAIT, |f| {
            let svc = service(f);
            (list(&svc["spec"]["ports"]).len() == 1).then_some(svc)
        })
        .await
        .expect("the port is taken off the Service");
    assert_eq!(svc["spec"]["ports"][0]["name"], "grpc");
    let ing = ingress(&fake);
    assert_eq!(ing["spec"]["rules"], json!([{"host": PLACEHOLDER}]));
    assert!(list(&ing["spec"]["tls"]).is_empty(), "{ing}");
    assert_eq!(
        support::http::get_status_and_body(port, "/").await,
        None,
        "the listener is closed"
    );
    op.shutdown().await;
}

#[tokio::test]
async fn without_an_ingress_the_service_address_is_reported() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    let op = replica(&fake, expose(false), Arc::default()).await;
    put_flow(&fake);
    put_start(
        &fake,
        json!({"hostnames": ["echo.example.com"], "autoHostName": true, "readTimeout": 60, "writeTimeout": 10}),
    );
    let port = listening_port(&op).await;
    assert_eq!(
        reported_addresses(&fake).await,
        [format!("http://web.flows.svc.cluster.local:{port}")]
    );
    assert!(
        list(&service(&fake)["spec"]["ports"])
            .iter()
            .any(|p| p["port"] == i64::from(port))
    );
    assert_eq!(
        support::http::get_status_and_body(port, "/")
            .await
            .map(|r| r.0),
        Some(200),
        "served"
    );
    op.shutdown().await;
}

#[tokio::test]
async fn without_a_service_the_pod_address_is_reported() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let op = replica(&fake, None, Arc::default()).await;
    put_flow(&fake);
    put_start(&fake, json!({"readTimeout": 60, "writeTimeout": 10}));
    let port = listening_port(&op).await;
    assert_eq!(
        reported_addresses(&fake).await,
        [format!("http://127.0.0.1:{port}")]
    );
    op.shutdown().await;
}

#[tokio::test]
async fn ready_only_once_the_nodes_are_applied_and_a_recorded_server_listens() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    put_flow(&fake);
    // The server ran before this replica started: its start and port are in its status.
    let port = free_port();
    let mut server = fake
        .get(GROUP_VERSION, "tinynodes", NS, SERVER)
        .expect("the server node");
    server["status"] = json!({"metadata": {
        "http-start": json!({"autoHostName": true, "readTimeout": 60, "writeTimeout": 10}).to_string(),
        "port": port.to_string(),
    }});
    fake.put(GROUP_VERSION, "tinynodes", NS, server);

    let readiness = Arc::new(Readiness::default());
    let op = replica(&fake, expose(false), readiness.clone()).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while readiness.check().is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {:?}",
            readiness.check()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The moment it is ready, the server listens on its recorded port and is published.
    let listening = op.runtime().listeners();
    assert_eq!(
        listening
            .iter()
            .map(|(n, b)| (n.as_str(), b.port))
            .collect::<Vec<_>>(),
        [(SERVER, port)]
    );
    assert!(
        list(&service(&fake)["spec"]["ports"])
            .iter()
            .any(|p| p["name"] == format!("port{port}").as_str()),
        "{}",
        service(&fake)
    );
    assert_eq!(
        support::http::get_status_and_body(port, "/")
            .await
            .map(|r| r.0),
        Some(200)
    );
    op.shutdown().await;
}
