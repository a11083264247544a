//! The four programs, built from the Go modules in `go/` (`kube` — kube-apiserver and
//! kubectl from `k8s.io/kubernetes` with its staging modules at the matching releases —,
//! `etcd` and `helm`) into `<target>/control-plane/<key>/`, where the key hashes the
//! modules' `go.mod` and `go.sum` and the Go version: built once per machine and version,
//! reused by every test and every `control-plane up`, rebuilt when a version changes.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::error::ControlPlaneError;

/// The built programs.
#[derive(Debug, Clone)]
pub struct Tools {
    dir: PathBuf,
}

impl Tools {
    /// `etcd`.
    pub fn etcd(&self) -> PathBuf {
        self.dir.join("etcd")
    }

    /// `kube-apiserver`.
    pub fn kube_apiserver(&self) -> PathBuf {
        self.dir.join("kube-apiserver")
    }

    /// `kubectl`.
    pub fn kubectl(&self) -> PathBuf {
        self.dir.join("kubectl")
    }

    /// `helm`.
    pub fn helm(&self) -> PathBuf {
        self.dir.join("helm")
    }
}

/// What each Go module builds: (module folder, package, program name).
const PROGRAMS: &[(&str, &str, &str)] = &[
    ("etcd", ".", "etcd"),
    (
        "kube",
        "k8s.io/kubernetes/cmd/kube-apiserver",
        "kube-apiserver",
    ),
    ("kube", "k8s.io/kubernetes/cmd/kubectl", "kubectl"),
    ("helm", "helm.sh/helm/v4/cmd/helm", "helm"),
];

/// `go build` flags; part of the cache key. Symbols and DWARF are left out: nobody debugs
/// these binaries, and linking without them is faster.
const BUILD_FLAGS: &[&str] = &["-trimpath", "-ldflags=-s -w"];

fn modules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go")
}

/// The control plane's folder in the build folder (`CARGO_TARGET_DIR`, else
/// `<workspace>/target`): the built programs, and `run/` for `control-plane up`.
pub fn home() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tinyhost_go_bin::workspace_root().join("target"))
        .join("control-plane")
}

/// The programs, built now if this machine has not built these versions yet.
pub fn tools() -> Result<Tools, ControlPlaneError> {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| build_all().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| ControlPlaneError::Build {
            what: "the control plane".into(),
            output: e,
        })
}

fn build_all() -> Result<Tools, ControlPlaneError> {
    let go = tinyhost_go_bin::go_binary().map_err(ControlPlaneError::NoGo)?;
    let version = Command::new(&go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(ControlPlaneError::io(format!(
            "running {} version",
            go.display()
        )))?;
    let mut key = Sha256::new();
    key.update(&version.stdout);
    key.update(BUILD_FLAGS.join(" "));
    for module in ["etcd", "kube", "helm"] {
        for file in ["go.mod", "go.sum"] {
            let path = modules_dir().join(module).join(file);
            key.update(
                fs::read(&path)
                    .map_err(ControlPlaneError::io(format!("reading {}", path.display())))?,
            );
        }
    }
    let key = hex::encode(&key.finalize()[..8]);
    let root = home();
    let dir = root.join(&key);
    let tools = Tools { dir: dir.clone() };
    if PROGRAMS.iter().all(|(_, _, name)| dir.join(name).is_file()) {
        return Ok(tools);
    }
    fs::create_dir_all(&root).map_err(ControlPlaneError::io(format!(
        "creating {}",
        root.display()
    )))?;
    // Another test process may be building the same key: one builds, the others wait.
    let lock_path = root.join(format!("{key}.lock"));
    let lock = File::create(&lock_path).map_err(ControlPlaneError::io(format!(
        "creating {}",
        lock_path.display()
    )))?;
    lock.lock().map_err(ControlPlaneError::io(format!(
        "locking {}",
        lock_path.display()
    )))?;
    let staging = root.join(format!("{key}.partial-{}", std::process::id()));
    fs::create_dir_all(&staging).map_err(ControlPlaneError::io(format!(
        "creating {}",
        staging.display()
    )))?;
    for (module, package, name) in PROGRAMS {
        if dir.join(name).is_file() {
            continue;
        }
        eprintln!("building {name} for the test control plane (once per version) ...");
        let began = std::time::Instant::now();
        let output = Command::new(&go)
            .current_dir(modules_dir().join(module))
            .arg("build")
            .args(BUILD_FLAGS)
            .arg("-o")
            .arg(staging.join(name))
            .arg(package)
            .env("GOTOOLCHAIN", "local")
            .env("CGO_ENABLED", "0")
            // Modules and build cache live in the build folder too, so a fresh clone
            // downloads and builds what it needs and `cargo clean` removes it (Go makes its
            // module files read-only unless told not to).
            .env("GOFLAGS", "-mod=readonly -modcacherw")
            .env("GOMODCACHE", root.join("go-mod"))
            .env("GOCACHE", root.join("go-build"))
            .output()
            .map_err(ControlPlaneError::io(format!(
                "running go build for {name}"
            )))?;
        if !output.status.success() {
            let _ = fs::remove_dir_all(&staging);
            return Err(ControlPlaneError::Build {
                what: (*name).to_string(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        fs::create_dir_all(&dir)
            .map_err(ControlPlaneError::io(format!("creating {}", dir.display())))?;
        fs::rename(staging.join(name), dir.join(name))
            .map_err(ControlPlaneError::io(format!("moving {name} into place")))?;
        eprintln!("built {name} in {:.0?}", began.elapsed());
    }
    let _ = fs::remove_dir_all(&staging);
    // Go's caches for these builds take gigabytes, and the binaries are what is kept; a
    // new version builds from scratch (minutes, once).
    for cache in ["go-build", "go-mod"] {
        let _ = fs::remove_dir_all(root.join(cache));
    }
    Ok(tools)
}
