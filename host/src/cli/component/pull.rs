//! `tinyhost component pull oci://REF`: brings a component into the cache exactly as a
//! flow naming it would (verified by digest, not pulled again if present), and optionally
//! copies it out.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::cli::shared::{EngineArgs, OutputFormat};
use crate::cli::sources::RegistryArgs;
use crate::oci::ComponentRef;

#[derive(clap::Args, Debug)]
pub(crate) struct PullArgs {
    /// `oci://REGISTRY/REPOSITORY:TAG` or `…@sha256:DIGEST`.
    reference: String,
    /// Also copy the component to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn pull(args: PullArgs) -> anyhow::Result<ExitCode> {
    let reference: ComponentRef = args.reference.parse()?;
    let engine = args.engine.config();
    let registries = args.registry.registries(engine.cache_dir.as_deref())?;
    let pulled = crate::cli::sources::pull_warning(&registries, &reference).await?;
    if let Some(out) = &args.out {
        std::fs::copy(&pulled.path, out)
            .with_context(|| format!("cannot copy the component to {}", out.display()))?;
    }
    let path = args.out.as_ref().unwrap_or(&pulled.path);
    let mut stdout = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(
            stdout,
            "{}",
            json!({
                "reference": pulled.reference,
                "digest": pulled.digest,
                "layer": pulled.layer,
                "path": path,
                "fetched": pulled.fetched,
            })
        )?,
        OutputFormat::Text => writeln!(
            stdout,
            "{} {}\n  digest {}\n  file   {}",
            if pulled.fetched { "pulled" } else { "cached" },
            pulled.reference,
            pulled.digest,
            path.display()
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
