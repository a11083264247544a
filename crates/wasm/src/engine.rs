//! The one wasmtime [`Engine`] of the process, configured for many small, short calls:
//! component model, async (a guest blocked in `output` must not block a thread), the
//! pooling allocator (instances in microseconds), and epoch interruption (a per-call time
//! limit that costs nothing while guests behave). What it compiles goes through the
//! [`crate::cache`], so a restart does not recompile.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig};

use crate::cache::{ArtifactCache, CacheStats, Counters};
use crate::clock::{self, EPOCH_TICK};
use crate::error::LoadError;
use crate::slots::SlotSignal;

/// Limits and caches of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Maximum linear memory of one instance, in bytes.
    pub memory_limit: usize,
    /// Maximum CPU time of one call into a component (time spent waiting in `output` or
    /// `sleep` does not count).
    pub call_time_limit: Duration,
    /// Where precompiled components are kept; `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
    /// Use the pooling allocator (falls back to on-demand allocation when the system
    /// refuses the address-space reservation).
    pub pooling: bool,
    /// Pool slots: how many component instances may be alive at once.
    pub max_instances: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            memory_limit: 64 << 20,
            call_time_limit: Duration::from_secs(10),
            cache_dir: default_cache_dir(),
            pooling: true,
            max_instances: 1000,
        }
    }
}

/// The platform cache directory for precompiled components.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TINYHOST_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("tinyhost"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("tinyhost"))
}

/// The shared engine plus its caches and epoch ticker.
pub struct HostEngine {
    engine: Engine,
    config: EngineConfig,
    components: ArtifactCache<Component>,
    modules: ArtifactCache<Module>,
    stats: Counters,
    ticker_stop: Arc<AtomicBool>,
    instance_freed: SlotSignal,
}

impl std::fmt::Debug for HostEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostEngine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HostEngine {
    /// Creates the engine and starts the epoch ticker thread.
    pub fn new(config: EngineConfig) -> Result<Arc<HostEngine>, LoadError> {
        let engine = match build_engine(&config, config.pooling) {
            Ok(engine) => engine,
            Err(e) if config.pooling => {
                tracing::warn!(error = %e, "pooling allocator unavailable; using on-demand allocation");
                build_engine(&config, false).map_err(engine_error)?
            }
            Err(e) => return Err(engine_error(e)),
        };
        clock::advance();
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let stop = ticker_stop.clone();
        let ticking = engine.clone();
        std::thread::Builder::new()
            .name("tinyhost-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    clock::advance();
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| LoadError::new("engine", format!("cannot start epoch ticker: {e}")))?;
        let cache_dir = config.cache_dir.as_deref();
        Ok(Arc::new(HostEngine {
            components: ArtifactCache::new(256, cache_dir),
            modules: ArtifactCache::new(1024, cache_dir),
            engine,
            config,
            stats: Counters::default(),
            ticker_stop,
            instance_freed: SlotSignal::default(),
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Woken whenever an instance is returned or dropped: calls waiting for one of the
    /// engine's instance slots try again then.
    pub fn instance_freed(&self) -> &SlotSignal {
        &self.instance_freed
    }

    /// The limits in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Cache counters so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.stats.snapshot()
    }

    /// Compiles `bytes` into a component, from memory, from disk, or with Cranelift, in
    /// that order. `origin` names the file in errors.
    pub fn load_component(&self, origin: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        if !is_component(bytes) {
            return Err(LoadError::new(
                origin,
                if bytes.starts_with(b"\0asm") {
                    "this is a core wasm module, not a component; build it for wasm32-wasip2 or wrap it with `wasm-tools component new`"
                } else {
                    "not a WebAssembly component (bad magic number)"
                },
            ));
        }
        self.components
            .load(&self.engine, &self.stats, origin, bytes)
    }

    /// Compiles a core wasm module (an inline program built for WASI preview 1) through the
    /// same memory and disk caches as components.
    pub fn load_module(&self, origin: &str, bytes: &[u8]) -> Result<Module, LoadError> {
        self.modules.load(&self.engine, &self.stats, origin, bytes)
    }
}

impl Drop for HostEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// A component starts with the wasm magic and a layer/version word of `0x0d 0x00 0x01 0x00`;
/// a core module has version 1. Checking the header first gives a precise error.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[4..8] == [0x0d, 0x00, 0x01, 0x00]
}

fn build_engine(config: &EngineConfig, pooling: bool) -> wasmtime::Result<Engine> {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    c.async_stack_size(2 << 20);
    c.max_wasm_stack(1 << 20);
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        let slots = config.max_instances.max(8);
        // A wasip2 component instantiates several core instances (the program plus
        // adapter shims), so core slots are a multiple of component slots.
        pool.total_component_instances(slots);
        pool.total_core_instances(slots.saturating_mul(8));
        pool.total_memories(slots.saturating_mul(2));
        pool.total_tables(slots.saturating_mul(4));
        pool.total_stacks(slots);
        pool.max_memory_size(config.memory_limit.max(1 << 20));
        // Reset the first 4 MiB of a reused memory slot by memset instead of madvise: a Go
        // program's snapshot spans about 3 MiB and its runtime touches most of it per
        // request, and page faults dominated the request time (2 MiB → 4 MiB: 0.59 →
        // 0.37 ms per Go JSON request; no further gain at 8 or 16 MiB). Only slots a
        // program used keep pages resident.
        pool.linear_memory_keep_resident(4 << 20);
        pool.table_keep_resident(4 << 10);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&c)
}

fn engine_error(e: wasmtime::Error) -> LoadError {
    LoadError::new("engine", format!("cannot create the wasm engine: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_module_and_garbage_are_refused_with_what_they_are() {
        let engine = HostEngine::new(EngineConfig {
            cache_dir: None,
            pooling: false,
            ..EngineConfig::default()
        });
        let Ok(engine) = engine else {
            panic!("the engine starts")
        };
        let core = wat::parse_str("(module)").unwrap_or_default();
        let error = engine.load_component("core.wasm", &core).err();
        assert!(
            error.is_some_and(|e| e.message.contains("core wasm module")),
            "a core module is named as such"
        );
        let error = engine.load_component("junk.wasm", b"junk").err();
        assert!(error.is_some_and(|e| e.origin == "junk.wasm" && e.message.contains("magic")));
    }
}
