//! The `log` capability: a component's log lines, attributed to the node whose call is
//! running, go to the host's `tracing` subscriber like every other log line.

use wasmtime::component::{HasData, Linker};

use crate::bindings::tinysystems::component::log;

/// Who a log line is attributed to; implemented per call by the flow layer.
pub trait LogService: Send + Sync {
    /// The node name the lines are logged under.
    fn subject(&self) -> &str;
}

/// What the import functions see: the running call's service (none outside a call).
pub struct LogView<'a> {
    /// The running call's service.
    pub service: Option<&'a dyn LogService>,
}

struct HasLog;

impl HasData for HasLog {
    type Data<'a> = LogView<'a>;
}

/// Adds the `log` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> LogView<'_>,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, HasLog>(linker, get)
}

impl log::Host for LogView<'_> {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let node = self.service.map_or("-", |s| s.subject());
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
