//! The `sandbox` interface: compile a program written inline in settings, then run it per
//! message. Only the `sandboxed-component` world imports it, and a component imports it only
//! when it calls these functions. See `wit/sandbox.wit`.

use crate::Failure;
use crate::bindings::tinysystems::component::sandbox as wit;

pub use wit::{CompileError, Diagnostic, Limits, Program};

/// Compiles `source` in `language` (`go`, `tinygo`, `rust`, `wat`), or finds the cached
/// program with the same content.
pub fn compile(language: &str, source: &str) -> Result<Program, CompileError> {
    wit::compile(language, source)
}

/// Runs a compiled program once with `stdin`; returns its standard output.
pub fn run(program_id: &str, stdin: &[u8], limits: Limits) -> Result<Vec<u8>, Failure> {
    wit::run(program_id, stdin, limits)
}
