//! `tinyhost call`: load a flow, send one message, print the downstream response.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use serde_json::Value;

use super::grpc;
use super::shared::{EngineArgs, start_runtime};
use crate::runtime::RuntimeConfig;

#[derive(clap::Args, Debug)]
pub(crate) struct CallArgs {
    /// Folder or file of manifests.
    path: PathBuf,
    /// Target `node:port`.
    to: String,
    /// The message as JSON.
    #[arg(long, short = 'd', default_value = "{}")]
    data: String,
    /// Extra components: `.wasm` files, folders of them, or `oci://REGISTRY/REPO:TAG`
    /// (or `@sha256:…`) references.
    #[arg(long = "components", short = 'c')]
    components: Vec<String>,
    #[command(flatten)]
    registry: super::sources::RegistryArgs,
    #[command(flatten)]
    grpc: grpc::GrpcArgs,
    #[command(flatten)]
    http: super::http::HttpArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let data: Value = serde_json::from_str(&args.data).context("--data is not JSON")?;
    let (engine, components) =
        super::sources::engine_and_components(&args.engine, &args.components, &args.registry)
            .await?;
    let config = RuntimeConfig {
        engine,
        components,
        remote: grpc::local_remote(&args.grpc)?,
        http: args.http.listeners("127.0.0.1"),
        outbound: args.http.outbound()?,
        ..RuntimeConfig::default()
    };
    let runtime = start_runtime(config).await?;
    let (nodes, _signals, errors) = crate::source::read_manifests(&args.path);
    for e in &errors {
        eprintln!("error: {e}");
    }
    let report = runtime.apply(nodes).await;
    for (node, error) in &report.errors {
        eprintln!("warning: node {node}: {error}");
    }
    let result = runtime.send(&args.to, &data).await;
    runtime.shutdown().await;
    match result {
        Ok(Some(reply)) => println!("{}", serde_json::to_string_pretty(&reply)?),
        Ok(None) => println!("null"),
        Err(e) => return Err(anyhow!("{e}")),
    }
    Ok(ExitCode::SUCCESS)
}
