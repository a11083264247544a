//! The drive loop: what feeds a runtime, locally and in a cluster alike. A [`NodeSource`]
//! yields desired states; each is applied, then the signals that came with it are
//! delivered. The loop runs in a task of its own, so nothing else (printing events, a
//! deadline) can cancel a source half-way through reading a change.
//!
//! Every signal, from a folder or from the cluster, goes through [`deliver_signal`]: it
//! waits for its node to be ready — never delivered to a node still being applied — and
//! reports the outcome with the signal's name.

use std::sync::Arc;
use std::time::Duration;

use crate::apply::ApplyReport;
use crate::error::{CallError, ManifestError};
use crate::manifest::TinySignal;
use crate::runtime::Runtime;
use crate::source::NodeSource;

/// How long a signal's delivery may take once its node is ready: fire-and-forget with a
/// deadline ([compatibility: resources](../../../docs/compatibility.md#resources)).
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a signal did not reach its node, or its flow failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    /// The node did not run (or was still being applied) within the wait.
    #[error("node `{node}` {}", not_ready(*.waited))]
    NodeNotReady {
        /// The target node.
        node: String,
        /// How long the signal waited.
        waited: Duration,
    },
    /// The node got the message and its flow failed.
    #[error("{0}")]
    Call(CallError),
    /// The flow did not finish within [`SIGNAL_TIMEOUT`].
    #[error("timed out after {} s", SIGNAL_TIMEOUT.as_secs())]
    TimedOut,
}

fn not_ready(waited: Duration) -> String {
    if waited.is_zero() {
        "not found".into()
    } else {
        format!("is not running after waiting {} s", waited.as_secs())
    }
}

impl SignalError {
    /// Whether the payload reached the node (so the signal is spent): only a node that
    /// never became ready leaves it undelivered.
    pub fn reached_node(&self) -> bool {
        !matches!(self, SignalError::NodeNotReady { .. })
    }
}

/// Delivers one signal's payload to its `node:port`, waiting up to `ready_wait` for the
/// node to run and finish its first apply.
pub async fn deliver_signal(
    runtime: &Runtime,
    signal: &TinySignal,
    ready_wait: Duration,
) -> Result<(), SignalError> {
    let node = &signal.spec.node;
    if !runtime.wait_ready(node, ready_wait).await {
        return Err(SignalError::NodeNotReady {
            node: node.clone(),
            waited: ready_wait,
        });
    }
    let to = format!("{node}:{}", signal.spec.port);
    match tokio::time::timeout(SIGNAL_TIMEOUT, runtime.send(&to, &signal.spec.data.0)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(SignalError::Call(e)),
        Err(_) => Err(SignalError::TimedOut),
    }
}

/// Told what the drive loop did; the CLI prints it, the operator logs and counts it.
pub trait DriveObserver: Send + Sync + 'static {
    /// Documents of a snapshot that could not be read (the rest still applied).
    fn source_errors(&self, errors: &[ManifestError]);
    /// A snapshot was applied.
    fn applied(&self, report: &ApplyReport);
    /// A signal of a snapshot was delivered or failed.
    fn signal(&self, signal: &TinySignal, outcome: &Result<(), SignalError>);
}

/// Applies every snapshot of `source` until it ends, delivering its new signals after
/// each apply. A snapshot's signals may name nodes of the same snapshot: they are applied
/// first, so a signal does not wait for them ([`Duration::ZERO`] readiness wait).
pub async fn drive<S: NodeSource>(
    runtime: Runtime,
    mut source: S,
    observer: Arc<dyn DriveObserver>,
) {
    while let Some(snapshot) = source.next().await {
        if !snapshot.errors.is_empty() {
            observer.source_errors(&snapshot.errors);
        }
        let report = runtime.apply(snapshot.nodes).await;
        source.applied(&report);
        observer.applied(&report);
        for signal in snapshot.new_signals {
            let runtime = runtime.clone();
            let observer = observer.clone();
            tokio::spawn(async move {
                let outcome = deliver_signal(&runtime, &signal, Duration::ZERO).await;
                observer.signal(&signal, &outcome);
            });
        }
    }
}
