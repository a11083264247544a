//! TinyNode, TinyModule and TinySignal as Kubernetes custom resources: the typed objects
//! the cluster side reads and writes, and the CustomResourceDefinitions generated from them.
//!
//! The specs of TinyNode and TinySignal are the [`manifest`] types, wrapped, so that a
//! node means the same thing whether it comes from a local folder or from the API server.
//! The two sources differ in one respect only: a local manifest with an unknown spec field
//! is an error (it is most likely a typo), whereas an object read from the cluster first
//! loses every field the generated schema does not know, exactly as the API server prunes
//! it, so a newer schema installed in the cluster cannot stop this host from reading nodes.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use tinyhost_flow::manifest::{self, JsonBytes};

/// The API group of every Tiny Systems resource.
pub const GROUP: &str = "operator.tinysystems.io";
/// The one served and stored version.
pub const VERSION: &str = "v1alpha1";
/// Finalizer on a TinyNode, so the owning module can release what the node holds before
/// the object disappears.
pub const NODE_FINALIZER: &str = "io.tinysystems/node-finalizer";
/// Label attaching a TinySignal (or other object) to the node it concerns.
pub const LABEL_NODE: &str = "tinysystems.io/node-name";

/// What can go wrong converting or rendering the resources.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// Every object the API server returns has a name; one built in code may not.
    #[error("{kind} has no metadata.name")]
    MissingName {
        /// The kind of the object.
        kind: &'static str,
    },
    /// A definition could not be written as YAML.
    #[error("cannot render the {kind} CustomResourceDefinition as YAML: {source}")]
    Render {
        /// The kind whose definition failed.
        kind: String,
        /// The serialiser's error.
        #[source]
        source: serde_norway::Error,
    },
}

/// What a TinyNode asks for: the component that runs it, its settings, the mappings of its
/// incoming edges and its outgoing edges; the same spec as in a local manifest.
// Each printer column repeats `type_ = "string"`, which clippy takes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[kube(
    group = "operator.tinysystems.io",
    version = "v1alpha1",
    kind = "TinyNode",
    namespaced,
    status = "TinyNodeStatus",
    derive = "PartialEq",
    doc = "One node of a flow: which component runs it, its settings, the mappings of its incoming edges and its outgoing edges.",
    printcolumn(name = "Module", type_ = "string", json_path = ".spec.module"),
    printcolumn(name = "Component", type_ = "string", json_path = ".spec.component"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(name = "Error", type_ = "boolean", json_path = ".status.error"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(transparent)]
#[schemars(transform = for_kubernetes)]
pub struct TinyNodeSpec(pub manifest::TinyNodeSpec);

/// A module's desired state; only the image is declared, everything else is reported.
// Each printer column repeats `type_ = "string"`, which clippy takes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "operator.tinysystems.io",
    version = "v1alpha1",
    kind = "TinyModule",
    namespaced,
    status = "TinyModuleStatus",
    derive = "PartialEq",
    doc = "A running module: created by the module at start-up; its leader reports the components it serves and the gRPC address other modules dial.",
    printcolumn(name = "Version", type_ = "string", json_path = ".status.version"),
    printcolumn(name = "Address", type_ = "string", json_path = ".status.addr"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct TinyModuleSpec {
    /// The container image the module runs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
}

/// What a TinySignal delivers, and where to; the same spec as in a local manifest.
// Each printer column repeats `type_ = "string"`, which clippy takes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[kube(
    group = "operator.tinysystems.io",
    version = "v1alpha1",
    kind = "TinySignal",
    namespaced,
    status = "TinySignalStatus",
    derive = "PartialEq",
    doc = "A one-shot message: the leader of the module owning the node delivers its data to the node's port, then deletes the signal.",
    printcolumn(name = "Node", type_ = "string", json_path = ".spec.node"),
    printcolumn(name = "Port", type_ = "string", json_path = ".spec.port"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(transparent)]
#[schemars(transform = for_kubernetes)]
pub struct TinySignalSpec(pub manifest::TinySignalSpec);

/// What the owning module observed of a node, written through the status subresource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TinyNodeStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    /// The module serving the node.
    #[serde(default)]
    pub module: NodeModuleStatus,
    /// The component the node runs.
    #[serde(default)]
    pub component: NodeComponentStatus,
    /// The node's ports, sorted by name, without the system ports `_reconcile`, `_client`
    /// and `_identity`.
    #[serde(default)]
    pub ports: Vec<NodePortStatus>,
    /// `OK`, or the text of the error.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Whether `status` is an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
    /// The component's durable key-value state.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// When the module's leader last reported the node (its heartbeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
}

/// The module serving a node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeModuleStatus {
    /// Module name.
    #[serde(default)]
    pub name: String,
    /// Module version, without a leading `v`.
    #[serde(default)]
    pub version: String,
    /// Version of the SDK the module was built with, when it says.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sdk_version: String,
}

/// The component a node runs, as the editor shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeComponentStatus {
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Longer help text.
    #[serde(default)]
    pub info: String,
    /// Tags for the component palette.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One port of a placed node: its look, schema and current configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodePortStatus {
    /// Port name.
    pub name: String,
    /// Human-readable name.
    #[serde(default)]
    pub label: String,
    /// Where the editor draws the port: 0 top, 1 right, 2 bottom, 3 left.
    #[serde(default)]
    pub position: i32,
    /// True for an output port.
    #[serde(default)]
    pub source: bool,
    /// JSON schema of the port's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<JsonBytes>,
    /// The port's configuration as the component sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<JsonBytes>,
}

/// What a module reports about itself, written by its leader through the status
/// subresource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TinyModuleStatus {
    /// The gRPC address other modules dial.
    #[serde(default)]
    pub addr: String,
    /// Module name.
    #[serde(default)]
    pub name: String,
    /// Module version, without a leading `v`.
    #[serde(default)]
    pub version: String,
    /// Version of the SDK the module was built with.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sdk_version: String,
    /// The components the module serves.
    #[serde(default)]
    pub components: Vec<ModuleComponentStatus>,
}

/// A component a module serves, so tooling can see it before any node is placed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleComponentStatus {
    /// Component name.
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Longer help text.
    #[serde(default)]
    pub info: String,
    /// Tags for the component palette.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The component's default ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ModulePortStatus>,
}

/// One port of a component, independent of any placed node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModulePortStatus {
    /// Port name.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// True for an output port.
    #[serde(default)]
    pub source: bool,
    /// Where the editor draws the port: 0 top, 1 right, 2 bottom, 3 left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub position: i32,
    /// JSON schema of the port's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<JsonBytes>,
}

/// A signal has no status; the type exists so the status subresource does, as upstream's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TinySignalStatus {}

fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Deref for TinyNodeSpec {
    type Target = manifest::TinyNodeSpec;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for TinyNodeSpec {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Deref for TinySignalSpec {
    type Target = manifest::TinySignalSpec;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for TinySignalSpec {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'de> Deserialize<'de> for TinyNodeSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        static SCHEMA: OnceLock<Value> = OnceLock::new();
        from_stored(d, SCHEMA.get_or_init(spec_schema::<TinyNode>)).map(TinyNodeSpec)
    }
}

impl<'de> Deserialize<'de> for TinySignalSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        static SCHEMA: OnceLock<Value> = OnceLock::new();
        from_stored(d, SCHEMA.get_or_init(spec_schema::<TinySignal>)).map(TinySignalSpec)
    }
}

/// The `spec` schema of a kind's generated definition, as JSON.
fn spec_schema<K: CustomResourceExt>() -> Value {
    let crd = serde_json::to_value(K::crd()).unwrap_or_default();
    crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec")
        .cloned()
        .unwrap_or_default()
}

/// Reads a spec stored in the cluster: pruned to `schema` first, then strictly typed, with
/// the path of the offending field in the error.
fn from_stored<'de, D, T>(d: D, schema: &Value) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let mut value = Value::deserialize(d)?;
    prune(&mut value, schema);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner();
        if path == "." {
            D::Error::custom(message)
        } else {
            D::Error::custom(format!("spec.{path}: {message}"))
        }
    })
}

/// What the API server does to an object of a structural schema: drops the fields the
/// schema does not declare, and nulls where the schema does not allow them.
fn prune(value: &mut Value, schema: &Value) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match value {
        Value::Object(fields) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                fields.retain(|name, field| {
                    properties.get(name).is_some_and(|s| {
                        !field.is_null() || s.get("nullable") == Some(&Value::Bool(true))
                    })
                });
                for (name, field) in fields.iter_mut() {
                    if let Some(s) = properties.get(name) {
                        prune(field, s);
                    }
                }
            } else if let Some(s) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                fields.values_mut().for_each(|field| prune(field, s));
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                items.iter_mut().for_each(|item| prune(item, s));
            }
        }
        _ => {}
    }
}

/// Adapts the schemas of the shared spec types to what the API server accepts quietly:
/// - a serde default of a byte field would become a server-side default of an opaque base64
///   string (`bnVsbA==` for `null`), so byte fields have none;
/// - OpenAPI has no unsigned formats (the API server warns about `uint32`/`uint64`), so
///   unsigned integers become `int64` with their bounds kept.
fn for_kubernetes(schema: &mut schemars::Schema) {
    let format = schema
        .get("format")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match format.as_deref() {
        Some("byte") => {
            schema.remove("default");
        }
        Some(unsigned) if unsigned.starts_with("uint") => {
            let max = match unsigned {
                "uint8" => Some(u64::from(u8::MAX)),
                "uint16" => Some(u64::from(u16::MAX)),
                "uint32" => Some(u64::from(u32::MAX)),
                _ => None,
            };
            schema.insert("format".into(), "int64".into());
            schema.insert(
                "minimum".into(),
                schema.get("minimum").cloned().unwrap_or(0.into()),
            );
            if let (Some(max), None) = (max, schema.get("maximum")) {
                schema.insert("maximum".into(), max.into());
            }
        }
        _ => {}
    }
    schemars::transform::transform_subschemas(&mut for_kubernetes, schema);
}

/// The object metadata of a local manifest, from the cluster's.
fn meta_to_manifest(
    kind: &'static str,
    meta: &ObjectMeta,
) -> Result<manifest::ObjectMeta, CrdError> {
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(CrdError::MissingName { kind })?;
    Ok(manifest::ObjectMeta {
        name,
        namespace: meta.namespace.clone(),
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        other: BTreeMap::new(),
    })
}

/// The cluster's object metadata, from a local manifest's.
fn meta_from_manifest(meta: &manifest::ObjectMeta) -> ObjectMeta {
    let non_empty = |map: &BTreeMap<String, String>| (!map.is_empty()).then(|| map.clone());
    ObjectMeta {
        name: Some(meta.name.clone()),
        namespace: meta.namespace.clone(),
        labels: non_empty(&meta.labels),
        annotations: non_empty(&meta.annotations),
        ..ObjectMeta::default()
    }
}

/// The runtime consumes local manifests; a node from the cluster becomes one.
impl TryFrom<&TinyNode> for manifest::TinyNode {
    type Error = CrdError;
    fn try_from(node: &TinyNode) -> Result<Self, CrdError> {
        Ok(manifest::TinyNode {
            metadata: meta_to_manifest("TinyNode", &node.metadata)?,
            spec: node.spec.0.clone(),
        })
    }
}

/// A local node as the object to create in the cluster (no status).
impl From<&manifest::TinyNode> for TinyNode {
    fn from(node: &manifest::TinyNode) -> Self {
        TinyNode {
            metadata: meta_from_manifest(&node.metadata),
            spec: TinyNodeSpec(node.spec.clone()),
            status: None,
        }
    }
}

/// A signal from the cluster, in the form the local delivery path takes.
impl TryFrom<&TinySignal> for manifest::TinySignal {
    type Error = CrdError;
    fn try_from(signal: &TinySignal) -> Result<Self, CrdError> {
        Ok(manifest::TinySignal {
            metadata: meta_to_manifest("TinySignal", &signal.metadata)?,
            spec: signal.spec.0.clone(),
        })
    }
}

/// A local signal as the object to create in the cluster.
impl From<&manifest::TinySignal> for TinySignal {
    fn from(signal: &manifest::TinySignal) -> Self {
        TinySignal {
            metadata: meta_from_manifest(&signal.metadata),
            spec: TinySignalSpec(signal.spec.clone()),
            status: None,
        }
    }
}

/// The three definitions, in a fixed order: TinyNode, TinyModule, TinySignal.
pub fn definitions() -> [CustomResourceDefinition; 3] {
    [TinyNode::crd(), TinyModule::crd(), TinySignal::crd()]
}

/// One definition as a YAML document, with the file name it is kept under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCrd {
    /// The kind it defines.
    pub kind: String,
    /// `<plural>.operator.tinysystems.io.yaml`.
    pub file_name: String,
    /// The YAML document (no `---` separator).
    pub yaml: String,
}

/// First line of every rendered definition, so nobody edits the files by hand.
const GENERATED_HEADER: &str =
    "# Generated from the tinyhost types by `tinyhost crds`; do not edit by hand.\n";

/// Renders every definition as YAML. The output depends only on the types, so the copies
/// kept in the repository can be checked against it.
pub fn render() -> Result<Vec<RenderedCrd>, CrdError> {
    definitions()
        .into_iter()
        .map(|crd| {
            let kind = crd.spec.names.kind.clone();
            let file_name = format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or(&kind));
            let body = serde_norway::to_string(&crd).map_err(|source| CrdError::Render {
                kind: kind.clone(),
                source,
            })?;
            Ok(RenderedCrd {
                kind,
                file_name,
                yaml: format!("{GENERATED_HEADER}{body}"),
            })
        })
        .collect()
}

/// Every definition in one multi-document YAML stream, ready for `kubectl apply -f -`.
pub fn render_stream() -> Result<String, CrdError> {
    Ok(render()?
        .iter()
        .map(|crd| format!("---\n{}", crd.yaml))
        .collect())
}
