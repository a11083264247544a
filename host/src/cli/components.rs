//! `tinyhost components`: the loaded components and their default ports.

use std::io::Write;
use std::process::ExitCode;

use serde_json::{Value, json};

use anyhow::anyhow;

use super::shared::{EngineArgs, OutputFormat};

#[derive(clap::Args, Debug)]
pub(crate) struct ComponentsArgs {
    /// Component files, folders or `oci://` references (the built-ins are always listed).
    paths: Vec<String>,
    #[command(flatten)]
    registry: super::sources::RegistryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn components(args: ComponentsArgs) -> anyhow::Result<ExitCode> {
    // Listing needs the components only: no runtime, toolchains or metadata flusher.
    let (config, others) =
        super::sources::engine_and_components(&args.engine, &args.paths, &args.registry).await?;
    let sources = crate::flow::runtime::component_sources(true, &others);
    let engine = crate::engine::HostEngine::new(config).map_err(|e| anyhow!("{e}"))?;
    let registry = crate::flow::components::load_standalone(&engine, &sources)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    for entry in registry.entries() {
        let ports: Vec<Value> = entry
            .default_ports
            .iter()
            .map(|p| json!({"name": p.name, "label": p.label, "source": p.source, "position": p.position.name()}))
            .collect();
        match args.output {
            OutputFormat::Json => {
                writeln!(
                    out,
                    "{}",
                    json!({"name": entry.info.name, "description": entry.info.description, "origin": entry.pool.origin(), "ports": ports})
                )?;
            }
            OutputFormat::Text => {
                writeln!(
                    out,
                    "{:<14} {}  [{}]",
                    entry.info.name,
                    entry.info.description,
                    entry.pool.origin()
                )?;
                for p in &entry.default_ports {
                    let dir = if p.source { "out" } else { "in " };
                    writeln!(out, "    {dir} {:<16} {}", p.name, p.label)?;
                }
            }
        }
    }
    for e in registry.errors() {
        eprintln!("error: {e}");
    }
    Ok(if registry.errors().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
