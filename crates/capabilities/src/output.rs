//! The `output` capability: messages out of the running node's source ports. The host
//! side of a blocking `output` is the flow's router; this module only turns the import into
//! a call on an [`OutputService`] and keeps the wait off the call's CPU clock.

use std::sync::Arc;

use futures::future::BoxFuture;
use tinyhost_wasm::limits::CallBudget;
use wasmtime::component::{HasData, Linker};

use crate::bindings::Failure;
use crate::bindings::tinysystems::component::output;
use crate::unbound::not_in_a_call;

/// Where a node's outputs go; implemented per call by the flow layer.
pub trait OutputService: Send + Sync {
    /// Delivers `payload` (JSON text) along every edge of `port` and waits for the
    /// downstream subtree; its first non-empty response, if any.
    fn output(
        &self,
        port: String,
        payload: String,
    ) -> BoxFuture<'static, Result<Option<String>, Failure>>;
    /// Delivers in the background.
    fn output_detached(&self, port: String, payload: String);
    /// Background deliveries of the node still running.
    fn detached_in_flight(&self) -> u32;
}

/// The capability's state in a store: the call's service while a call runs.
#[derive(Default)]
pub struct OutputCtx {
    /// The running call's service.
    pub service: Option<Arc<dyn OutputService>>,
}

/// What the import functions see: the context and the call budget they book waits on.
pub struct OutputView<'a> {
    /// The capability's state.
    pub ctx: &'a mut OutputCtx,
    /// The budget of the call in progress.
    pub budget: &'a mut CallBudget,
}

struct HasOutput;

impl HasData for HasOutput {
    type Data<'a> = OutputView<'a>;
}

/// Adds the `output` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> OutputView<'_>,
) -> wasmtime::Result<()> {
    output::add_to_linker::<T, HasOutput>(linker, get)
}

impl output::Host for OutputView<'_> {
    async fn output(
        &mut self,
        port: String,
        payload: String,
    ) -> wasmtime::Result<Result<Option<String>, Failure>> {
        let Some(service) = self.ctx.service.clone() else {
            return Ok(Err(not_in_a_call()));
        };
        Ok(self
            .budget
            .off_the_clock(service.output(port, payload))
            .await)
    }

    fn output_detached(
        &mut self,
        port: String,
        payload: String,
    ) -> wasmtime::Result<Result<(), Failure>> {
        let Some(service) = &self.ctx.service else {
            return Ok(Err(not_in_a_call()));
        };
        service.output_detached(port, payload);
        Ok(Ok(()))
    }

    fn detached_in_flight(&mut self) -> wasmtime::Result<u32> {
        Ok(self
            .ctx
            .service
            .as_ref()
            .map_or(0, |s| s.detached_in_flight()))
    }
}
