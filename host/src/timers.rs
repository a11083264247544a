//! Node timers (`host.set-timer`): one tokio task per pending timer, keyed by node name and
//! timer id so a node replaced by a new manifest keeps its timers. Firing is the
//! runtime's job, which checks leadership first.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::AbortHandle;

/// Pending timers by (node, timer id), with the generation that armed each.
type Pending = Arc<Mutex<HashMap<(String, String), (u64, AbortHandle)>>>;

/// Pending timers.
#[derive(Debug, Default)]
pub struct Timers {
    pending: Pending,
    generation: AtomicU64,
}

impl Timers {
    /// Runs `fire` after `after`, replacing a pending timer with the same key.
    pub fn set<F>(&self, node: &str, id: &str, after: Duration, fire: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let key = (node.to_string(), id.to_string());
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let pending = self.pending.clone();
        let mut guard = match self.pending.lock() {
            Ok(g) => g,
            Err(_) => return,
        };
        let own_key = key.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            // Forget ourselves before firing, so a timer set while firing (a ticker
            // re-arming itself) does not abort the running one.
            if let Ok(mut p) = pending.lock()
                && p.get(&own_key).is_some_and(|(g, _)| *g == generation)
            {
                p.remove(&own_key);
            }
            fire.await;
        });
        guard.retain(|_, (_, h)| !h.is_finished());
        if let Some((_, old)) = guard.insert(key, (generation, task.abort_handle())) {
            old.abort();
        }
    }

    /// Cancels one timer.
    pub fn cancel(&self, node: &str, id: &str) {
        if let Ok(mut pending) = self.pending.lock()
            && let Some((_, h)) = pending.remove(&(node.to_string(), id.to_string()))
        {
            h.abort();
        }
    }

    /// Cancels every timer of a node (it was deleted).
    pub fn cancel_node(&self, node: &str) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.retain(|(n, _), (_, h)| {
                if n == node {
                    h.abort();
                }
                n != node
            });
        }
    }

    /// Cancels everything (shutdown).
    pub fn cancel_all(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            for (_, (_, h)) in pending.drain() {
                h.abort();
            }
        }
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending
            .lock()
            .map(|p| p.values().filter(|(_, h)| !h.is_finished()).count())
            .unwrap_or(0)
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
