//! Compilers of inline programs: source text in, a WASI preview-1 module out. The sandbox
//! does not care which compiler ran; WebAssembly text is built in, the language toolchains
//! plug in through [`crate::toolchains`].

use std::sync::Arc;

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
