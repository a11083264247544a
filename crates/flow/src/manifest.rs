//! TinyNode and TinySignal resources as YAML manifests: the same documents the cluster
//! stores, so a flow runs locally and on Kubernetes unchanged.
//!
//! Byte fields (`schema`, `configuration`, `data`) are JSON documents carried as base64
//! in the cluster; locally they may also be written as plain YAML/JSON values.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ManifestError;

/// The API group and version of every Tiny Systems resource.
pub const API_VERSION: &str = "operator.tinysystems.io/v1alpha1";

/// Label carrying the flow a node belongs to.
pub const LABEL_FLOW: &str = "tinysystems.io/flow-name";
/// Label carrying the project a node belongs to.
pub const LABEL_PROJECT: &str = "tinysystems.io/project-name";

/// A JSON document that travels as base64 text in the cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonBytes(pub Value);

impl Serialize for JsonBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(self.0.to_string()))
    }
}

/// In a CRD schema a byte field is what upstream's `[]byte` is: a base64 string.
impl JsonSchema for JsonBytes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JsonBytes".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "byte"})
    }
}

impl<'de> Deserialize<'de> for JsonBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match value {
            Value::String(text) => decode_json_text(&text)
                .map(JsonBytes)
                .map_err(serde::de::Error::custom),
            other => Ok(JsonBytes(other)),
        }
    }
}

/// A string byte field: base64 of a JSON document (the cluster form) or JSON text.
fn decode_json_text(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Value::Null);
    }
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(trimmed)
        && let Ok(value) = serde_json::from_slice(&bytes)
    {
        return Ok(value);
    }
    serde_json::from_str(trimmed)
        .map_err(|e| format!("neither base64 of a JSON document nor JSON text: {e}"))
}

/// Kubernetes object metadata, the fields tinyhost reads; others are accepted and ignored
/// because manifests exported from a cluster carry many.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Resource name; for a TinyNode the routing key.
    pub name: String,
    /// Namespace; `local` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels (flow and project names).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Everything else (uid, resourceVersion, ...).
    #[serde(flatten, skip_serializing)]
    pub other: BTreeMap<String, Value>,
}

/// A configuration entry stored on the target node: settings, or the mapping of an
/// incoming edge.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePort {
    /// `sourceNode:sourcePort`, or empty for the node's own settings.
    #[serde(default)]
    pub from: String,
    /// Target port on this node.
    pub port: String,
    /// JSON schema authored in the editor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<JsonBytes>,
    /// JSON object that may contain `{{ }}` expressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<JsonBytes>,
    /// The flow the entry belongs to.
    #[serde(default, rename = "flowID", skip_serializing_if = "String::is_empty")]
    pub flow_id: String,
}

/// Opt-in retries of one edge (the contract's default is a single attempt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in total, 1..=10.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    pub max_attempts: u32,
    /// Delay before the second attempt.
    #[serde(default)]
    pub initial_delay_ms: u64,
    /// Multiplier of the delay after each attempt.
    #[serde(default = "two")]
    pub backoff_coefficient: f64,
    /// Upper bound of the delay.
    #[serde(default)]
    pub max_delay_ms: u64,
    /// Deadline of one attempt (0 = none).
    #[serde(default)]
    pub timeout_ms: u64,
}

fn one() -> u32 {
    1
}
fn two() -> f64 {
    2.0
}

/// An outgoing edge stored on the source node.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeEdge {
    /// Edge id.
    #[serde(default)]
    pub id: String,
    /// This node's source port.
    pub port: String,
    /// `targetNode:targetPort`.
    pub to: String,
    /// The flow the edge belongs to.
    #[serde(default, rename = "flowID", skip_serializing_if = "String::is_empty")]
    pub flow_id: String,
    /// Retries; absent = one attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
}

/// What a TinyNode asks for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TinyNodeSpec {
    /// The module that owns the node.
    pub module: String,
    /// The component inside the module.
    pub component: String,
    /// Settings and incoming-edge mappings.
    #[serde(default)]
    pub ports: Vec<NodePort>,
    /// Outgoing edges.
    #[serde(default)]
    pub edges: Vec<NodeEdge>,
}

impl TinyNodeSpec {
    /// The node's own settings (`from == ""`, `port == "_settings"`).
    pub fn settings(&self) -> Option<&Value> {
        self.ports
            .iter()
            .find(|p| p.from.is_empty() && p.port == "_settings")
            .and_then(|p| p.configuration.as_ref())
            .map(|c| &c.0)
    }
}

/// One flow node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TinyNode {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// The node's desired state.
    pub spec: TinyNodeSpec,
}

/// A one-shot message to a node port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TinySignalSpec {
    /// Target node.
    pub node: String,
    /// Target port.
    pub port: String,
    /// The payload.
    #[serde(default)]
    pub data: JsonBytes,
    /// Optional 32-hex trace id.
    #[serde(default, rename = "traceID", skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// A signal resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TinySignal {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// What to deliver.
    pub spec: TinySignalSpec,
}

/// Any resource a manifest file may hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// A flow node.
    Node(TinyNode),
    /// A signal.
    Signal(TinySignal),
}

/// Reads every document of a YAML file. Documents of other kinds are skipped (a folder may
/// hold Services or ConfigMaps next to the flow); a broken document is an error naming the
/// file, the document and the field.
pub fn parse_file(path: &Path, text: &str) -> Result<Vec<Resource>, ManifestError> {
    let mut out = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let err = |field: Option<String>, message: String| ManifestError {
            file: path.to_path_buf(),
            field: field.map(|f| format!("document {}: {f}", index + 1)),
            message,
        };
        let value = serde_norway::Value::deserialize(document)
            .map_err(|e| err(None, format!("invalid YAML: {e}")))?;
        if value.is_null() {
            continue;
        }
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string();
        let api = value
            .get("apiVersion")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string();
        if kind != "TinyNode" && kind != "TinySignal" {
            tracing::debug!(file = %path.display(), kind, "skipping a document that is not a Tiny Systems resource");
            continue;
        }
        if api != API_VERSION {
            return Err(err(
                Some("apiVersion".into()),
                format!("expected `{API_VERSION}`, found `{api}`"),
            ));
        }
        let mut mapping = match value {
            serde_norway::Value::Mapping(m) => m,
            _ => return Err(err(None, "a resource must be a mapping".into())),
        };
        for key in ["apiVersion", "kind", "status"] {
            mapping.remove(key);
        }
        let value = serde_norway::Value::Mapping(mapping);
        let resource = if kind == "TinyNode" {
            Resource::Node(typed(value).map_err(|(f, m)| err(f, m))?)
        } else {
            Resource::Signal(typed(value).map_err(|(f, m)| err(f, m))?)
        };
        out.push(resource);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<S> {
    metadata: ObjectMeta,
    spec: S,
}

fn typed<T>(value: serde_norway::Value) -> Result<T, (Option<String>, String)>
where
    T: From<Envelope<<T as HasSpec>::Spec>> + HasSpec,
{
    let envelope: Envelope<T::Spec> = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        (
            if path == "." { None } else { Some(path) },
            e.into_inner().to_string(),
        )
    })?;
    object_name_problem(&envelope.metadata.name).map_or(Ok(()), |problem| {
        Err((Some("metadata.name".into()), problem))
    })?;
    Ok(T::from(envelope))
}

/// Why `name` cannot be a Kubernetes object name (a lowercase RFC 1123 subdomain), if it
/// cannot: a flow that runs locally must also apply to a cluster, so the local loader
/// refuses what the API server would.
pub fn object_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".into());
    }
    if name.len() > 253 {
        return Some(format!("`{name}` is longer than 253 characters"));
    }
    if is_rfc1123_subdomain(name) {
        return None;
    }
    Some(format!(
        "`{name}` is not a Kubernetes object name: lower-case letters, digits, `-` and `.` only, \
         each dot-separated part starting and ending with a letter or digit (component names \
         are sanitised in node names: `wasm_eval` is written `wasm-eval`)"
    ))
}

/// Whether `name` has the shape of a lowercase RFC 1123 subdomain as the API server
/// checks it: dot-separated parts of lower-case letters, digits and `-`, each starting and
/// ending with a letter or digit (lengths are the caller's rule: 253 for an object name,
/// 63 per part for a DNS host name).
pub fn is_rfc1123_subdomain(name: &str) -> bool {
    name.split('.').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    })
}

#[doc(hidden)]
pub trait HasSpec {
    type Spec: serde::de::DeserializeOwned;
}
impl HasSpec for TinyNode {
    type Spec = TinyNodeSpec;
}
impl HasSpec for TinySignal {
    type Spec = TinySignalSpec;
}
impl From<Envelope<TinyNodeSpec>> for TinyNode {
    fn from(e: Envelope<TinyNodeSpec>) -> Self {
        TinyNode {
            metadata: e.metadata,
            spec: e.spec,
        }
    }
}
impl From<Envelope<TinySignalSpec>> for TinySignal {
    fn from(e: Envelope<TinySignalSpec>) -> Self {
        TinySignal {
            metadata: e.metadata,
            spec: e.spec,
        }
    }
}

/// Splits `node:port` at the last colon (node names never contain one).
pub fn split_address(address: &str) -> Option<(&str, &str)> {
    let (node, port) = address.rsplit_once(':')?;
    (!node.is_empty() && !port.is_empty()).then_some((node, port))
}

/// The module part of a node name `{8 hex}.{module}.{component}-{suffix}`, if it follows
/// the convention.
pub fn module_of(node_name: &str) -> Option<&str> {
    let mut parts = node_name.split('.');
    let _id = parts.next()?;
    let module = parts.next()?;
    parts.next()?;
    Some(module)
}

/// A module or component name as the platform stores it (docs/compatibility.md#resources): lower-case,
/// every non-alphanumeric character a `-`, no leading or trailing `-`, at most the last 48
/// characters. Two spellings of one module compare equal after it.
pub fn sanitize_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    let start = trimmed.len().saturating_sub(48);
    trimmed[start..].trim_start_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised_like_the_platform_does() {
        assert_eq!(sanitize_name("common-module"), "common-module");
        assert_eq!(
            sanitize_name("Tiny Systems/HTTP_Module "),
            "tiny-systems-http-module"
        );
        assert_eq!(sanitize_name("--x--"), "x");
        let long = format!("a{}", "b".repeat(60));
        assert_eq!(sanitize_name(&long), "b".repeat(48));
        assert_eq!(
            sanitize_name(&format!("{}-{}", "a".repeat(10), "c".repeat(47))),
            "c".repeat(47)
        );
        assert_eq!(sanitize_name("ünï"), "n");
    }

    #[test]
    fn object_names_follow_the_api_servers_rule() {
        for good in ["00000001.common-module.wasm-eval-sum", "a", "a.b-c.9"] {
            assert_eq!(object_name_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "00000001.common-module.wasm_eval-sum",
            "Upper.case",
            "-lead",
            "trail-",
            "a..b",
            "node:port",
        ] {
            assert!(object_name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(object_name_problem(&"a".repeat(254)).is_some());
        let text = "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinyNode\nmetadata: {name: 00000001.common-module.wasm_eval-x}\nspec: {module: common-module, component: wasm_eval}\n";
        let err = parse_file(Path::new("f.yaml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metadata.name") && err.contains("wasm-eval"),
            "{err}"
        );
    }

    #[test]
    fn byte_fields_accept_base64_and_plain_json() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(r#"{"a":1}"#);
        let yaml = format!(
            "apiVersion: {API_VERSION}\nkind: TinyNode\nmetadata: {{name: n}}\nspec:\n  module: m\n  component: c\n  ports:\n  - {{port: _settings, configuration: {b64}}}\n  - {{port: in, from: 'x:out', configuration: {{b: 2}}}}\n"
        );
        let res = parse_file(Path::new("f.yaml"), &yaml).unwrap_or_default();
        let Some(Resource::Node(node)) = res.first() else {
            panic!("no node parsed")
        };
        assert_eq!(node.spec.settings(), Some(&serde_json::json!({"a": 1})));
        assert_eq!(
            node.spec.ports[1].configuration,
            Some(JsonBytes(serde_json::json!({"b": 2})))
        );
    }

    #[test]
    fn unknown_field_is_named() {
        let yaml = format!(
            "apiVersion: {API_VERSION}\nkind: TinyNode\nmetadata: {{name: n}}\nspec: {{module: m, component: c, colour: red}}\n"
        );
        let err = parse_file(Path::new("f.yaml"), &yaml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("f.yaml") && err.contains("colour"), "{err}");
    }

    #[test]
    fn missing_required_field_is_named() {
        let yaml = format!(
            "apiVersion: {API_VERSION}\nkind: TinyNode\nmetadata: {{name: n}}\nspec: {{module: m}}\n"
        );
        let err = parse_file(Path::new("f.yaml"), &yaml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("component"), "{err}");
    }

    #[test]
    fn invalid_json_in_byte_field_is_named() {
        let yaml = format!(
            "apiVersion: {API_VERSION}\nkind: TinyNode\nmetadata: {{name: n}}\nspec:\n  module: m\n  component: c\n  ports: [{{port: _settings, configuration: '{{nope'}}]\n"
        );
        let err = parse_file(Path::new("f.yaml"), &yaml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("spec.ports[0].configuration"), "{err}");
    }

    #[test]
    fn addresses_split_at_last_colon() {
        assert_eq!(split_address("a.b.c:out"), Some(("a.b.c", "out")));
        assert_eq!(split_address("nope"), None);
        assert_eq!(
            module_of("1a2b3c4d.common-module.router-x"),
            Some("common-module")
        );
        assert_eq!(module_of("short"), None);
    }
}
