//! The `timers` capability: a node's own timers (`set-timer`, firing `on-timer` later),
//! `sleep` inside a call (off the CPU clock) and the wall clock. [`Timers`] is the table
//! of pending timers a [`TimerService`] implementation keeps: one tokio task per timer,
//! keyed by node name and timer id so a node replaced by a new manifest keeps its timers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tinyhost_wasm::limits::CallBudget;
use tokio::task::AbortHandle;
use wasmtime::component::{HasData, Linker};

use crate::bindings::tinysystems::component::timers;

/// Arms and cancels the running node's timers; implemented per call by the flow layer,
/// which decides what firing does (on the leader only).
pub trait TimerService: Send + Sync {
    /// Fires `id` after `after`, replacing a pending timer of the same id.
    fn set_timer(&self, id: String, after: Duration);
    /// Cancels `id` if pending.
    fn cancel_timer(&self, id: &str);
}

/// What the import functions see: the running call's service (none outside a call).
pub struct TimersView<'a> {
    /// The running call's service.
    pub service: Option<&'a dyn TimerService>,
    /// The budget `sleep` is booked off.
    pub budget: &'a mut CallBudget,
}

struct HasTimers;

impl HasData for HasTimers {
    type Data<'a> = TimersView<'a>;
}

/// Adds the `timers` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> TimersView<'_>,
) -> wasmtime::Result<()> {
    timers::add_to_linker::<T, HasTimers>(linker, get)
}

impl timers::Host for TimersView<'_> {
    fn set_timer(&mut self, id: String, after_ms: u64) -> wasmtime::Result<()> {
        if let Some(service) = self.service {
            service.set_timer(id, Duration::from_millis(after_ms));
        }
        Ok(())
    }

    fn cancel_timer(&mut self, id: String) -> wasmtime::Result<()> {
        if let Some(service) = self.service {
            service.cancel_timer(&id);
        }
        Ok(())
    }

    async fn sleep(&mut self, ms: u64) -> wasmtime::Result<()> {
        self.budget
            .off_the_clock(tokio::time::sleep(Duration::from_millis(ms)))
            .await;
        Ok(())
    }

    fn now_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0))
    }
}

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
