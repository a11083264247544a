//! What the TinyNode and TinySignal controllers share: a watch that keeps a reflector and
//! lets the caller see every event first, per-object exponential backoff after a failed
//! reconcile, and a trigger that fires when this replica becomes the leader.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::watch;

use crate::error::ReconcileError;

/// The objects of `api` as a controller consumes them, kept in `writer`'s store; `observe`
/// sees every event (after the store has taken it), including the end of each list.
pub(crate) fn watch_objects(
    api: Api<DynamicObject>,
    writer: Writer<DynamicObject>,
    kind: &'static str,
    observe: impl Fn(&watcher::Event<DynamicObject>) + Send + 'static,
) -> impl Stream<Item = Result<DynamicObject, watcher::Error>> + Send + 'static {
    watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .map(move |event| {
            match &event {
                Ok(e) => observe(e),
                Err(e) => tracing::warn!(kind, error = %e, "watch failed; retrying"),
            }
            event
        })
        .applied_objects()
}

/// Per-object retry counts, for exponential backoff after failed reconciles.
#[derive(Debug, Default)]
pub(crate) struct Retries(Mutex<HashMap<String, u32>>);

impl Retries {
    /// The delay before the next attempt for `key`: 500 ms doubling up to 5 minutes.
    pub(crate) fn next_delay(&self, key: &str) -> Duration {
        let attempt = self
            .0
            .lock()
            .map(|mut m| {
                let n = m.entry(key.to_string()).or_insert(0);
                *n = n.saturating_add(1);
                *n
            })
            .unwrap_or(1);
        let millis = 500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(10));
        Duration::from_millis(millis).min(Duration::from_secs(300))
    }

    /// Forgets `key` after a success.
    pub(crate) fn reset(&self, key: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(key);
        }
    }
}

/// A controller's state, as the shared error policy needs it.
pub(crate) trait Reconciler {
    /// The kind, for logs and metrics.
    const KIND: &'static str;
    /// Its retry counts.
    fn retries(&self) -> &Retries;
    /// Its metrics.
    fn metrics(&self) -> &crate::metrics::Metrics;
}

/// Records the outcome of one reconcile: metrics, and the retry count reset on success.
pub(crate) fn finish<C: Reconciler>(
    controller: &C,
    name: &str,
    started: std::time::Instant,
    result: Result<Action, ReconcileError>,
) -> Result<Action, ReconcileError> {
    controller
        .metrics()
        .reconciled(C::KIND, result.is_ok(), started.elapsed());
    if result.is_ok() {
        controller.retries().reset(name);
    }
    result
}

/// Retries a failed object with exponential backoff.
pub(crate) fn error_policy<C: Reconciler>(
    object: Arc<DynamicObject>,
    error: &ReconcileError,
    controller: Arc<C>,
) -> Action {
    let name = object.name_any();
    let delay = controller.retries().next_delay(&name);
    tracing::warn!(kind = C::KIND, object = %name, error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// A patch that replaces an object's whole status (through the status subresource): a
/// merge patch would keep fields and metadata keys the new status no longer has.
pub(crate) fn replace_status<S: serde::Serialize>(
    status: &S,
) -> Result<kube::api::Patch<()>, ReconcileError> {
    let patch: json_patch::Patch = serde_json::from_value(serde_json::json!([
        {"op": "add", "path": "/status", "value": serde_json::to_value(status)?}
    ]))?;
    Ok(kube::api::Patch::Json(patch))
}

/// A TinyNode's durable metadata as the object's status records it (empty when none).
pub(crate) fn status_metadata(
    object: &DynamicObject,
) -> std::collections::BTreeMap<String, String> {
    object
        .data
        .pointer("/status/metadata")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

/// A dynamic object as its typed resource `K`, then as the local form `L` the runtime
/// takes; the error names the kind and the first offending field.
pub(crate) fn read_typed<K, L>(object: &DynamicObject, kind: &str) -> Result<L, String>
where
    K: serde::de::DeserializeOwned,
    for<'a> L: TryFrom<&'a K>,
    for<'a> <L as TryFrom<&'a K>>::Error: std::fmt::Display,
{
    let value = serde_json::to_value(object).map_err(|e| e.to_string())?;
    let typed: K = serde_json::from_value(value).map_err(|e| format!("invalid {kind}: {e}"))?;
    L::try_from(&typed).map_err(|e| e.to_string())
}

/// Fires once each time this replica becomes the leader (at once if it already leads).
pub(crate) fn leadership_gained(
    leader: watch::Receiver<bool>,
) -> impl Stream<Item = ()> + Send + 'static {
    futures::stream::unfold((leader, true), |(mut leader, first)| async move {
        if !(first && *leader.borrow()) {
            leader.wait_for(|l| !*l).await.ok()?;
            leader.wait_for(|l| *l).await.ok()?;
        }
        Some(((), (leader, false)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_and_reset() {
        let retries = Retries::default();
        let delays: Vec<Duration> = (0..4).map(|_| retries.next_delay("x")).collect();
        assert_eq!(
            delays,
            [500, 1000, 2000, 4000].map(Duration::from_millis).to_vec()
        );
        for _ in 0..40 {
            retries.next_delay("x");
        }
        assert_eq!(retries.next_delay("x"), Duration::from_secs(300));
        retries.reset("x");
        assert_eq!(retries.next_delay("x"), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn leadership_gains_are_counted_once_each() {
        let (tx, rx) = watch::channel(false);
        let mut gains = Box::pin(leadership_gained(rx));
        async fn next(
            gains: &mut (impl Stream<Item = ()> + Unpin),
        ) -> Result<Option<()>, tokio::time::error::Elapsed> {
            tokio::time::timeout(Duration::from_millis(50), gains.next()).await
        }
        assert!(next(&mut gains).await.is_err(), "no gain yet");
        tx.send_replace(true);
        assert_eq!(next(&mut gains).await, Ok(Some(())));
        tx.send_replace(true);
        assert!(next(&mut gains).await.is_err(), "still the same term");
        tx.send_replace(false);
        assert!(next(&mut gains).await.is_err(), "lost, not gained");
        tx.send_replace(true);
        assert_eq!(next(&mut gains).await, Ok(Some(())));
    }
}
