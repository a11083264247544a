//! Finding compiler binaries: explicit paths, environment variables and `PATH`, plus a scratch
//! directory for the short probe runs (`go version`, `rustc --version`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

use crate::error::CompileError;
use crate::process::{self, Finished, Invocation};

/// Timeout for version probes; independent of the compile timeout.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `path` is a regular file with an execute bit (on unix) that can be run.
pub(crate) fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The first executable `name` in the directories of `PATH`.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// The directory holding `binary`, for putting in front of a child's `PATH`.
pub(crate) fn parent_dir(binary: &Path) -> Vec<PathBuf> {
    binary
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| vec![dir.to_path_buf()])
        .unwrap_or_default()
}

/// A temporary directory usable as `HOME` (with a `tmp/` inside for `TMPDIR`).
pub(crate) fn scratch_dir() -> Result<TempDir, CompileError> {
    let dir = tempfile::Builder::new()
        .prefix("tinyhost-compile-")
        .tempdir()?;
    std::fs::create_dir_all(dir.path().join("tmp"))?;
    Ok(dir)
}

/// Runs `binary args...` in a scratch directory with a clean environment plus `vars`, and
/// returns its output when it succeeds.
pub(crate) async fn probe(
    binary: &Path,
    args: &[&str],
    vars: Vec<(OsString, OsString)>,
    compiler: &str,
    hint: &str,
) -> Result<Finished, CompileError> {
    let scratch = scratch_dir()?;
    let finished = process::run(Invocation {
        program: binary,
        args: args.iter().map(OsString::from).collect(),
        cwd: scratch.path(),
        env: process::clean_env(&parent_dir(binary), scratch.path(), vars),
        timeout: PROBE_TIMEOUT,
    })
    .await
    .map_err(|err| err.into_compile_error(compiler, hint))?;
    if !finished.success {
        return Err(CompileError::CompilerMissing {
            compiler: compiler.to_owned(),
            hint: format!(
                "{hint} (`{} {}` failed with {}: {})",
                binary.display(),
                args.join(" "),
                finished.status,
                first_line(&finished.combined_output())
            ),
        });
    }
    Ok(finished)
}

/// The first non-empty line of `text`, trimmed.
pub(crate) fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh_on_path() {
        let sh = find_on_path("sh").expect("sh on PATH");
        assert!(is_executable(&sh));
        assert!(find_on_path("surely-not-a-real-binary-name").is_none());
        assert!(!is_executable(Path::new("/nonexistent/go")));
        assert!(!is_executable(Path::new("/")));
    }

    #[test]
    fn first_line_skips_blanks() {
        assert_eq!(
            first_line("\n  go version go1.2 x\nmore"),
            "go version go1.2 x"
        );
        assert_eq!(first_line(""), "");
    }
}
