//! Compiles the small programs users write inline in a `wasm_eval` node into WASI preview-1
//! command modules (`_start`; JSON on stdin, JSON on stdout), and caches them by content.
//!
//! Languages: Go (`go build` for `wasip1/wasm`), TinyGo (`tinygo build -target=wasip1`, or Go
//! when `tinygo` is missing) and Rust (cargo for `wasm32-wasip1`, with `serde_json`). The host
//! runs the modules; this crate only builds them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tinyhost_toolchain::CompileError> {
//! use tinyhost_toolchain::{Language, Toolchain, ToolchainConfig};
//! let toolchain = Toolchain::new(ToolchainConfig::new("/var/cache/tinyhost".into()));
//! let artifact = toolchain.compile(Language::Go, "package main\nfunc main() {}\n").await?;
//! assert!(artifact.wasm.starts_with(b"\0asm"));
//! # Ok(()) }
//! ```
//!
//! Every compile runs in its own temporary directory with a clean environment, no network
//! (Go: `GOPROXY=off`, `GOTOOLCHAIN=local`; Rust: `--offline` once the shared lock exists), a
//! timeout that kills the compiler's whole process group, and at most 64 KiB kept of each
//! output stream.

#![warn(missing_docs)]

mod artifact;
mod cache;
mod config;
mod diagnostics;
mod discover;
mod driver;
mod error;
mod language;
mod process;
mod toolchain;

pub use artifact::{Artifact, CacheStats};
pub use config::ToolchainConfig;
pub use diagnostics::Diagnostic;
pub use error::CompileError;
pub use language::Language;
pub use toolchain::Toolchain;

/// The export through which a host runs one request of a reactor program (Go programs are
/// built as reactors whose generated entry calls `main()`); hosts and drivers must agree.
pub const REACTOR_RUN_EXPORT: &str = "tinyhost_run";
