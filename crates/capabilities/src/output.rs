//! The `output` capability: messages out of the running node's source ports. The host
//! side of a blocking `output` is the flow's router; this module only turns the import into
//! a call on an [`OutputService`] and keeps the wait off the call's CPU clock.

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

/// What the import functions see: the running call's service (none outside a call) and
/// the call budget they book waits on. The capability keeps no state of its own.
pub struct OutputView<'a> {
    /// The running call's service.
    pub service: Option<&'a dyn OutputService>,
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
        let Some(service) = self.service else {
            return Ok(Err(not_in_a_call()));
        };
        let delivery = service.output(port, payload);
        Ok(self.budget.off_the_clock(delivery).await)
    }

    fn output_detached(
        &mut self,
        port: String,
        payload: String,
    ) -> wasmtime::Result<Result<(), Failure>> {
        let Some(service) = self.service else {
            return Ok(Err(not_in_a_call()));
        };
        service.output_detached(port, payload);
        Ok(Ok(()))
    }

    fn detached_in_flight(&mut self) -> wasmtime::Result<u32> {
        Ok(self.service.map_or(0, |s| s.detached_in_flight()))
    }
}
