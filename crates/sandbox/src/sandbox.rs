//! The sandbox: compiles sources with the registered compilers and runs the results,
//! keeping linked programs by content hash so equal sources on many nodes share one
//! program (linked and snapshotted once, however many nodes ask at the same time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tinyhost_wasm::engine::HostEngine;
use tinyhost_wasm::error::LoadError;

use crate::compiler::{CompileFailure, SourceCompiler, WatCompiler};
use crate::program::{Program, ProgramLoader, RunError, RunLimits, SnapshotStats};
use crate::snapshot::Entry;

/// The largest source accepted, whatever the language: inline programs are meant to be
/// small, and a compiler fed megabytes from a settings field is a denial of service.
pub const MAX_SOURCE_BYTES: usize = 256 << 10;

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
/// programs by content hash so equal sources on many nodes share one program (linked and
/// snapshotted once, however many nodes ask at the same time).
pub struct Sandbox {
    compilers: Vec<(String, Arc<dyn SourceCompiler>)>,
    loader: ProgramLoader,
    programs: moka::future::Cache<String, Program>,
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
            programs: moka::future::Cache::new(1024),
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
        let origin = format!("program {}", &compiled.id);
        self.programs
            .try_get_with(
                compiled.id.clone(),
                self.loader.load(&origin, compiled.wasm.clone()),
            )
            .await
            .map_err(|e| CompileFailure::plain(e.message.clone()))?;
        Ok(ProgramInfo {
            id: compiled.id,
            compiler: compiled.compiler,
            elapsed: started.elapsed(),
            cached: compiled.cached,
        })
    }

    /// Start-up snapshot counters.
    pub fn snapshot_stats(&self) -> SnapshotStats {
        self.loader.snapshot_stats()
    }

    /// How a compiled program is entered (a snapshot, a reactor or a command).
    pub async fn entry(&self, id: &str) -> Option<Entry> {
        self.programs.get(id).await.map(|p| p.entry())
    }

    /// Runs a compiled program once.
    pub async fn run(
        &self,
        id: &str,
        stdin: Vec<u8>,
        limits: RunLimits,
    ) -> Result<Vec<u8>, RunError> {
        let program =
            self.programs.get(id).await.ok_or_else(|| {
                RunError::Instantiate(format!("program `{id}` is not compiled here"))
            })?;
        program.run(stdin, limits).await
    }
}
