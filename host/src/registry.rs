//! The components this host can run: `.wasm` files from folders or paths, plus the
//! built-ins embedded in the binary — loaded through the same function, so a built-in is
//! just a component that happens to ship inside tinyhost. Each file is compiled (or
//! fetched from the cache), pre-instantiated once, and introspected for the components it
//! carries and their default ports.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::{ComponentInfo, FlowComponent, FlowComponentPre, PortDef};
use crate::engine::HostEngine;
use crate::error::LoadError;
use crate::host_api::HostState;
use crate::pool::InstancePool;

/// The built-in components (`guests/builtins`), compiled by `build.rs`.
pub const BUILTINS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtins.wasm"));

/// Where components come from.
#[derive(Debug, Clone)]
pub enum ComponentSource {
    /// In-memory bytes (the built-ins), named by `origin` in errors.
    Bytes {
        /// `builtin:<name>` or another label.
        origin: String,
        /// The component.
        bytes: Cow<'static, [u8]>,
    },
    /// A `.wasm` file, or a folder whose `*.wasm` files are all loaded.
    Path(PathBuf),
}

impl ComponentSource {
    /// The embedded built-ins.
    pub fn builtins() -> ComponentSource {
        ComponentSource::Bytes {
            origin: "builtin:common".into(),
            bytes: Cow::Borrowed(BUILTINS_WASM),
        }
    }
}

/// One component a node can name.
#[derive(Debug)]
pub struct ComponentEntry {
    /// What it says about itself.
    pub info: ComponentInfo,
    /// Its ports with default settings.
    pub default_ports: Vec<PortDef>,
    /// The instances of the file that carries it.
    pub pool: Arc<InstancePool>,
}

/// All loaded components by name, plus the files that failed to load.
#[derive(Debug, Default)]
pub struct Registry {
    components: BTreeMap<String, Arc<ComponentEntry>>,
    errors: Vec<LoadError>,
}

impl Registry {
    /// Loads every source. A file that fails is recorded in [`Registry::errors`] and the
    /// rest still load; the first file to define a component name wins.
    pub async fn load(
        engine: &Arc<HostEngine>,
        sources: &[ComponentSource],
    ) -> Result<Registry, LoadError> {
        let linker = linker(engine)?;
        let mut registry = Registry::default();
        for source in sources {
            for (origin, bytes) in read_source(source, &mut registry.errors) {
                match load_file(engine, &linker, &origin, &bytes).await {
                    Ok(entries) => {
                        for entry in entries {
                            let name = entry.info.name.clone();
                            if let Some(existing) = registry.components.get(&name) {
                                tracing::warn!(component = %name, kept = existing.pool.origin(), ignored = %origin, "component defined twice");
                                continue;
                            }
                            registry.components.insert(name, Arc::new(entry));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot load component");
                        registry.errors.push(e);
                    }
                }
            }
        }
        Ok(registry)
    }

    /// The component called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<ComponentEntry>> {
        self.components.get(name).cloned()
    }

    /// All components, sorted by name.
    pub fn components(&self) -> impl Iterator<Item = &Arc<ComponentEntry>> {
        self.components.values()
    }

    /// Files that could not be loaded, with the reason.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }
}

/// The linker every instance is created with: WASI (nothing granted by the context) and the
/// host interfaces.
fn linker(engine: &HostEngine) -> Result<Linker<HostState>, LoadError> {
    let mut linker = Linker::new(engine.engine());
    let err = |e: wasmtime::Error| LoadError {
        origin: "linker".into(),
        message: format!("{e:#}"),
    };
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(err)?;
    FlowComponent::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
        .map_err(err)?;
    Ok(linker)
}

fn read_source(
    source: &ComponentSource,
    errors: &mut Vec<LoadError>,
) -> Vec<(String, Cow<'static, [u8]>)> {
    match source {
        ComponentSource::Bytes { origin, bytes } => vec![(origin.clone(), bytes.clone())],
        ComponentSource::Path(path) => {
            let files = if path.is_dir() {
                wasm_files(path, errors)
            } else {
                vec![path.clone()]
            };
            files
                .into_iter()
                .filter_map(|file| match std::fs::read(&file) {
                    Ok(bytes) => Some((file.display().to_string(), Cow::Owned(bytes))),
                    Err(e) => {
                        errors.push(LoadError {
                            origin: file.display().to_string(),
                            message: format!("cannot read: {e}"),
                        });
                        None
                    }
                })
                .collect()
        }
    }
}

fn wasm_files(dir: &Path, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
                .collect();
            files.sort();
            files
        }
        Err(e) => {
            errors.push(LoadError {
                origin: dir.display().to_string(),
                message: format!("cannot list folder: {e}"),
            });
            Vec::new()
        }
    }
}

async fn load_file(
    engine: &Arc<HostEngine>,
    linker: &Linker<HostState>,
    origin: &str,
    bytes: &[u8],
) -> Result<Vec<ComponentEntry>, LoadError> {
    let err = |message: String| LoadError {
        origin: origin.to_string(),
        message,
    };
    let component = engine.load_component(origin, bytes)?;
    let pre = linker.instantiate_pre(&component).map_err(|e| {
        err(format!(
            "cannot link (does it implement the tinysystems:component world?): {e:#}"
        ))
    })?;
    let pre = FlowComponentPre::new(pre).map_err(|e| {
        err(format!(
            "does not export the tinysystems:component world: {e:#}"
        ))
    })?;
    let pool = Arc::new(InstancePool::new(origin.to_string(), engine.clone(), pre));
    let infos = pool.components().await.map_err(|e| err(e.to_string()))?;
    if infos.is_empty() {
        return Err(err("carries no components".into()));
    }
    let mut entries = Vec::new();
    for info in infos {
        let default_ports = pool
            .ports(&info.name, None)
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
