//! Inline programs: WASI preview-1 modules compiled from a node's source, linked once and
//! instantiated fresh per request — no state leaks between requests — with stdin as the
//! only input, a capped stdout as the only output, no filesystem, network, environment or
//! arguments, wall-time and memory limits, and the clocks only when asked for. Reactor
//! programs (Go) run from a start-up snapshot ([`crate::snapshot`]). Whatever the program
//! does, the caller gets its output or a clear error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tinyhost_wasm::engine::HostEngine;
use tinyhost_wasm::error::LoadError;
use tinyhost_wasm::limits::{MemoryLimitExceeded, MemoryLimiter, TimeLimitExceeded};
use wasmtime::{Instance, InstancePre, Linker, Module, Store, UpdateDeadline};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

use crate::snapshot::{self, Entry, INITIALISE_EXPORT, RUN_EXPORT, START_EXPORT, Snapshot};

/// Limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Wall-clock time allowed.
    pub timeout: Duration,
    /// Linear memory allowed, in bytes.
    pub memory_bytes: usize,
    /// Standard output allowed, in bytes.
    pub max_output_bytes: usize,
    /// Whether the clocks run; without them a run depends on its input alone.
    pub clock: bool,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            timeout: Duration::from_secs(5),
            memory_bytes: 64 << 20,
            max_output_bytes: 1 << 20,
            clock: false,
        }
    }
}

/// Why a run produced no output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The program ran past its wall-clock limit.
    #[error("program exceeded its time limit of {0} ms")]
    TimeLimit(u64),
    /// The program tried to grow memory past its limit.
    #[error("program exceeded its memory limit of {0} bytes")]
    MemoryLimit(usize),
    /// The program wrote more than allowed to stdout.
    #[error("program output exceeds {0} bytes")]
    OutputTooLarge(usize),
    /// The program exited with a non-zero status.
    #[error("program exited with status {code}{}", stderr_suffix(.stderr))]
    Exit {
        /// Exit status.
        code: i32,
        /// The end of its stderr.
        stderr: String,
    },
    /// The program trapped (panic, out-of-bounds access, ...).
    #[error("program crashed: {message}{}", stderr_suffix(.stderr))]
    Trap {
        /// What wasmtime reported.
        message: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// The host could not create an instance.
    #[error("cannot start program: {0}")]
    Instantiate(String),
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", stderr.trim())
    }
}

/// Where every program's monotonic clock starts: a snapshot is taken at this reading and a
/// request resumes from it, so the clock a program sees never runs backwards.
const MONOTONIC_ORIGIN_NS: u64 = 1_000_000_000;

/// The clocks of one run: running from [`MONOTONIC_ORIGIN_NS`] and the host's wall clock when
/// enabled; otherwise stopped at that origin and at the Unix epoch.
struct ProgramClock {
    started: Option<Instant>,
}

impl wasmtime_wasi::HostMonotonicClock for ProgramClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        let elapsed = self.started.map_or(0, |s| {
            u64::try_from(s.elapsed().as_nanos()).unwrap_or(u64::MAX)
        });
        MONOTONIC_ORIGIN_NS.saturating_add(elapsed)
    }
}

impl wasmtime_wasi::HostWallClock for ProgramClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        match self.started {
            Some(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
            None => Duration::ZERO,
        }
    }
}

/// Per-run store state.
pub struct ProgramState {
    wasi: WasiP1Ctx,
    limiter: MemoryLimiter,
    deadline: Instant,
}

/// A run's store and the pipes its output lands in.
struct RunStore {
    store: Store<ProgramState>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl RunStore {
    /// A sandboxed store: stdin, capped stdout, a short stderr, no files, network,
    /// environment or arguments, and the given limits.
    fn new(engine: &wasmtime::Engine, stdin: Vec<u8>, limits: RunLimits) -> RunStore {
        let stdout = MemoryOutputPipe::new(limits.max_output_bytes.saturating_add(1));
        let stderr = MemoryOutputPipe::new(4096);
        let clock = || ProgramClock {
            started: limits.clock.then(Instant::now),
        };
        let wasi = wasmtime_wasi::WasiCtx::builder()
            .stdin(MemoryInputPipe::new(stdin))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(clock())
            .monotonic_clock(clock())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build_p1();
        let state = ProgramState {
            wasi,
            limiter: MemoryLimiter {
                limit: limits.memory_bytes,
            },
            deadline: Instant::now() + limits.timeout,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(wasmtime::Error::new(TimeLimitExceeded))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        RunStore {
            store,
            stdout,
            stderr,
        }
    }

    /// The end of what the program wrote to stderr.
    fn stderr_tail(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr.contents()).into_owned();
        let skip = text.chars().count().saturating_sub(1000);
        text.chars().skip(skip).collect()
    }
}

/// A compiled program, linked once and instantiated per run.
#[derive(Clone)]
pub struct Program {
    pre: InstancePre<ProgramState>,
    entry: Entry,
    engine: Arc<HostEngine>,
}

/// Counters of start-up snapshots, for tests and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotStats {
    /// Snapshots taken (a reactor initialised and captured).
    pub taken: u64,
    /// Snapshots read back from the disk cache.
    pub disk_hits: u64,
    /// Reactors that could not be snapshotted and initialise on every run instead.
    pub failed: u64,
}

#[derive(Default)]
struct SnapshotCounters {
    taken: AtomicU64,
    disk_hits: AtomicU64,
    failed: AtomicU64,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program").finish_non_exhaustive()
    }
}

/// Links program modules against WASI preview 1, snapshotting reactors on the way.
pub struct ProgramLoader {
    engine: Arc<HostEngine>,
    linker: Linker<ProgramState>,
    snapshots: SnapshotCounters,
    take_snapshots: bool,
}

impl ProgramLoader {
    /// A loader on the shared engine.
    pub fn new(engine: Arc<HostEngine>) -> Result<ProgramLoader, LoadError> {
        let mut linker = Linker::new(engine.engine());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut ProgramState| &mut s.wasi)
            .map_err(|e| LoadError::new("sandbox", format!("cannot link WASI: {e:#}")))?;
        Ok(ProgramLoader {
            engine,
            linker,
            snapshots: SnapshotCounters::default(),
            take_snapshots: true,
        })
    }

    /// Whether reactors are snapshotted (the default). Without snapshots a reactor
    /// initialises on every run: slower, but it is how to compare the two.
    pub fn with_snapshots(mut self, enabled: bool) -> ProgramLoader {
        self.take_snapshots = enabled;
        self
    }

    /// Snapshot counters so far.
    pub fn snapshot_stats(&self) -> SnapshotStats {
        SnapshotStats {
            taken: self.snapshots.taken.load(Ordering::Relaxed),
            disk_hits: self.snapshots.disk_hits.load(Ordering::Relaxed),
            failed: self.snapshots.failed.load(Ordering::Relaxed),
        }
    }

    /// Compiles (or fetches from the engine's caches) and links a program module. A reactor
    /// is replaced by its start-up snapshot; one that cannot be snapshotted still runs,
    /// initialising on every request. Compilation runs on a blocking thread. WebAssembly
    /// text is accepted too.
    pub async fn load(&self, origin: &str, wasm: Arc<[u8]>) -> Result<Program, LoadError> {
        let load_error = |message: String| LoadError::new(origin, message);
        let wasm: Arc<[u8]> = match wat::parse_bytes(&wasm) {
            Ok(std::borrow::Cow::Borrowed(_)) => wasm,
            Ok(std::borrow::Cow::Owned(binary)) => binary.into(),
            Err(e) => return Err(load_error(format!("invalid WebAssembly text: {e}"))),
        };
        let mut entry = snapshot::entry_of(&wasm).map_err(load_error)?;
        let mut bytes = wasm.clone();
        if self.take_snapshots && entry == (Entry::Reactor { initialise: true }) {
            match self.snapshot(&wasm).await {
                Ok(snapshot) => {
                    bytes = snapshot;
                    entry = Entry::Reactor { initialise: false };
                }
                Err(e) => {
                    self.snapshots.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%origin, error = %e, "program runs without a start-up snapshot");
                }
            }
        }
        let engine = self.engine.clone();
        let owned_origin = origin.to_string();
        let module = tokio::task::spawn_blocking(move || engine.load_module(&owned_origin, &bytes))
            .await
            .map_err(|e| load_error(format!("compilation stopped: {e}")))??;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| load_error(format!("not a WASI preview-1 program: {e:#}")))?;
        Ok(Program {
            pre,
            entry,
            engine: self.engine.clone(),
        })
    }

    /// The start-up snapshot of a reactor, from disk or taken now (and then kept on disk).
    async fn snapshot(&self, wasm: &Arc<[u8]>) -> Result<Arc<[u8]>, snapshot::SnapshotError> {
        let path = self
            .engine
            .config()
            .cache_dir
            .as_deref()
            .map(|dir| snapshot::snapshot_path(dir, wasm));
        if let Some(path) = &path
            && let Ok(bytes) = std::fs::read(path)
            && snapshot::entry_of(&bytes) == Ok(Entry::Reactor { initialise: false })
        {
            self.snapshots.disk_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(bytes.into());
        }
        let started = Instant::now();
        let snapshot = Snapshot::instrument(wasm)?;
        let engine = self.engine.engine().clone();
        let instrumented: Arc<[u8]> = snapshot.instrumented().into();
        let module =
            tokio::task::spawn_blocking(move || snapshot::compile_uncached(&engine, &instrumented))
                .await
                .map_err(|e| snapshot::SnapshotError(format!("compilation stopped: {e}")))??;
        // Initialisation gets the time limit of a component call.
        let limits = RunLimits {
            timeout: self.engine.config().call_time_limit,
            memory_bytes: self.engine.config().memory_limit,
            ..RunLimits::default()
        };
        let mut run = RunStore::new(self.engine.engine(), Vec::new(), limits);
        let initialised: wasmtime::Result<Instance> = async {
            let instance = self
                .linker
                .instantiate_async(&mut run.store, &module)
                .await?;
            instance
                .get_typed_func::<(), ()>(&mut run.store, INITIALISE_EXPORT)?
                .call_async(&mut run.store, ())
                .await?;
            Ok(instance)
        }
        .await;
        let instance = initialised.map_err(|e| {
            snapshot::SnapshotError(format!(
                "initialisation failed: {}{}",
                e.to_string().lines().next().unwrap_or("trap"),
                stderr_suffix(&run.stderr_tail())
            ))
        })?;
        let captured = snapshot.capture(&mut run.store, instance).await?;
        let bytes: Arc<[u8]> = match snapshot::drop_unreachable_passive_segments(&captured) {
            Some(smaller) if Module::validate(self.engine.engine(), &smaller).is_ok() => {
                smaller.into()
            }
            _ => captured.into(),
        };
        self.snapshots.taken.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "took start-up snapshot"
        );
        if let Some(path) = &path {
            tinyhost_wasm::cache::write_atomically(path, &bytes);
        }
        Ok(bytes)
    }
}

impl Program {
    /// Runs the program once: `stdin` in, stdout back.
    pub async fn run(&self, stdin: Vec<u8>, limits: RunLimits) -> Result<Vec<u8>, RunError> {
        let memory_limit = limits.memory_bytes.min(self.engine.config().memory_limit);
        let limits = RunLimits {
            memory_bytes: memory_limit,
            ..limits
        };
        let mut run = RunStore::new(self.engine.engine(), stdin, limits);
        let timeout_ms = limits.timeout.as_millis() as u64;
        let classify = |e: wasmtime::Error, stderr: String| {
            if e.downcast_ref::<TimeLimitExceeded>().is_some() {
                RunError::TimeLimit(timeout_ms)
            } else if e.downcast_ref::<MemoryLimitExceeded>().is_some() {
                RunError::MemoryLimit(memory_limit)
            } else {
                RunError::Trap {
                    message: e.to_string().lines().next().unwrap_or("trap").to_string(),
                    stderr,
                }
            }
        };
        let instance = match self.pre.instantiate_async(&mut run.store).await {
            Ok(instance) => instance,
            Err(e) => {
                return Err(match classify(e, String::new()) {
                    RunError::Trap { message, .. } => RunError::Instantiate(message),
                    other => other,
                });
            }
        };
        let outcome = self.enter(&mut run.store, instance).await;
        let output = run.stdout.contents();
        if output.len() > limits.max_output_bytes {
            return Err(RunError::OutputTooLarge(limits.max_output_bytes));
        }
        match outcome {
            Ok(()) => Ok(output.to_vec()),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(0)) => Ok(output.to_vec()),
                Some(I32Exit(code)) => Err(RunError::Exit {
                    code: *code,
                    stderr: run.stderr_tail(),
                }),
                None => Err(classify(e, run.stderr_tail())),
            },
        }
    }

    /// Calls the program's entry points for one request.
    async fn enter(
        &self,
        store: &mut Store<ProgramState>,
        instance: Instance,
    ) -> wasmtime::Result<()> {
        let exports: &[&str] = match self.entry {
            Entry::Command => &[START_EXPORT],
            Entry::Reactor { initialise: true } => &[INITIALISE_EXPORT, RUN_EXPORT],
            Entry::Reactor { initialise: false } => &[RUN_EXPORT],
        };
        for export in exports {
            instance
                .get_typed_func::<(), ()>(&mut *store, export)?
                .call_async(&mut *store, ())
                .await?;
        }
        Ok(())
    }

    /// How the program is entered per request.
    pub fn entry(&self) -> Entry {
        self.entry
    }
}
