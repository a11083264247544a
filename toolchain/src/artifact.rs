//! What a compile produces ([`Artifact`]), its content key, and the cache counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::language::Language;

/// A compiled WASI preview-1 command module.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Hex SHA-256 over the language, compiler identity, build flags and source.
    pub key: String,
    /// The module bytes (start with `\0asm`).
    pub wasm: Arc<[u8]>,
    /// The compiler that built it, e.g. `go1.27.3`, `go1.27.3 (tinygo not found)`,
    /// `rustc 1.95.0`.
    pub compiler: String,
    /// How long the original compile took, in milliseconds (also for cache hits).
    pub compile_ms: u64,
}

/// Counters of how [`Toolchain::compile`](crate::Toolchain::compile) calls were served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Calls served from memory, including calls that waited for another caller's compile.
    pub memory_hits: u64,
    /// Calls served from `cache_dir/artifacts`.
    pub disk_hits: u64,
    /// Compiler runs (successful or not).
    pub compiles: u64,
    /// Artifacts deleted from disk to stay under `max_cache_bytes`.
    pub evictions: u64,
}

/// Lock-free counters behind [`CacheStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub memory_hits: AtomicU64,
    pub disk_hits: AtomicU64,
    pub compiles: AtomicU64,
    pub evictions: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CacheStats {
        CacheStats {
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
            disk_hits: self.disk_hits.load(Ordering::Relaxed),
            compiles: self.compiles.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}

/// The content key of a compile: hex SHA-256 over length-prefixed fields, so no two different
/// inputs can produce the same byte stream.
pub(crate) fn artifact_key(
    language: Language,
    identity: &str,
    flags: &str,
    source: &str,
) -> String {
    let mut hasher = Sha256::new();
    for field in [
        "tinyhost-toolchain/1",
        language.as_str(),
        identity,
        flags,
        source,
    ] {
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Whether `bytes` start with the wasm binary magic number.
pub(crate) fn is_wasm(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_every_field() {
        let base = artifact_key(Language::Go, "go1", "f", "src");
        assert_eq!(base.len(), 64);
        assert_eq!(base, artifact_key(Language::Go, "go1", "f", "src"));
        assert_ne!(base, artifact_key(Language::TinyGo, "go1", "f", "src"));
        assert_ne!(base, artifact_key(Language::Go, "go2", "f", "src"));
        assert_ne!(base, artifact_key(Language::Go, "go1", "g", "src"));
        assert_ne!(base, artifact_key(Language::Go, "go1", "f", "src2"));
        // Field boundaries matter.
        assert_ne!(
            artifact_key(Language::Go, "go1", "fs", "rc"),
            artifact_key(Language::Go, "go1", "f", "src")
        );
    }
}
