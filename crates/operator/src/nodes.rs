//! TinyNode objects → the runtime, and the runtime's view back into their status.
//!
//! The apply loop feeds the [`DesiredNodes`](crate::desired::DesiredNodes) to the runtime
//! through the shared drive loop. The kube-runtime `Controller` reconciles each object: it
//! adds the finalizer, waits until the runtime has applied what was observed, writes
//! status (leader only) and, for a deleted node, removes the finalizer once the runtime
//! has dropped the node.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, Event as FinalizerEvent};
use kube::runtime::reflector::{ObjectRef, store::Writer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use tokio::sync::watch;

use crate::context::{Context, stopped};
use crate::controller::{
    Reconciler, Retries, error_policy, finish, leadership_gained, replace_status, status_metadata,
    watch_objects,
};
use crate::crd::{self, NODE_FINALIZER};
use crate::desired::{APPLY_WAIT, ClusterSource, node_resource};
use crate::error::ReconcileError;
use tinyhost_flow::apply::ApplyReport;
use tinyhost_flow::events::Event;
use tinyhost_flow::manifest::{self, JsonBytes};
use tinyhost_flow::router::CONTROL_PORT;
use tinyhost_flow::status::{NodeStatus, PortStatus};

/// A node's status is written at most this often while it keeps changing (the
/// contract's `_reconcile` debounce).
const STATUS_DEBOUNCE: Duration = Duration::from_secs(1);

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
        // The source yields nothing before the first list, so this is at least the first
        // apply of the listed nodes.
        self.context.readiness.nodes_applied();
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
    .await;
    let result = match result {
        // The finalizer's patch tests the list it read from the cache; a reconcile that ran
        // before the watch delivered the previous patch fails that test (422) or races a
        // write (409). The next look, with the object the watch brings, settles it.
        Err(finalizer::Error::AddFinalizer(kube::Error::Api(e)))
        | Err(finalizer::Error::RemoveFinalizer(kube::Error::Api(e)))
            if e.code == 422 || e.code == 409 =>
        {
            tracing::debug!(node = %name, code = e.code, "finalizer patch raced a newer object; looking again");
            Ok(Action::requeue(FINALIZER_RACE_RETRY))
        }
        other => other.map_err(|e| match e {
            finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
            other => ReconcileError::Finalizer(other.to_string()),
        }),
    };
    finish(&*controller, &name, started, result)
}

/// Whether a leader has written the node's status (its heartbeat is there).
fn leader_reported(object: &DynamicObject) -> bool {
    object
        .data
        .pointer("/status/lastUpdateTime")
        .is_some_and(|t| !t.is_null())
}

/// How soon a reconcile whose finalizer patch raced a newer object looks again.
const FINALIZER_RACE_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

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
        } else if leader_reported(object) {
            // The leader's view of the node's durable state is the truth; a follower keeps
            // it so that, leading next, it resumes where the leader left off. Until a
            // leader has reported the node there is no such view, and an empty status
            // must not wipe what this replica's node did meanwhile (its settings were
            // delivered here, once): leading next, it reports that.
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
                let now = crate::lease::jiff_now();
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
            crate::lease::jiff_now(),
        ));
        self.api
            .patch_status(&name, &PatchParams::default(), &replace_status(&status)?)
            .await?;
        Ok(())
    }
}

/// A port's configuration as status shows it: for `_control`, the component's latest
/// control output (an HTTP server's `listenAddr`, a debug node's last message) when it
/// published one, as upstream's dashboard port shows the component's current state;
/// otherwise the configuration from the port list.
fn port_configuration(node: &NodeStatus, port: &PortStatus) -> Option<JsonBytes> {
    let current = match &node.control {
        Some(control) if port.name == CONTROL_PORT => control,
        _ => &port.configuration,
    };
    (!current.is_null()).then(|| JsonBytes(current.clone()))
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
                configuration: port_configuration(node, p),
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
    use serde_json::{Value, json};

    fn port(name: &str, configuration: Value) -> PortStatus {
        PortStatus {
            name: name.into(),
            label: name.into(),
            position: 0,
            source: true,
            schema: Value::Null,
            configuration,
        }
    }

    fn configurations(status: &crd::TinyNodeStatus) -> Vec<(String, Option<Value>)> {
        status
            .ports
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.configuration.as_ref().map(|c| c.0.clone()),
                )
            })
            .collect()
    }

    #[test]
    fn the_control_port_shows_the_latest_control_output() {
        let mut node = NodeStatus::default();
        node.ports = vec![
            port(
                CONTROL_PORT,
                json!({"status": "Not running", "listenAddr": []}),
            ),
            port("request", json!({"method": ""})),
            port("response", Value::Null),
        ];
        assert_eq!(
            configurations(&node_status(&node)),
            [
                (
                    "_control".to_string(),
                    Some(json!({"status": "Not running", "listenAddr": []}))
                ),
                ("request".to_string(), Some(json!({"method": ""}))),
                ("response".to_string(), None),
            ],
            "nothing published yet: the port list's configuration"
        );
        let running = json!({"status": "Running", "listenAddr": ["echo.example.com"]});
        node.control = Some(running.clone());
        assert_eq!(
            configurations(&node_status(&node))[0],
            ("_control".to_string(), Some(running))
        );
    }
}
