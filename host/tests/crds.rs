//! The CustomResourceDefinitions: the copies kept in `crds/` match the types, the
//! definitions say what the contract says, and objects read from the cluster decode into
//! the same specs as local manifests.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{CustomResourceExt, Resource};
use serde_json::{Value, json};
use tinyhost::crd::{self, TinyModule, TinyNode, TinySignal};
use tinyhost::manifest;

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds")
}

/// The `openAPIV3Schema` of a definition, as JSON.
fn schema_of(crd: &CustomResourceDefinition) -> Value {
    let value = serde_json::to_value(crd).expect("a definition serialises");
    value
        .pointer("/spec/versions/0/schema/openAPIV3Schema")
        .cloned()
        .expect("the definition has a schema")
}

fn at<'a>(schema: &'a Value, pointer: &str) -> &'a Value {
    schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in {schema:#}"))
}

#[test]
fn committed_crds_match_the_types() {
    let dir = crds_dir();
    let rendered = crd::render().expect("definitions render");
    let hint = "run `cargo run -- crds --out crds` and commit the result";
    for crd in &rendered {
        let path = dir.join(&crd.file_name);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}; {hint}", path.display()));
        assert!(
            committed == crd.yaml,
            "crds/{} differs from what the types generate; {hint}",
            crd.file_name
        );
    }
    let mut expected: Vec<String> = rendered.iter().map(|c| c.file_name.clone()).collect();
    expected.sort();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .expect("crds/ exists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    present.sort();
    assert_eq!(present, expected, "crds/ holds other files; {hint}");
}

#[test]
fn rendering_is_stable_and_parses_back_to_the_definitions() {
    let first = crd::render().expect("definitions render");
    assert_eq!(first, crd::render().expect("definitions render"));
    for (rendered, definition) in first.iter().zip(crd::definitions()) {
        assert!(
            rendered.yaml.starts_with("# Generated"),
            "{}",
            rendered.yaml
        );
        let parsed: CustomResourceDefinition =
            serde_norway::from_str(&rendered.yaml).expect("rendered YAML is a definition");
        assert_eq!(parsed, definition);
    }
}

#[test]
fn crds_command_prints_a_stream_and_writes_one_file_per_kind() {
    let binary = env!("CARGO_BIN_EXE_tinyhost");
    let printed = Command::new(binary)
        .arg("crds")
        .output()
        .expect("tinyhost runs");
    assert!(printed.status.success(), "{printed:?}");
    let stream = String::from_utf8(printed.stdout).expect("UTF-8");
    assert_eq!(stream, crd::render_stream().expect("definitions render"));
    assert_eq!(stream.matches("\n---\n").count() + 1, 3, "{stream}");

    let out = tempfile::tempdir().expect("temp dir");
    let target = out.path().join("crds");
    let written = Command::new(binary)
        .args(["crds", "--out"])
        .arg(&target)
        .output()
        .expect("tinyhost runs");
    assert!(written.status.success(), "{written:?}");
    for crd in crd::render().expect("definitions render") {
        let text = std::fs::read_to_string(target.join(&crd.file_name)).expect("file written");
        assert_eq!(text, crd.yaml);
    }
}

#[test]
fn definitions_name_group_version_kind_plural_and_namespaced_scope() {
    let expected = [
        ("TinyNode", "tinynodes", "tinynode"),
        ("TinyModule", "tinymodules", "tinymodule"),
        ("TinySignal", "tinysignals", "tinysignal"),
    ];
    let rendered = crd::render().expect("definitions render");
    for ((definition, (kind, plural, singular)), file) in
        crd::definitions().iter().zip(expected).zip(&rendered)
    {
        let spec = &definition.spec;
        assert_eq!(spec.group, crd::GROUP);
        assert_eq!(spec.names.kind, kind);
        assert_eq!(spec.names.plural, plural);
        assert_eq!(spec.names.singular.as_deref(), Some(singular));
        assert_eq!(spec.scope, "Namespaced");
        assert_eq!(
            definition.metadata.name.as_deref(),
            Some(format!("{plural}.operator.tinysystems.io").as_str())
        );
        assert_eq!(
            file.file_name,
            format!("{plural}.operator.tinysystems.io.yaml")
        );
        assert_eq!(spec.versions.len(), 1);
        let version = &spec.versions[0];
        assert_eq!(version.name, crd::VERSION);
        assert!(version.served && version.storage);
    }
    assert_eq!(
        format!("{}/{}", crd::GROUP, crd::VERSION),
        manifest::API_VERSION
    );
    assert_eq!(TinyNode::api_version(&()), manifest::API_VERSION);
    assert_eq!(TinyNode::crd_name(), "tinynodes.operator.tinysystems.io");
    assert_eq!(crd::NODE_FINALIZER, "io.tinysystems/node-finalizer");
}

#[test]
fn every_kind_has_a_status_subresource() {
    for definition in crd::definitions() {
        let subresources = definition.spec.versions[0]
            .subresources
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no subresources", definition.spec.names.kind));
        assert!(
            subresources.status.is_some(),
            "{}",
            definition.spec.names.kind
        );
        assert!(subresources.scale.is_none());
        let schema = schema_of(&definition);
        assert_eq!(at(&schema, "/properties/status/type"), "object");
    }
}

#[test]
fn printer_columns_show_what_kubectl_get_needs() {
    let columns = |definition: &CustomResourceDefinition| -> Vec<(String, String, String)> {
        definition.spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.name, c.type_, c.json_path))
            .collect()
    };
    let col = |n: &str, t: &str, p: &str| (n.to_string(), t.to_string(), p.to_string());
    let age = col("Age", "date", ".metadata.creationTimestamp");
    assert_eq!(
        columns(&TinyNode::crd()),
        vec![
            col("Module", "string", ".spec.module"),
            col("Component", "string", ".spec.component"),
            col("Status", "string", ".status.status"),
            col("Error", "boolean", ".status.error"),
            age.clone(),
        ]
    );
    assert_eq!(
        columns(&TinyModule::crd()),
        vec![
            col("Version", "string", ".status.version"),
            col("Address", "string", ".status.addr"),
            age.clone(),
        ]
    );
    assert_eq!(
        columns(&TinySignal::crd()),
        vec![
            col("Node", "string", ".spec.node"),
            col("Port", "string", ".spec.port"),
            age,
        ]
    );
}

#[test]
fn byte_fields_are_base64_strings_without_defaults() {
    let node = schema_of(&TinyNode::crd());
    let module = schema_of(&TinyModule::crd());
    let signal = schema_of(&TinySignal::crd());
    let byte_fields = [
        (
            &node,
            "/properties/spec/properties/ports/items/properties/schema",
        ),
        (
            &node,
            "/properties/spec/properties/ports/items/properties/configuration",
        ),
        (
            &node,
            "/properties/status/properties/ports/items/properties/schema",
        ),
        (
            &node,
            "/properties/status/properties/ports/items/properties/configuration",
        ),
        (
            &module,
            "/properties/status/properties/components/items/properties/ports/items/properties/schema",
        ),
        (&signal, "/properties/spec/properties/data"),
    ];
    for (schema, pointer) in byte_fields {
        let field = at(schema, pointer);
        assert_eq!(field["type"], "string", "{pointer}: {field}");
        assert_eq!(field["format"], "byte", "{pointer}: {field}");
        assert!(field.get("default").is_none(), "{pointer}: {field}");
    }
}

#[test]
fn schemas_use_only_formats_the_api_server_knows() {
    let known = ["byte", "date-time", "double", "int32", "int64"];
    fn formats(schema: &Value, out: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(format)) = map.get("format") {
                    out.push(format.clone());
                }
                map.values().for_each(|v| formats(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| formats(v, out)),
            _ => {}
        }
    }
    for definition in crd::definitions() {
        let mut found = Vec::new();
        formats(&schema_of(&definition), &mut found);
        for format in found {
            assert!(
                known.contains(&format.as_str()),
                "{}: format {format}",
                definition.spec.names.kind
            );
        }
    }
}

#[test]
fn spec_fields_are_named_as_upstream() {
    let node = schema_of(&TinyNode::crd());
    let keys = |pointer: &str| -> Vec<String> {
        let mut keys: Vec<String> = at(&node, pointer)
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    assert_eq!(
        keys("/properties/spec/properties"),
        ["component", "edges", "module", "ports"]
    );
    assert_eq!(
        keys("/properties/spec/properties/ports/items/properties"),
        ["configuration", "flowID", "from", "port", "schema"]
    );
    assert_eq!(
        keys("/properties/spec/properties/edges/items/properties"),
        ["flowID", "id", "port", "retryPolicy", "to"]
    );
    assert_eq!(
        keys("/properties/spec/properties/edges/items/properties/retryPolicy/properties"),
        [
            "backoffCoefficient",
            "initialDelayMs",
            "maxAttempts",
            "maxDelayMs",
            "timeoutMs"
        ]
    );
    assert_eq!(
        at(&node, "/properties/spec/required"),
        &json!(["component", "module"])
    );
    let attempts = at(
        &node,
        "/properties/spec/properties/edges/items/properties/retryPolicy/properties/maxAttempts",
    );
    assert_eq!(
        (attempts["minimum"].as_f64(), attempts["maximum"].as_f64()),
        (Some(1.0), Some(10.0))
    );
    assert_eq!(attempts["format"], "int64");
    let signal = schema_of(&TinySignal::crd());
    assert!(at(&signal, "/properties/spec/properties/traceID").is_object());
    let module = schema_of(&TinyModule::crd());
    assert!(at(&module, "/properties/status/properties/sdkVersion").is_object());
    assert_eq!(
        at(
            &node,
            "/properties/status/properties/metadata/additionalProperties/type"
        ),
        "string"
    );
}

fn node_object(configuration: Value) -> Value {
    json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1",
        "kind": "TinyNode",
        "metadata": {
            "name": "1a2b3c4d.common-module.router-x",
            "namespace": "tinysystems",
            "labels": {"tinysystems.io/flow-name": "f1"},
            "finalizers": ["io.tinysystems/node-finalizer"],
            "resourceVersion": "42",
        },
        "spec": {
            "module": "common-module",
            "component": "router",
            "ports": [
                {"port": "_settings", "configuration": configuration, "schema": b64(r#"{"type":"object"}"#)},
                {"from": "a.b.c:out", "port": "in", "configuration": b64(r#"{"x":"{{$.y}}"}"#), "flowID": "f1"},
            ],
            "edges": [{"id": "e1", "port": "out", "to": "d.e.f:in", "flowID": "f1"}],
        },
        "status": {
            "observedGeneration": 3,
            "module": {"name": "common-module", "version": "0.1.0"},
            "component": {"description": "Routes", "info": "", "tags": ["core"]},
            "ports": [{"name": "in", "label": "In", "position": 3, "source": false, "schema": b64("{}")}],
            "status": "OK",
            "metadata": {"count": "1"},
            "lastUpdateTime": "2025-01-02T03:04:05Z",
        },
    })
}

#[test]
fn node_with_base64_configuration_decodes_its_settings() {
    let object = node_object(json!(b64(r#"{"routes":["a","b"]}"#)));
    let node: TinyNode = serde_json::from_value(object).expect("a stored node reads");
    assert_eq!(node.spec.settings(), Some(&json!({"routes": ["a", "b"]})));
    assert_eq!(
        node.spec.ports[0].schema,
        Some(manifest::JsonBytes(json!({"type": "object"})))
    );
    assert_eq!(node.spec.edges[0].to, "d.e.f:in");
    let status = node.status.as_ref().expect("status read");
    assert_eq!(status.observed_generation, 3);
    assert_eq!(status.ports[0].position, 3);
    assert_eq!(status.ports[0].schema, Some(manifest::JsonBytes(json!({}))));
    assert_eq!(status.metadata.get("count").map(String::as_str), Some("1"));
    assert!(status.last_update_time.is_some());

    // Written back, byte fields are base64 again and the object reads the same.
    let written = serde_json::to_value(&node).expect("a node serialises");
    let settings = written
        .pointer("/spec/ports/0/configuration")
        .and_then(Value::as_str)
        .expect("configuration is a string");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(settings)
        .expect("configuration is base64");
    assert_eq!(
        serde_json::from_slice::<Value>(&decoded).expect("base64 of JSON"),
        json!({"routes": ["a", "b"]})
    );
    assert_eq!(written["kind"], "TinyNode");
    let again: TinyNode = serde_json::from_value(written).expect("reads back");
    assert_eq!(again, node);
}

#[test]
fn invalid_base64_or_json_in_a_byte_field_is_an_error_naming_the_field() {
    for bad in ["%%% not base64 nor JSON", &b64("{not json")] {
        let object = node_object(json!(bad));
        let error = serde_json::from_value::<TinyNode>(object)
            .expect_err("a broken byte field is an error")
            .to_string();
        assert!(
            error.contains("spec.ports[0].configuration") && error.contains("base64"),
            "{error}"
        );
    }
    let signal = json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1", "kind": "TinySignal",
        "metadata": {"name": "s"},
        "spec": {"node": "n", "port": "p", "data": "@@"},
    });
    let error = serde_json::from_value::<TinySignal>(signal)
        .expect_err("a broken byte field is an error")
        .to_string();
    assert!(error.contains("spec.data"), "{error}");
}

#[test]
fn unknown_spec_field_is_an_error_in_a_local_manifest() {
    let yaml = format!(
        "apiVersion: {}\nkind: TinyNode\nmetadata: {{name: n}}\nspec:\n  module: m\n  component: c\n  ports: [{{port: _settings, colour: red}}]\n",
        manifest::API_VERSION
    );
    let error = manifest::parse_file(Path::new("flow.yaml"), &yaml)
        .expect_err("an unknown field is an error")
        .to_string();
    assert!(
        error.contains("flow.yaml") && error.contains("colour"),
        "{error}"
    );
}

#[test]
fn unknown_spec_fields_from_the_cluster_are_pruned_like_the_api_server_does() {
    let mut object = node_object(json!(b64("{}")));
    object["spec"]["newField"] = json!("x");
    object["spec"]["edges"][0]["retryPolicy"] =
        json!({"maxAttempts": 3, "nonRetryableErrorCodes": ["quota_exceeded"]});
    let node: TinyNode = serde_json::from_value(object).expect("unknown fields are dropped");
    let retry = node.spec.edges[0]
        .retry_policy
        .as_ref()
        .expect("retry policy read");
    assert_eq!(retry.max_attempts, 3);
}

#[test]
fn null_lists_from_the_cluster_read_as_empty() {
    let signal = json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1", "kind": "TinyNode",
        "metadata": {"name": "n"},
        "spec": {"module": "m", "component": "c", "ports": null, "edges": null},
    });
    let node: TinyNode = serde_json::from_value(signal).expect("nulls are dropped");
    assert!(node.spec.ports.is_empty() && node.spec.edges.is_empty());
}

#[test]
fn nodes_and_signals_convert_to_and_from_local_manifests() {
    let node: TinyNode =
        serde_json::from_value(node_object(json!({"plain": true}))).expect("node reads");
    let local = manifest::TinyNode::try_from(&node).expect("named");
    assert_eq!(local.metadata.name, "1a2b3c4d.common-module.router-x");
    assert_eq!(local.metadata.namespace.as_deref(), Some("tinysystems"));
    assert_eq!(
        local
            .metadata
            .labels
            .get(manifest::LABEL_FLOW)
            .map(String::as_str),
        Some("f1")
    );
    assert_eq!(local.spec, node.spec.0);
    let back = TinyNode::from(&local);
    assert_eq!(back.spec, node.spec);
    assert_eq!(back.metadata.name, node.metadata.name);
    assert_eq!(back.metadata.labels, node.metadata.labels);
    assert!(back.status.is_none());

    let unnamed = TinyNode::new("", back.spec.clone());
    let error = manifest::TinyNode::try_from(&unnamed).expect_err("no name");
    assert!(error.to_string().contains("metadata.name"), "{error}");

    let trace = "0123456789abcdef0123456789abcdef";
    let signal: TinySignal = serde_json::from_value(json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1", "kind": "TinySignal",
        "metadata": {"name": "s1", "labels": {(crd::LABEL_NODE): "n"}},
        "spec": {"node": "n", "port": "in", "data": b64(r#"{"go":1}"#), "traceID": trace},
    }))
    .expect("signal reads");
    let local = manifest::TinySignal::try_from(&signal).expect("named");
    assert_eq!(local.spec.data, manifest::JsonBytes(json!({"go": 1})));
    assert_eq!(local.spec.trace_id.as_deref(), Some(trace));
    assert_eq!(TinySignal::from(&local).spec, signal.spec);
}

#[test]
fn module_status_reads_what_upstream_writes() {
    let module: TinyModule = serde_json::from_value(json!({
        "apiVersion": "operator.tinysystems.io/v1alpha1", "kind": "TinyModule",
        "metadata": {"name": "common-module"},
        "spec": {"image": "ghcr.io/example/common-module:0.1.0"},
        "status": {
            "addr": "10.0.0.7:8483", "name": "common-module", "version": "0.1.0", "sdkVersion": "0.1.372",
            "components": [{"name": "router", "description": "Routes", "info": "", "tags": ["core"],
                "ports": [{"name": "in", "label": "In", "source": false, "position": 3, "schema": b64("{}")}]}],
        },
    }))
    .expect("module reads");
    let status = module.status.expect("status read");
    assert_eq!(status.addr, "10.0.0.7:8483");
    assert_eq!(status.components[0].ports[0].position, 3);
    assert_eq!(
        status.components[0].ports[0].schema,
        Some(manifest::JsonBytes(json!({})))
    );
}
