//! Compiled artifacts, cached by content: in memory (moka) and, as precompiled files
//! keyed by content hash and the engine's compatibility hash, on disk — so a restart
//! deserialises instead of running Cranelift again, and a file written by another wasmtime
//! build is never mistaken for ours.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::error::LoadError;

/// Counters of the caches, for tests and `/metrics`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Served from memory.
    pub memory_hits: u64,
    /// Deserialised from a precompiled artifact on disk.
    pub disk_hits: u64,
    /// Compiled with Cranelift.
    pub compiles: u64,
}

/// What the engine can precompile and cache: components and core modules.
pub(crate) trait Precompiled: Clone + Send + Sync + 'static {
    /// Cache subfolder.
    const KIND: &'static str;
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>>;
    /// # Safety
    /// `bytes` must come from `precompile` of a compatible engine.
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// # Safety
    /// The file must come from `precompile` of a compatible engine.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
}

impl Precompiled for Component {
    const KIND: &'static str = "components";
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_component(bytes)
    }
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Component::deserialize(engine, bytes) }
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Component::deserialize_file(engine, path) }
    }
}

impl Precompiled for Module {
    const KIND: &'static str = "modules";
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_module(bytes)
    }
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Module::deserialize(engine, bytes) }
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Module::deserialize_file(engine, path) }
    }
}

/// One kind of artifact (components or modules) in memory and under `dir/<kind>/`.
pub(crate) struct ArtifactCache<A: Precompiled> {
    memory: moka::sync::Cache<[u8; 32], A>,
    dir: Option<PathBuf>,
}

impl<A: Precompiled> ArtifactCache<A> {
    /// A cache keeping up to `capacity` artifacts in memory, and files under `dir`.
    pub(crate) fn new(capacity: u64, dir: Option<&Path>) -> Self {
        ArtifactCache {
            memory: moka::sync::Cache::builder().max_capacity(capacity).build(),
            dir: dir.map(|d| d.join(A::KIND)),
        }
    }

    /// `bytes` compiled: from memory, from disk, or with Cranelift, in that order.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        stats: &Counters,
        origin: &str,
        bytes: &[u8],
    ) -> Result<A, LoadError> {
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(found) = self.memory.get(&key) {
            stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(found);
        }
        let artifact = self.artifact_path(engine, &key);
        if let Some(path) = &artifact
            && path.exists()
        {
            // SAFETY: the artifact was written by this kind's `precompile` on an engine with
            // the same compatibility hash (part of the file name) into our own cache
            // directory; wasmtime still checks its header and rejects a mismatching file.
            match unsafe { A::deserialize_file(engine, path) } {
                Ok(found) => {
                    stats.disk_hits.fetch_add(1, Ordering::Relaxed);
                    self.memory.insert(key, found.clone());
                    return Ok(found);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unusable precompiled artifact")
                }
            }
        }
        let invalid = |e: wasmtime::Error| {
            LoadError::new(
                origin,
                format!("invalid {}: {e:#}", A::KIND.trim_end_matches('s')),
            )
        };
        let compiled = A::precompile(engine, bytes).map_err(invalid)?;
        stats.compiles.fetch_add(1, Ordering::Relaxed);
        if let Some(path) = &artifact {
            write_atomically(path, &compiled);
        }
        // SAFETY: `compiled` was produced just now by this engine.
        let loaded = unsafe { A::deserialize(engine, &compiled) }.map_err(invalid)?;
        self.memory.insert(key, loaded.clone());
        Ok(loaded)
    }

    fn artifact_path(&self, engine: &Engine, key: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut engine_hash);
        let engine_hash = std::hash::Hasher::finish(&engine_hash);
        Some(dir.join(format!("{}-{engine_hash:016x}.cwasm", hex::encode(key))))
    }
}

/// The counters behind [`CacheStats`], shared by every artifact kind.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    compiles: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> CacheStats {
        CacheStats {
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
            disk_hits: self.disk_hits.load(Ordering::Relaxed),
            compiles: self.compiles.load(Ordering::Relaxed),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader (or a
/// crash) never sees half a file. A cache that cannot be written is a warning, not an
/// error: everything still works, only slower after a restart.
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    static UNIQUE: AtomicU64 = AtomicU64::new(0);
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let result = (|| -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot write to the disk cache; continuing without it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_is_complete_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("tinyhost-cache-test-{}", std::process::id()));
        let path = dir.join("a").join("b.cwasm");
        write_atomically(&path, b"artifact");
        assert_eq!(std::fs::read(&path).ok(), Some(b"artifact".to_vec()));
        let names: Vec<_> = std::fs::read_dir(dir.join("a"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }
}
