//! What every driver shares: the context a build runs in and how a finished compiler run
//! becomes module bytes or a `Failed` error.

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
