//! `tinyhost component`: the authors' kit, from an empty folder to a published component:
//! `new`, `build`, `validate`, `inspect`, `push` and `pull`, one module each.

mod build;
mod inspect;
mod new;
mod pull;
mod push;
mod validate;

use std::process::ExitCode;

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
    /// Publish a component to an OCI registry as a wasm artifact (CNCF wasm layout).
    Push(push::PushArgs),
    /// Pull a component from an OCI registry into the cache (and optionally copy it out).
    Pull(pull::PullArgs),
}

pub(crate) async fn component(args: ComponentArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ComponentCommand::New(args) => new::new(args),
        ComponentCommand::Build(args) => build::build(args).await,
        ComponentCommand::Inspect(args) => inspect::inspect(args).await,
        ComponentCommand::Validate(args) => validate::validate(args).await,
        ComponentCommand::Push(args) => push::push(args).await,
        ComponentCommand::Pull(args) => pull::pull(args).await,
    }
}
