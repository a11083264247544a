//! Compiler drivers: one module per compiler, each turning source text into module bytes in a
//! fresh temporary directory. [`Resolved`] is a probed, ready compiler for one language.

mod build;
pub(crate) mod go;
pub(crate) mod rust;
pub(crate) mod tinygo;

pub(crate) use build::BuildContext;

use crate::error::CompileError;

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
