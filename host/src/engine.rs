//! The one wasmtime [`Engine`] of the process, configured for many small, short calls:
//! component model, async (a guest blocked in `output` must not block a thread), the
//! pooling allocator (instances in microseconds), and epoch interruption (a per-call time
//! limit that costs nothing while guests behave). Compiled components are cached in
//! memory and, as precompiled artifacts keyed by content hash and engine, on disk, so a
//! restart does not recompile.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig};

use crate::error::LoadError;

/// How often the epoch advances; the granularity of time limits.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Milliseconds since the first engine started, advanced by the epoch tickers: calls book
/// their CPU time on this clock because a hop reads the time several times and the system
/// clock showed up in profiles. Its granularity is the epoch tick, which is already the
/// granularity of time limits.
static COARSE_MS: AtomicU64 = AtomicU64::new(0);
static COARSE_BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The coarse clock, in milliseconds; see [`COARSE_MS`].
pub fn coarse_ms() -> u64 {
    COARSE_MS.load(Ordering::Relaxed)
}

fn advance_coarse_clock() {
    let elapsed = COARSE_BASE.get_or_init(std::time::Instant::now).elapsed();
    COARSE_MS.fetch_max(elapsed.as_millis() as u64, Ordering::Relaxed);
}

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

/// Counters of the component cache, for tests and `/metrics`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Served from memory.
    pub memory_hits: u64,
    /// Deserialised from a precompiled artifact on disk.
    pub disk_hits: u64,
    /// Compiled with Cranelift.
    pub compiles: u64,
}

/// The shared engine plus its caches and epoch ticker.
pub struct HostEngine {
    engine: Engine,
    config: EngineConfig,
    memory: moka::sync::Cache<[u8; 32], Component>,
    modules: moka::sync::Cache<[u8; 32], Module>,
    stats: std::sync::Mutex<CacheStats>,
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
        advance_coarse_clock();
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let stop = ticker_stop.clone();
        let ticking = engine.clone();
        std::thread::Builder::new()
            .name("tinyhost-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    advance_coarse_clock();
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| LoadError {
                origin: "engine".into(),
                message: format!("cannot start epoch ticker: {e}"),
            })?;
        Ok(Arc::new(HostEngine {
            engine,
            config,
            memory: moka::sync::Cache::builder().max_capacity(256).build(),
            modules: moka::sync::Cache::builder().max_capacity(1024).build(),
            stats: std::sync::Mutex::new(CacheStats::default()),
            ticker_stop,
            instance_freed: SlotSignal::default(),
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Woken whenever a component instance is returned or dropped: calls waiting for one of
    /// the engine's instance slots try again then.
    pub(crate) fn instance_freed(&self) -> &SlotSignal {
        &self.instance_freed
    }

    /// The limits in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Cache counters so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut CacheStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    /// Compiles `bytes` into a component, from memory, from disk, or with Cranelift, in
    /// that order. `origin` names the file in errors.
    pub fn load_component(&self, origin: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        if !wasmparser_is_component(bytes) {
            return Err(LoadError {
                origin: origin.into(),
                message: if bytes.starts_with(b"\0asm") {
                    "this is a core wasm module, not a component; build it for wasm32-wasip2 or wrap it with `wasm-tools component new`".into()
                } else {
                    "not a WebAssembly component (bad magic number)".into()
                },
            });
        }
        self.load_cached(&self.memory, origin, bytes)
    }

    /// Compiles a core wasm module (an inline program built for WASI preview 1) through the
    /// same memory and disk caches as components.
    pub fn load_module(&self, origin: &str, bytes: &[u8]) -> Result<Module, LoadError> {
        self.load_cached(&self.modules, origin, bytes)
    }

    fn load_cached<A: Precompiled>(
        &self,
        memory: &moka::sync::Cache<[u8; 32], A>,
        origin: &str,
        bytes: &[u8],
    ) -> Result<A, LoadError> {
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(found) = memory.get(&key) {
            self.count(|s| s.memory_hits += 1);
            return Ok(found);
        }
        let artifact = self.artifact_path(A::KIND, &key);
        if let Some(path) = &artifact
            && path.exists()
        {
            // SAFETY: the artifact was written by this kind's `precompile` on an engine with
            // the same compatibility hash (part of the file name) into our own cache
            // directory; wasmtime still checks its header and rejects a mismatching file.
            match unsafe { A::deserialize_file(&self.engine, path) } {
                Ok(found) => {
                    self.count(|s| s.disk_hits += 1);
                    memory.insert(key, found.clone());
                    return Ok(found);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unusable precompiled artifact")
                }
            }
        }
        let invalid = |e: wasmtime::Error| LoadError {
            origin: origin.into(),
            message: format!("invalid {}: {e:#}", A::KIND.trim_end_matches('s')),
        };
        let compiled = A::precompile(&self.engine, bytes).map_err(invalid)?;
        self.count(|s| s.compiles += 1);
        if let Some(path) = &artifact {
            write_atomically(path, &compiled);
        }
        // SAFETY: `compiled` was produced just now by this engine.
        let loaded = unsafe { A::deserialize(&self.engine, &compiled) }.map_err(invalid)?;
        memory.insert(key, loaded.clone());
        Ok(loaded)
    }

    fn artifact_path(&self, kind: &str, key: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.config.cache_dir.as_ref()?;
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(
            &self.engine.precompile_compatibility_hash(),
            &mut engine_hash,
        );
        let engine_hash = std::hash::Hasher::finish(&engine_hash);
        Some(
            dir.join(kind)
                .join(format!("{}-{engine_hash:016x}.cwasm", hex::encode(key))),
        )
    }
}

/// What the engine can precompile and cache: components and core modules.
trait Precompiled: Clone + Send + Sync + 'static {
    /// Cache subfolder.
    const KIND: &'static str;
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>>;
    /// # Safety
    /// `bytes` must come from `precompile` of a compatible engine.
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// # Safety
    /// The file must come from `precompile` of a compatible engine.
    unsafe fn deserialize_file(engine: &Engine, path: &std::path::Path) -> wasmtime::Result<Self>;
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
    unsafe fn deserialize_file(engine: &Engine, path: &std::path::Path) -> wasmtime::Result<Self> {
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
    unsafe fn deserialize_file(engine: &Engine, path: &std::path::Path) -> wasmtime::Result<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Module::deserialize_file(engine, path) }
    }
}

impl Drop for HostEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// A component starts with the wasm magic and a layer/version word of `0x0d 0x00 0x01 0x00`;
/// a core module has version 1. Checking the header first gives a precise error.
fn wasmparser_is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[4..8] == [0x0d, 0x00, 0x01, 0x00]
}

pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) {
    let result = (|| -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        static UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot write to the disk cache; continuing without it");
    }
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
    LoadError {
        origin: "engine".into(),
        message: format!("cannot create the wasm engine: {e:#}"),
    }
}

/// Wakes calls that wait for one of the engine's instance slots. Every call frees a slot,
/// almost always with nobody waiting, and an unconditional `Notify::notify_waiters` takes a
/// lock shared by every pool of the engine: so waiters announce themselves and a free
/// with nobody waiting costs one atomic load.
#[derive(Debug, Default)]
pub(crate) struct SlotSignal {
    notify: tokio::sync::Notify,
    waiting: AtomicUsize,
}

impl SlotSignal {
    /// A slot was freed (an instance went back idle or was dropped).
    pub(crate) fn freed(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// Announces a caller that may wait for a slot until the guard is dropped; register
    /// before looking for a slot so a free in between is not missed.
    pub(crate) fn waiter(&self) -> SlotWaiter<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        SlotWaiter { signal: self }
    }
}

/// A registered waiter; see [`SlotSignal::waiter`].
pub(crate) struct SlotWaiter<'a> {
    signal: &'a SlotSignal,
}

impl SlotWaiter<'_> {
    /// Resolves at the next [`SlotSignal::freed`] after it is enabled.
    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.signal.notify.notified()
    }
}

impl Drop for SlotWaiter<'_> {
    fn drop(&mut self) {
        self.signal.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}
