//! The Helm chart (`charts/tinyhost`), rendered by real `helm` and checked against the
//! Kubernetes API types and the operator's process interface, linted by `helm lint`, and
//! installed into a real API server, which must accept every object it renders.
//!
//! Real helm, not an emulation of its template engine and value merging: what users run
//! is helm, so only helm's output shows what they get. It is built from its Go module by
//! `tinyhost-control-plane`, like the test cluster's servers; when it cannot be built the
//! tests fail with the reason. Each rendered document is deserialised into its
//! `k8s_openapi` type and serialised again: comparing the two finds misspelled or unknown
//! fields (which `k8s_openapi` ignores) without a cluster, and the one cluster test leaves
//! the last word to the API server's own validation.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    Container, EnvVar, PodSpec, Service, ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use support::cluster::{control_plane, get_json, kubectl_ok};

const MODULE: &str = "common-module";
const RELEASE: &str = "common";
const NAMESPACE: &str = "tinysystems";

/// The flags of the operator's process interface that the chart may pass by itself.
const OPERATOR_FLAGS: &[&str] = &[
    "name",
    "version",
    "namespace",
    "kubeconfig",
    "metrics-bind-address",
    "health-probe-bind-address",
    "grpc-server-bind-address",
    "advertise-addr",
    "components",
    "image",
    "identity",
    "cache-dir",
    "log",
    "cluster-domain",
    "http-service",
    "http-ingress",
    "allow-outbound-http",
];

/// Exactly the API access the operator needs on any object of a kind: (API group,
/// resource, verbs). Access to the release's own Service and Ingress is limited to those
/// objects by name ([`object_rules`]).
const OPERATOR_RULES: &[(&str, &str, &[&str])] = &[
    (
        "operator.tinysystems.io",
        "tinynodes",
        &["get", "list", "watch", "update", "patch"],
    ),
    (
        "operator.tinysystems.io",
        "tinynodes/status",
        &["get", "update", "patch"],
    ),
    (
        "operator.tinysystems.io",
        "tinynodes/finalizers",
        &["update"],
    ),
    (
        "operator.tinysystems.io",
        "tinymodules",
        &["get", "list", "watch", "create", "update", "patch"],
    ),
    (
        "operator.tinysystems.io",
        "tinymodules/status",
        &["get", "update", "patch"],
    ),
    (
        "operator.tinysystems.io",
        "tinysignals",
        &["get", "list", "watch", "delete"],
    ),
    (
        "coordination.k8s.io",
        "leases",
        &["get", "list", "watch", "create", "update", "patch"],
    ),
];

/// What the operator's HTTP exposure needs, on the objects named: (API group, resource,
/// verbs, resource names). The Service always; the Ingress when the chart creates one.
fn object_rules(m: &Manifests) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut rules = vec![(
        String::new(),
        "services".to_string(),
        strings(&["get", "update"]),
        vec![m.service.metadata.name.clone().expect("a Service name")],
    )];
    if let Some(ingress) = &m.ingress {
        rules.push((
            "networking.k8s.io".to_string(),
            "ingresses".to_string(),
            strings(&["get", "update"]),
            vec![ingress.metadata.name.clone().expect("an Ingress name")],
        ));
    }
    rules
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chart_dir() -> PathBuf {
    repo_root().join("charts").join("tinyhost")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yaml_file(path: &Path) -> Value {
    serde_norway::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// helm

/// The `helm` binary; a test that needs it fails when it cannot be built.
fn helm_binary() -> PathBuf {
    tinyhost_control_plane::tools()
        .unwrap_or_else(|e| panic!("helm is needed to render the chart: {e}"))
        .helm()
}

/// Runs `helm ARGS` with no cluster and its homes in a fresh temporary folder, so that
/// neither the user's helm configuration nor their kubeconfig plays a part.
fn offline_helm(args: &[OsString]) -> Output {
    let homes = tempfile::tempdir().expect("a temporary folder for helm's homes");
    let home = |name: &str| homes.path().join(name);
    Command::new(helm_binary())
        .args(args)
        .env("HELM_CACHE_HOME", home("cache"))
        .env("HELM_CONFIG_HOME", home("config"))
        .env("HELM_DATA_HOME", home("data"))
        .env("KUBECONFIG", home("kubeconfig"))
        .env_remove("HELM_NAMESPACE")
        .env_remove("HELM_KUBECONTEXT")
        .env_remove("HELM_DEBUG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run helm: {e}"))
}

/// helm's two output streams, for failure messages.
fn both_streams(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One release of the chart: a release name, a namespace and value overrides.
struct Install {
    release: String,
    namespace: String,
    /// `(path, value)` in order, as `--set-json path=value` (later ones win, maps merge).
    overrides: Vec<(String, Value)>,
}

impl Install {
    /// The chart with the module name set, as the documentation installs it.
    fn new() -> Self {
        Install::without_module().set("module.name", json!(MODULE))
    }

    fn without_module() -> Self {
        Install {
            release: RELEASE.to_string(),
            namespace: NAMESPACE.to_string(),
            overrides: Vec::new(),
        }
    }

    fn set(mut self, path: &str, value: Value) -> Self {
        self.overrides.push((path.to_string(), value));
        self
    }

    fn release(mut self, release: &str, namespace: &str) -> Self {
        self.release = release.to_string();
        self.namespace = namespace.to_string();
        self
    }

    /// `COMMAND RELEASE CHART --namespace NS --set-json PATH=JSON ...`.
    fn args(&self, command: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            command.into(),
            self.release.clone().into(),
            chart_dir().into(),
            "--namespace".into(),
            self.namespace.clone().into(),
        ];
        for (path, value) in &self.overrides {
            args.push("--set-json".into());
            args.push(format!("{path}={value}").into());
        }
        args
    }

    /// `helm template`: the rendered manifests, or helm's error message.
    fn render(&self) -> Result<String, String> {
        let output = offline_helm(&self.args("template"));
        if output.status.success() {
            Ok(String::from_utf8(output.stdout).expect("helm prints UTF-8"))
        } else {
            Err(both_streams(&output).trim().to_string())
        }
    }

    /// The rendered NOTES.txt, which `helm template` leaves out: a client-side dry run of
    /// `helm install` (no cluster either) reports it with the release.
    fn notes(&self) -> String {
        let mut args = self.args("install");
        args.extend(["--dry-run=client", "--output=json"].map(OsString::from));
        let output = offline_helm(&args);
        assert!(
            output.status.success(),
            "NOTES.txt does not render: {}",
            both_streams(&output)
        );
        let release: Value =
            serde_json::from_slice(&output.stdout).expect("helm prints the release as JSON");
        release["info"]["notes"]
            .as_str()
            .unwrap_or_else(|| panic!("the release has no notes: {release}"))
            .to_string()
    }

    /// Renders and checks every document (see [`Manifests::parse`]).
    fn manifests(&self) -> Manifests {
        let text = self
            .render()
            .unwrap_or_else(|e| panic!("the chart does not render: {e}"));
        Manifests::parse(&text, &self.namespace)
    }
}

// ---------------------------------------------------------------------------------------
// Rendered objects

/// The rendered objects, each also as its typed Kubernetes object.
struct Manifests {
    docs: Vec<Value>,
    deployment: Deployment,
    service: Service,
    service_account: Option<ServiceAccount>,
    role: Option<Role>,
    role_binding: Option<RoleBinding>,
    ingress: Option<Ingress>,
}

impl Manifests {
    /// Parses the multi-document output and checks each document: it is an object with
    /// apiVersion, kind and a DNS-1123 name in the release namespace, with valid labels;
    /// it is one of the kinds the chart is meant to produce, once; and it deserialises into
    /// its `k8s_openapi` type with no field the type does not know.
    fn parse(text: &str, namespace: &str) -> Manifests {
        let mut docs = Vec::new();
        for document in serde_norway::Deserializer::from_str(text) {
            let doc = Value::deserialize(document)
                .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{text}"));
            assert!(
                doc.is_object(),
                "a rendered document is not an object: {doc}\n{text}"
            );
            docs.push(doc);
        }
        let mut kinds = BTreeMap::<String, usize>::new();
        for doc in &docs {
            let kind = doc["kind"].as_str().unwrap_or_default();
            *kinds.entry(kind.to_string()).or_default() += 1;
            assert!(doc["apiVersion"].is_string(), "no apiVersion: {doc}");
            let name = doc["metadata"]["name"].as_str().unwrap_or_default();
            assert!(
                is_dns1123_label(name),
                "{kind} name {name:?} is not a DNS-1123 label"
            );
            assert_eq!(
                doc["metadata"]["namespace"], namespace,
                "{kind} {name} is not in the release namespace"
            );
            check_labels(&doc["metadata"]["labels"], &format!("{kind} {name}"));
        }
        for (kind, count) in &kinds {
            assert!(
                [
                    "Deployment",
                    "Service",
                    "ServiceAccount",
                    "Role",
                    "RoleBinding",
                    "Ingress"
                ]
                .contains(&kind.as_str()),
                "the chart renders an unexpected kind {kind:?}"
            );
            assert_eq!(
                *count, 1,
                "the chart renders {count} objects of kind {kind}"
            );
        }
        let find = |kind: &str| docs.iter().find(|doc| doc["kind"] == kind);
        let deployment: Deployment = typed(find("Deployment").expect("a Deployment"));
        let service: Service = typed(find("Service").expect("a Service"));
        assert!(
            is_dns1035_label(service.metadata.name.as_deref().unwrap_or_default()),
            "a Service name must be a DNS-1035 label"
        );
        let template = deployment
            .spec
            .as_ref()
            .and_then(|spec| spec.template.metadata.as_ref())
            .map(|meta| json!(meta.labels));
        check_labels(&template.unwrap_or_default(), "the pod template");
        Manifests {
            service_account: find("ServiceAccount").map(typed),
            role: find("Role").map(typed),
            role_binding: find("RoleBinding").map(typed),
            ingress: find("Ingress").map(typed),
            deployment,
            service,
            docs,
        }
    }

    fn container(&self) -> &Container {
        let pod = self.pod();
        assert_eq!(pod.containers.len(), 1, "one container");
        &pod.containers[0]
    }

    fn pod(&self) -> &PodSpec {
        self.deployment
            .spec
            .as_ref()
            .and_then(|spec| spec.template.spec.as_ref())
            .expect("the Deployment has a pod spec")
    }

    fn args(&self) -> &[String] {
        self.container().args.as_deref().unwrap_or_default()
    }

    /// The values of `--<name>=<value>` arguments, in order.
    fn flag(&self, name: &str) -> Vec<&str> {
        let prefix = format!("--{name}=");
        self.args()
            .iter()
            .filter_map(|arg| arg.strip_prefix(&prefix))
            .collect()
    }

    fn only_flag(&self, name: &str) -> &str {
        match self.flag(name).as_slice() {
            [value] => value,
            other => panic!("--{name} is given {} times: {other:?}", other.len()),
        }
    }

    fn env(&self, name: &str) -> &EnvVar {
        find(&self.container().env, |var| var.name == name)
            .unwrap_or_else(|| panic!("no env {name}"))
    }

    fn container_port(&self, name: &str) -> Option<i32> {
        find(&self.container().ports, |port| {
            port.name.as_deref() == Some(name)
        })
        .map(|port| port.container_port)
    }

    fn mount(&self, volume: &str) -> &VolumeMount {
        find(&self.container().volume_mounts, |mount| {
            mount.name == volume
        })
        .unwrap_or_else(|| panic!("no mount of the volume {volume}"))
    }

    fn volume(&self, name: &str) -> &Volume {
        find(&self.pod().volumes, |volume| volume.name == name)
            .unwrap_or_else(|| panic!("no volume {name}"))
    }
}

/// The first entry of an optional list that matches.
fn find<T>(list: &Option<Vec<T>>, matches: impl Fn(&T) -> bool) -> Option<&T> {
    list.as_deref()
        .unwrap_or_default()
        .iter()
        .find(|item| matches(item))
}

/// Deserialises a rendered object into its Kubernetes type and fails on any field the type
/// does not have (`k8s_openapi` ignores them, the API server may reject or drop them).
fn typed<T: DeserializeOwned + Serialize>(doc: &Value) -> T {
    let what = format!("{} {}", doc["kind"], doc["metadata"]["name"]);
    let object: T = serde_json::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("{what} is not a valid object: {e}\n{doc:#}"));
    let back = serde_json::to_value(&object).expect("a typed object serialises");
    let problems = differences(doc, &back);
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
    object
}

/// Where `rendered` has what `typed` (the same object after a round trip through its type)
/// lacks or reads differently: unknown or misspelled fields, mostly. Nulls are skipped,
/// as the API server skips them.
fn differences(rendered: &Value, typed: &Value) -> Vec<String> {
    fn walk(rendered: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
        match (rendered, typed) {
            (Value::Object(fields), Value::Object(known)) => {
                for (key, value) in fields {
                    let here = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    match known.get(key) {
                        _ if value.is_null() => {}
                        None => out.push(format!("{here}: unknown field")),
                        Some(known) => walk(value, known, &here, out),
                    }
                }
            }
            (Value::Array(items), Value::Array(known)) if items.len() == known.len() => {
                for (i, (item, known)) in items.iter().zip(known).enumerate() {
                    walk(item, known, &format!("{path}[{i}]"), out);
                }
            }
            _ if rendered == typed => {}
            _ => out.push(format!("{path}: rendered {rendered}, reads as {typed}")),
        }
    }
    let mut out = Vec::new();
    walk(rendered, typed, "", &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Name and label rules (k8s.io/apimachinery validation)

fn is_dns1123_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn is_dns1035_label(name: &str) -> bool {
    is_dns1123_label(name) && name.as_bytes()[0].is_ascii_lowercase()
}

fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns1123_label)
}

/// A label value, or the name part of a label key: at most 63 alphanumerics, `-`, `_`,
/// `.`, starting and ending with an alphanumeric.
fn is_qualified_name_part(value: &str) -> bool {
    let bytes = value.as_bytes();
    value.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
        && bytes.first().is_none_or(u8::is_ascii_alphanumeric)
        && bytes.last().is_none_or(u8::is_ascii_alphanumeric)
}

fn is_label_key(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    (key.find('/') == key.rfind('/'))
        && (prefix.is_empty() || is_dns1123_subdomain(prefix))
        && !name.is_empty()
        && is_qualified_name_part(name)
}

fn check_labels(labels: &Value, what: &str) {
    let Some(labels) = labels.as_object() else {
        panic!("{what} has no labels");
    };
    for (key, value) in labels {
        assert!(is_label_key(key), "{what}: label key {key:?} is invalid");
        let value = value
            .as_str()
            .unwrap_or_else(|| panic!("{what}: label {key} is not a string: {value}"));
        assert!(
            is_qualified_name_part(value),
            "{what}: label {key}={value:?} is not a valid label value"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The chart's files

#[test]
fn helm_lint_passes_with_the_default_values_and_strictly_with_a_module_name() {
    let chart = OsString::from(chart_dir());
    let runs: [Vec<OsString>; 2] = [
        vec!["lint".into(), chart.clone()],
        vec![
            "lint".into(),
            "--strict".into(),
            chart,
            "--set".into(),
            format!("module.name={MODULE}").into(),
        ],
    ];
    for args in runs {
        let output = offline_helm(&args);
        assert!(
            output.status.success(),
            "helm {args:?} failed:\n{}",
            both_streams(&output)
        );
    }
}

#[test]
fn chart_yaml_names_the_chart_and_the_crate_version() {
    let chart = yaml_file(&chart_dir().join("Chart.yaml"));
    assert_eq!(
        chart["name"], "tinyhost",
        "the name matches the chart folder"
    );
    assert_eq!(chart["type"], "application");
    assert_eq!(
        chart["appVersion"],
        env!("CARGO_PKG_VERSION"),
        "Chart.yaml appVersion is the tinyhost version"
    );
}

#[test]
fn every_value_in_values_yaml_is_used_by_a_template() {
    let values = yaml_file(&chart_dir().join("values.yaml"));
    let templates_dir = chart_dir().join("templates");
    let mut templates = String::new();
    for entry in std::fs::read_dir(&templates_dir).expect("templates/ exists") {
        templates.push_str(&read(&entry.expect("a directory entry").path()));
    }
    // A path is used when `.Values.<path>` or `.Values.<ancestor>` appears as a whole
    // reference (not followed by a further `.field`).
    let used = |path: &str| {
        let reference = format!(".Values.{path}");
        templates.match_indices(&reference).any(|(at, _)| {
            templates[at + reference.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        })
    };
    fn leaves(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, value) in map {
                    let here = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    leaves(value, &here, out);
                }
            }
            _ => out.push(path.to_string()),
        }
    }
    let mut paths = Vec::new();
    leaves(&values, "", &mut paths);
    for path in paths {
        let mut ancestors = path.match_indices('.').map(|(at, _)| &path[..at]);
        assert!(
            used(&path) || ancestors.any(used),
            "values.yaml's {path} is not used by any template"
        );
    }
}

#[test]
fn chart_crds_are_the_generated_crds() {
    let generated = repo_root().join("crds");
    let copies = chart_dir().join("crds");
    let names = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let hint = "copy crds/*.yaml into charts/tinyhost/crds/ (`cargo run -- crds --out charts/tinyhost/crds`)";
    let expected = names(&generated);
    assert!(!expected.is_empty(), "crds/ is empty");
    assert_eq!(names(&copies), expected, "{hint}");
    for name in &expected {
        let original = std::fs::read(generated.join(name)).expect("readable");
        let copy = std::fs::read(copies.join(name)).expect("readable");
        assert!(
            original == copy,
            "charts/tinyhost/crds/{name} differs from crds/{name}; {hint}"
        );
    }
}

#[test]
fn every_template_renders_into_valid_objects_and_notes_render() {
    let manifests = Install::new().manifests();
    let kinds: BTreeSet<&str> = manifests
        .docs
        .iter()
        .filter_map(|doc| doc["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "Deployment",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount"
        ])
    );
    let notes = Install::new().notes();
    assert!(notes.contains(MODULE), "{notes}");
    assert!(
        notes.contains("common-tinyhost.tinysystems.svc.cluster.local:8483"),
        "{notes}"
    );
}

#[test]
fn a_long_release_name_still_gives_valid_names_and_labels() {
    // Helm allows release names of up to 53 characters.
    let release = "a-rather-long-release-name-for-the-tinyhost-operator";
    let manifests = Install::new().release(release, "flows").manifests();
    for doc in &manifests.docs {
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        assert!(name.len() <= 63 && name.starts_with(release), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// The Deployment runs the operator with its process interface

#[test]
fn deployment_runs_the_operator_with_the_contract_flags() {
    let m = Install::new().manifests();
    let args = m.args();
    assert_eq!(
        args.first().map(String::as_str),
        Some("operator"),
        "{args:?}"
    );
    for arg in &args[1..] {
        let flag = arg
            .strip_prefix("--")
            .and_then(|rest| rest.split_once('='))
            .map(|(flag, _)| flag)
            .unwrap_or_else(|| panic!("{arg:?} is not --flag=value"));
        assert!(
            OPERATOR_FLAGS.contains(&flag),
            "--{flag} is not an operator flag"
        );
    }
    assert_eq!(m.only_flag("name"), MODULE);
    assert_eq!(m.only_flag("version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(m.only_flag("namespace"), NAMESPACE);
    assert_eq!(m.only_flag("grpc-server-bind-address"), ":8483");
    assert_eq!(m.only_flag("metrics-bind-address"), ":8080");
    assert_eq!(m.only_flag("health-probe-bind-address"), ":8081");
    assert_eq!(m.only_flag("log"), "info");
    assert_eq!(m.only_flag("cluster-domain"), "cluster.local");
    assert!(m.flag("components").is_empty(), "{args:?}");
    let image = m.container().image.as_deref().expect("an image");
    assert_eq!(image, format!("tinyhost:{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        m.only_flag("image"),
        image,
        "the TinyModule names the running image"
    );

    let spec = m.deployment.spec.as_ref().expect("a spec");
    assert_eq!(spec.replicas, Some(1));

    let pod_ip = m.env("POD_IP");
    let field = pod_ip
        .value_from
        .as_ref()
        .and_then(|from| from.field_ref.as_ref())
        .expect("POD_IP comes from a fieldRef");
    assert_eq!(field.field_path, "status.podIP");
    let service = m.service.metadata.name.as_deref().expect("a Service name");
    assert_eq!(
        m.env("SELF_SERVICE_HOST").value.as_deref(),
        Some(format!("{service}.{NAMESPACE}.svc.cluster.local:8483").as_str()),
        "the module advertises its Service address"
    );
}

#[test]
fn version_image_and_ports_follow_the_values() {
    let m = Install::new()
        .set("module.version", json!("v1.2.3"))
        .set("image.repository", json!("registry.example/tinyhost"))
        .set("image.tag", json!("1.2.3"))
        .set("replicas", json!(3))
        .set(
            "ports",
            json!({"grpc": 9000, "metrics": 9001, "health": 9002}),
        )
        .set("clusterDomain", json!("corp.internal"))
        .set("logLevel", json!("warn,tinyhost=debug"))
        .manifests();
    assert_eq!(m.only_flag("version"), "1.2.3", "no leading v");
    assert_eq!(m.only_flag("image"), "registry.example/tinyhost:1.2.3");
    assert_eq!(
        m.container().image.as_deref(),
        Some("registry.example/tinyhost:1.2.3")
    );
    assert_eq!(m.deployment.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(m.only_flag("grpc-server-bind-address"), ":9000");
    assert_eq!(m.only_flag("metrics-bind-address"), ":9001");
    assert_eq!(m.only_flag("health-probe-bind-address"), ":9002");
    assert_eq!(m.only_flag("log"), "warn,tinyhost=debug");
    assert_eq!(m.only_flag("cluster-domain"), "corp.internal");
    assert_eq!(
        (
            m.container_port("grpc"),
            m.container_port("metrics"),
            m.container_port("health")
        ),
        (Some(9000), Some(9001), Some(9002))
    );
    assert!(
        m.env("SELF_SERVICE_HOST")
            .value
            .as_deref()
            .is_some_and(|v| v.ends_with(".tinysystems.svc.corp.internal:9000")),
        "{:?}",
        m.env("SELF_SERVICE_HOST")
    );
}

#[test]
fn probes_hit_healthz_and_readyz_on_the_health_port() {
    let m = Install::new().manifests();
    let health: i32 = m
        .only_flag("health-probe-bind-address")
        .trim_start_matches(':')
        .parse()
        .expect("a port");
    assert_eq!(m.container_port("health"), Some(health));
    let container = m.container();
    for (probe, path) in [
        (container.liveness_probe.as_ref(), "/healthz"),
        (container.readiness_probe.as_ref(), "/readyz"),
    ] {
        let get = probe
            .and_then(|p| p.http_get.as_ref())
            .unwrap_or_else(|| panic!("no HTTP probe for {path}"));
        assert_eq!(get.path.as_deref(), Some(path));
        let port = match &get.port {
            IntOrString::String(name) => m.container_port(name),
            IntOrString::Int(port) => Some(*port),
        };
        assert_eq!(port, Some(health), "{path} is probed on the health port");
    }
}

#[test]
fn container_ports_match_the_bind_flags() {
    let m = Install::new().manifests();
    for (name, flag) in [
        ("grpc", "grpc-server-bind-address"),
        ("metrics", "metrics-bind-address"),
        ("health", "health-probe-bind-address"),
    ] {
        let port: i32 = m
            .only_flag(flag)
            .trim_start_matches(':')
            .parse()
            .expect("a port");
        assert_eq!(m.container_port(name), Some(port), "{name} vs --{flag}");
    }
    let default_ports = (
        m.container_port("grpc"),
        m.container_port("metrics"),
        m.container_port("health"),
    );
    assert_eq!(default_ports, (Some(8483), Some(8080), Some(8081)));
}

#[test]
fn metrics_can_be_turned_off() {
    let m = Install::new()
        .set("metrics.enabled", json!(false))
        .manifests();
    assert_eq!(m.only_flag("metrics-bind-address"), "0");
    assert_eq!(m.container_port("metrics"), None);
    let ports = m
        .service
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    assert!(ports.iter().all(|p| p.name.as_deref() != Some("metrics")));
}

#[test]
fn pod_runs_non_root_with_a_read_only_root_and_writable_cache_and_tmp() {
    let m = Install::new().manifests();
    let pod = m
        .pod()
        .security_context
        .as_ref()
        .expect("a pod security context");
    assert_eq!(pod.run_as_non_root, Some(true));
    assert!(pod.run_as_user.is_some_and(|uid| uid != 0));
    assert_eq!(
        pod.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
        Some("RuntimeDefault")
    );
    let container = m
        .container()
        .security_context
        .as_ref()
        .expect("a container security context");
    assert_eq!(container.run_as_non_root, Some(true));
    assert_eq!(container.read_only_root_filesystem, Some(true));
    assert_eq!(container.allow_privilege_escalation, Some(false));
    assert_ne!(container.privileged, Some(true));
    let capabilities = container.capabilities.as_ref().expect("capabilities");
    assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_string()][..]));
    assert!(capabilities.add.as_deref().unwrap_or_default().is_empty());
    assert_eq!(
        container.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
        Some("RuntimeDefault")
    );

    let cache_dir = m.only_flag("cache-dir");
    assert_eq!(m.mount("cache").mount_path, cache_dir);
    assert_ne!(m.mount("cache").read_only, Some(true));
    assert!(
        m.volume("cache").empty_dir.is_some(),
        "the cache is an emptyDir"
    );
    assert_eq!(m.mount("tmp").mount_path, "/tmp");
    assert!(m.volume("tmp").empty_dir.is_some(), "/tmp is an emptyDir");
    assert_eq!(
        m.env("HOME").value.as_deref(),
        Some(cache_dir),
        "HOME is writable (the Go toolchain needs one)"
    );
    let volumes: BTreeSet<&str> = m
        .pod()
        .volumes
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    for mount in m.container().volume_mounts.as_deref().unwrap_or_default() {
        assert!(
            volumes.contains(mount.name.as_str()),
            "{} has no volume",
            mount.name
        );
    }
}

#[test]
fn outbound_http_hosts_are_passed_one_flag_each_and_none_by_default() {
    let m = Install::new().manifests();
    assert!(m.flag("allow-outbound-http").is_empty());
    let m = Install::new()
        .set(
            "allowOutboundHttp",
            json!(["api.example.com", "*.internal:8080"]),
        )
        .manifests();
    assert_eq!(
        m.flag("allow-outbound-http"),
        ["api.example.com", "*.internal:8080"]
    );
}

#[test]
fn components_config_map_is_mounted_read_only_and_passed_as_components() {
    let m = Install::new()
        .set(
            "components",
            json!(["/opt/components/greeter.wasm", "/opt/more"]),
        )
        .set("componentsConfigMap", json!("my-components"))
        .manifests();
    let mount = m.mount("components");
    assert_eq!(mount.read_only, Some(true));
    assert_eq!(
        m.flag("components"),
        [
            "/opt/components/greeter.wasm",
            "/opt/more",
            mount.mount_path.as_str()
        ]
    );
    let config_map = m
        .volume("components")
        .config_map
        .as_ref()
        .expect("a ConfigMap volume");
    assert_eq!(config_map.name, "my-components");
    let notes = Install::new()
        .set("componentsConfigMap", json!("my-components"))
        .notes();
    assert!(notes.contains("my-components"), "{notes}");
}

#[test]
fn oci_components_take_registry_credentials_from_a_pull_secret_and_named_insecure_registries() {
    let m = Install::new().manifests();
    assert!(m.flag("registry-config").is_empty());
    assert!(m.flag("insecure-registry").is_empty());
    let m = Install::new()
        .set(
            "components",
            json!(["oci://registry.example/flows/greeter:1.0.0"]),
        )
        .set("registryCredentialsSecret", json!("regcred"))
        .set("insecureRegistries", json!(["registry.flows.svc:5000"]))
        .manifests();
    assert_eq!(
        m.flag("components"),
        ["oci://registry.example/flows/greeter:1.0.0"]
    );
    let mount = m.mount("registry-credentials");
    assert_eq!(mount.read_only, Some(true));
    assert_eq!(
        m.flag("registry-config"),
        [format!("{}/.dockerconfigjson", mount.mount_path)]
    );
    assert_eq!(m.flag("insecure-registry"), ["registry.flows.svc:5000"]);
    let secret = m
        .volume("registry-credentials")
        .secret
        .as_ref()
        .expect("a Secret volume");
    assert_eq!(secret.secret_name.as_deref(), Some("regcred"));
    let items = secret.items.as_ref().expect("the one key");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].key, ".dockerconfigjson");
}

/// An install using every way the chart loads components: a path, an OCI reference with
/// registry credentials and a plain-HTTP registry, and a ConfigMap. Parsed as operator
/// flags in one test, installed into the API server in another.
fn every_component_source() -> Install {
    Install::new()
        .set(
            "components",
            json!([
                "/opt/components",
                "oci://registry.example/flows/greeter:1.0.0"
            ]),
        )
        .set("componentsConfigMap", json!("my-components"))
        .set("registryCredentialsSecret", json!("regcred"))
        .set("insecureRegistries", json!(["registry.flows.svc:5000"]))
}

/// The values of the chart's user blocks (extra env, volumes, scheduling, annotations),
/// and an install setting all of them: rendered in one test, installed in another.
struct UserBlocks {
    env: Value,
    tolerations: Value,
    affinity: Value,
    annotations: Value,
}

fn user_blocks() -> (UserBlocks, Install) {
    let env = json!([
        {"name": "TINYHOST_GO", "value": "/opt/go/bin/go"},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]);
    let tolerations = json!([{"key": "dedicated", "operator": "Equal", "value": "flows", "effect": "NoSchedule"}]);
    let affinity = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}});
    // Strings YAML could read as something else must stay strings.
    let annotations = json!({"prometheus.io/scrape": "true", "a": "on", "b": "0123", "c": "null", "d": "yes: no"});
    let install = Install::new()
        .set("extraEnv", env.clone())
        .set("extraArgs", json!(["--identity=pinned"]))
        .set(
            "extraVolumes",
            json!([{"name": "extra", "secret": {"secretName": "wasm"}}]),
        )
        .set(
            "extraVolumeMounts",
            json!([{"name": "extra", "mountPath": "/opt/extra", "readOnly": true}]),
        )
        .set(
            "resources",
            json!({"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}),
        )
        .set("nodeSelector", json!({"kubernetes.io/os": "linux"}))
        .set("tolerations", tolerations.clone())
        .set("affinity", affinity.clone())
        .set("podAnnotations", annotations.clone())
        .set("podLabels", json!({"team": "flows"}))
        .set("imagePullSecrets", json!([{"name": "regcred"}]))
        .set("priorityClassName", json!("high"))
        .set("cache.sizeLimit", json!("2Gi"))
        .set(
            "serviceAccount.annotations",
            json!({"example.com/role": "flows"}),
        )
        .set("service.annotations", annotations.clone());
    (
        UserBlocks {
            env,
            tolerations,
            affinity,
            annotations,
        },
        install,
    )
}

#[test]
fn user_blocks_render_as_the_objects_given() {
    let (
        UserBlocks {
            env,
            tolerations,
            affinity,
            annotations,
        },
        install,
    ) = user_blocks();
    let m = install.manifests();
    let pod = m.pod();
    let env_vars = m.container().env.as_deref().unwrap_or_default();
    assert_eq!(json!(env_vars[env_vars.len() - 2..]), env);
    assert_eq!(
        m.args().last().map(String::as_str),
        Some("--identity=pinned")
    );
    assert_eq!(
        m.volume("extra")
            .secret
            .as_ref()
            .and_then(|s| s.secret_name.as_deref()),
        Some("wasm")
    );
    assert_eq!(m.mount("extra").mount_path, "/opt/extra");
    assert_eq!(
        json!(m.container().resources),
        json!({"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}})
    );
    assert_eq!(
        json!(pod.node_selector),
        json!({"kubernetes.io/os": "linux"})
    );
    assert_eq!(json!(pod.tolerations), tolerations);
    assert_eq!(json!(pod.affinity), affinity);
    assert_eq!(json!(pod.image_pull_secrets), json!([{"name": "regcred"}]));
    assert_eq!(pod.priority_class_name.as_deref(), Some("high"));
    let template = m
        .deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .expect("pod metadata");
    assert_eq!(json!(template.annotations), annotations);
    assert_eq!(
        template
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("flows")
    );
    assert_eq!(json!(m.service.metadata.annotations), annotations);
    let account = m.service_account.as_ref().expect("a ServiceAccount");
    assert_eq!(
        json!(account.metadata.annotations),
        json!({"example.com/role": "flows"})
    );
    let size = m
        .volume("cache")
        .empty_dir
        .as_ref()
        .and_then(|e| e.size_limit.as_ref());
    assert_eq!(size.map(|q| q.0.as_str()), Some("2Gi"));
}

// ---------------------------------------------------------------------------------------
// RBAC and the Service

#[test]
fn role_grants_exactly_what_the_operator_uses_and_nothing_cluster_wide() {
    let m = Install::new().manifests();
    assert_role_grants_exactly_what_the_operator_uses(&m);
    for doc in &m.docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        assert!(!kind.starts_with("Cluster"), "{kind} is cluster-wide");
    }
}

/// The Role's rules are [`OPERATOR_RULES`] on any object of their kinds plus
/// [`object_rules`] on the release's own objects, nothing else.
fn assert_role_grants_exactly_what_the_operator_uses(m: &Manifests) {
    let role = m.role.as_ref().expect("a Role");
    let mut granted: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut by_name = Vec::new();
    for rule in &role.rules.clone().unwrap_or_default() {
        assert!(rule.non_resource_urls.is_none(), "{rule:?}");
        if let Some(names) = &rule.resource_names {
            for group in rule.api_groups.as_deref().unwrap_or_default() {
                for resource in rule.resources.as_deref().unwrap_or_default() {
                    by_name.push((
                        group.clone(),
                        resource.clone(),
                        rule.verbs.clone(),
                        names.clone(),
                    ));
                }
            }
            continue;
        }
        for group in rule.api_groups.as_deref().unwrap_or_default() {
            for resource in rule.resources.as_deref().unwrap_or_default() {
                let verbs = granted
                    .entry((group.clone(), resource.clone()))
                    .or_default();
                verbs.extend(rule.verbs.iter().cloned());
            }
        }
    }
    let expected: BTreeMap<(String, String), BTreeSet<String>> = OPERATOR_RULES
        .iter()
        .map(|(group, resource, verbs)| {
            (
                (group.to_string(), resource.to_string()),
                verbs.iter().map(|v| v.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(granted, expected);
    assert_eq!(by_name, object_rules(m));
}

#[test]
fn role_binding_binds_the_deployments_service_account_to_the_role() {
    let m = Install::new().manifests();
    let account = m.service_account.as_ref().expect("a ServiceAccount");
    let account_name = account.metadata.name.as_deref().expect("named");
    assert_eq!(m.pod().service_account_name.as_deref(), Some(account_name));
    let binding = m.role_binding.as_ref().expect("a RoleBinding");
    assert_eq!(binding.role_ref.kind, "Role");
    assert_eq!(binding.role_ref.api_group, "rbac.authorization.k8s.io");
    assert_eq!(
        Some(binding.role_ref.name.as_str()),
        m.role.as_ref().and_then(|r| r.metadata.name.as_deref())
    );
    let subjects = binding.subjects.as_deref().unwrap_or_default();
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].kind, "ServiceAccount");
    assert_eq!(subjects[0].name, account_name);
    assert_eq!(subjects[0].namespace.as_deref(), Some(NAMESPACE));
}

#[test]
fn an_existing_service_account_can_be_used_without_rbac_objects() {
    let m = Install::new()
        .set(
            "serviceAccount",
            json!({"create": false, "name": "platform"}),
        )
        .set("rbac.create", json!(false))
        .manifests();
    assert!(m.service_account.is_none() && m.role.is_none() && m.role_binding.is_none());
    assert_eq!(m.pod().service_account_name.as_deref(), Some("platform"));
}

#[test]
fn service_selects_the_pods_and_exposes_grpc_and_metrics() {
    let m = Install::new().manifests();
    let spec = m.service.spec.as_ref().expect("a Service spec");
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    let selector = spec.selector.clone().expect("a selector");
    let deployment = m.deployment.spec.as_ref().expect("a spec");
    let pod_labels = deployment
        .template
        .metadata
        .as_ref()
        .and_then(|meta| meta.labels.clone())
        .expect("pod labels");
    let match_labels = deployment
        .selector
        .match_labels
        .clone()
        .expect("matchLabels");
    for (key, value) in selector.iter().chain(&match_labels) {
        assert_eq!(
            pod_labels.get(key),
            Some(value),
            "the pods carry {key}={value}"
        );
    }
    assert_eq!(selector, match_labels);
    let ports = spec.ports.clone().unwrap_or_default();
    for (name, number) in [("grpc", 8483), ("metrics", 8080)] {
        let port = ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no {name} port"));
        assert_eq!(port.port, number);
        assert_eq!(
            port.target_port,
            Some(IntOrString::String(name.to_string()))
        );
        assert_eq!(m.container_port(name), Some(number));
    }
}

// ---------------------------------------------------------------------------------------
// HTTP servers: ports on the Service always, host names through an Ingress when enabled

#[test]
fn http_servers_are_published_on_the_service_and_there_is_no_ingress_by_default() {
    let m = Install::new().manifests();
    let service = m.service.metadata.name.as_deref().expect("a Service name");
    assert_eq!(m.only_flag("http-service"), service);
    assert!(m.flag("http-ingress").is_empty(), "{:?}", m.args());
    assert!(m.ingress.is_none());
    let notes = Install::new().notes();
    assert!(notes.contains(&format!("the Service {service}")), "{notes}");
}

#[test]
fn an_enabled_ingress_is_valid_passed_to_the_operator_and_granted_by_name() {
    let annotations = json!({
        "tinysystems.io/ingress-hostname-suffix": "apps.example.com",
        "cert-manager.io/cluster-issuer": "letsencrypt",
    });
    let tls = json!([{"hosts": ["*.apps.example.com"], "secretName": "wildcard-apps"}]);
    let install = Install::new().set(
        "ingress",
        json!({"enabled": true, "className": "nginx", "annotations": annotations, "tls": tls}),
    );
    let m = install.manifests();
    let ingress = m.ingress.as_ref().expect("an Ingress");
    let name = ingress.metadata.name.as_deref().expect("an Ingress name");
    assert_eq!(m.only_flag("http-ingress"), name);
    assert_eq!(
        Some(m.only_flag("http-service")),
        m.service.metadata.name.as_deref()
    );
    assert_eq!(json!(ingress.metadata.annotations), annotations);
    let spec = ingress.spec.as_ref().expect("an Ingress spec");
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    assert_eq!(json!(spec.tls), tls);
    // The API server refuses an Ingress with neither a rule nor a default backend. A
    // default backend would catch every request for a host no server claims, so the
    // chart's one rule is a placeholder that routes nothing.
    let rules = spec.rules.clone().unwrap_or_default();
    assert!(spec.default_backend.is_none(), "no catch-all backend");
    assert_eq!(rules.len(), 1, "{rules:?}");
    let host = rules[0].host.as_deref().unwrap_or_default();
    assert!(
        is_dns1123_subdomain(host) && host.ends_with(".invalid"),
        "{host}"
    );
    assert!(rules[0].http.is_none(), "the placeholder has no paths");
    assert_role_grants_exactly_what_the_operator_uses(&m);
    let notes = install.notes();
    assert!(notes.contains(&format!("the Ingress {name}")), "{notes}");
}

#[test]
fn the_ingress_class_annotations_and_tls_are_optional() {
    let m = Install::new()
        .set("ingress.enabled", json!(true))
        .manifests();
    let ingress = m.ingress.as_ref().expect("an Ingress");
    assert!(ingress.metadata.annotations.is_none());
    let spec = ingress.spec.as_ref().expect("an Ingress spec");
    assert!(spec.ingress_class_name.is_none() && spec.tls.is_none());
}

#[test]
fn objects_carry_the_recommended_labels() {
    let m = Install::new().manifests();
    for doc in &m.docs {
        let labels = &doc["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/name"], "tinyhost", "{doc}");
        assert_eq!(labels["app.kubernetes.io/instance"], RELEASE);
        assert_eq!(
            labels["app.kubernetes.io/version"],
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
        assert_eq!(labels["tinysystems.io/module"], MODULE);
    }
}

// ---------------------------------------------------------------------------------------
// Failures are failures

#[test]
fn a_missing_module_name_fails_the_render_with_a_clear_message() {
    let result = Install::without_module().render();
    let error = result.expect_err("rendering without module.name must fail");
    assert!(
        error.contains("execution error at (tinyhost/templates/")
            && error.contains("module.name is required"),
        "{error}"
    );
}

#[test]
fn a_module_name_that_is_not_a_dns_label_fails_the_render() {
    let result = Install::without_module()
        .set("module.name", json!("Common Module"))
        .render();
    let error = result.expect_err("an invalid module name must fail");
    assert!(
        error.contains(r#"module.name "Common Module" is not a DNS-1123 label"#),
        "{error}"
    );
}

#[test]
fn misspelled_and_unknown_fields_are_reported() {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "x", "labels": {"a": "b"}},
        "spec": {
            "replica": 2,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"spec": {"containers": [{"name": "c", "imagePullPolcy": "Always", "args": ["x"]}]}},
        },
    });
    let object: Deployment =
        serde_json::from_value(deployment.clone()).expect("k8s-openapi ignores unknown fields");
    let problems = differences(
        &deployment,
        &serde_json::to_value(&object).expect("serialises"),
    );
    assert_eq!(
        problems,
        [
            "spec.replica: unknown field",
            "spec.template.spec.containers[0].imagePullPolcy: unknown field"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// The binary accepts what the chart passes

#[test]
fn the_operator_command_accepts_the_charts_arguments() {
    let binary = env!("CARGO_BIN_EXE_tinyhost");
    let probe = Command::new(binary)
        .args(["operator", "--help"])
        .output()
        .expect("tinyhost runs");
    if !probe.status.success() {
        eprintln!(
            "skipping: this build has no `tinyhost operator`: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        );
        return;
    }
    let m = every_component_source()
        .set("ingress.enabled", json!(true))
        .manifests();
    assert!(!m.flag("http-ingress").is_empty());
    // clap parses every argument before it acts on the trailing --help, so an unknown
    // flag or a value it cannot parse fails here.
    let output = Command::new(binary)
        .args(m.args())
        .arg("--help")
        .output()
        .expect("tinyhost runs");
    assert!(
        output.status.success(),
        "tinyhost rejects the chart's arguments {:?}: {}",
        m.args(),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// A real API server

/// Each variant is installed for real, into a namespace of its own on one control plane:
/// every object reaches the API server, which validates it (strictly: helm asks it to
/// refuse unknown fields) and stores it. `--dry-run=server` would not do: helm then checks
/// the objects itself and sends none.
#[test]
fn the_api_server_accepts_every_object_of_every_variant() {
    let cp = control_plane();
    let variants = [
        ("default", Install::new()),
        (
            "ingress",
            Install::new().set(
                "ingress",
                json!({
                    "enabled": true,
                    "className": "nginx",
                    "annotations": {"tinysystems.io/ingress-hostname-suffix": "apps.example.com"},
                    "tls": [{"hosts": ["*.apps.example.com"], "secretName": "wildcard-apps"}],
                }),
            ),
        ),
        (
            "existing-account",
            Install::new()
                .set(
                    "serviceAccount",
                    json!({"create": false, "name": "platform"}),
                )
                .set("rbac.create", json!(false)),
        ),
        ("components", every_component_source()),
        (
            "no-metrics",
            Install::new().set("metrics.enabled", json!(false)),
        ),
        ("user-blocks", user_blocks().1),
    ];
    for (variant, install) in variants {
        let namespace = format!("chart-{variant}");
        let install = install.release(RELEASE, &namespace);
        kubectl_ok(&cp, &["create", "namespace", &namespace]);
        match variant {
            "existing-account" => {
                kubectl_ok(
                    &cp,
                    &["create", "serviceaccount", "platform", "-n", &namespace],
                );
            }
            "components" => {
                kubectl_ok(
                    &cp,
                    &["create", "configmap", "my-components", "-n", &namespace],
                );
            }
            _ => {}
        }
        let output = cp
            .helm()
            .args(install.args("install"))
            .output()
            .expect("helm runs");
        assert!(
            output.status.success(),
            "{variant}: the API server refused the chart:\n{}",
            both_streams(&output)
        );

        // The server holds exactly the objects helm renders, and the operator's arguments
        // as rendered.
        let rendered = install.manifests();
        let kinds_and_names = |docs: &[Value]| -> BTreeSet<(String, String)> {
            docs.iter()
                .map(|doc| {
                    (
                        doc["kind"].as_str().unwrap_or_default().to_string(),
                        doc["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        };
        let stored = get_json(
            &cp,
            &[
                "get",
                "deployments,services,serviceaccounts,roles,rolebindings,ingresses",
                "-n",
                &namespace,
                "-l",
                &format!("app.kubernetes.io/instance={RELEASE}"),
            ],
        );
        let stored = stored["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            kinds_and_names(&stored),
            kinds_and_names(&rendered.docs),
            "{variant}"
        );
        let deployment = stored
            .iter()
            .find(|doc| doc["kind"] == "Deployment")
            .expect("a stored Deployment");
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(rendered.args()),
            "{variant}"
        );
    }
}
