//! The inline-program layer, over the wasm layer: what a `wasm_eval` node compiles from
//! its settings and runs per message.
//!
//! - [`compiler`]: source text to a WASI preview-1 module ([`compiler::WatCompiler`]
//!   built in), and [`toolchains`]: the Go/TinyGo/Rust toolchains as compilers;
//! - [`program`]: linking a module once and running it fresh per request under limits;
//!   [`snapshot`]: the start-up snapshot that lets a Go reactor skip its initialisation;
//! - [`sandbox`]: compilers and programs together, cached by content.

#![warn(missing_docs)]

pub mod compiler;
pub mod program;
pub mod sandbox;
pub mod snapshot;
pub mod toolchains;

pub use compiler::{CompileFailure, Compilers, SourceCompiler};
pub use program::{Program, ProgramLoader, RunError, RunLimits, SnapshotStats};
pub use sandbox::{ProgramInfo, Sandbox};
