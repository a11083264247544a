//! Watch responses: a chunked body with one JSON `WatchEvent` per line, which is
//! what `kube::Api::watch` (and so `kube::runtime::watcher`) reads.
//!
//! A watch ends when its `timeoutSeconds` pass (after a final BOOKMARK if the
//! client allows them), when the test calls `drop_watches`/`set_down`, when the
//! server stops, or when it falls too far behind the live events; in every case
//! the client re-watches from the last resourceVersion it saw, as it must with a
//! real server.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::error::ApiError;
use crate::resource::ResourceType;
use crate::selector::Selector;
use crate::store::{StoredEvent, WatchStart};

/// Everything a watch filters and formats by.
#[derive(Debug, Clone)]
pub(crate) struct WatchFilter {
    pub rt: ResourceType,
    pub namespace: Option<String>,
    pub selector: Selector,
    pub kind: String,
    pub bookmarks: bool,
    pub meta_only: bool,
}

impl WatchFilter {
    fn line(&self, event_type: &str, object: &Value) -> Bytes {
        let object = if self.meta_only {
            partial_object_metadata(object)
        } else {
            object.clone()
        };
        encode(&json!({"type": event_type, "object": object}))
    }

    fn event_line(&self, ev: &StoredEvent) -> Option<Bytes> {
        ev.view(&self.rt, self.namespace.as_deref(), &self.selector)
            .map(|(t, obj)| self.line(t, obj))
    }

    /// A BOOKMARK at `rv`, optionally marking the end of `sendInitialEvents`.
    pub(crate) fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let (api_version, kind) = if self.meta_only {
            (
                "meta.k8s.io/v1".to_string(),
                "PartialObjectMetadata".to_string(),
            )
        } else {
            (self.rt.api_version.clone(), self.kind.clone())
        };
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        encode(&json!({
            "type": "BOOKMARK",
            "object": {"apiVersion": api_version, "kind": kind, "metadata": metadata},
        }))
    }
}

/// The metadata-only view of an object (`Accept: ...;as=PartialObjectMetadata;...`).
pub(crate) fn partial_object_metadata(object: &Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn encode(v: &Value) -> Bytes {
    let mut buf = serde_json::to_vec(v).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

/// Counts a watch as open for as long as its body stream lives.
pub(crate) struct WatchGuard(Arc<AtomicUsize>);

impl WatchGuard {
    pub(crate) fn new(counter: Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A body holding a single ERROR event, e.g. 410 Expired for a compacted resourceVersion.
pub(crate) fn error_body(err: &ApiError) -> Body {
    Body::from(encode(&json!({"type": "ERROR", "object": err.to_status()})))
}

/// How the live part of a watch ends or continues.
enum Step {
    Event(Arc<StoredEvent>),
    Ended,
    TimedOut,
}

struct Live {
    pending: VecDeque<Bytes>,
    rx: broadcast::Receiver<Arc<StoredEvent>>,
    epoch: watch::Receiver<u64>,
    deadline: Option<Instant>,
    start_rv: u64,
    last_rv: u64,
    filter: WatchFilter,
    finished: bool,
    _guard: WatchGuard,
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Builds the streaming body of a watch that starts at `start`.
pub(crate) fn stream_body(
    filter: WatchFilter,
    start: WatchStart,
    send_initial_events: bool,
    timeout: Option<Duration>,
    epoch: watch::Receiver<u64>,
    guard: WatchGuard,
) -> Body {
    let mut pending: VecDeque<Bytes> = start
        .initial
        .iter()
        .filter_map(|ev| filter.event_line(ev))
        .collect();
    if send_initial_events {
        pending.push_back(filter.bookmark(start.start_rv, true));
    }
    let live = Live {
        pending,
        rx: start.rx,
        epoch,
        deadline: timeout.map(|t| Instant::now() + t),
        start_rv: start.start_rv,
        last_rv: start.start_rv,
        filter,
        finished: false,
        _guard: guard,
    };
    let stream = futures::stream::unfold(live, |mut st| async move {
        loop {
            if let Some(line) = st.pending.pop_front() {
                return Some((Ok::<Bytes, Infallible>(line), st));
            }
            if st.finished {
                return None;
            }
            let step = tokio::select! {
                biased;
                _ = st.epoch.changed() => Step::Ended,
                () = sleep_until(st.deadline) => Step::TimedOut,
                res = st.rx.recv() => match res {
                    Ok(ev) => Step::Event(ev),
                    // Lagged: the client resumes from its last resourceVersion via the history.
                    Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => Step::Ended,
                },
            };
            match step {
                Step::Ended => return None,
                Step::TimedOut => {
                    st.finished = true;
                    if st.filter.bookmarks {
                        let bookmark = st.filter.bookmark(st.last_rv, false);
                        st.pending.push_back(bookmark);
                    }
                }
                Step::Event(ev) => {
                    if ev.rv <= st.start_rv {
                        continue;
                    }
                    st.last_rv = ev.rv;
                    if let Some(line) = st.filter.event_line(&ev) {
                        st.pending.push_back(line);
                    }
                }
            }
        }
    });
    Body::from_stream(stream)
}
