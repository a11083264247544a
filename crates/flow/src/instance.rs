//! How the flow runs a component: the [`Instantiate`] implementation of its instance
//! pools, the guest resource each node gets in each instance (created on first use,
//! brought up to the node's current settings before every call, pruned once the node is
//! gone), and one call ([`Op`]) on a lent instance, with faults turned into call errors.
//!
//! Instances do not know nodes; they know a [`CallTarget`], which the node implements.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use tinyhost_capabilities::bindings::{ComponentInfo, FlowComponent, FlowComponentPre, PortDef};
use tinyhost_capabilities::http_server::{IncomingRequest, OutgoingResponse};
use tinyhost_capabilities::state::{ComponentState, NodeCall, SharedServices};
use tinyhost_wasm::fault::Fault;
use tinyhost_wasm::pool::{InstancePool, Instantiate, Pooled};
use tinyhost_wasm::store::{HasStoreCore, StoreCore};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::error::CallError;
use crate::settings::Settings;

/// What a call is made for: one node incarnation.
pub trait CallTarget: Send + Sync + 'static {
    /// Unique per incarnation: instances key their node resources by it.
    fn incarnation(&self) -> u64;
    /// The node name (errors, logs).
    fn name(&self) -> &str;
    /// The component the resource is made of.
    fn component(&self) -> &str;
    /// The settings the resource must have.
    fn settings(&self) -> Settings;
    /// Their version, cheaply.
    fn settings_version(&self) -> u64;
    /// Records settings the component accepted; their version.
    fn accept_settings(&self, text: Arc<str>) -> u64;
    /// Whether the node was removed or replaced (its resources can go).
    fn is_retired(&self) -> bool;
}

/// Targets retired so far, process-wide: instances prune the resources of removed nodes
/// only when this moved since they last looked.
static RETIREMENTS: AtomicU64 = AtomicU64::new(0);

/// Counts one retirement; see [`RETIREMENTS`].
pub fn note_retirement() {
    RETIREMENTS.fetch_add(1, Ordering::AcqRel);
}

fn retirements() -> u64 {
    RETIREMENTS.load(Ordering::Acquire)
}

/// What a call does once the node's resource is ready.
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    /// A request on the node's HTTP listener.
    HttpRequest(&'a IncomingRequest),
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
    target: Weak<dyn CallTarget>,
}

/// The node resources one instance holds.
pub struct NodeSlots {
    slots: HashMap<u64, NodeSlot>,
    /// [`RETIREMENTS`] when `slots` was last pruned.
    pruned_at: u64,
}

/// Makes instances of one component file for the flow.
pub struct FlowInstances {
    pre: FlowComponentPre<ComponentState>,
    services: SharedServices,
    calls_out: bool,
}

impl FlowInstances {
    /// Instances of `pre`, each given `services`; `calls_out` when the component imports
    /// outbound HTTP (it then waits for responses in host calls).
    pub fn new(
        pre: FlowComponentPre<ComponentState>,
        services: SharedServices,
        calls_out: bool,
    ) -> FlowInstances {
        FlowInstances {
            pre,
            services,
            calls_out,
        }
    }
}

impl Instantiate for FlowInstances {
    type Data = ComponentState;
    type Bindings = FlowComponent;
    type Kept = NodeSlots;

    fn data(&self, core: StoreCore) -> ComponentState {
        ComponentState::new(core, &self.services)
    }

    async fn instantiate(
        &self,
        store: &mut Store<ComponentState>,
    ) -> wasmtime::Result<(FlowComponent, NodeSlots)> {
        let bindings = self.pre.instantiate_async(store).await?;
        let slots = NodeSlots {
            slots: HashMap::new(),
            pruned_at: retirements(),
        };
        Ok((bindings, slots))
    }

    fn waits_in_host_calls(&self) -> bool {
        self.calls_out
    }

    fn recycle(&self, kept: &mut NodeSlots) {
        // An instance may hold thousands of resources and this runs after every call:
        // prune only when some node was removed.
        let now = retirements();
        if kept.pruned_at != now {
            kept.slots
                .retain(|_, slot| slot.target.upgrade().is_some_and(|t| !t.is_retired()));
            kept.pruned_at = now;
        }
    }
}

/// The instances of one component file, as the flow uses them.
pub type FlowPool = InstancePool<FlowInstances>;

type FlowInstance = Pooled<FlowInstances>;

/// What a guest answers: a message for most calls, a response for an HTTP request.
#[derive(Debug)]
pub enum Answer {
    /// The reply to a message (or nothing).
    Message(Option<String>),
    /// The response to an HTTP request.
    Http(OutgoingResponse),
}

enum Outcome {
    /// The guest answered (a value or its own failure): the instance is healthy.
    Answered(Result<Answer, CallError>),
    /// The guest faulted: the instance is discarded.
    Broken(CallError),
}

/// Runs `op` for `target` on a borrowed instance, with `call` bound as the node every
/// capability acts for.
pub async fn call<T: CallTarget, C: NodeCall>(
    pool: &FlowPool,
    target: &Arc<T>,
    call: Arc<C>,
    op: Op<'_>,
) -> Result<Answer, CallError> {
    let mut instance = pool.take().await.map_err(|e| CallError::Runtime {
        node: target.name().to_string(),
        message: format!("cannot instantiate component {}: {e:#}", pool.origin()),
    })?;
    let limit = pool.engine().config().call_time_limit;
    {
        let state = instance.store.data_mut();
        state.bind(call);
        state.core.budget.start_call(limit);
        state.core.stderr.clear();
    }
    instance.store.set_epoch_deadline(1);
    let outcome = run(&mut instance, target, op).await;
    match outcome {
        Outcome::Answered(result) => {
            let state = instance.store.data_mut();
            state.unbind();
            state.core.budget.end_call();
            pool.give_back(instance);
            result
        }
        Outcome::Broken(error) => {
            tracing::warn!(node = %target.name(), component = %pool.origin(), error = %error, "discarding a component instance after a trap");
            Err(error)
        }
    }
}

async fn run<T: CallTarget>(instance: &mut FlowInstance, target: &Arc<T>, op: Op<'_>) -> Outcome {
    let guest = instance.bindings.tinysystems_component_component().node();
    let store = &mut instance.store;
    let name = target.name();

    // The node's resource in this instance, created on first use.
    let slot = match instance.kept.slots.get_mut(&target.incarnation()) {
        Some(slot) => slot,
        None => {
            let resource = match guest
                .call_constructor(&mut *store, target.component())
                .await
            {
                Ok(r) => r,
                Err(e) => return Outcome::Broken(fault(name, store, &e)),
            };
            let weak: Weak<dyn CallTarget> = {
                let as_target: Arc<dyn CallTarget> = target.clone();
                Arc::downgrade(&as_target)
            };
            instance
                .kept
                .slots
                .entry(target.incarnation())
                .or_insert(NodeSlot {
                    resource,
                    settings_version: 0,
                    target: weak,
                })
        }
    };

    // Bring the resource up to the node's current settings, unless this call delivers them.
    if !matches!(op, Op::Settings(_)) && slot.settings_version != target.settings_version() {
        let current = target.settings();
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
                Err(e) => return Outcome::Broken(fault(name, store, &e)),
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
                slot.settings_version = target.accept_settings(Arc::from(text.as_str()));
            } else {
                // Whatever the guest kept of the rejected settings, re-apply the good ones next time.
                slot.settings_version = u64::MAX;
            }
            answer.map(|r| r.map(|()| Answer::Message(None)))
        }
        Op::Control(text) => guest
            .call_on_control(&mut *store, resource, text)
            .await
            .map(|r| r.map(Answer::Message)),
        Op::Reconcile => guest
            .call_on_reconcile(&mut *store, resource)
            .await
            .map(|r| r.map(|()| Answer::Message(None))),
        Op::Timer(id) => guest
            .call_on_timer(&mut *store, resource, id)
            .await
            .map(|r| r.map(|()| Answer::Message(None))),
        Op::Handle(port, payload) => guest
            .call_handle(&mut *store, resource, port, payload)
            .await
            .map(|r| r.map(Answer::Message)),
        Op::HttpRequest(request) => guest
            .call_on_http_request(&mut *store, resource, request)
            .await
            .map(|r| r.map(Answer::Http)),
    };
    match result {
        Ok(Ok(value)) => Outcome::Answered(Ok(value)),
        Ok(Err(f)) => Outcome::Answered(Err(CallError::Failed {
            node: name.to_string(),
            message: f.message,
            retryable: f.retryable,
        })),
        Err(e) => Outcome::Broken(fault(name, store, &e)),
    }
}

/// A guest fault as the call error of `node`.
fn fault(node: &str, store: &Store<ComponentState>, e: &wasmtime::Error) -> CallError {
    let node = node.to_string();
    match Fault::classify(store.data().core(), e) {
        Fault::TimeLimit { limit_ms } => CallError::TimeLimit { node, limit_ms },
        Fault::MemoryLimit { limit_bytes } => CallError::MemoryLimit { node, limit_bytes },
        Fault::Trap { message } => CallError::Trap { node, message },
    }
}

fn introspection_error(origin: &str, e: wasmtime::Error) -> CallError {
    CallError::Runtime {
        node: origin.to_string(),
        message: format!("introspection failed: {e:#}"),
    }
}

/// The components the file carries (introspection, no node involved).
pub async fn components(pool: &FlowPool) -> Result<Vec<ComponentInfo>, CallError> {
    let mut instance = pool
        .take_unframed()
        .await
        .map_err(|e| introspection_error(pool.origin(), e))?;
    let result = instance
        .bindings
        .tinysystems_component_component()
        .call_components(&mut instance.store)
        .await;
    match result {
        Ok(list) => {
            pool.give_back(instance);
            Ok(list)
        }
        Err(e) => Err(introspection_error(pool.origin(), e)),
    }
}

/// The ports of `component` for `settings` (JSON text).
pub async fn ports(
    pool: &FlowPool,
    component: &str,
    settings: Option<&str>,
) -> Result<Vec<PortDef>, CallError> {
    let settings = settings.map(str::to_string);
    let mut instance = pool
        .take_unframed()
        .await
        .map_err(|e| introspection_error(pool.origin(), e))?;
    let result = instance
        .bindings
        .tinysystems_component_component()
        .call_ports(&mut instance.store, component, settings.as_ref())
        .await;
    match result {
        Ok(answer) => {
            pool.give_back(instance);
            answer.map_err(|f| CallError::Failed {
                node: component.to_string(),
                message: f.message,
                retryable: f.retryable,
            })
        }
        Err(e) => Err(introspection_error(pool.origin(), e)),
    }
}
