//! Instances of one component, lent per call.
//!
//! A component instance cannot be re-entered while one of its calls waits in `output`
//! (cycles, concurrent messages), so a node may need several instances at once; and an
//! idle node must not pin an instance if thousands of nodes are to fit in memory. So
//! instances belong to the component, not the node: a call borrows an idle instance (or
//! instantiates one from the `InstancePre`, in microseconds with the pooling allocator),
//! makes sure the node's resource exists there with the node's current settings, runs,
//! and gives the instance back. An instance that trapped is discarded, never reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceAny;
use wasmtime::{Store, UpdateDeadline};

use crate::bindings::{ComponentInfo, FlowComponent, FlowComponentPre, PortDef};
use crate::engine::HostEngine;
use crate::error::CallError;
use crate::host_api::{CallFrame, HostState, MemoryLimitExceeded, TimeLimitExceeded};
use crate::node::Node;
use crate::runtime::Shared;

/// Idle instances kept per component; more are created on demand and dropped after use.
const MAX_IDLE: usize = 32;

/// How long a call waits for an instance when every slot of the engine is in use (a burst
/// of concurrent messages queues instead of failing; calls that each hold an instance
/// while waiting for a downstream one cannot wait forever).
const INSTANCE_WAIT: Duration = Duration::from_secs(30);

/// What a call does once the node's resource is ready.
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    /// Authoritative settings delivery (`_settings`).
    Settings(&'a String),
    /// A control message (`_control`).
    Control(&'a String),
    /// Start-up / periodic reconcile.
    Reconcile,
    /// A timer fired.
    Timer(&'a str),
    /// A message on a target port.
    Handle(&'a str, &'a String),
}

struct NodeSlot {
    resource: ResourceAny,
    settings_version: u64,
    node: Weak<Node>,
}

struct Instance {
    store: Store<HostState>,
    bindings: FlowComponent,
    nodes: HashMap<u64, NodeSlot>,
    /// [`crate::node::retirements`] when `nodes` was last pruned.
    pruned_at: u64,
    _slot: Slot,
}

/// Tells waiting calls when the instance's engine slot is free again.
struct Slot(Arc<HostEngine>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.instance_freed().freed();
    }
}

/// The instances of one loaded component file.
pub struct InstancePool {
    origin: String,
    engine: Arc<HostEngine>,
    pre: FlowComponentPre<HostState>,
    idle: Mutex<Vec<Instance>>,
}

impl std::fmt::Debug for InstancePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePool")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

enum Outcome {
    /// The guest answered (a value or its own failure): the instance is healthy.
    Answered(Result<Option<String>, CallError>),
    /// The guest trapped or was interrupted: the instance is discarded.
    Broken(CallError),
}

impl InstancePool {
    /// A pool over a pre-instantiated component.
    pub fn new(
        origin: String,
        engine: Arc<HostEngine>,
        pre: FlowComponentPre<HostState>,
    ) -> InstancePool {
        InstancePool {
            origin,
            engine,
            pre,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Where the component came from (file path or `builtin:`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    async fn instantiate(&self) -> wasmtime::Result<Instance> {
        let config = self.engine.config();
        let mut store = Store::new(self.engine.engine(), HostState::new(config.memory_limit));
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_callback(|ctx| {
            let state = ctx.data();
            let over = match &state.frame {
                Some(frame) => frame.over_budget(),
                None => state.unframed_deadline.is_some_and(|d| Instant::now() >= d),
            };
            if over {
                Err(wasmtime::Error::new(TimeLimitExceeded))
            } else {
                // Yield each tick so a busy guest cannot starve other tasks on its thread.
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        store.data_mut().unframed_deadline = Some(Instant::now() + config.call_time_limit);
        let bindings = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            bindings,
            nodes: HashMap::new(),
            pruned_at: crate::node::retirements(),
            _slot: Slot(self.engine.clone()),
        })
    }

    /// An idle instance, a new one, or — when every slot of the engine is taken — the next
    /// one freed, for up to [`INSTANCE_WAIT`].
    async fn take(&self) -> wasmtime::Result<Instance> {
        let give_up = Instant::now() + INSTANCE_WAIT;
        if let Some(instance) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
            return Ok(instance);
        }
        // Registered before looking again, so a slot freed meanwhile is not missed.
        let waiter = self.engine.instance_freed().waiter();
        loop {
            if let Some(instance) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
                return Ok(instance);
            }
            let freed = waiter.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.instantiate().await {
                Err(e)
                    if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                        .is_some()
                        && Instant::now() < give_up =>
                {
                    // Also re-check now and then: another pool's idle instance going away
                    // frees a slot without waking anyone.
                    let _ = tokio::time::timeout(Duration::from_millis(50), freed).await;
                }
                other => return other,
            }
        }
    }

    fn give_back(&self, mut instance: Instance) {
        // Prune resources of removed nodes only when some node was removed: an instance
        // may hold thousands of them, and this runs after every call.
        let retirements = crate::node::retirements();
        if instance.pruned_at != retirements {
            instance
                .nodes
                .retain(|_, slot| slot.node.upgrade().is_some_and(|n| !n.is_retired()));
            instance.pruned_at = retirements;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(instance);
        }
        self.engine.instance_freed().freed();
    }

    /// Drops every idle instance, returning how many were dropped: frees their memory now
    /// (and lets a benchmark measure a call that must instantiate).
    pub fn drain_idle(&self) -> usize {
        let drained = self
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        let count = drained.len();
        drop(drained);
        self.engine.instance_freed().freed();
        count
    }

    /// An instance for a call that belongs to no node, with the same time limit as a call.
    async fn take_for_introspection(&self) -> Result<Instance, CallError> {
        let mut instance = self
            .take()
            .await
            .map_err(|e| introspection_error(&self.origin, e))?;
        instance.store.data_mut().unframed_deadline =
            Some(Instant::now() + self.engine.config().call_time_limit);
        instance.store.set_epoch_deadline(1);
        Ok(instance)
    }

    /// The components the file carries (introspection, no node involved).
    pub async fn components(&self) -> Result<Vec<ComponentInfo>, CallError> {
        let mut instance = self.take_for_introspection().await?;
        let result = instance
            .bindings
            .tinysystems_component_component()
            .call_components(&mut instance.store)
            .await;
        match result {
            Ok(list) => {
                self.give_back(instance);
                Ok(list)
            }
            Err(e) => Err(introspection_error(&self.origin, e)),
        }
    }

    /// The ports of `component` for `settings` (JSON text).
    pub async fn ports(
        &self,
        component: &str,
        settings: Option<&str>,
    ) -> Result<Vec<PortDef>, CallError> {
        let settings = settings.map(str::to_string);
        let mut instance = self.take_for_introspection().await?;
        let result = instance
            .bindings
            .tinysystems_component_component()
            .call_ports(&mut instance.store, component, settings.as_ref())
            .await;
        match result {
            Ok(answer) => {
                self.give_back(instance);
                answer.map_err(|f| CallError::Failed {
                    node: component.to_string(),
                    message: f.message,
                    retryable: f.retryable,
                })
            }
            Err(e) => Err(introspection_error(&self.origin, e)),
        }
    }

    /// Runs `op` for `node` on a borrowed instance. `depth` is the hop count of the
    /// message that caused the call.
    pub async fn call(
        &self,
        shared: &Arc<Shared>,
        node: &Arc<Node>,
        depth: u32,
        op: Op<'_>,
    ) -> Result<Option<String>, CallError> {
        let mut instance = self.take().await.map_err(|e| CallError::Runtime {
            node: node.name.clone(),
            message: format!("cannot instantiate component {}: {e:#}", self.origin),
        })?;
        instance.store.data_mut().frame = Some(CallFrame {
            shared: shared.clone(),
            node: node.clone(),
            depth,
            started_ms: crate::engine::coarse_ms(),
            waited_ms: 0,
            time_limit: self.engine.config().call_time_limit,
        });
        instance.store.set_epoch_deadline(1);
        instance.store.data().stderr.clear();
        let outcome = run(&mut instance, node, op).await;
        instance.store.data_mut().frame = None;
        match outcome {
            Outcome::Answered(result) => {
                self.give_back(instance);
                result
            }
            Outcome::Broken(error) => {
                tracing::warn!(node = %node.name, component = %self.origin, error = %error, "discarding a component instance after a trap");
                Err(error)
            }
        }
    }
}

async fn run(instance: &mut Instance, node: &Arc<Node>, op: Op<'_>) -> Outcome {
    let component_name = node.manifest.spec.component.as_str();
    let guest = instance.bindings.tinysystems_component_component().node();
    let store = &mut instance.store;
    let name = node.name.as_str();

    // The node's resource in this instance, created on first use.
    let slot = match instance.nodes.get_mut(&node.id) {
        Some(slot) => slot,
        None => {
            let resource = match guest.call_constructor(&mut *store, component_name).await {
                Ok(r) => r,
                Err(e) => return Outcome::Broken(classify(name, store, e)),
            };
            instance.nodes.entry(node.id).or_insert(NodeSlot {
                resource,
                settings_version: 0,
                node: Arc::downgrade(node),
            })
        }
    };

    // Bring the resource up to the node's current settings, unless this call delivers them.
    if !matches!(op, Op::Settings(_)) && slot.settings_version != node.settings_version() {
        let current = node.settings();
        if let Some(text) = &current.text {
            let text = text.to_string();
            match guest
                .call_on_settings(&mut *store, slot.resource, &text)
                .await
            {
                Ok(Ok(())) => slot.settings_version = current.version,
                Ok(Err(f)) => {
                    return Outcome::Answered(Err(CallError::Failed {
                        node: name.to_string(),
                        message: format!("settings: {}", f.message),
                        retryable: false,
                    }));
                }
                Err(e) => return Outcome::Broken(classify(name, store, e)),
            }
        } else {
            slot.settings_version = current.version;
        }
    }

    let resource = slot.resource;
    let result = match op {
        Op::Settings(text) => {
            let answer = guest.call_on_settings(&mut *store, resource, text).await;
            if let Ok(Ok(())) = &answer {
                slot.settings_version = node.set_settings(Arc::from(text.as_str()));
            } else {
                // Whatever the guest kept of the rejected settings, re-apply the good ones next time.
                slot.settings_version = u64::MAX;
            }
            answer.map(|r| r.map(|()| None))
        }
        Op::Control(text) => guest.call_on_control(&mut *store, resource, text).await,
        Op::Reconcile => guest
            .call_on_reconcile(&mut *store, resource)
            .await
            .map(|r| r.map(|()| None)),
        Op::Timer(id) => guest
            .call_on_timer(&mut *store, resource, id)
            .await
            .map(|r| r.map(|()| None)),
        Op::Handle(port, payload) => {
            guest
                .call_handle(&mut *store, resource, port, payload)
                .await
        }
    };
    match result {
        Ok(Ok(value)) => Outcome::Answered(Ok(value)),
        Ok(Err(f)) => Outcome::Answered(Err(CallError::Failed {
            node: name.to_string(),
            message: f.message,
            retryable: f.retryable,
        })),
        Err(e) => Outcome::Broken(classify(name, store, e)),
    }
}

/// Turns a wasmtime error (trap, interruption, limiter refusal) into a call error.
fn classify(node: &str, store: &Store<HostState>, e: wasmtime::Error) -> CallError {
    if e.downcast_ref::<TimeLimitExceeded>().is_some() {
        let limit_ms = store
            .data()
            .frame
            .as_ref()
            .map(|f| f.time_limit.as_millis() as u64)
            .unwrap_or(0);
        return CallError::TimeLimit {
            node: node.to_string(),
            limit_ms,
        };
    }
    if let Some(m) = e.downcast_ref::<MemoryLimitExceeded>() {
        return CallError::MemoryLimit {
            node: node.to_string(),
            limit_bytes: m.limit,
        };
    }
    let mut message = trap_message(&e);
    if let Some(words) = store.data().stderr.last_words() {
        message = format!("{message} ({words})");
    }
    CallError::Trap {
        node: node.to_string(),
        message,
    }
}

fn trap_message(e: &wasmtime::Error) -> String {
    let mut text = e.to_string();
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        text = format!("{trap}");
    }
    text.lines().next().unwrap_or("trap").to_string()
}

fn introspection_error(origin: &str, e: wasmtime::Error) -> CallError {
    CallError::Runtime {
        node: origin.to_string(),
        message: format!("introspection failed: {e:#}"),
    }
}
