//! The store data of a flow component: the wasm layer's [`StoreCore`], the call bound
//! while one runs, the context of each capability that keeps state, and the one linker
//! that wires every capability in. Adding a capability is a module, a line in [`linker`]
//! and either a field here (if it keeps state) or a bound on [`NodeCall`] (if it acts for
//! the running node: its view then borrows the bound call).

use std::sync::Arc;

use tinyhost_wasm::engine::HostEngine;
use tinyhost_wasm::error::LoadError;
use tinyhost_wasm::store::{HasStoreCore, StoreCore};
use wasmtime::component::Linker;
use wasmtime_wasi::{WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::bindings::tinysystems::component::types;
use crate::expr::{ExprCache, ExprCtx, ExprView};
use crate::http_server::{HttpServerService, HttpServerView};
use crate::log::{LogService, LogView};
use crate::metadata::{MetadataService, MetadataView};
use crate::node_info::{NodeInfoService, NodeInfoView};
use crate::outbound_http::{OutboundHttpCtx, OutboundPolicy};
use crate::output::{OutputService, OutputView};
use crate::sandbox::{SandboxCtx, SandboxService, SandboxView};
use crate::timers::{TimerService, TimersView};

/// One instance's state: the core and each capability's context.
pub struct ComponentState {
    /// WASI, limits, budget.
    pub core: StoreCore,
    /// The node the per-node capabilities (`output`, `timers`, `metadata`, `log`,
    /// `node-info`, `http-server`) act for while a call runs: one value serving them all,
    /// bound once.
    call: Option<Arc<dyn NodeCall>>,
    /// `expr`.
    pub expr: ExprCtx,
    /// `sandbox`.
    pub sandbox: SandboxCtx,
    /// `wasi:http` (outbound requests).
    pub outbound: OutboundHttpCtx,
}

/// The process-wide services every instance gets when it is made.
#[derive(Clone)]
pub struct SharedServices {
    /// The expression caches.
    pub exprs: Arc<ExprCache>,
    /// The inline-program sandbox.
    pub sandbox: Arc<dyn SandboxService>,
    /// Hosts the components may call over `wasi:http`.
    pub outbound: Arc<OutboundPolicy>,
}

impl SharedServices {
    /// The same services for the host's own components, whose outbound requests go
    /// wherever their flow says (see [`crate::outbound_http`]).
    pub fn for_builtins(&self) -> SharedServices {
        SharedServices {
            outbound: Arc::new(OutboundPolicy::allow_all()),
            ..self.clone()
        }
    }
}

/// What a call acting for a node provides: one value implementing every per-node service.
pub trait NodeCall:
    OutputService
    + TimerService
    + MetadataService
    + LogService
    + NodeInfoService
    + HttpServerService
    + 'static
{
}

impl<C> NodeCall for C where
    C: OutputService
        + TimerService
        + MetadataService
        + LogService
        + NodeInfoService
        + HttpServerService
        + 'static
{
}

impl ComponentState {
    /// A fresh state around `core`, no call bound.
    pub fn new(core: StoreCore, shared: &SharedServices) -> ComponentState {
        ComponentState {
            core,
            call: None,
            expr: ExprCtx {
                cache: shared.exprs.clone(),
            },
            sandbox: SandboxCtx {
                service: shared.sandbox.clone(),
            },
            outbound: OutboundHttpCtx::new(shared.outbound.clone()),
        }
    }

    /// Makes `call` the node every per-node capability acts for.
    pub fn bind<C: NodeCall>(&mut self, call: Arc<C>) {
        self.call = Some(call);
    }

    /// Ends the bound call.
    pub fn unbind(&mut self) {
        self.call = None;
    }

    fn output_view(&mut self) -> OutputView<'_> {
        OutputView {
            service: self.call.as_deref().map(|c| c as &dyn OutputService),
            budget: &mut self.core.budget,
        }
    }

    fn timers_view(&mut self) -> TimersView<'_> {
        TimersView {
            service: self.call.as_deref().map(|c| c as &dyn TimerService),
            budget: &mut self.core.budget,
        }
    }

    fn metadata_view(&mut self) -> MetadataView<'_> {
        MetadataView {
            service: self.call.as_deref().map(|c| c as &dyn MetadataService),
        }
    }

    fn log_view(&mut self) -> LogView<'_> {
        LogView {
            service: self.call.as_deref().map(|c| c as &dyn LogService),
        }
    }

    fn node_info_view(&mut self) -> NodeInfoView<'_> {
        NodeInfoView {
            service: self.call.as_deref().map(|c| c as &dyn NodeInfoService),
        }
    }

    fn http_server_view(&mut self) -> HttpServerView<'_> {
        HttpServerView {
            service: self.call.as_deref().map(|c| c as &dyn HttpServerService),
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

impl WasiHttpView for ComponentState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.outbound.ctx,
            hooks: &mut self.outbound.hooks,
            table: self.core.table(),
        }
    }
}

impl types::Host for ComponentState {}

struct HasSelf;

impl wasmtime::component::HasData for HasSelf {
    type Data<'a> = &'a mut ComponentState;
}

/// The linker every component instance is created with: WASI (nothing granted by the
/// context), `wasi:http` (each request checked against the policy) and one line per
/// capability.
pub fn linker(engine: &HostEngine) -> Result<Linker<ComponentState>, LoadError> {
    let mut linker = Linker::new(engine.engine());
    let wired = (|| -> wasmtime::Result<()> {
        let l = &mut linker;
        wasmtime_wasi::p2::add_to_linker_async(l)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(l)?;
        types::add_to_linker::<ComponentState, HasSelf>(l, |s| s)?;
        crate::output::add_to_linker(l, ComponentState::output_view)?;
        crate::timers::add_to_linker(l, ComponentState::timers_view)?;
        crate::metadata::add_to_linker(l, ComponentState::metadata_view)?;
        crate::log::add_to_linker(l, ComponentState::log_view)?;
        crate::node_info::add_to_linker(l, ComponentState::node_info_view)?;
        crate::expr::add_to_linker(l, ComponentState::expr_view)?;
        crate::sandbox::add_to_linker(l, ComponentState::sandbox_view)?;
        crate::http_server::add_to_linker(l, ComponentState::http_server_view)?;
        Ok(())
    })();
    wired.map_err(|e| LoadError::new("linker", format!("{e:#}")))?;
    Ok(linker)
}
