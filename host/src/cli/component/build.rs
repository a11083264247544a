//! `tinyhost component build [DIR]`: builds a component crate for `wasm32-wasip2` in
//! release mode (installing the target with rustup when it is missing), shows cargo's
//! diagnostics as cargo renders them, finds the `.wasm` in cargo's artifact messages,
//! checks it exactly as `validate` does and prints its path.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use anyhow::{Context, anyhow, bail};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::super::shared::EngineArgs;
use super::validate;

/// The target components are built for.
const TARGET: &str = "wasm32-wasip2";

#[derive(clap::Args, Debug)]
pub(crate) struct BuildArgs {
    /// The component crate: a folder with a `Cargo.toml`.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Also copy the component to this file (or into this folder).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let manifest = args.dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "`{}` has no Cargo.toml: give the folder of a component crate (`tinyhost component \
             new NAME` creates one)",
            args.dir.display()
        );
    }
    ensure_target(&args.dir).await?;
    let Some(wasm) = cargo_build(&manifest).await? else {
        eprintln!("error: cargo build failed; see its errors above");
        return Ok(ExitCode::FAILURE);
    };

    let engine = validate::engine(&args.engine)?;
    let bytes = validate::read(&wasm)?;
    let origin = wasm.display().to_string();
    let checked = validate::check(&engine, &origin, &bytes).await?;
    if !checked.problems.is_empty() {
        for problem in &checked.problems {
            eprintln!("error: {origin}: {problem}");
        }
        eprintln!("error: the build produced a file the host cannot load");
        return Ok(ExitCode::FAILURE);
    }
    let path = match &args.out {
        Some(out) => copy_out(&wasm, out)?,
        None => wasm,
    };
    eprintln!("ok: {}: {}", path.display(), checked.summary());
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Copies the component to `out`, or into `out` when it is a folder (or ends with `/`).
fn copy_out(wasm: &Path, out: &Path) -> anyhow::Result<PathBuf> {
    let folder = out.is_dir()
        || out
            .as_os_str()
            .to_string_lossy()
            .ends_with(['/', std::path::MAIN_SEPARATOR]);
    let dest = match wasm.file_name() {
        Some(name) if folder => out.join(name),
        _ => out.to_path_buf(),
    };
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    std::fs::copy(wasm, &dest)
        .with_context(|| format!("cannot copy the component to `{}`", dest.display()))?;
    Ok(dest)
}

/// Makes sure the toolchain that builds `dir` (its `rust-toolchain.toml` counts) has the
/// `wasm32-wasip2` standard library, adding it with rustup when it is missing. Rustup does
/// not add targets on its own (and `RUSTUP_AUTO_INSTALL=0` stops it installing even a
/// toolchain), so this asks once, here.
async fn ensure_target(dir: &Path) -> anyhow::Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .await;
    match listed {
        Ok(out) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
            {
                return Ok(());
            }
        }
        Ok(out) => bail!(
            "`rustup target list --installed` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        // No rustup: a Rust installed another way; its sysroot says whether the target is
        // there.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if has_target_in_sysroot(dir).await {
                Ok(())
            } else {
                Err(anyhow!(
                    "the {TARGET} target is not installed and rustup is not on PATH: install \
                     Rust with rustup (https://rustup.rs), or add the {TARGET} standard \
                     library to this Rust"
                ))
            };
        }
        Err(e) => return Err(e).context("cannot run rustup"),
    }
    eprintln!("installing the {TARGET} target with rustup");
    // rustup's progress goes to stderr; stdout stays for the component's path.
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .await
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("`rustup target add {TARGET}` failed ({status}); run it yourself and build again");
    }
    Ok(())
}

async fn has_target_in_sysroot(dir: &Path) -> bool {
    let Ok(out) = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .await
    else {
        return false;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success() && sysroot.join("lib/rustlib").join(TARGET).is_dir()
}

/// Runs cargo for `manifest`; its diagnostics go straight to stderr. Returns the `.wasm` of
/// the crate's own library, or `None` when the build failed.
async fn cargo_build(manifest: &Path) -> anyhow::Result<Option<PathBuf>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(manifest)
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "cannot run `{}`: install Rust with rustup (https://rustup.rs)",
                cargo.to_string_lossy()
            )
        })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("cannot read cargo's output"))?;
    let own_manifest = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.into());
    let mut lines = BufReader::new(stdout).lines();
    let mut wasm = None;
    while let Some(line) = lines
        .next_line()
        .await
        .context("cannot read cargo's output")?
    {
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            // Not one of cargo's messages (a build script printing, say): show it.
            eprintln!("{line}");
            continue;
        };
        if let Some(file) = own_wasm(&message, &own_manifest) {
            wasm = Some(file);
        }
    }
    let status = child.wait().await.context("cannot wait for cargo")?;
    if !status.success() {
        return Ok(None);
    }
    wasm.map(Some).ok_or_else(|| {
        anyhow!(
            "cargo built no `.wasm` for `{}`: a component crate needs `crate-type = \
             [\"cdylib\"]` in its [lib] section",
            manifest.display()
        )
    })
}

/// The `.wasm` of a `compiler-artifact` message about the crate at `manifest`.
fn own_wasm(message: &Value, manifest: &Path) -> Option<PathBuf> {
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let from = PathBuf::from(message.get("manifest_path")?.as_str()?);
    let from = std::fs::canonicalize(&from).unwrap_or(from);
    if from != manifest {
        return None;
    }
    message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|f| f.ends_with(".wasm"))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_wasm_comes_from_the_crates_own_artifact() {
        let dir = std::env::temp_dir();
        let manifest = std::fs::canonicalize(&dir).unwrap().join("Cargo.toml");
        let own = json!({
            "reason": "compiler-artifact",
            "manifest_path": manifest,
            "filenames": ["/t/release/hello.d", "/t/release/hello.wasm"],
        });
        assert_eq!(
            own_wasm(&own, &manifest),
            Some(PathBuf::from("/t/release/hello.wasm"))
        );
        let dependency = json!({
            "reason": "compiler-artifact",
            "manifest_path": "/elsewhere/Cargo.toml",
            "filenames": ["/t/release/other.wasm"],
        });
        assert_eq!(own_wasm(&dependency, &manifest), None);
        assert_eq!(
            own_wasm(&json!({"reason": "build-finished"}), &manifest),
            None
        );
    }
}
