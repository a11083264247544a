//! The language toolchains (`tinyhost-toolchain`: Go, TinyGo, Rust) as compilers of the
//! [`crate::sandbox`]. The toolchain caches by content and compiles once per source however
//! many nodes ask; the sandbox links and runs what it returns.

use std::sync::Arc;

use tinyhost_toolchain::{CompileError, Language, Toolchain, ToolchainConfig};

use crate::compiler::{CompileFailure, CompiledSource, Compilers, SourceCompiler};

/// One language of a shared toolchain.
#[derive(Clone)]
pub struct ToolchainCompiler {
    toolchain: Arc<Toolchain>,
    language: Language,
}

impl std::fmt::Debug for ToolchainCompiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolchainCompiler")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// Compilers for every toolchain language, sharing one cache under `config.cache_dir`.
pub fn compilers(config: ToolchainConfig) -> (Arc<Toolchain>, Compilers) {
    let toolchain = Arc::new(Toolchain::new(config));
    let compilers = Language::ALL
        .iter()
        .map(|&language| {
            let compiler: Arc<dyn SourceCompiler> = Arc::new(ToolchainCompiler {
                toolchain: toolchain.clone(),
                language,
            });
            (language.as_str().to_string(), compiler)
        })
        .collect();
    (toolchain, compilers)
}

impl SourceCompiler for ToolchainCompiler {
    fn compile<'a>(
        &'a self,
        _language: &'a str,
        source: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<CompiledSource, CompileFailure>> {
        Box::pin(async move {
            let compiles_before = self.toolchain.stats().compiles;
            let artifact = self
                .toolchain
                .compile(self.language, source)
                .await
                .map_err(failure)?;
            // Approximate under concurrency (another node's compile may count too); it only
            // decides whether the node reports a fresh "ready" status.
            let cached = self.toolchain.stats().compiles == compiles_before;
            Ok(CompiledSource {
                id: artifact.key,
                wasm: artifact.wasm,
                compiler: artifact.compiler,
                cached,
            })
        })
    }
}

fn failure(error: CompileError) -> CompileFailure {
    let message = error.to_string();
    match error {
        CompileError::Failed { diagnostics, .. } => CompileFailure {
            message,
            diagnostics,
        },
        _ => CompileFailure::plain(message),
    }
}

/// A sandbox that knows `wat`, every toolchain language (sharing one toolchain under
/// `config.cache_dir`) and the `extra` compilers (tests plug in fakes for languages
/// the toolchains do not know).
pub fn sandbox_with_toolchains(
    engine: Arc<tinyhost_wasm::engine::HostEngine>,
    config: ToolchainConfig,
    extra: &Compilers,
) -> Result<(Arc<Toolchain>, crate::sandbox::Sandbox), tinyhost_wasm::error::LoadError> {
    let (toolchain, compilers) = compilers(config);
    let mut sandbox = crate::sandbox::Sandbox::new(engine)?;
    for (language, compiler) in compilers.into_iter().chain(extra.iter().cloned()) {
        sandbox = sandbox.with_compiler(&language, compiler);
    }
    Ok((toolchain, sandbox))
}
