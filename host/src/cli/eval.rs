//! `tinyhost eval`: compile a program as a `wasm_eval` node does and run it once.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};
use serde_json::Value;

use super::shared::{EngineArgs, read_json_arg};
use crate::runtime::RuntimeConfig;

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    /// Source language: `go`, `tinygo`, `rust` or `wat`.
    #[arg(long = "lang", short = 'l')]
    language: String,
    /// The program's source file.
    file: PathBuf,
    /// The input as JSON, or `-` to read it from standard input.
    #[arg(long, short = 'i', default_value = "null")]
    input: String,
    /// Wall-clock limit of the run (e.g. `5s`).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    timeout: Duration,
    /// Let the program read the clocks (otherwise time stands still at the Unix epoch).
    #[arg(long)]
    clock: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let input: Value = read_json_arg(&args.input, "--input")?;
    let config = RuntimeConfig {
        engine: args.engine.config(),
        ..RuntimeConfig::default()
    };
    let engine =
        crate::engine::HostEngine::new(config.engine.clone()).map_err(|e| anyhow!("{e}"))?;
    let (_toolchain, sandbox) =
        crate::runtime::build_sandbox(&config, &engine).map_err(|e| anyhow!("{e}"))?;
    let program = match sandbox.compile(&args.language, &source).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", e.message);
            for d in &e.diagnostics {
                eprintln!(
                    "  {}:{}:{}: {}",
                    args.file.display(),
                    d.line,
                    d.column,
                    d.message
                );
            }
            return Ok(ExitCode::from(2));
        }
    };
    eprintln!(
        "compiled with {} in {} ms{}",
        program.compiler,
        program.elapsed.as_millis(),
        if program.cached { " (cached)" } else { "" }
    );
    let limits = crate::sandbox::RunLimits {
        timeout: args.timeout,
        clock: args.clock,
        ..crate::sandbox::RunLimits::default()
    };
    let output = sandbox
        .run(&program.id, input.to_string().into_bytes(), limits)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let text = String::from_utf8_lossy(&output);
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(value) => println!("{}", serde_json::to_string_pretty(&value)?),
        Err(e) => {
            return Err(anyhow!(
                "program output is not JSON ({e}): {}",
                text.chars().take(200).collect::<String>()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
