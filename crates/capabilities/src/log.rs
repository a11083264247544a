//! The `log` capability: a component's log lines, attributed to the node whose call is
//! running, go to the host's `tracing` subscriber like every other log line.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use crate::bindings::tinysystems::component::log;

/// Who a log line is attributed to; implemented per call by the flow layer.
pub trait LogService: Send + Sync {
    /// The node name the lines are logged under.
    fn subject(&self) -> &str;
}

/// The capability's state in a store: the call's service while a call runs.
#[derive(Default)]
pub struct LogCtx {
    /// The running call's service.
    pub service: Option<Arc<dyn LogService>>,
}

struct HasLog;

impl HasData for HasLog {
    type Data<'a> = &'a mut LogCtx;
}

/// Adds the `log` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut LogCtx,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, HasLog>(linker, get)
}

impl log::Host for LogCtx {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let node = self.service.as_ref().map_or("-", |s| s.subject());
        match level {
            log::Level::Trace => tracing::trace!(node, "{message}"),
            log::Level::Debug => tracing::debug!(node, "{message}"),
            log::Level::Info => tracing::info!(node, "{message}"),
            log::Level::Warn => tracing::warn!(node, "{message}"),
            log::Level::Error => tracing::error!(node, "{message}"),
        }
        Ok(())
    }
}
