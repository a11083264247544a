//! What several subcommands share: engine flags, output formats, reading a JSON argument,
//! and starting a runtime with its load warnings shown.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use serde_json::Value;

use crate::engine::EngineConfig;
use crate::runtime::{Runtime, RuntimeConfig};

#[derive(clap::Args, Debug)]
pub(crate) struct EngineArgs {
    /// Directory of precompiled components (default: the user cache directory).
    #[arg(long, env = "TINYHOST_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Memory limit per component instance, in MiB.
    #[arg(long, default_value_t = 64)]
    pub(crate) memory_limit_mib: usize,
    /// CPU time limit per component call (e.g. `10s`).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub(crate) call_time_limit: Duration,
}

impl EngineArgs {
    pub(crate) fn config(&self) -> EngineConfig {
        EngineConfig {
            memory_limit: self.memory_limit_mib.saturating_mul(1 << 20),
            call_time_limit: self.call_time_limit,
            cache_dir: self
                .cache_dir
                .clone()
                .or_else(crate::engine::default_cache_dir),
            ..EngineConfig::default()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Starts a runtime; component files that failed to load are warned about, not fatal.
pub(crate) async fn start_runtime(config: RuntimeConfig) -> anyhow::Result<Runtime> {
    let runtime = Runtime::start(config)
        .await
        .context("cannot start the runtime")?;
    for e in runtime.registry().errors() {
        eprintln!("warning: {e}");
    }
    Ok(runtime)
}

/// A JSON command-line value, or standard input for `-`.
pub(crate) fn read_json_arg(text: &str, name: &str) -> anyhow::Result<Value> {
    if text == "-" {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read standard input")?;
        return serde_json::from_str(&input).context("standard input is not JSON");
    }
    serde_json::from_str(text).with_context(|| format!("{name} is not JSON"))
}
