//! The cluster half against a real API server (etcd and kube-apiserver on loopback), on a
//! Service and an Ingress shaped as the chart renders them: what lands in the Service and
//! the Ingress, the fallbacks, leader-only withdrawal and the resync. The real server
//! validates every object the exposer writes (a port name over 15 characters, a rule or a
//! TLS entry it refuses would fail here), which a fake would take as given. Whether the
//! exposer wrote is read from the audit log, since a real server keeps an object's
//! resourceVersion across an update that changes nothing.
//!
//! Retrying conflicts stays on the fake API server: it needs a 409 Conflict answered to
//! chosen updates, which a real server gives only to a write that loses a race, never on
//! demand.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::PostParams;
use serde_json::{Value, json};
use tinyhost_control_plane::{ControlPlane, Options};
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

use super::*;

/// The namespace the chart is installed in.
const NS: &str = "tinysystems";
/// The Service's and the Ingress's name: the chart's full name for release `common-module`.
const NAME: &str = "common-module-tinyhost";
/// The host of the chart's placeholder rule (`<full name>.<namespace>.invalid`).
const PLACEHOLDER: &str = "common-module-tinyhost.tinysystems.invalid";
const SERVICE_URL: &str = "http://common-module-tinyhost.tinysystems.svc.cluster.local:31000";
const NODE: &str = "1a2b3c4d.http-module.http-server-x7k2p";
const WAIT: Duration = Duration::from_secs(10);

fn labels() -> Value {
    json!({
        "app.kubernetes.io/name": "tinyhost",
        "app.kubernetes.io/instance": "common-module",
        "app.kubernetes.io/component": "operator",
        "app.kubernetes.io/part-of": "tinysystems",
        "app.kubernetes.io/managed-by": "Helm",
        "tinysystems.io/module": "common-module",
    })
}

/// The Service as the chart renders it (`templates/service.yaml`, metrics on).
fn chart_service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": NAME, "namespace": NS, "labels": labels()},
        "spec": {
            "type": "ClusterIP",
            "selector": {
                "app.kubernetes.io/name": "tinyhost",
                "app.kubernetes.io/instance": "common-module",
            },
            "ports": [
                {"name": "grpc", "port": 8483, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "grpc"},
                {"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"},
            ],
        }
    })
}

/// The Ingress as the chart renders it (`templates/ingress.yaml`): the placeholder rule
/// only, and the hostname suffix annotation when given.
fn chart_ingress(suffix: Option<&str>) -> Value {
    let mut metadata = json!({"name": NAME, "namespace": NS, "labels": labels()});
    if let Some(suffix) = suffix {
        metadata["annotations"] = json!({HOSTNAME_SUFFIX_ANNOTATION: suffix});
    }
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": metadata,
        "spec": {"rules": [{"host": PLACEHOLDER}]}
    })
}

/// A real control plane (with its audit log) and an admin client, with the namespace made.
struct Cluster {
    cp: ControlPlane,
    client: kube::Client,
}

impl Cluster {
    /// Starts the servers on the calling thread: they die with it, so this runs in the
    /// test's body, not on a helper thread.
    async fn start() -> Cluster {
        let cp = ControlPlane::start_with(Options {
            audit: true,
            ..Options::default()
        })
        .unwrap_or_else(|e| panic!("the control plane did not start: {e}"));
        let kubeconfig =
            kube::config::Kubeconfig::read_from(cp.kubeconfig()).expect("the admin kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .expect("a client configuration");
        let client = kube::Client::try_from(config).expect("a kube client");
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": NS}})).expect("a Namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .expect("the namespace is made");
        Cluster { cp, client }
    }

    /// Makes `object` as given, or replaces what is there with it (no resourceVersion: an
    /// unconditional update, as a render of the chart overwrites the object); what the
    /// server stored.
    async fn put<K>(&self, object: Value) -> Value
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Serialize
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api = Api::<K>::namespaced(self.client.clone(), NS);
        let object: K = serde_json::from_value(object).expect("a valid object");
        let pp = PostParams::default();
        let stored = match api.get_opt(NAME).await.expect("reading the object") {
            None => api.create(&pp, &object).await,
            Some(_) => api.replace(NAME, &pp, &object).await,
        }
        .unwrap_or_else(|e| panic!("the API server refused {NAME}: {e}"));
        serde_json::to_value(stored).expect("json")
    }

    async fn put_service(&self) -> Value {
        self.put::<Service>(chart_service()).await
    }

    async fn put_ingress(&self, suffix: Option<&str>) -> Value {
        self.put::<Ingress>(chart_ingress(suffix)).await
    }

    async fn service(&self) -> Value {
        let svc = Api::<Service>::namespaced(self.client.clone(), NS)
            .get(NAME)
            .await
            .expect("the Service");
        serde_json::to_value(svc).expect("json")
    }

    async fn ingress(&self) -> Value {
        let ing = Api::<Ingress>::namespaced(self.client.clone(), NS)
            .get(NAME)
            .await
            .expect("the Ingress");
        serde_json::to_value(ing).expect("json")
    }

    async fn port_names(&self) -> Vec<String> {
        port_names(&self.service().await)
    }

    /// The writes to Services and Ingresses of the namespace the API server completed, by
    /// its audit log (written before each answer goes out).
    fn writes(&self) -> usize {
        std::fs::read_to_string(self.cp.audit_log())
            .expect("the audit log")
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|e| {
                let object = &e["objectRef"];
                e["stage"] == "ResponseComplete"
                    && ["create", "update", "patch", "delete"]
                        .contains(&e["verb"].as_str().unwrap_or_default())
                    && object["namespace"] == NS
                    && ["services", "ingresses"]
                        .contains(&object["resource"].as_str().unwrap_or_default())
            })
            .count()
    }

    fn exposer(&self, ingress: bool, leader: bool) -> (ClusterExposer, watch::Sender<bool>) {
        exposer(self.client.clone(), ingress, leader)
    }
}

fn port_names(service: &Value) -> Vec<String> {
    service["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

fn hosts_of(ingress: &Value, list: &str) -> Vec<String> {
    let mut hosts: Vec<String> = ingress["spec"][list]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| match list {
            "rules" => vec![entry["host"].clone()],
            _ => entry["hosts"].as_array().cloned().unwrap_or_default(),
        })
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    hosts.sort();
    hosts
}

fn exposer(
    client: kube::Client,
    ingress: bool,
    leader: bool,
) -> (ClusterExposer, watch::Sender<bool>) {
    let (tx, rx) = watch::channel(leader);
    let config = ExposeConfig {
        resync: Duration::from_millis(50),
        ..ExposeConfig::new(NAME, ingress.then_some(NAME), "cluster.local")
    };
    (ClusterExposer::new(client, NS, config, rx), tx)
}

fn asking(hostnames: &[&str], auto: bool) -> Exposure {
    Exposure {
        hostnames: hostnames.iter().map(|h| h.to_string()).collect(),
        auto_hostname: auto,
        tls: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_port_goes_on_the_service_and_the_host_names_on_the_ingress_once() {
    let cluster = Cluster::start().await;
    cluster.put_service().await;
    cluster.put_ingress(Some("apps.example.com")).await;
    let (exposer, _leader) = cluster.exposer(true, false);
    let urls = exposer
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    assert_eq!(
        urls,
        ["echo.example.com", "http-server-x7k2p-apps.example.com"]
    );
    assert_eq!(cluster.port_names().await, ["grpc", "metrics", "port31000"]);
    let ing = cluster.ingress().await;
    assert_eq!(
        hosts_of(&ing, "rules"),
        [
            PLACEHOLDER,
            "echo.example.com",
            "http-server-x7k2p-apps.example.com",
        ]
    );
    assert_eq!(
        hosts_of(&ing, "tls"),
        ["echo.example.com", "http-server-x7k2p-apps.example.com"]
    );
    assert_eq!(
        ing["spec"]["tls"][0]["secretName"], "echo.example.com-tls",
        "{ing}"
    );
    assert_eq!(
        ing["spec"]["rules"][1]["http"]["paths"][0]["backend"]["service"],
        json!({"name": NAME, "port": {"number": 31000}})
    );
    let writes = cluster.writes();
    assert_eq!(writes, 4, "the two objects made, then one update of each");
    // Exposing again (a resync, another replica) reads and does not write.
    exposer
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed again");
    exposer.resync().await;
    assert_eq!(cluster.writes(), writes, "no write when nothing changed");
    assert_eq!(exposer.exposed().get(NODE), Some(&31000));
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicting_updates_are_retried_on_a_fresh_read_up_to_five_times() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    fake.put("v1", "services", NS, chart_service());
    let port_names = || port_names(&fake.get("v1", "services", NS, NAME).expect("the Service"));
    let service_path = format!("/services/{NAME}");
    let (exposer, _leader) = exposer(fake.client(NS), false, false);
    fake.fail(
        Fault::new(409, "Conflict")
            .method("PUT")
            .path_contains(&service_path)
            .times(4),
    );
    exposer
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect("the fifth attempt succeeds");
    assert!(fake.pending_faults().is_empty());
    assert_eq!(port_names(), ["grpc", "metrics", "port31000"]);
    let reads = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&service_path))
        .count();
    assert_eq!(reads, 5, "each attempt reads the Service again");

    fake.fail(
        Fault::new(409, "Conflict")
            .method("PUT")
            .path_contains(&service_path)
            .times(5),
    );
    let error = exposer
        .expose_port(NODE, 31001, &asking(&[], true))
        .await
        .expect_err("five conflicts in a row");
    assert!(matches!(error, ExposeError::Conflicts { .. }), "{error}");
    assert_eq!(port_names(), ["grpc", "metrics", "port31000"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_ingress_or_a_host_name_the_service_address_is_reported() {
    let cluster = Cluster::start().await;
    cluster.put_service().await;
    // No Ingress configured.
    let (plain, _leader) = cluster.exposer(false, false);
    let urls = plain
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    assert_eq!(urls, [SERVICE_URL]);
    // A server that speaks TLS itself is reached with https.
    let tls = Exposure {
        tls: true,
        ..asking(&[], true)
    };
    let urls = plain.expose_port(NODE, 31000, &tls).await.expect("exposed");
    assert_eq!(
        urls,
        ["https://common-module-tinyhost.tinysystems.svc.cluster.local:31000"]
    );
    // Configured but missing.
    let (missing, _leader) = cluster.exposer(true, false);
    let urls = missing
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    assert_eq!(urls, [SERVICE_URL]);
    // Present, but no suffix for the automatic name and no name given.
    cluster.put_ingress(None).await;
    let urls = missing
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect("exposed");
    assert_eq!(urls, [SERVICE_URL]);
    assert_eq!(hosts_of(&cluster.ingress().await, "rules"), [PLACEHOLDER]);
    // Names an Ingress cannot carry are skipped; the others still go in.
    let urls = missing
        .expose_port(NODE, 31000, &asking(&["bad_name", "ok.example.com"], false))
        .await
        .expect("exposed");
    assert_eq!(urls, ["ok.example.com"]);
    assert_eq!(
        hosts_of(&cluster.ingress().await, "rules"),
        [PLACEHOLDER, "ok.example.com"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_service_is_an_error() {
    let cluster = Cluster::start().await;
    let (exposer, _leader) = cluster.exposer(false, false);
    let error = exposer
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect_err("no Service");
    assert!(error.is_not_found(), "{error}");
    assert!(
        error.to_string().starts_with(&format!("Service {NAME}: ")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_leader_withdraws_a_deleted_nodes_port() {
    let cluster = Cluster::start().await;
    cluster.put_service().await;
    cluster.put_ingress(Some("apps.example.com")).await;
    let (exposer, leader) = cluster.exposer(true, false);
    exposer
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    let writes = cluster.writes();
    exposer.withdraw_port(NODE, 31000).await.expect("a no-op");
    assert_eq!(cluster.writes(), writes, "a follower writes nothing");
    assert!(exposer.exposed().is_empty(), "but stops re-asserting it");

    leader.send_replace(true);
    exposer.withdraw_port(NODE, 31000).await.expect("withdrawn");
    assert_eq!(cluster.port_names().await, ["grpc", "metrics"]);
    let ing = cluster.ingress().await;
    assert_eq!(hosts_of(&ing, "rules"), [PLACEHOLDER]);
    assert!(hosts_of(&ing, "tls").is_empty(), "{ing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_resync_puts_back_what_an_upgrade_wiped_and_stops_on_shutdown() {
    let cluster = Cluster::start().await;
    cluster.put_service().await;
    cluster.put_ingress(Some("apps.example.com")).await;
    let (exposer, _leader) = cluster.exposer(true, false);
    exposer
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect("exposed");
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(exposer.clone().run(stopped));
    // `helm upgrade` renders the objects as the chart has them.
    let wiped = cluster.put_service().await;
    assert_eq!(port_names(&wiped), ["grpc", "metrics"], "{wiped}");
    let wiped = cluster.put_ingress(Some("apps.example.com")).await;
    assert_eq!(hosts_of(&wiped, "rules"), [PLACEHOLDER], "{wiped}");
    let deadline = Instant::now() + WAIT;
    loop {
        let ports = cluster.port_names().await;
        let rules = hosts_of(&cluster.ingress().await, "rules");
        if ports == ["grpc", "metrics", "port31000"]
            && rules == [PLACEHOLDER, "http-server-x7k2p-apps.example.com"]
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the resync did not restore the port and the rule: {ports:?}, {rules:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send_replace(true);
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the resync stops")
        .expect("no panic");
}
