//! TinySignals: one-shot messages to a node's port (a button pressed in the editor, a
//! trigger fired from a script). The module's leader delivers the signal — waiting for its
//! node to be ready, since TinyNodes and TinySignals arrive on separate watches — and only
//! then deletes it, with preconditions on the object's uid and resourceVersion. The uids
//! it delivered are remembered for a while, so a watch replay or a failed delete does not
//! deliver twice; a leader that fails over between delivering and deleting leaves the
//! signal to its successor, which delivers it again (at least once, never lost). A signal
//! whose node is not ready stays in the cluster and is retried, with an error naming both;
//! once the signal has waited the configured grace and its node is still not in the cluster
//! at all, it is dropped as an error. One that cannot be read is logged, counted and
//! deleted.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::Value;
use tokio::sync::watch;

use crate::context::{Context, stopped};
use crate::controller::{
    Reconciler, Retries, error_policy, finish, leadership_gained, read_typed, watch_objects,
};
use crate::crd;
use crate::error::ReconcileError;
use tinyhost_flow::drive::{SIGNAL_TIMEOUT, SignalError, deliver_signal};
use tinyhost_flow::manifest;

/// How long one reconcile waits for a signal's node to run before it gives up for now.
pub const SIGNAL_NODE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// When a signal whose node was not ready is tried again.
pub const SIGNAL_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// How long delivered uids are remembered (longer than a delete takes to be observed).
const DELIVERED_MEMORY: std::time::Duration = std::time::Duration::from_secs(600);

/// The API resource of TinySignal, for dynamic access.
pub fn signal_resource() -> ApiResource {
    ApiResource::erase::<crd::TinySignal>(&())
}

/// The TinySignal controller's state.
struct SignalController {
    context: Arc<Context>,
    api: Api<DynamicObject>,
    retries: Retries,
    /// Uids delivered by this replica and perhaps not yet deleted.
    delivered: moka::sync::Cache<String, ()>,
    /// When this replica first saw each signal still waiting for its node.
    first_seen: moka::sync::Cache<String, Instant>,
}

/// Runs the TinySignal watch and controller until shutdown.
pub(crate) async fn run_controller(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let resource = signal_resource();
    let api: Api<DynamicObject> =
        Api::namespaced_with(context.client.clone(), &context.config.namespace, &resource);
    let writer = Writer::new(resource.clone());
    let reader = writer.as_reader();
    let readiness = context.readiness.clone();
    let objects = watch_objects(api.clone(), writer, "TinySignal", move |event| {
        if matches!(event, watcher::Event::InitDone) {
            readiness.signals_listed();
        }
    });
    let leadership = leadership_gained(context.leader.clone());
    let controller = Arc::new(SignalController {
        context,
        api,
        retries: Retries::default(),
        delivered: moka::sync::Cache::builder()
            .time_to_live(DELIVERED_MEMORY)
            .build(),
        first_seen: moka::sync::Cache::builder()
            .time_to_idle(DELIVERED_MEMORY)
            .build(),
    });
    Controller::for_stream_with(objects, reader, resource)
        .reconcile_all_on(leadership)
        .graceful_shutdown_on(stopped(shutdown))
        .run(reconcile, error_policy, controller)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "TinySignal reconcile");
            }
        })
        .await;
}

async fn reconcile(
    object: Arc<DynamicObject>,
    controller: Arc<SignalController>,
) -> Result<Action, ReconcileError> {
    let context = &controller.context;
    // Followers leave signals alone; a new leader reconciles all of them.
    if !context.is_leader() || object.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    // Judge ownership and deliver only once the runtime runs what the cluster holds: a
    // signal created together with its node must not find the node missing.
    let desired = &context.desired;
    desired.wait_listed().await;
    if !desired
        .wait_applied(desired.revision(), crate::desired::APPLY_WAIT)
        .await
    {
        return Err(ReconcileError::NotApplied);
    }
    let node = object
        .data
        .pointer("/spec/node")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !owns_node(context, &node) {
        return Ok(Action::await_change());
    }
    let name = object.name_any();
    let started = std::time::Instant::now();
    let result = controller.deliver_and_delete(&object, &name, &node).await;
    finish(&*controller, &name, started, result)
}

/// Whether the signal's node belongs to this module: it is one of ours, or its name says
/// so (`{id}.{module}.{component}-{suffix}`), in which case a missing node is ours to
/// report.
fn owns_node(context: &Context, node: &str) -> bool {
    context.desired.contains(node)
        || manifest::module_of(node)
            .is_some_and(|m| manifest::sanitize_name(m) == context.config.module_key())
}

impl Reconciler for SignalController {
    const KIND: &'static str = "tinysignal";

    fn retries(&self) -> &Retries {
        &self.retries
    }

    fn metrics(&self) -> &crate::metrics::Metrics {
        &self.context.metrics
    }
}

impl SignalController {
    /// Delivers the signal (unless this replica already did), then deletes it.
    async fn deliver_and_delete(
        &self,
        object: &DynamicObject,
        name: &str,
        node: &str,
    ) -> Result<Action, ReconcileError> {
        let metrics = &self.context.metrics;
        let uid = object.uid().unwrap_or_default();
        if !self.delivered.contains_key(&uid) {
            match read_typed::<crd::TinySignal, manifest::TinySignal>(object, "TinySignal") {
                Ok(signal) => {
                    let to = format!("{}:{}", signal.spec.node, signal.spec.port);
                    let first_seen = self.first_seen.get_with(uid.clone(), Instant::now);
                    let grace = self.context.config.signal_node_grace;
                    let wait = grace
                        .saturating_sub(first_seen.elapsed())
                        .min(SIGNAL_NODE_WAIT);
                    match deliver_signal(&self.context.runtime, &signal, wait).await {
                        Err(e) if !e.reached_node() => {
                            if first_seen.elapsed() < grace || self.context.desired.contains(node) {
                                // Not delivered: the signal stays, loudly, until its node runs.
                                tracing::error!(signal = %name, node = %node, error = %e, "signal waits for its node");
                                metrics.signal("waiting");
                                return Ok(Action::requeue(SIGNAL_RETRY));
                            }
                            tracing::error!(signal = %name, node = %node, waited = ?grace, "signal dropped: its node is not in the cluster");
                            metrics.signal("node-missing");
                        }
                        outcome => {
                            self.delivered.insert(uid.clone(), ());
                            record(metrics, name, &to, &outcome);
                        }
                    }
                    self.first_seen.invalidate(&uid);
                }
                Err(problem) => {
                    tracing::error!(signal = %name, node = %node, error = %problem, "signal dropped: cannot read it");
                    metrics.signal("invalid");
                }
            }
        }
        self.delete(object, name).await
    }

    /// Deletes the signal as observed; someone else having deleted or changed it is fine.
    async fn delete(&self, object: &DynamicObject, name: &str) -> Result<Action, ReconcileError> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: object.uid(),
                resource_version: object.resource_version(),
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(name, &params).await {
            Ok(_) => Ok(Action::await_change()),
            // Already deleted, or changed since it was observed: the watch brings the new
            // version if there is one.
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {
                tracing::debug!(signal = %name, code = e.code, "signal already deleted or changed");
                Ok(Action::await_change())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Logs and counts what became of a delivered signal.
fn record(
    metrics: &crate::metrics::Metrics,
    name: &str,
    to: &str,
    outcome: &Result<(), SignalError>,
) {
    match outcome {
        Ok(()) => {
            tracing::info!(signal = %name, to = %to, "signal delivered");
            metrics.signal("delivered");
        }
        Err(SignalError::TimedOut) => {
            tracing::error!(signal = %name, to = %to, timeout = ?SIGNAL_TIMEOUT, "signal timed out");
            metrics.signal("timeout");
        }
        Err(e) => {
            tracing::error!(signal = %name, to = %to, error = %e, "signal failed");
            metrics.signal("failed");
        }
    }
}
