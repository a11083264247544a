//! `tinyhost component push FILE oci://REF`: publishes a component as a wasm OCI artifact
//! (the CNCF wasm layout), after checking it is one tinyhost can load, so a broken build
//! never reaches a registry.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::json;

use crate::cli::shared::{EngineArgs, OutputFormat};
use crate::cli::sources::RegistryArgs;
use crate::oci::ComponentRef;

#[derive(clap::Args, Debug)]
pub(crate) struct PushArgs {
    /// The component file.
    file: PathBuf,
    /// Where to: `oci://REGISTRY/REPOSITORY:TAG`.
    reference: String,
    /// A manifest annotation `KEY=VALUE` (repeatable), e.g.
    /// `org.opencontainers.image.source=…`.
    #[arg(long = "annotation")]
    annotations: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn push(args: PushArgs) -> anyhow::Result<ExitCode> {
    let reference: ComponentRef = args.reference.parse()?;
    if reference.digest().is_some() {
        bail!("push to a tag (`oci://REGISTRY/REPOSITORY:TAG`): the registry computes the digest");
    }
    let mut annotations = BTreeMap::new();
    for annotation in &args.annotations {
        let (key, value) = annotation
            .split_once('=')
            .with_context(|| format!("--annotation `{annotation}` is not KEY=VALUE"))?;
        annotations.insert(key.to_string(), value.to_string());
    }
    let bytes = super::validate::read(&args.file)?;
    let origin = args.file.display().to_string();
    let checked =
        super::validate::check(&super::validate::engine(&args.engine)?, &origin, &bytes).await?;
    if !checked.problems.is_empty() {
        bail!("{origin} is not pushed: {}", checked.problems.join("; "));
    }
    let components: Vec<&str> = checked
        .components
        .iter()
        .map(|c| c.info.name.as_str())
        .collect();
    let engine = args.engine.config();
    let registries = args.registry.registries(engine.cache_dir.as_deref())?;
    let pushed = registries.push(bytes, &reference, annotations).await?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            json!({
                "reference": pushed.reference,
                "digest": pushed.digest,
                "pinned": reference.with_digest(&pushed.digest).to_string(),
                "layer": pushed.layer,
                "size": pushed.size,
                "components": components,
            })
        )?,
        OutputFormat::Text => writeln!(
            out,
            "pushed {} ({} bytes, {})\n  digest {}",
            pushed.reference,
            pushed.size,
            checked.summary(),
            pushed.digest
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
