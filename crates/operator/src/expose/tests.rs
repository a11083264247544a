//! The cluster half against the fake API server: what lands in the Service and the
//! Ingress, conflicts, the fallbacks, leader-only withdrawal and the resync.

use std::time::Duration;

use serde_json::{Value, json};
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

use super::*;

const NS: &str = "flows";
const NODE: &str = "1a2b3c4d.http-module.http-server-x7k2p";
const WAIT: Duration = Duration::from_secs(10);

fn put_service(fake: &FakeApiServer) {
    fake.put(
        "v1",
        "services",
        NS,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {"ports": [{"name": "grpc", "port": 8483, "targetPort": "grpc"}]}
        }),
    );
}

fn put_ingress(fake: &FakeApiServer, suffix: Option<&str>) {
    let annotations = suffix
        .map(|s| json!({HOSTNAME_SUFFIX_ANNOTATION: s}))
        .unwrap_or(json!({}));
    fake.put(
        "networking.k8s.io/v1",
        "ingresses",
        NS,
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": NS, "annotations": annotations},
            "spec": {"rules": [{"host": "web.flows.invalid"}]}
        }),
    );
}

fn service(fake: &FakeApiServer) -> Value {
    fake.get("v1", "services", NS, "web").expect("the Service")
}

fn ingress(fake: &FakeApiServer) -> Value {
    fake.get("networking.k8s.io/v1", "ingresses", NS, "web")
        .expect("the Ingress")
}

fn port_names(fake: &FakeApiServer) -> Vec<String> {
    service(fake)["spec"]["ports"]
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
    fake: &FakeApiServer,
    ingress: Option<&str>,
    leader: bool,
) -> (ClusterExposer, watch::Sender<bool>) {
    let (tx, rx) = watch::channel(leader);
    let config = ExposeConfig {
        resync: Duration::from_millis(50),
        ..ExposeConfig::new("web", ingress, "cluster.local")
    };
    (ClusterExposer::new(fake.client(NS), NS, config, rx), tx)
}

fn asking(hostnames: &[&str], auto: bool) -> Exposure {
    Exposure {
        hostnames: hostnames.iter().map(|h| h.to_string()).collect(),
        auto_hostname: auto,
        tls: false,
    }
}

#[tokio::test]
async fn the_port_goes_on_the_service_and_the_host_names_on_the_ingress_once() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    put_ingress(&fake, Some("apps.example.com"));
    let (exposer, _leader) = exposer(&fake, Some("web"), false);
    let urls = exposer
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    assert_eq!(
        urls,
        ["echo.example.com", "http-server-x7k2p-apps.example.com"]
    );
    assert_eq!(port_names(&fake), ["grpc", "port31000"]);
    let ing = ingress(&fake);
    assert_eq!(
        hosts_of(&ing, "rules"),
        [
            "echo.example.com",
            "http-server-x7k2p-apps.example.com",
            "web.flows.invalid"
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
        json!({"name": "web", "port": {"number": 31000}})
    );
    // Exposing again (a resync, another replica) reads and does not write.
    let version = fake.resource_version();
    exposer
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed again");
    exposer.resync().await;
    assert_eq!(
        fake.resource_version(),
        version,
        "no write when nothing changed"
    );
    assert_eq!(exposer.exposed().get(NODE), Some(&31000));
}

#[tokio::test]
async fn conflicting_updates_are_retried_on_a_fresh_read_up_to_five_times() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    let (exposer, _leader) = exposer(&fake, None, false);
    fake.fail(
        Fault::new(409, "Conflict")
            .method("PUT")
            .path_contains("/services/web")
            .times(4),
    );
    exposer
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect("the fifth attempt succeeds");
    assert!(fake.pending_faults().is_empty());
    assert_eq!(port_names(&fake), ["grpc", "port31000"]);
    let reads = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/services/web"))
        .count();
    assert_eq!(reads, 5, "each attempt reads the Service again");

    fake.fail(
        Fault::new(409, "Conflict")
            .method("PUT")
            .path_contains("/services/web")
            .times(5),
    );
    let error = exposer
        .expose_port(NODE, 31001, &asking(&[], true))
        .await
        .expect_err("five conflicts in a row");
    assert!(matches!(error, ExposeError::Conflicts { .. }), "{error}");
    assert_eq!(port_names(&fake), ["grpc", "port31000"]);
}

#[tokio::test]
async fn without_an_ingress_or_a_host_name_the_service_address_is_reported() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    let service_url = ["http://web.flows.svc.cluster.local:31000"];
    // No Ingress configured.
    let (plain, _leader) = exposer(&fake, None, false);
    let urls = plain
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    assert_eq!(urls, service_url);
    // A server that speaks TLS itself is reached with https.
    let tls = Exposure {
        tls: true,
        ..asking(&[], true)
    };
    let urls = plain.expose_port(NODE, 31000, &tls).await.expect("exposed");
    assert_eq!(urls, ["https://web.flows.svc.cluster.local:31000"]);
    // Configured but missing.
    let (missing, _leader) = exposer(&fake, Some("web"), false);
    let urls = missing
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    assert_eq!(urls, service_url);
    // Present, but no suffix for the automatic name and no name given.
    put_ingress(&fake, None);
    let urls = missing
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect("exposed");
    assert_eq!(urls, service_url);
    assert_eq!(hosts_of(&ingress(&fake), "rules"), ["web.flows.invalid"]);
    // Names an Ingress cannot carry are skipped; the others still go in.
    let urls = missing
        .expose_port(NODE, 31000, &asking(&["bad_name", "ok.example.com"], false))
        .await
        .expect("exposed");
    assert_eq!(urls, ["ok.example.com"]);
}

#[tokio::test]
async fn a_missing_service_is_an_error() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    let (exposer, _leader) = exposer(&fake, None, false);
    let error = exposer
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect_err("no Service");
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().starts_with("Service web: "), "{error}");
}

#[tokio::test]
async fn only_the_leader_withdraws_a_deleted_nodes_port() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    put_ingress(&fake, Some("apps.example.com"));
    let (exposer, leader) = exposer(&fake, Some("web"), false);
    exposer
        .expose_port(NODE, 31000, &asking(&["echo.example.com"], true))
        .await
        .expect("exposed");
    let version = fake.resource_version();
    exposer.withdraw_port(NODE, 31000).await.expect("a no-op");
    assert_eq!(
        fake.resource_version(),
        version,
        "a follower writes nothing"
    );
    assert!(exposer.exposed().is_empty(), "but stops re-asserting it");

    leader.send_replace(true);
    exposer.withdraw_port(NODE, 31000).await.expect("withdrawn");
    assert_eq!(port_names(&fake), ["grpc"]);
    let ing = ingress(&fake);
    assert_eq!(hosts_of(&ing, "rules"), ["web.flows.invalid"]);
    assert!(hosts_of(&ing, "tls").is_empty(), "{ing}");
}

#[tokio::test]
async fn the_resync_puts_back_what_an_upgrade_wiped_and_stops_on_shutdown() {
    let fake = FakeApiServer::start().await.expect("fake API server");
    put_service(&fake);
    put_ingress(&fake, Some("apps.example.com"));
    let (exposer, _leader) = exposer(&fake, Some("web"), false);
    exposer
        .expose_port(NODE, 31000, &asking(&[], true))
        .await
        .expect("exposed");
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(exposer.clone().run(stopped));
    // `helm upgrade` renders the objects as the chart has them.
    put_service(&fake);
    put_ingress(&fake, Some("apps.example.com"));
    fake.wait_until(WAIT, |f| {
        (port_names(f) == ["grpc", "port31000"] && hosts_of(&ingress(f), "rules").len() == 2)
            .then_some(())
    })
    .await
    .expect("the resync restores the port and the rule");
    stop.send_replace(true);
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the resync stops")
        .expect("no panic");
}
