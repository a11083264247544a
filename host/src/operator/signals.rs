//! TinySignals: one-shot messages to a node's port (a button pressed in the editor, a
//! trigger fired from a script). The module's leader deletes the signal first and only
//! then delivers it, with preconditions on the object's uid and resourceVersion, so a
//! signal is delivered exactly once however many replicas watch it and however often the
//! watch replays it. A signal that cannot be delivered (bad data, unknown node) is
//! logged and counted, never retried.

use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::Value;
use tokio::sync::watch;

use super::controller::{
    Reconciler, Retries, error_policy, finish, leadership_gained, read_typed, watch_objects,
};
use super::{Context, ReconcileError, SIGNAL_TIMEOUT, stopped};
use crate::crd;
use crate::manifest;

/// The API resource of TinySignal, for dynamic access.
pub fn signal_resource() -> ApiResource {
    ApiResource::erase::<crd::TinySignal>(&())
}

/// The TinySignal controller's state.
struct SignalController {
    context: Arc<Context>,
    api: Api<DynamicObject>,
    retries: Retries,
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
        .wait_applied(desired.revision(), super::nodes::APPLY_WAIT)
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
    let result = controller.take_and_deliver(&object, &name, &node).await;
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
    /// Deletes the signal; if this replica's delete is the one that took it, delivers it.
    async fn take_and_deliver(
        &self,
        object: &DynamicObject,
        name: &str,
        node: &str,
    ) -> Result<Action, ReconcileError> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: object.uid(),
                resource_version: object.resource_version(),
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(name, &params).await {
            Ok(_) => {}
            // Already taken (by an earlier attempt or another replica), or changed since
            // it was observed: the watch brings the new version if there is one.
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {
                tracing::debug!(signal = %name, code = e.code, "signal already taken or changed");
                return Ok(Action::await_change());
            }
            Err(e) => return Err(e.into()),
        }
        let metrics = self.context.metrics.clone();
        let signal = match read_typed::<crd::TinySignal, manifest::TinySignal>(object, "TinySignal")
        {
            Ok(signal) => signal,
            Err(problem) => {
                tracing::error!(signal = %name, node = %node, error = %problem, "signal dropped: cannot read it");
                metrics.signal("invalid");
                return Ok(Action::await_change());
            }
        };
        let runtime = self.context.runtime.clone();
        let to = format!("{}:{}", signal.spec.node, signal.spec.port);
        let name = name.to_string();
        // Fire-and-forget with a deadline (CONTRACT §1): the reconcile does not wait for
        // the flow to finish.
        tokio::spawn(async move {
            match tokio::time::timeout(SIGNAL_TIMEOUT, runtime.send(&to, &signal.spec.data.0)).await
            {
                Ok(Ok(_)) => {
                    tracing::info!(signal = %name, to = %to, "signal delivered");
                    metrics.signal("delivered");
                }
                Ok(Err(e)) => {
                    tracing::error!(signal = %name, to = %to, error = %e, "signal failed");
                    metrics.signal("failed");
                }
                Err(_) => {
                    tracing::error!(signal = %name, to = %to, timeout = ?SIGNAL_TIMEOUT, "signal timed out");
                    metrics.signal("timeout");
                }
            }
        });
        Ok(Action::await_change())
    }
}
