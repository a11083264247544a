//! `tinyhost component`: the authors' kit, from an empty folder to a published component:
//! `new`, `build`, `validate`, `inspect`, `push` and `pull`, one module each.

mod build;
mod inspect;
mod new;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args, Debug)]
pub(crate) struct ComponentArgs {
    #[command(subcommand)]
    command: ComponentCommand,
}

#[derive(clap::Subcommand, Debug)]
enum ComponentCommand {
    /// Create a Rust component crate on the tinyhost SDK that builds with one command.
    New(new::NewArgs),
    /// Build a component crate for wasm32-wasip2 (release) and validate the result.
    Build(build::BuildArgs),
    /// Show what a component file or OCI reference carries: components, ports, schemas,
    /// imports and the world version.
    Inspect(inspect::InspectArgs),
    /// Check that a file is a component tinyhost can load, with a clear reason if not.
    Validate(validate::ValidateArgs),
}

pub(crate) async fn component(args: ComponentArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ComponentCommand::New(args) => new::new(args),
        ComponentCommand::Build(args) => build::build(args).await,
        ComponentCommand::Inspect(args) => inspect::inspect(args).await,
        ComponentCommand::Validate(args) => validate::validate(args).await,
    }
}

/// The local file behind a `FILE|REF` argument. References are pulled into the cache
/// first, so `inspect` reads exactly what a flow would load.
pub(crate) async fn resolve_target(target: &str) -> anyhow::Result<PathBuf> {
    let path = PathBuf::from(target);
    std::fs::metadata(&path).with_context(|| format!("cannot read `{target}`"))?;
    Ok(path)
}
