//! Compiler drivers: one module per compiler, each turning source text into module bytes in a
//! fresh temporary directory. [`Resolved`] is a probed, ready compiler for one language.

pub(crate) mod go;
pub(crate) mod rust;
pub(crate) mod tinygo;

use std::path::Path;
use std::time::Duration;

use crate::diagnostics::Diagnostic;
use crate::error::CompileError;
use crate::process::Finished;

/// What every build needs besides the source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuildContext<'a> {
    /// `ToolchainConfig::cache_dir` (absolute).
    pub cache_dir: &'a Path,
    /// Longest time the compiler may run.
    pub timeout: Duration,
    /// The artifact key (hex), used to name per-build things uniquely.
    pub key: &'a str,
}

/// A compiler found and probed for one language.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Shown to users as `Artifact::compiler`, e.g. `go1.27.3`.
    pub display: String,
    /// Full identity (version output) that goes into the artifact key.
    pub identity: String,
    /// Description of the build flags/template that goes into the artifact key.
    pub flags: &'static str,
    /// How to run it.
    pub backend: Backend,
}

/// The compiler behind a [`Resolved`].
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// `go build` (also TinyGo's fallback).
    Go(go::Go),
    /// `tinygo build`.
    TinyGo(tinygo::TinyGo),
    /// `cargo build` on the template crate.
    Rust(rust::Rust),
}

impl Backend {
    /// Builds `source`; returns the module bytes.
    pub async fn build(
        &self,
        ctx: &BuildContext<'_>,
        source: &str,
    ) -> Result<Vec<u8>, CompileError> {
        match self {
            Backend::Go(go) => go::build(go, ctx, source).await,
            Backend::TinyGo(tinygo) => tinygo::build(tinygo, ctx, source).await,
            Backend::Rust(rust) => rust::build(rust, ctx, source).await,
        }
    }
}

/// The `Failed` error for a compiler run that exited unsuccessfully.
pub(crate) fn failed(
    program: &str,
    finished: &Finished,
    diagnostics: Vec<Diagnostic>,
) -> CompileError {
    let output = finished.combined_output();
    let message = if output.is_empty() {
        format!("{program} exited with {}", finished.status)
    } else {
        output
    };
    CompileError::Failed {
        message,
        diagnostics,
    }
}

/// Reads the module a successful build wrote.
pub(crate) fn read_module(path: &Path, program: &str) -> Result<Vec<u8>, CompileError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(CompileError::Failed {
            message: format!(
                "{program} succeeded but wrote no module at {}",
                path.display()
            ),
            diagnostics: Vec::new(),
        }),
        Err(err) => Err(err.into()),
    }
}
