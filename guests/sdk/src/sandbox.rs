//! The `sandbox` import: compile a program written inline in settings, then run it per
//! message. Only components that call these functions import the interface.

use crate::Failure;
use crate::bindings::tinysystems::component::sandbox as wit_sandbox;

pub use wit_sandbox::{CompileError, Diagnostic, Limits, Program};

/// Compiles `source` in `language` (`go`, `tinygo`, `rust`, `wat`), or finds the cached
/// program with the same content.
pub fn compile(language: &str, source: &str) -> Result<Program, CompileError> {
    wit_sandbox::compile(language, source)
}

/// Runs a compiled program once with `stdin`; returns its standard output.
pub fn run(program_id: &str, stdin: &[u8], limits: Limits) -> Result<Vec<u8>, Failure> {
    wit_sandbox::run(program_id, stdin, limits)
}
