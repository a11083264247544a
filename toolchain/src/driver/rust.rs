//! The Rust driver: the source becomes `src/main.rs` of a template crate (with `serde_json`),
//! built by cargo for `wasm32-wasip1` in a target directory shared by every build, so the
//! dependencies compile once. A shared `Cargo.lock` lets later builds run `--offline`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::build::{BuildContext, failed, read_module};
use crate::diagnostics;
use crate::discover::{self, first_line, is_executable, parent_dir};
use crate::error::CompileError;
use crate::process::{self, Finished, Invocation, var};

/// What to install when cargo/rustc are missing.
pub(crate) const HINT: &str = "install Rust with rustup (so `cargo` and `rustc` are on PATH or in $CARGO_HOME/bin) and run `rustup target add wasm32-wasip1`";

/// The compile target.
pub(crate) const TARGET: &str = "wasm32-wasip1";

/// Template and build flags, part of the artifact key. Bump when the template changes.
pub(crate) const FLAGS: &str = "rust-driver/1 cargo build --release --target wasm32-wasip1; edition 2024; serde_json 1; opt-level s; lto false; codegen-units 16";

/// Name of the shared lock file inside `cache_dir/rust-target`.
const SHARED_LOCK: &str = "tinyhost.Cargo.lock";

/// How long `rustup target add` may take (it downloads the standard library).
const RUSTUP_TIMEOUT: Duration = Duration::from_secs(600);

/// Serializes `rustup target add` across every `Toolchain` in the process.
static RUSTUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A probed cargo/rustc pair with the `wasm32-wasip1` target installed.
#[derive(Debug, Clone)]
pub(crate) struct Rust {
    /// Path of `cargo`.
    pub cargo: PathBuf,
    /// Short version, e.g. `rustc 1.95.0`.
    pub version: String,
    /// The full `rustc --version` line.
    pub identity: String,
    /// `CARGO_HOME`, `RUSTUP_HOME` and `RUSTUP_TOOLCHAIN` as the host process sees them.
    vars: Vec<(OsString, OsString)>,
}

/// The Cargo.toml of the template crate.
fn manifest(package: &str) -> String {
    format!(
        r#"[package]
name = "{package}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
serde_json = "1"

[profile.release]
opt-level = "s"
lto = false
codegen-units = 16
debug = false
incremental = false

# Stand-alone: never part of an enclosing workspace.
[workspace]
"#
    )
}

/// Finds cargo and rustc, reads `rustc --version`, and makes sure the `wasm32-wasip1` target
/// is installed (running `rustup target add` once if it is not).
pub(crate) async fn discover() -> Result<Rust, CompileError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cargo_home = env_dir("CARGO_HOME", home.as_deref(), ".cargo");
    let rustup_home = env_dir("RUSTUP_HOME", home.as_deref(), ".rustup");
    let mut vars = Vec::new();
    if let Some(dir) = &cargo_home {
        vars.push(var("CARGO_HOME", dir));
    }
    if let Some(dir) = &rustup_home {
        vars.push(var("RUSTUP_HOME", dir));
    }
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN").filter(|t| !t.is_empty()) {
        vars.push(var("RUSTUP_TOOLCHAIN", toolchain));
    }

    let cargo = discover::find_on_path("cargo")
        .or_else(|| {
            let candidate = cargo_home.as_ref()?.join("bin").join("cargo");
            is_executable(&candidate).then_some(candidate)
        })
        .ok_or_else(|| missing("cargo", HINT.to_owned()))?;
    let rustc = sibling_or_path(&cargo, "rustc").ok_or_else(|| missing("rustc", HINT.into()))?;

    let finished = discover::probe(&rustc, &["--version"], vars.clone(), "rustc", HINT).await?;
    let identity = first_line(&finished.stdout).to_owned();
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let version = identity
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    ensure_target(&cargo, &rustc, &vars).await?;
    tracing::debug!(cargo = %cargo.display(), %version, "found rust");
    Ok(Rust {
        cargo,
        version,
        identity,
        vars,
    })
}

/// `$NAME`, else `$HOME/<default>` when that directory exists.
fn env_dir(name: &str, home: Option<&Path>, default: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(name).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let dir = home?.join(default);
    dir.is_dir().then_some(dir)
}

/// `name` next to `binary`, else on `PATH`.
fn sibling_or_path(binary: &Path, name: &str) -> Option<PathBuf> {
    binary
        .parent()
        .map(|dir| dir.join(name))
        .filter(|candidate| is_executable(candidate))
        .or_else(|| discover::find_on_path(name))
}

fn missing(compiler: &str, hint: String) -> CompileError {
    CompileError::CompilerMissing {
        compiler: compiler.to_owned(),
        hint,
    }
}

async fn ensure_target(
    cargo: &Path,
    rustc: &Path,
    vars: &[(OsString, OsString)],
) -> Result<(), CompileError> {
    if has_target(rustc, vars).await? {
        return Ok(());
    }
    // One `rustup target add` at a time in this process (every `Toolchain` shares it); a
    // caller that waited finds the target installed by the one before.
    let _installing = RUSTUP.lock().await;
    if has_target(rustc, vars).await? {
        return Ok(());
    }
    let target_hint =
        format!("the {TARGET} standard library is not installed: run `rustup target add {TARGET}`");
    let Some(rustup) = sibling_or_path(cargo, "rustup") else {
        return Err(missing(&format!("rustc target {TARGET}"), target_hint));
    };
    tracing::info!("installing the {TARGET} target with rustup");
    let scratch = discover::scratch_dir()?;
    let outcome = process::run(Invocation {
        program: &rustup,
        args: ["target", "add", TARGET]
            .into_iter()
            .map(OsString::from)
            .collect(),
        cwd: scratch.path(),
        env: process::clean_env(&parent_dir(&rustup), scratch.path(), vars.to_vec()),
        timeout: RUSTUP_TIMEOUT,
    })
    .await;
    let detail = match &outcome {
        Ok(finished) if finished.success => String::new(),
        Ok(finished) => last_lines(&finished.combined_output(), 3),
        Err(err) => format!("{err:?}"),
    };
    if has_target(rustc, vars).await? {
        return Ok(());
    }
    Err(missing(
        &format!("rustc target {TARGET}"),
        format!("{target_hint} (`rustup target add {TARGET}` failed: {detail})"),
    ))
}

/// The last `n` non-empty lines of `text`, joined with `; ` (where errors usually are).
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("; ")
}

/// Whether `<sysroot>/lib/rustlib/wasm32-wasip1` exists.
async fn has_target(rustc: &Path, vars: &[(OsString, OsString)]) -> Result<bool, CompileError> {
    let finished =
        discover::probe(rustc, &["--print", "sysroot"], vars.to_vec(), "rustc", HINT).await?;
    let sysroot = PathBuf::from(first_line(&finished.stdout));
    Ok(sysroot.join("lib").join("rustlib").join(TARGET).is_dir())
}

/// Builds `source` as `src/main.rs` of the template crate; returns the module bytes.
pub(crate) async fn build(
    rust: &Rust,
    ctx: &BuildContext<'_>,
    source: &str,
) -> Result<Vec<u8>, CompileError> {
    let deadline = Instant::now() + ctx.timeout;
    let package = format!("program_{}", ctx.key.get(..16).unwrap_or(ctx.key));
    let work = discover::scratch_dir()?;
    let crate_dir = work.path().join("program");
    std::fs::create_dir_all(crate_dir.join("src"))?;
    std::fs::write(crate_dir.join("Cargo.toml"), manifest(&package))?;
    std::fs::write(crate_dir.join("src").join("main.rs"), source)?;

    let target_dir = ctx.cache_dir.join("rust-target");
    std::fs::create_dir_all(&target_dir)?;
    let shared_lock = target_dir.join(SHARED_LOCK);
    let have_lock = std::fs::copy(&shared_lock, crate_dir.join("Cargo.lock")).is_ok();

    let env = process::clean_env(
        &parent_dir(&rust.cargo),
        work.path(),
        rust.vars.iter().cloned().chain([
            var("CARGO_TARGET_DIR", &target_dir),
            var("CARGO_TERM_COLOR", "never"),
        ]),
    );
    let run = |offline: bool| {
        let mut args: Vec<OsString> = [
            "build",
            "--release",
            "--target",
            TARGET,
            "--message-format",
            "short",
            "--color",
            "never",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        if offline {
            args.push("--offline".into());
        }
        let invocation = Invocation {
            program: &rust.cargo,
            args,
            cwd: &crate_dir,
            env: env.clone(),
            timeout: deadline.saturating_duration_since(Instant::now()),
        };
        async move {
            if invocation.timeout.is_zero() {
                return Err(CompileError::Timeout {
                    seconds: ctx.timeout.as_secs().max(1),
                });
            }
            process::run(invocation)
                .await
                .map_err(|err| err.into_compile_error("cargo", HINT))
        }
    };

    let result = async {
        let mut finished = run(have_lock).await?;
        let mut online = !have_lock;
        if have_lock && !finished.success && needs_network(&finished) {
            tracing::info!("offline cargo build could not resolve dependencies; retrying online");
            finished = run(false).await?;
            online = true;
        }
        if !finished.success {
            let output = finished.combined_output();
            return Err(failed(
                "cargo build",
                &finished,
                diagnostics::parse_rust(&output),
            ));
        }
        let module_path = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{package}.wasm"));
        let wasm = read_module(&module_path, "cargo build")?;
        if online {
            save_lock(&crate_dir.join("Cargo.lock"), &shared_lock);
        }
        Ok(wasm)
    }
    .await;
    remove_package_outputs(&target_dir, &package);
    result
}

/// An offline build that failed for want of the registry rather than because of the source.
fn needs_network(finished: &Finished) -> bool {
    let output = finished.combined_output();
    let blames_source = diagnostics::parse_rust(&output)
        .iter()
        .any(|d| d.file.starts_with("src/"));
    !blames_source && output.contains("offline")
}

/// Keeps the lock of a successful online build for later offline builds.
fn save_lock(lock: &Path, shared: &Path) {
    let Some(dir) = shared.parent() else { return };
    let saved = tempfile::NamedTempFile::new_in(dir).and_then(|tmp| {
        std::fs::copy(lock, tmp.path())?;
        tmp.persist(shared).map_err(|err| err.error)
    });
    if let Err(err) = saved {
        tracing::warn!(%err, "could not save the shared Cargo.lock");
    }
}

/// Deletes this build's own files from the shared target directory (the dependencies stay).
fn remove_package_outputs(target_dir: &Path, package: &str) {
    let release = target_dir.join(TARGET).join("release");
    let prefix = format!("{package}-");
    let exact = [format!("{package}.wasm"), format!("{package}.d")];
    for dir in [
        release.clone(),
        release.join("deps"),
        release.join(".fingerprint"),
        release.join("build"),
        release.join("incremental"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with(&prefix) || exact.iter().any(|e| *e == name)) {
                continue;
            }
            let path = entry.path();
            let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(err) = removed {
                tracing::debug!(path = %path.display(), %err, "could not remove build output");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines("a\n\nb\nc\nd\n", 3), "b; c; d");
        assert_eq!(last_lines("a", 3), "a");
        assert_eq!(last_lines("", 3), "");
    }

    #[test]
    fn manifest_names_the_package() {
        let toml = manifest("program_0123456789abcdef");
        assert!(toml.contains("name = \"program_0123456789abcdef\""));
        assert!(toml.contains("serde_json = \"1\""));
        assert!(toml.contains("[workspace]"));
    }

    #[test]
    fn removes_only_the_packages_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let release = dir.path().join(TARGET).join("release");
        let deps = release.join("deps");
        let fingerprint = release.join(".fingerprint");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::create_dir_all(fingerprint.join("program_a-123")).unwrap();
        std::fs::create_dir_all(fingerprint.join("serde_json-456")).unwrap();
        for file in [
            release.join("program_a.wasm"),
            release.join("program_a.d"),
            release.join("program_ab.wasm"),
            deps.join("program_a-123.wasm"),
            deps.join("libserde_json-456.rlib"),
        ] {
            std::fs::write(file, b"x").unwrap();
        }
        remove_package_outputs(dir.path(), "program_a");
        assert!(!release.join("program_a.wasm").exists());
        assert!(!release.join("program_a.d").exists());
        assert!(!deps.join("program_a-123.wasm").exists());
        assert!(!fingerprint.join("program_a-123").exists());
        assert!(release.join("program_ab.wasm").exists());
        assert!(deps.join("libserde_json-456.rlib").exists());
        assert!(fingerprint.join("serde_json-456").exists());
    }
}
