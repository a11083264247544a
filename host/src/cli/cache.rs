//! `tinyhost cache`: where the caches are, how much they hold, and emptying them.

use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Subcommand;
use serde_json::json;

use super::shared::EngineArgs;

#[derive(clap::Args, Debug)]
pub(crate) struct CacheArgs {
    #[command(subcommand)]
    action: CacheAction,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Subcommand, Debug, Clone, Copy)]
enum CacheAction {
    /// Where the caches are and how much they hold.
    Stats,
    /// Delete every cached artifact.
    Clear,
}

pub(crate) fn cache(args: CacheArgs) -> anyhow::Result<ExitCode> {
    let Some(dir) = args.engine.config().cache_dir else {
        return Err(anyhow!(
            "no cache directory (set --cache-dir or TINYHOST_CACHE_DIR)"
        ));
    };
    let toolchain = tinyhost_toolchain::Toolchain::new(tinyhost_toolchain::ToolchainConfig::new(
        dir.join("toolchain"),
    ));
    let precompiled = ["components", "modules", "snapshots"].map(|kind| dir.join(kind));
    // Components pulled from registries (`--components oci://…`), by digest.
    let pulled = dir.join("oci");
    match args.action {
        CacheAction::Stats => {
            let (programs, program_bytes) = toolchain
                .disk_usage()
                .context("cannot read the program cache")?;
            let (files, bytes) = precompiled
                .iter()
                .map(|d| folder_usage(d))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let (pulled_files, pulled_bytes) = folder_usage(&pulled.join("blobs").join("sha256"));
            let value = json!({
                "dir": dir,
                "programs": {"files": programs, "bytes": program_bytes},
                "precompiled": {"files": files, "bytes": bytes},
                "pulled": {"files": pulled_files, "bytes": pulled_bytes},
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        CacheAction::Clear => {
            let mut freed = toolchain
                .clear()
                .context("cannot clear the program cache")?;
            freed += folder_usage(&pulled.join("blobs").join("sha256")).1;
            for d in precompiled.iter().chain([&pulled]) {
                freed += folder_usage(d).1;
                if d.exists() {
                    std::fs::remove_dir_all(d)
                        .with_context(|| format!("cannot remove {}", d.display()))?;
                }
            }
            println!("freed {freed} bytes");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Files and bytes directly in a folder (missing = empty).
fn folder_usage(dir: &std::path::Path) -> (u64, u64) {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .fold((0, 0), |(n, b), m| (n + 1, b + m.len()))
        })
        .unwrap_or((0, 0))
}
