//! The TinyNodes this module should run, as the cluster last showed them.
//!
//! One watch over the namespace's TinyNodes feeds [`DesiredNodes`]: the nodes of this
//! module that are not being deleted, versioned so a reconcile can wait until the runtime
//! has applied what it saw. [`ClusterSource`] hands that set to the runtime like the
//! folder source does locally, and [`ObservedMetadata`] lets a restarted node resume from
//! the metadata its status last recorded.
//!
//! Objects are read as `DynamicObject` and converted one by one, so one node with a broken
//! spec (bad base64, bad JSON) is reported in its own status instead of failing the whole
//! list and stopping the module.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;
use tokio::sync::watch;

use kube::runtime::watcher;

use crate::controller::{read_typed, status_metadata};
use crate::crd;
use tinyhost_capabilities::metadata::MetadataStore;
use tinyhost_flow::apply::ApplyReport;
use tinyhost_flow::manifest::{self, TinyNode};
use tinyhost_flow::source::{NodeSource, Snapshot};

/// How long a reconcile waits for the runtime to apply what was observed (an inline Go
/// program may compile for tens of seconds first).
pub(crate) const APPLY_WAIT: Duration = Duration::from_secs(120);

/// The API resource of TinyNode, for dynamic access.
pub fn node_resource() -> ApiResource {
    ApiResource::erase::<crd::TinyNode>(&())
}

/// One observed TinyNode of this module.
#[derive(Debug, Clone)]
struct Observed {
    /// The node as the runtime takes it, or why the object could not be read.
    manifest: Result<TinyNode, String>,
    /// `status.metadata` as last observed: a restarted replica resumes from it.
    metadata: BTreeMap<String, String>,
}

impl Observed {
    fn same_spec(&self, other: &Observed) -> bool {
        self.manifest == other.manifest
    }
}

#[derive(Debug, Default)]
struct DesiredState {
    nodes: BTreeMap<String, Observed>,
    /// Objects of a relist, swapped in when it completes.
    relist: Option<BTreeMap<String, Observed>>,
}

/// The nodes this module should run, as last observed in the cluster, versioned so a
/// reconcile can wait until the runtime has caught up with what it saw.
#[derive(Debug)]
pub struct DesiredNodes {
    module_key: String,
    state: Mutex<DesiredState>,
    revision: watch::Sender<u64>,
    applied: watch::Sender<u64>,
    listed: watch::Sender<bool>,
}

impl DesiredNodes {
    /// An empty set for the module whose sanitised name is `module_key`.
    pub fn new(module_key: String) -> DesiredNodes {
        DesiredNodes {
            module_key,
            state: Mutex::new(DesiredState::default()),
            revision: watch::channel(0).0,
            applied: watch::channel(0).0,
            listed: watch::channel(false).0,
        }
    }

    /// Whether `object` is a TinyNode of this module (deleted or not).
    pub fn owns(&self, object: &DynamicObject) -> bool {
        object
            .data
            .pointer("/spec/module")
            .and_then(Value::as_str)
            .is_some_and(|m| manifest::sanitize_name(m) == self.module_key)
    }

    /// Whether a node of this name is in the set (valid or not).
    pub fn contains(&self, name: &str) -> bool {
        self.state
            .lock()
            .map(|s| s.nodes.contains_key(name))
            .unwrap_or(false)
    }

    /// Number of nodes in the set.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.nodes.len()).unwrap_or(0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why the object `name` could not be read, if it could not.
    pub fn invalid(&self, name: &str) -> Option<String> {
        let state = self.state.lock().ok()?;
        state.nodes.get(name)?.manifest.as_ref().err().cloned()
    }

    /// Takes in one watch event.
    pub fn observe(&self, event: &watcher::Event<DynamicObject>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let changed = match event {
            watcher::Event::Init => {
                state.relist = Some(BTreeMap::new());
                false
            }
            watcher::Event::InitApply(object) => {
                let entry = self.read(object);
                if let (Some(relist), Some((name, observed))) = (state.relist.as_mut(), entry) {
                    relist.insert(name, observed);
                }
                false
            }
            watcher::Event::InitDone => {
                let relisted = state.relist.take().unwrap_or_default();
                let changed = relisted.len() != state.nodes.len()
                    || relisted
                        .iter()
                        .any(|(k, v)| state.nodes.get(k).is_none_or(|old| !old.same_spec(v)));
                state.nodes = relisted;
                self.listed.send_replace(true);
                changed
            }
            watcher::Event::Apply(object) => {
                let name = object.name_any();
                match self.read(object) {
                    Some((name, observed)) => {
                        let changed = state
                            .nodes
                            .get(&name)
                            .is_none_or(|old| !old.same_spec(&observed));
                        state.nodes.insert(name, observed);
                        changed
                    }
                    None => state.nodes.remove(&name).is_some(),
                }
            }
            watcher::Event::Delete(object) => state.nodes.remove(&object.name_any()).is_some(),
        };
        drop(state);
        if changed {
            self.revision.send_modify(|r| *r += 1);
        }
    }

    /// The object as a desired node: `None` when it is not this module's or is being
    /// deleted.
    fn read(&self, object: &DynamicObject) -> Option<(String, Observed)> {
        if !self.owns(object) || object.metadata.deletion_timestamp.is_some() {
            return None;
        }
        let name = object.metadata.name.clone()?;
        Some((
            name,
            Observed {
                manifest: read_typed::<crd::TinyNode, TinyNode>(object, "TinyNode"),
                metadata: status_metadata(object),
            },
        ))
    }

    /// The current revision of the set.
    pub fn revision(&self) -> u64 {
        *self.revision.borrow()
    }

    /// Waits until the runtime has applied `revision` (or a later one); `false` on timeout.
    pub async fn wait_applied(&self, revision: u64, timeout: Duration) -> bool {
        let mut applied = self.applied.subscribe();
        tokio::time::timeout(timeout, applied.wait_for(|a| *a >= revision))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until the first complete list of TinyNodes has been observed.
    pub async fn wait_listed(&self) {
        let mut listed = self.listed.subscribe();
        let _ = listed.wait_for(|l| *l).await;
    }

    /// The valid nodes and the revision they belong to.
    fn snapshot(&self) -> (u64, Vec<TinyNode>) {
        // Read the revision first: a change racing with this read is then applied again
        // later rather than marked applied too early.
        let revision = self.revision();
        let nodes = self
            .state
            .lock()
            .map(|s| {
                s.nodes
                    .values()
                    .filter_map(|o| o.manifest.as_ref().ok().cloned())
                    .collect()
            })
            .unwrap_or_default();
        (revision, nodes)
    }
}

/// The runtime's node source in a cluster: the desired set each time it changes.
#[derive(Debug)]
pub struct ClusterSource {
    desired: Arc<DesiredNodes>,
    revisions: watch::Receiver<u64>,
    pending: Option<u64>,
}

impl ClusterSource {
    /// A source over `desired`; the first snapshot comes once the first list completed.
    pub fn new(desired: Arc<DesiredNodes>) -> ClusterSource {
        let mut revisions = desired.revision.subscribe();
        revisions.mark_changed();
        ClusterSource {
            desired,
            revisions,
            pending: None,
        }
    }
}

impl NodeSource for ClusterSource {
    async fn next(&mut self) -> Option<Snapshot> {
        self.desired.wait_listed().await;
        self.revisions.changed().await.ok()?;
        let (revision, nodes) = self.desired.snapshot();
        self.pending = Some(revision);
        Some(Snapshot {
            nodes,
            new_signals: Vec::new(),
            errors: Vec::new(),
        })
    }

    fn applied(&mut self, _report: &ApplyReport) {
        if let Some(revision) = self.pending.take() {
            self.desired
                .applied
                .send_modify(|a| *a = (*a).max(revision));
        }
    }
}

/// Node metadata in a cluster lives in `TinyNode.status.metadata`: a node (re)starting
/// resumes from what was last observed there, and the leader writes it back with the
/// rest of the status.
#[derive(Debug)]
pub struct ObservedMetadata {
    desired: Arc<DesiredNodes>,
}

impl ObservedMetadata {
    /// Metadata read from the observed objects of `desired`.
    pub fn new(desired: Arc<DesiredNodes>) -> ObservedMetadata {
        ObservedMetadata { desired }
    }
}

impl MetadataStore for ObservedMetadata {
    fn load(&self, node: &str) -> BTreeMap<String, String> {
        self.desired
            .state
            .lock()
            .ok()
            .and_then(|s| s.nodes.get(node).map(|o| o.metadata.clone()))
            .unwrap_or_default()
    }

    fn save(&self, _node: &str, _metadata: &BTreeMap<String, String>) {
        // Written with the node's status by the leader (see `NodeController::write_status`).
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(name: &str, module: &str, configuration: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "operator.tinysystems.io/v1alpha1",
            "kind": "TinyNode",
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")},
            "spec": {
                "module": module,
                "component": "debug",
                "ports": [{"port": "_settings", "configuration": configuration}]
            }
        }))
        .expect("a valid object")
    }

    /// `{"a":1}` in base64.
    const SETTINGS: &str = "eyJhIjoxfQ==";

    fn names(desired: &DesiredNodes) -> Vec<String> {
        desired
            .snapshot()
            .1
            .into_iter()
            .map(|n| n.metadata.name)
            .collect()
    }

    #[test]
    fn only_this_modules_live_nodes_are_desired() {
        let desired = DesiredNodes::new("common-module".into());
        desired.observe(&watcher::Event::Apply(object(
            "a",
            "common-module",
            SETTINGS,
        )));
        desired.observe(&watcher::Event::Apply(object(
            "b",
            "Common Module",
            SETTINGS,
        )));
        desired.observe(&watcher::Event::Apply(object("c", "other", SETTINGS)));
        assert_eq!(names(&desired), ["a", "b"]);
        let mut deleting = object("a", "common-module", SETTINGS);
        deleting.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(crate::lease::jiff_now()),
        );
        desired.observe(&watcher::Event::Apply(deleting));
        assert_eq!(names(&desired), ["b"]);
        desired.observe(&watcher::Event::Delete(object(
            "b",
            "common-module",
            SETTINGS,
        )));
        assert!(desired.is_empty());
    }

    #[test]
    fn status_only_changes_do_not_bump_the_revision() {
        let desired = DesiredNodes::new("m".into());
        desired.observe(&watcher::Event::Apply(object("a", "m", SETTINGS)));
        let revision = desired.revision();
        let mut reported = object("a", "m", SETTINGS);
        reported.data["status"] = json!({"status": "OK", "metadata": {"count": "3"}});
        desired.observe(&watcher::Event::Apply(reported));
        assert_eq!(desired.revision(), revision);
    }

    #[test]
    fn observed_metadata_is_loaded_for_restarted_nodes() {
        let desired = Arc::new(DesiredNodes::new("m".into()));
        let mut reported = object("a", "m", SETTINGS);
        reported.data["status"] = json!({"metadata": {"count": "3"}});
        desired.observe(&watcher::Event::Apply(reported));
        let store = ObservedMetadata::new(desired);
        assert_eq!(store.load("a").get("count").map(String::as_str), Some("3"));
    }

    #[test]
    fn a_broken_object_is_reported_not_applied() {
        let desired = DesiredNodes::new("m".into());
        desired.observe(&watcher::Event::Apply(object("good", "m", SETTINGS)));
        desired.observe(&watcher::Event::Apply(object("bad", "m", "not base64!")));
        // `{` is valid base64 of invalid JSON.
        desired.observe(&watcher::Event::Apply(object("worse", "m", "ew==")));
        assert_eq!(names(&desired), ["good"]);
        let bad = desired.invalid("bad").expect("bad is invalid");
        assert!(bad.contains("configuration"), "{bad}");
        assert!(desired.invalid("worse").is_some());
        assert!(desired.invalid("good").is_none());
        assert!(desired.contains("bad"));
    }

    #[test]
    fn a_relist_replaces_the_set_when_it_completes() {
        let desired = DesiredNodes::new("m".into());
        desired.observe(&watcher::Event::Apply(object("old", "m", SETTINGS)));
        desired.observe(&watcher::Event::Init);
        desired.observe(&watcher::Event::InitApply(object("new", "m", SETTINGS)));
        // Until the list completes, the running set stays: nothing is torn down by a
        // reconnecting watch.
        assert_eq!(names(&desired), ["old"]);
        let revision = desired.revision();
        desired.observe(&watcher::Event::InitDone);
        assert_eq!(names(&desired), ["new"]);
        assert!(desired.revision() > revision);
        // The same list again changes nothing.
        let revision = desired.revision();
        desired.observe(&watcher::Event::Init);
        desired.observe(&watcher::Event::InitApply(object("new", "m", SETTINGS)));
        desired.observe(&watcher::Event::InitDone);
        assert_eq!(desired.revision(), revision);
    }

    #[tokio::test]
    async fn the_source_yields_after_the_first_list_and_acknowledges_applies() {
        let desired = Arc::new(DesiredNodes::new("m".into()));
        let mut source = ClusterSource::new(desired.clone());
        let early = tokio::time::timeout(Duration::from_millis(50), source.next()).await;
        assert!(early.is_err(), "no snapshot before the first list");
        desired.observe(&watcher::Event::Init);
        desired.observe(&watcher::Event::InitApply(object("a", "m", SETTINGS)));
        desired.observe(&watcher::Event::InitDone);
        let snapshot = source.next().await.expect("a snapshot");
        assert_eq!(snapshot.nodes.len(), 1);
        let revision = desired.revision();
        assert!(
            !desired
                .wait_applied(revision, Duration::from_millis(10))
                .await
        );
        source.applied(&ApplyReport::default());
        assert!(
            desired
                .wait_applied(revision, Duration::from_millis(10))
                .await
        );
    }
}
