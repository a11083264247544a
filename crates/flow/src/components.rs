//! The components a flow can name: each loaded component file becomes one instance pool
//! and one [`ComponentEntry`] per component it carries, with its default ports read once.

use std::sync::Arc;

use tinyhost_capabilities::bindings::{ComponentInfo, FlowComponentPre, PortDef};
use tinyhost_capabilities::state::{ComponentState, SharedServices, linker};
use tinyhost_wasm::engine::HostEngine;
use tinyhost_wasm::error::LoadError;
use tinyhost_wasm::registry::{ComponentLoader, ComponentSource, Registry};
use wasmtime::component::{Component, Linker};

use crate::instance::{self, FlowInstances, FlowPool};

/// One component a node can name.
#[derive(Debug)]
pub struct ComponentEntry {
    /// What it says about itself.
    pub info: ComponentInfo,
    /// Its ports with default settings.
    pub default_ports: Vec<PortDef>,
    /// The instances of the file that carries it.
    pub pool: Arc<FlowPool>,
}

/// Every loaded component by name.
pub type Components = Registry<ComponentEntry>;

struct FlowLoader {
    engine: Arc<HostEngine>,
    linker: Linker<ComponentState>,
    services: SharedServices,
}

impl ComponentLoader for FlowLoader {
    type Entry = ComponentEntry;

    fn name(entry: &ComponentEntry) -> &str {
        &entry.info.name
    }

    async fn load(
        &self,
        origin: &str,
        component: Component,
    ) -> Result<Vec<ComponentEntry>, LoadError> {
        let err = |message: String| LoadError::new(origin, message);
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            err(format!(
                "cannot link (does it implement the tinysystems:component@0.2.0 world?): {e:#}"
            ))
        })?;
        let pre = FlowComponentPre::new(pre).map_err(|e| {
            err(format!(
                "does not export the tinysystems:component@0.2.0 world: {e:#}"
            ))
        })?;
        let services = if tinyhost_guests::is_builtin(origin) {
            self.services.for_builtins()
        } else {
            self.services.clone()
        };
        // Only a component that can call out waits in host calls nobody books for it.
        let calls_out = component
            .component_type()
            .imports(self.engine.engine())
            .any(|(name, _)| name.starts_with("wasi:http/outgoing-handler"));
        let pool = Arc::new(FlowPool::new(
            origin.to_string(),
            self.engine.clone(),
            FlowInstances::new(pre, services, calls_out),
        ));
        let infos = instance::components(&pool)
            .await
            .map_err(|e| err(e.to_string()))?;
        if infos.is_empty() {
            return Err(err("carries no components".into()));
        }
        let mut entries = Vec::new();
        for info in infos {
            let default_ports = instance::ports(&pool, &info.name, None)
                .await
                .map_err(|e| err(format!("component `{}`: {e}", info.name)))?;
            entries.push(ComponentEntry {
                info,
                default_ports,
                pool: pool.clone(),
            });
        }
        Ok(entries)
    }
}

/// Loads every source; files that fail are in the registry's errors, only a linker that
/// cannot be built fails the whole load.
pub async fn load(
    engine: &Arc<HostEngine>,
    services: SharedServices,
    sources: &[ComponentSource],
) -> Result<Components, LoadError> {
    let loader = FlowLoader {
        engine: engine.clone(),
        linker: linker(engine)?,
        services,
    };
    Ok(Registry::load(engine, &loader, sources).await)
}

/// [`load`] with services of their own: a fresh expression cache and a sandbox that knows
/// only WebAssembly text. For listing and checking component files outside a runtime.
pub async fn load_standalone(
    engine: &Arc<HostEngine>,
    sources: &[ComponentSource],
) -> Result<Components, LoadError> {
    let services = SharedServices {
        exprs: Arc::new(tinyhost_capabilities::expr::ExprCache::default()),
        sandbox: Arc::new(tinyhost_sandbox::Sandbox::new(engine.clone())?),
        outbound: Arc::new(tinyhost_capabilities::outbound_http::OutboundPolicy::deny_all()),
    };
    load(engine, services, sources).await
}
