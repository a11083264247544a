//! The components a host can run: `.wasm` files from folders or paths, plus components
//! embedded in the binary — loaded through the same function, so a built-in is just a
//! component that happens to ship inside the host. Each file is compiled (or fetched from
//! the cache) once; what a loaded file offers is the layer above's business, told through
//! [`ComponentLoader`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::Component;

use crate::engine::HostEngine;
use crate::error::LoadError;

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

/// Turns one compiled file into the named entries it carries (one file may carry several
/// components, as a Tiny Systems module does).
pub trait ComponentLoader {
    /// What a name resolves to.
    type Entry: Send + Sync;

    /// The name an entry is looked up by.
    fn name(entry: &Self::Entry) -> &str;

    /// Loads the entries of the file `origin`.
    fn load(
        &self,
        origin: &str,
        component: Component,
    ) -> impl Future<Output = Result<Vec<Self::Entry>, LoadError>>;
}

/// All loaded entries by name, plus the files that failed to load.
#[derive(Debug)]
pub struct Registry<E> {
    entries: BTreeMap<String, Arc<E>>,
    errors: Vec<LoadError>,
}

impl<E> Default for Registry<E> {
    fn default() -> Self {
        Registry {
            entries: BTreeMap::new(),
            errors: Vec::new(),
        }
    }
}

impl<E: Send + Sync> Registry<E> {
    /// Loads every source. A file that fails is recorded in [`Registry::errors`] and the
    /// rest still load; the first file to define a name wins.
    pub async fn load<L: ComponentLoader<Entry = E>>(
        engine: &HostEngine,
        loader: &L,
        sources: &[ComponentSource],
    ) -> Registry<E> {
        let mut registry = Registry::default();
        for source in sources {
            for (origin, bytes) in read_source(source, &mut registry.errors) {
                let loaded = match engine.load_component(&origin, &bytes) {
                    Ok(component) => loader.load(&origin, component).await,
                    Err(e) => Err(e),
                };
                match loaded {
                    Ok(entries) => {
                        for entry in entries {
                            let name = L::name(&entry).to_string();
                            if registry.entries.contains_key(&name) {
                                tracing::warn!(component = %name, ignored = %origin, "component defined twice; the first one is kept");
                                continue;
                            }
                            registry.entries.insert(name, Arc::new(entry));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot load component");
                        registry.errors.push(e);
                    }
                }
            }
        }
        registry
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<E>> {
        self.entries.get(name).cloned()
    }

    /// All entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = &Arc<E>> {
        self.entries.values()
    }

    /// Files that could not be loaded, with the reason.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }
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
                        errors.push(LoadError::new(
                            file.display().to_string(),
                            format!("cannot read: {e}"),
                        ));
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
            errors.push(LoadError::new(
                dir.display().to_string(),
                format!("cannot list folder: {e}"),
            ));
            Vec::new()
        }
    }
}
