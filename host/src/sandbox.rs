//! Running inline programs (`wasm_eval`): WASI preview-1 command modules compiled from a
//! node's source. Each request gets a fresh instance from a pre-linked module — no state
//! leaks between requests — with stdin as the only input, a capped stdout as the only
//! output, no filesystem, network, environment or arguments, and wall-time and memory
//! limits. Whatever the program does, the caller gets its output or a clear error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{InstancePre, Linker, Store, UpdateDeadline};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

use crate::engine::HostEngine;
use crate::error::LoadError;
use crate::host_api::{MemoryLimitExceeded, MemoryLimiter, TimeLimitExceeded};

/// The largest source accepted, whatever the language: inline programs are meant to be
/// small, and a compiler fed megabytes from a settings field is a denial of service.
pub const MAX_SOURCE_BYTES: usize = 256 << 10;

/// Limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Wall-clock time allowed.
    pub timeout: Duration,
    /// Linear memory allowed, in bytes.
    pub memory_bytes: usize,
    /// Standard output allowed, in bytes.
    pub max_output_bytes: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            timeout: Duration::from_secs(5),
            memory_bytes: 64 << 20,
            max_output_bytes: 1 << 20,
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

/// Per-run store state.
pub struct ProgramState {
    wasi: WasiP1Ctx,
    limiter: MemoryLimiter,
    deadline: Instant,
}

/// A compiled program, linked once and instantiated per run.
#[derive(Clone)]
pub struct Program {
    pre: InstancePre<ProgramState>,
    engine: Arc<HostEngine>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program").finish_non_exhaustive()
    }
}

/// Links program modules against WASI preview 1.
pub struct ProgramLoader {
    engine: Arc<HostEngine>,
    linker: Linker<ProgramState>,
}

impl ProgramLoader {
    /// A loader on the shared engine.
    pub fn new(engine: Arc<HostEngine>) -> Result<ProgramLoader, LoadError> {
        let mut linker = Linker::new(engine.engine());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut ProgramState| &mut s.wasi)
            .map_err(|e| LoadError {
                origin: "sandbox".into(),
                message: format!("cannot link WASI: {e:#}"),
            })?;
        Ok(ProgramLoader { engine, linker })
    }

    /// Compiles (or fetches from the engine's caches) and links a program module.
    pub fn load(&self, origin: &str, wasm: &[u8]) -> Result<Program, LoadError> {
        let module = self.engine.load_module(origin, wasm)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| LoadError {
                origin: origin.into(),
                message: format!("not a WASI command module: {e:#}"),
            })?;
        Ok(Program {
            pre,
            engine: self.engine.clone(),
        })
    }
}

impl Program {
    /// Runs the program once: `stdin` in, stdout back.
    pub async fn run(&self, stdin: Vec<u8>, limits: RunLimits) -> Result<Vec<u8>, RunError> {
        let stdout = MemoryOutputPipe::new(limits.max_output_bytes.saturating_add(1));
        let stderr = MemoryOutputPipe::new(4096);
        let wasi = wasmtime_wasi::WasiCtx::builder()
            .stdin(MemoryInputPipe::new(stdin))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build_p1();
        let memory_limit = limits.memory_bytes.min(self.engine.config().memory_limit);
        let state = ProgramState {
            wasi,
            limiter: MemoryLimiter {
                limit: memory_limit,
            },
            deadline: Instant::now() + limits.timeout,
        };
        let mut store = Store::new(self.engine.engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(wasmtime::Error::new(TimeLimitExceeded))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        let stderr_text = || {
            String::from_utf8_lossy(&stderr.contents())
                .chars()
                .rev()
                .take(1000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
        };
        let timeout_ms = limits.timeout.as_millis() as u64;
        let classify = |e: wasmtime::Error| {
            if e.downcast_ref::<TimeLimitExceeded>().is_some() {
                RunError::TimeLimit(timeout_ms)
            } else if e.downcast_ref::<MemoryLimitExceeded>().is_some() {
                RunError::MemoryLimit(memory_limit)
            } else {
                RunError::Trap {
                    message: e.to_string().lines().next().unwrap_or("trap").to_string(),
                    stderr: stderr_text(),
                }
            }
        };
        let instance =
            self.pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| match classify(e) {
                    RunError::Trap { message, .. } => RunError::Instantiate(message),
                    other => other,
                })?;
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|e| {
                RunError::Instantiate(format!("the program has no `_start` entry point: {e}"))
            })?;
        let outcome = start.call_async(&mut store, ()).await;
        let output = stdout.contents();
        if output.len() > limits.max_output_bytes {
            return Err(RunError::OutputTooLarge(limits.max_output_bytes));
        }
        match outcome {
            Ok(()) => Ok(output.to_vec()),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(0)) => Ok(output.to_vec()),
                Some(I32Exit(code)) => Err(RunError::Exit {
                    code: *code,
                    stderr: stderr_text(),
                }),
                None => Err(classify(e)),
            },
        }
    }
}

/// Where a compiler found a problem: the toolchains' type, shared by every compiler.
pub use tinyhost_toolchain::Diagnostic;

/// Why source text did not become a program.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CompileFailure {
    /// Summary.
    pub message: String,
    /// Positioned problems.
    pub diagnostics: Vec<Diagnostic>,
}

impl CompileFailure {
    /// A failure without positions (unknown language, missing compiler, ...).
    pub fn plain(message: impl Into<String>) -> Self {
        CompileFailure {
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }
}

/// Source compiled to a WASI preview-1 module.
#[derive(Debug, Clone)]
pub struct CompiledSource {
    /// Content hash (language, compiler, flags, source).
    pub id: String,
    /// The module.
    pub wasm: Arc<[u8]>,
    /// Which compiler built it.
    pub compiler: String,
    /// Whether it came from a cache.
    pub cached: bool,
}

/// Compilers by language name.
pub type Compilers = Vec<(String, Arc<dyn SourceCompiler>)>;

/// Turns source text into a module. The language toolchains implement it; the sandbox
/// does not care which compiler ran.
pub trait SourceCompiler: Send + Sync + std::fmt::Debug {
    /// Compiles `source` written in `language`.
    fn compile<'a>(
        &'a self,
        language: &'a str,
        source: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<CompiledSource, CompileFailure>>;
}

/// WebAssembly text, compiled in-process: needs no toolchain, so it always works, and it
/// is the smallest way to write a program for the sandbox.
#[derive(Debug, Default)]
pub struct WatCompiler;

impl SourceCompiler for WatCompiler {
    fn compile<'a>(
        &'a self,
        _language: &'a str,
        source: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<CompiledSource, CompileFailure>> {
        Box::pin(async move {
            use sha2::Digest;
            let wasm = wat::parse_str(source).map_err(|e| {
                let text = e.to_string();
                let message = text
                    .lines()
                    .next()
                    .unwrap_or("invalid WebAssembly text")
                    .to_string();
                // The rendering carries the position as `--> <file>:line:column`.
                let (line, column) = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("--> "))
                    .and_then(|at| {
                        let mut parts = at.rsplit(':');
                        let column = parts.next()?.trim().parse().ok()?;
                        let line = parts.next()?.trim().parse().ok()?;
                        Some((line, column))
                    })
                    .unwrap_or((0, 0));
                CompileFailure {
                    message: format!("program.wat:{line}:{column}: {message}"),
                    diagnostics: vec![Diagnostic {
                        file: "program.wat".into(),
                        line,
                        column,
                        message,
                    }],
                }
            })?;
            let id = hex::encode(sha2::Sha256::digest(format!("wat\0{source}").as_bytes()));
            Ok(CompiledSource {
                id,
                wasm: wasm.into(),
                compiler: "wat".into(),
                cached: false,
            })
        })
    }
}

/// A compiled program as the sandbox reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramInfo {
    /// Content hash.
    pub id: String,
    /// Which compiler built it.
    pub compiler: String,
    /// How long the compile call took.
    pub elapsed: Duration,
    /// Whether the program was cached.
    pub cached: bool,
}

/// Compiles sources with the registered compilers and runs the results, keeping linked
/// programs by content hash so equal sources on many nodes share one program.
pub struct Sandbox {
    compilers: Vec<(String, Arc<dyn SourceCompiler>)>,
    loader: ProgramLoader,
    programs: moka::sync::Cache<String, Program>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let languages: Vec<&str> = self.compilers.iter().map(|(l, _)| l.as_str()).collect();
        f.debug_struct("Sandbox")
            .field("languages", &languages)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A sandbox on the shared engine that knows `wat`.
    pub fn new(engine: Arc<HostEngine>) -> Result<Sandbox, LoadError> {
        Ok(Sandbox {
            compilers: vec![("wat".into(), Arc::new(WatCompiler))],
            loader: ProgramLoader::new(engine)?,
            programs: moka::sync::Cache::new(1024),
        })
    }

    /// Adds a compiler for `language`.
    pub fn with_compiler(mut self, language: &str, compiler: Arc<dyn SourceCompiler>) -> Sandbox {
        self.compilers
            .push((language.to_ascii_lowercase(), compiler));
        self
    }

    /// Languages that can be compiled.
    pub fn languages(&self) -> Vec<String> {
        self.compilers.iter().map(|(l, _)| l.clone()).collect()
    }

    /// Compiles (or finds) the program for `source`.
    pub async fn compile(
        &self,
        language: &str,
        source: &str,
    ) -> Result<ProgramInfo, CompileFailure> {
        let started = Instant::now();
        let wanted = language.trim().to_ascii_lowercase();
        let Some((_, compiler)) = self.compilers.iter().find(|(l, _)| *l == wanted) else {
            return Err(CompileFailure::plain(format!(
                "unknown language `{language}` (expected one of: {})",
                self.languages().join(", ")
            )));
        };
        if source.trim().is_empty() {
            return Err(CompileFailure::plain("the program is empty"));
        }
        if source.len() > MAX_SOURCE_BYTES {
            return Err(CompileFailure::plain(format!(
                "the program is {} bytes; the limit is {MAX_SOURCE_BYTES}",
                source.len()
            )));
        }
        let compiled = compiler.compile(&wanted, source).await?;
        if self.programs.get(&compiled.id).is_none() {
            let program = self
                .loader
                .load(&format!("program {}", &compiled.id), &compiled.wasm)
                .map_err(|e| CompileFailure::plain(e.message))?;
            self.programs.insert(compiled.id.clone(), program);
        }
        Ok(ProgramInfo {
            id: compiled.id,
            compiler: compiled.compiler,
            elapsed: started.elapsed(),
            cached: compiled.cached,
        })
    }

    /// Runs a compiled program once.
    pub async fn run(
        &self,
        id: &str,
        stdin: Vec<u8>,
        limits: RunLimits,
    ) -> Result<Vec<u8>, RunError> {
        let program = self
            .programs
            .get(id)
            .ok_or_else(|| RunError::Instantiate(format!("program `{id}` is not compiled here")))?;
        program.run(stdin, limits).await
    }
}
