//! TinyNode objects → the runtime, and the runtime's view back into their status.
//!
//! One watch over the namespace's TinyNodes feeds two consumers. [`DesiredNodes`] keeps the
//! nodes of this module that are not being deleted; [`ClusterSource`] hands that set to the
//! runtime like the folder source does locally. The kube-runtime `Controller` reconciles
//! each object: it adds the finalizer, waits until the runtime has applied what was
//! observed, writes status (leader only) and, for a deleted node, removes the finalizer
//! once the runtime has dropped the node.
//!
//! Objects are read as `DynamicObject` and converted one by one, so one node with a broken
//! spec (bad base64, bad JSON) is reported in its own status instead of failing the whole
//! list and stopping the module.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, Event as FinalizerEvent};
use kube::runtime::reflector::{ObjectRef, store::Writer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::Value;
use tokio::sync::watch;

use super::controller::{
    Reconciler, Retries, error_policy, finish, leadership_gained, read_typed, replace_status,
    status_metadata, watch_objects,
};
use super::{Context, ReconcileError, stopped};
use crate::crd::{self, NODE_FINALIZER};
use tinyhost_capabilities::metadata::MetadataStore;
use tinyhost_flow::apply::ApplyReport;
use tinyhost_flow::events::Event;
use tinyhost_flow::manifest::{self, JsonBytes, TinyNode};
use tinyhost_flow::source::{NodeSource, Snapshot};
use tinyhost_flow::status::NodeStatus;

/// How long a reconcile waits for the runtime to apply what was observed (an inline Go
/// program may compile for tens of seconds first).
pub(crate) const APPLY_WAIT: Duration = Duration::from_secs(120);

/// A node's status is written at most this often while it keeps changing (the
/// contract's `_reconcile` debounce).
const STATUS_DEBOUNCE: Duration = Duration::from_secs(1);

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

/// Feeds the desired set to the runtime through the same drive loop as `tinyhost run`.
pub(crate) async fn apply_loop(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let source = ClusterSource::new(context.desired.clone());
    let observer = Arc::new(ClusterObserver {
        context: context.clone(),
    });
    tokio::select! {
        _ = tinyhost_flow::drive::drive(context.runtime.clone(), source, observer) => {}
        _ = stopped(shutdown) => {}
    }
}

/// What the drive loop reports, as logs and metrics.
struct ClusterObserver {
    context: Arc<Context>,
}

impl tinyhost_flow::drive::DriveObserver for ClusterObserver {
    fn source_errors(&self, errors: &[tinyhost_flow::ManifestError]) {
        for error in errors {
            tracing::error!(%error, "TinyNode cannot be read");
        }
    }

    fn applied(&self, report: &ApplyReport) {
        if !(report.added.is_empty() && report.updated.is_empty() && report.removed.is_empty()) {
            tracing::info!(
                added = report.added.len(),
                updated = report.updated.len(),
                removed = report.removed.len(),
                errors = report.errors.len(),
                "nodes applied"
            );
        }
        self.context
            .metrics
            .set_nodes(self.context.runtime.node_names().len());
    }

    fn signal(
        &self,
        signal: &manifest::TinySignal,
        outcome: &Result<(), tinyhost_flow::drive::SignalError>,
    ) {
        // Cluster signals come from the TinySignal controller, not with snapshots.
        tracing::debug!(signal = %signal.metadata.name, ?outcome, "snapshot signal");
    }
}

/// The TinyNode controller's state.
struct NodeController {
    context: Arc<Context>,
    api: Api<DynamicObject>,
    retries: Retries,
}

/// Runs the TinyNode watch and controller until shutdown.
pub(crate) async fn run_controller(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let resource = node_resource();
    let namespace = context.config.namespace.clone();
    let api: Api<DynamicObject> =
        Api::namespaced_with(context.client.clone(), &namespace, &resource);
    let writer = Writer::new(resource.clone());
    let reader = writer.as_reader();
    let desired = context.desired.clone();
    let readiness = context.readiness.clone();
    let objects = watch_objects(api.clone(), writer, "TinyNode", move |event| {
        desired.observe(event);
        if matches!(event, watcher::Event::InitDone) {
            readiness.nodes_listed();
        }
    });

    let status_changes = status_triggers(&context, resource.clone(), namespace.clone());
    let leadership = leadership_gained(context.leader.clone());
    let controller = Arc::new(NodeController {
        context: context.clone(),
        api,
        retries: Retries::default(),
    });
    Controller::for_stream_with(objects, reader, resource)
        .reconcile_on(status_changes)
        .reconcile_all_on(leadership)
        .graceful_shutdown_on(stopped(shutdown))
        .run(reconcile, error_policy, controller)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "TinyNode reconcile");
            }
        })
        .await;
}

/// A reconcile of each node whose status the runtime changed, at most once per
/// [`STATUS_DEBOUNCE`] per node: a fast ticker rewrites its metadata on every tick, and a
/// plain debounce would then postpone its status forever.
fn status_triggers(
    context: &Arc<Context>,
    resource: ApiResource,
    namespace: String,
) -> impl futures::Stream<Item = ObjectRef<DynamicObject>> + Send + 'static {
    let mut events = context.runtime.subscribe();
    let runtime = context.runtime.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<String>>(16);
    tokio::spawn(async move {
        let mut pending: std::collections::BTreeSet<String> = Default::default();
        let mut flush = tokio::time::interval(STATUS_DEBOUNCE);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(Event::Status { node, .. }) => {
                        pending.insert(node);
                    }
                    Ok(_) => {}
                    // Fell behind: refresh every node rather than miss one.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        pending.extend(runtime.node_names());
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                _ = flush.tick() => {
                    if !pending.is_empty()
                        && tx.send(std::mem::take(&mut pending).into_iter().collect()).await.is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        let names = rx.recv().await?;
        Some((names, rx))
    })
    .flat_map(move |names| {
        let refs: Vec<ObjectRef<DynamicObject>> = names
            .iter()
            .map(|n| ObjectRef::new_with(n, resource.clone()).within(&namespace))
            .collect();
        futures::stream::iter(refs)
    })
}

async fn reconcile(
    object: Arc<DynamicObject>,
    controller: Arc<NodeController>,
) -> Result<Action, ReconcileError> {
    let context = &controller.context;
    if !context.desired.owns(&object) {
        // Another module's node: not ours to finalise or report.
        return Ok(Action::await_change());
    }
    let name = object.name_any();
    let started = std::time::Instant::now();
    let result = finalizer::finalizer(&controller.api, NODE_FINALIZER, object, |event| async {
        match event {
            FinalizerEvent::Apply(object) => controller.apply(&object).await,
            FinalizerEvent::Cleanup(_) => controller.cleanup().await,
        }
    })
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => ReconcileError::Finalizer(other.to_string()),
    });
    finish(&*controller, &name, started, result)
}

impl Reconciler for NodeController {
    const KIND: &'static str = "tinynode";

    fn retries(&self) -> &Retries {
        &self.retries
    }

    fn metrics(&self) -> &crate::metrics::Metrics {
        &self.context.metrics
    }
}

impl NodeController {
    /// The node is wanted: wait until it runs as observed, then report it.
    async fn apply(&self, object: &DynamicObject) -> Result<Action, ReconcileError> {
        let desired = &self.context.desired;
        if !desired.wait_applied(desired.revision(), APPLY_WAIT).await {
            return Err(ReconcileError::NotApplied);
        }
        if self.context.is_leader() {
            self.write_status(object).await?;
        } else {
            // The leader's view of the node's durable state is the truth; a follower keeps
            // it so that, leading next, it resumes where the leader left off.
            self.context
                .runtime
                .adopt_metadata(&object.name_any(), status_metadata(object));
        }
        Ok(Action::requeue(self.context.config.requeue_after))
    }

    /// The node is being deleted: the finalizer goes once the runtime has dropped it.
    async fn cleanup(&self) -> Result<Action, ReconcileError> {
        let desired = &self.context.desired;
        if !desired.wait_applied(desired.revision(), APPLY_WAIT).await {
            return Err(ReconcileError::NotApplied);
        }
        Ok(Action::await_change())
    }

    /// Writes the node's status through the status subresource, unless it is already what
    /// the object shows and the heartbeat is still fresh.
    async fn write_status(&self, object: &DynamicObject) -> Result<(), ReconcileError> {
        let name = object.name_any();
        let config = &self.context.config;
        let mut status = match self.context.desired.invalid(&name) {
            Some(problem) => crd::TinyNodeStatus {
                status: problem,
                error: true,
                ..crd::TinyNodeStatus::default()
            },
            None => match self.context.runtime.status(&name) {
                Some(node) => node_status(&node),
                None => return Ok(()),
            },
        };
        status.observed_generation = object.meta().generation.unwrap_or_default();
        status.module = crd::NodeModuleStatus {
            name: config.module.clone(),
            version: config.version.clone(),
            sdk_version: String::new(),
        };
        let current: Option<crd::TinyNodeStatus> = object
            .data
            .get("status")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        let fresh = current.as_ref().is_some_and(|c| {
            let age = c.last_update_time.as_ref().map(|t| {
                let now = super::lease::jiff_now();
                now.duration_since(t.0).unsigned_abs()
            });
            age.is_some_and(|age| age < config.requeue_after / 2)
                && crd::TinyNodeStatus {
                    last_update_time: None,
                    ..c.clone()
                } == status
        });
        if fresh {
            return Ok(());
        }
        status.last_update_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            super::lease::jiff_now(),
        ));
        self.api
            .patch_status(&name, &PatchParams::default(), &replace_status(&status)?)
            .await?;
        Ok(())
    }
}

/// The runtime's node status in the TinyNode status shape.
fn node_status(node: &NodeStatus) -> crd::TinyNodeStatus {
    let component = node
        .component_info
        .as_ref()
        .map(|c| crd::NodeComponentStatus {
            description: c.description.clone(),
            info: c.info.clone(),
            tags: c.tags.clone(),
        })
        .unwrap_or_default();
    crd::TinyNodeStatus {
        component,
        ports: node
            .ports
            .iter()
            .map(|p| crd::NodePortStatus {
                name: p.name.clone(),
                label: p.label.clone(),
                position: i32::from(p.position),
                source: p.source,
                schema: (!p.schema.is_null()).then(|| JsonBytes(p.schema.clone())),
                configuration: (!p.configuration.is_null())
                    .then(|| JsonBytes(p.configuration.clone())),
            })
            .collect(),
        status: node.status.clone(),
        error: node.error,
        metadata: node.metadata.clone(),
        ..crd::TinyNodeStatus::default()
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
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(super::super::lease::jiff_now()),
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
