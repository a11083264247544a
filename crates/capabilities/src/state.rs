//! The store data of a flow component: the wasm layer's [`StoreCore`] plus one context
//! per capability, and the one linker that wires every capability in. Adding a capability
//! is a module, a field here, a line in [`linker`] and — if it acts for the running node —
//! a bound and a line in [`ComponentState::bind`].

use std::sync::Arc;

use tinyhost_wasm::engine::HostEngine;
use tinyhost_wasm::error::LoadError;
use tinyhost_wasm::store::{HasStoreCore, StoreCore};
use wasmtime::component::Linker;
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::bindings::tinysystems::component::types;
use crate::expr::{ExprCache, ExprCtx, ExprView};
use crate::log::{LogCtx, LogService};
use crate::metadata::{MetadataCtx, MetadataService};
use crate::node_info::{NodeInfoCtx, NodeInfoService};
use crate::output::{OutputCtx, OutputService, OutputView};
use crate::sandbox::{SandboxCtx, SandboxService, SandboxView};
use crate::timers::{TimerService, TimersCtx, TimersView};

/// One instance's state: the core and each capability's context.
pub struct ComponentState {
    /// WASI, limits, budget.
    pub core: StoreCore,
    /// `output`.
    pub output: OutputCtx,
    /// `timers`.
    pub timers: TimersCtx,
    /// `metadata`.
    pub metadata: MetadataCtx,
    /// `log`.
    pub log: LogCtx,
    /// `node-info`.
    pub node_info: NodeInfoCtx,
    /// `expr`.
    pub expr: ExprCtx,
    /// `sandbox`.
    pub sandbox: SandboxCtx,
}

/// The process-wide services every instance gets when it is made.
#[derive(Clone)]
pub struct SharedServices {
    /// The expression caches.
    pub exprs: Arc<ExprCache>,
    /// The inline-program sandbox.
    pub sandbox: Arc<dyn SandboxService>,
}

/// What a call acting for a node provides: one value implementing every per-node service.
pub trait NodeCall:
    OutputService + TimerService + MetadataService + LogService + NodeInfoService + 'static
{
}

impl<C> NodeCall for C where
    C: OutputService + TimerService + MetadataService + LogService + NodeInfoService + 'static
{
}

impl ComponentState {
    /// A fresh state around `core`, no call bound.
    pub fn new(core: StoreCore, shared: &SharedServices) -> ComponentState {
        ComponentState {
            core,
            output: OutputCtx::default(),
            timers: TimersCtx::default(),
            metadata: MetadataCtx::default(),
            log: LogCtx::default(),
            node_info: NodeInfoCtx::default(),
            expr: ExprCtx {
                cache: shared.exprs.clone(),
            },
            sandbox: SandboxCtx {
                service: shared.sandbox.clone(),
            },
        }
    }

    /// Makes `call` the node every per-node capability acts for.
    pub fn bind<C: NodeCall>(&mut self, call: Arc<C>) {
        self.output.service = Some(call.clone());
        self.timers.service = Some(call.clone());
        self.metadata.service = Some(call.clone());
        self.log.service = Some(call.clone());
        self.node_info.service = Some(call);
    }

    /// Ends the bound call.
    pub fn unbind(&mut self) {
        self.output.service = None;
        self.timers.service = None;
        self.metadata.service = None;
        self.log.service = None;
        self.node_info.service = None;
    }

    fn output_view(&mut self) -> OutputView<'_> {
        OutputView {
            ctx: &mut self.output,
            budget: &mut self.core.budget,
        }
    }

    fn timers_view(&mut self) -> TimersView<'_> {
        TimersView {
            ctx: &mut self.timers,
            budget: &mut self.core.budget,
        }
    }

    fn expr_view(&mut self) -> ExprView<'_> {
        ExprView {
            ctx: &self.expr,
            budget: &self.core.budget,
        }
    }

    fn sandbox_view(&mut self) -> SandboxView<'_> {
        SandboxView {
            ctx: &self.sandbox,
            budget: &mut self.core.budget,
        }
    }
}

impl HasStoreCore for ComponentState {
    fn core(&self) -> &StoreCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut StoreCore {
        &mut self.core
    }
}

impl WasiView for ComponentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.core.wasi_view()
    }
}

impl types::Host for ComponentState {}

struct HasSelf;

impl wasmtime::component::HasData for HasSelf {
    type Data<'a> = &'a mut ComponentState;
}

/// The linker every component instance is created with: WASI (nothing granted by the
/// context) and one line per capability.
pub fn linker(engine: &HostEngine) -> Result<Linker<ComponentState>, LoadError> {
    let mut linker = Linker::new(engine.engine());
    let wired = (|| -> wasmtime::Result<()> {
        let l = &mut linker;
        wasmtime_wasi::p2::add_to_linker_async(l)?;
        types::add_to_linker::<ComponentState, HasSelf>(l, |s| s)?;
        crate::output::add_to_linker(l, ComponentState::output_view)?;
        crate::timers::add_to_linker(l, ComponentState::timers_view)?;
        crate::metadata::add_to_linker(l, |s| &mut s.metadata)?;
        crate::log::add_to_linker(l, |s| &mut s.log)?;
        crate::node_info::add_to_linker(l, |s| &mut s.node_info)?;
        crate::expr::add_to_linker(l, ComponentState::expr_view)?;
        crate::sandbox::add_to_linker(l, ComponentState::sandbox_view)?;
        Ok(())
    })();
    wired.map_err(|e| LoadError::new("linker", format!("{e:#}")))?;
    Ok(linker)
}
