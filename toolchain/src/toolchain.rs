//! [`Toolchain`]: the entry point tying it together — validate the source, resolve the
//! compiler, then memory tier, disk tier, or a single-flight compile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::{Mutex, OnceCell, Semaphore};

use crate::artifact::{Artifact, CacheStats, Counters, artifact_key, is_wasm};
use crate::cache::{DiskCache, Metadata};
use crate::config::ToolchainConfig;
use crate::driver::{self, Backend, BuildContext, Resolved};
use crate::error::CompileError;
use crate::language::Language;

/// Upper bound of the in-memory tier, whatever `max_cache_bytes` says.
const MAX_MEMORY_BYTES: u64 = 256 * 1024 * 1024;

/// Compiles inline source to WASI preview-1 modules, caching results by content.
///
/// `Send + Sync`; share it in an `Arc`.
pub struct Toolchain {
    config: ToolchainConfig,
    memory: moka::future::Cache<String, Artifact>,
    disk: DiskCache,
    counters: Counters,
    go: OnceCell<driver::go::Go>,
    tinygo: OnceCell<Resolved>,
    rust: OnceCell<driver::rust::Rust>,
    /// Bounds concurrent compiler runs to the number of cores.
    compile_slots: Semaphore,
    /// Cargo locks the shared target directory anyway; waiting here keeps that wait out of the
    /// compile timeout.
    rust_builds: Mutex<()>,
}

impl std::fmt::Debug for Toolchain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolchain")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Toolchain {
    /// A toolchain with the given configuration. Nothing is probed or created on disk yet.
    pub fn new(mut config: ToolchainConfig) -> Toolchain {
        if let Ok(absolute) = std::path::absolute(&config.cache_dir) {
            config.cache_dir = absolute;
        }
        let memory = moka::future::Cache::builder()
            .max_capacity(config.max_cache_bytes.min(MAX_MEMORY_BYTES))
            .weigher(|_key: &String, artifact: &Artifact| {
                u32::try_from(artifact.wasm.len()).unwrap_or(u32::MAX)
            })
            .build();
        let disk = DiskCache::new(config.cache_dir.join("artifacts"), config.max_cache_bytes);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Toolchain {
            config,
            memory,
            disk,
            counters: Counters::default(),
            go: OnceCell::new(),
            tinygo: OnceCell::new(),
            rust: OnceCell::new(),
            compile_slots: Semaphore::new(cores.clamp(1, 8)),
            rust_builds: Mutex::new(()),
        }
    }

    /// The configuration in use (with `cache_dir` made absolute).
    pub fn config(&self) -> &ToolchainConfig {
        &self.config
    }

    /// Compiles `source` to a WASI preview-1 command module, or returns the cached one.
    ///
    /// Cached and single-flight: N concurrent calls with the same key trigger exactly one
    /// compile. Memory tier, then disk tier (`cache_dir/artifacts/<key>.wasm` + JSON
    /// metadata), then compile. After a process restart the same source is a disk hit with no
    /// compile. Failures are not cached.
    pub async fn compile(
        &self,
        language: Language,
        source: &str,
    ) -> Result<Artifact, CompileError> {
        if source.len() > self.config.max_source_bytes {
            return Err(CompileError::SourceTooLarge {
                size: source.len(),
                limit: self.config.max_source_bytes,
            });
        }
        if source.trim().is_empty() {
            return Err(CompileError::EmptySource);
        }
        let resolved = self.resolve(language).await?;
        let key = artifact_key(language, &resolved.identity, resolved.flags, source);

        if let Some(artifact) = self.memory.get(&key).await {
            Counters::add(&self.counters.memory_hits, 1);
            self.disk.touch(&key);
            return Ok(artifact);
        }
        let ran = AtomicBool::new(false);
        let result = self
            .memory
            .try_get_with(key.clone(), async {
                ran.store(true, Ordering::Relaxed);
                self.load_or_compile(language, &resolved, &key, source)
                    .await
            })
            .await;
        match result {
            Ok(artifact) => {
                if !ran.load(Ordering::Relaxed) {
                    // Served by a concurrent caller's load or compile.
                    Counters::add(&self.counters.memory_hits, 1);
                }
                Ok(artifact)
            }
            Err(err) => Err(CompileError::clone(&err)),
        }
    }

    async fn load_or_compile(
        &self,
        language: Language,
        resolved: &Resolved,
        key: &str,
        source: &str,
    ) -> Result<Artifact, CompileError> {
        let disk = self.disk.clone();
        let owned_key = key.to_owned();
        let loaded = tokio::task::spawn_blocking(move || disk.load(&owned_key))
            .await
            .map_err(|err| CompileError::Io(err.to_string()))?;
        match loaded {
            Ok(Some((wasm, meta))) => {
                Counters::add(&self.counters.disk_hits, 1);
                tracing::debug!(key, language = %language, "disk cache hit");
                return Ok(Artifact {
                    key: key.to_owned(),
                    wasm: wasm.into(),
                    compiler: meta.compiler,
                    compile_ms: meta.compile_ms,
                });
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(key, %err, "reading the disk cache failed; compiling"),
        }

        let _rust_guard = match resolved.backend {
            Backend::Rust(_) => Some(self.rust_builds.lock().await),
            _ => None,
        };
        let _slot = self
            .compile_slots
            .acquire()
            .await
            .map_err(|err| CompileError::Io(err.to_string()))?;
        Counters::add(&self.counters.compiles, 1);
        let started = Instant::now();
        let ctx = BuildContext {
            cache_dir: &self.config.cache_dir,
            timeout: self.config.compile_timeout,
            key,
        };
        let built = resolved.backend.build(&ctx, source).await;
        let compile_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let wasm = match built {
            Ok(wasm) => wasm,
            Err(err) => {
                tracing::debug!(key, language = %language, compile_ms, %err, "compile failed");
                return Err(err);
            }
        };
        if !is_wasm(&wasm) {
            return Err(CompileError::Failed {
                message: format!(
                    "{} produced a file that is not a wasm module",
                    resolved.display
                ),
                diagnostics: Vec::new(),
            });
        }
        tracing::info!(key, language = %language, compiler = %resolved.display, compile_ms, bytes = wasm.len(), "compiled");

        let wasm: Arc<[u8]> = wasm.into();
        let disk = self.disk.clone();
        let meta = Metadata::new(key, language.as_str(), &resolved.display, compile_ms, &wasm);
        let to_store = Arc::clone(&wasm);
        match tokio::task::spawn_blocking(move || disk.store(&to_store, &meta)).await {
            Ok(Ok(evicted)) => Counters::add(&self.counters.evictions, evicted),
            Ok(Err(err)) => tracing::warn!(key, %err, "could not write the artifact to disk"),
            Err(err) => tracing::warn!(key, %err, "could not write the artifact to disk"),
        }
        Ok(Artifact {
            key: key.to_owned(),
            wasm,
            compiler: resolved.display.clone(),
            compile_ms,
        })
    }

    /// Counters of how compiles were served.
    pub fn stats(&self) -> CacheStats {
        self.counters.snapshot()
    }

    /// The compiler identity string for a language (`go1.27.3`, `go1.27.3 (tinygo not found)`,
    /// `rustc 1.95.0`), probed once and cached, or `CompilerMissing`. For Rust this also makes
    /// sure the `wasm32-wasip1` target is installed (`rustup target add`, once).
    pub async fn compiler(&self, language: Language) -> Result<String, CompileError> {
        Ok(self.resolve(language).await?.display)
    }

    /// Removes every cached artifact (memory and disk); returns the disk bytes freed.
    pub fn clear(&self) -> std::io::Result<u64> {
        self.memory.invalidate_all();
        self.disk.clear()
    }

    /// Disk usage of the artifacts: `(files, bytes)`, counting each module (with its metadata)
    /// as one file.
    pub fn disk_usage(&self) -> std::io::Result<(u64, u64)> {
        self.disk.usage()
    }

    /// The compiler for `language`, probed once (successes are cached, failures retried).
    async fn resolve(&self, language: Language) -> Result<Resolved, CompileError> {
        match language {
            Language::Go => {
                let go = self.go().await?;
                Ok(Resolved {
                    display: go.version.clone(),
                    identity: go.identity.clone(),
                    flags: driver::go::FLAGS,
                    backend: Backend::Go(go.clone()),
                })
            }
            Language::TinyGo => self
                .tinygo
                .get_or_try_init(|| self.resolve_tinygo())
                .await
                .cloned(),
            Language::Rust => {
                let rust = self.rust.get_or_try_init(driver::rust::discover).await?;
                Ok(Resolved {
                    display: rust.version.clone(),
                    identity: rust.identity.clone(),
                    flags: driver::rust::FLAGS,
                    backend: Backend::Rust(rust.clone()),
                })
            }
        }
    }

    async fn go(&self) -> Result<&driver::go::Go, CompileError> {
        self.go
            .get_or_try_init(|| driver::go::discover(self.config.go.as_deref()))
            .await
    }

    async fn resolve_tinygo(&self) -> Result<Resolved, CompileError> {
        let go = self.go().await;
        if let Some(binary) = driver::tinygo::locate(self.config.tinygo.as_deref()) {
            match driver::tinygo::probe(binary, go.as_ref().ok().map(|g| (*g).clone())).await {
                Ok(tinygo) => {
                    return Ok(Resolved {
                        display: tinygo.version.clone(),
                        identity: tinygo.identity.clone(),
                        flags: driver::tinygo::FLAGS,
                        backend: Backend::TinyGo(tinygo),
                    });
                }
                Err(err) => tracing::warn!(%err, "tinygo is not usable; falling back to go"),
            }
        }
        match go {
            Ok(go) => Ok(Resolved {
                display: format!("{} (tinygo not found)", go.version),
                identity: format!("{} (tinygo not found)", go.identity),
                flags: driver::go::FLAGS,
                backend: Backend::Go(go.clone()),
            }),
            Err(CompileError::CompilerMissing { hint, .. }) => Err(CompileError::CompilerMissing {
                compiler: "tinygo".into(),
                hint: format!(
                    "{} (without tinygo, TinyGo source is built with go, which is missing too: {hint})",
                    driver::tinygo::HINT
                ),
            }),
            Err(err) => Err(err),
        }
    }
}

/// Keeps `Toolchain` shareable across tasks.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Toolchain>();
};
