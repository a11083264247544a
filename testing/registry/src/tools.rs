//! The registry and skopeo, from Debian packages: `apt-get download` fetches the `.deb`
//! files (nothing is installed system-wide) and `dpkg -x` unpacks them into
//! `<target>/registry-tools/<key>/`, where the key hashes the package list. Done once per
//! machine; concurrent test processes take a file lock so only one of them downloads.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::RegistryError;

/// The packages unpacked: the registry, skopeo, and the two shared libraries skopeo needs
/// that a minimal Debian lacks. Part of the install folder's key.
const PACKAGES: &[&str] = &["docker-registry", "skopeo", "libgpgme11", "libassuan0"];

/// A library that must be found among the unpacked ones: its folder is skopeo's
/// `LD_LIBRARY_PATH`.
const SKOPEO_LIBRARY: &str = "libgpgme.so.11";

/// The unpacked programs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `docker-registry` (the distribution registry; `docker-registry serve config.yml`).
    pub registry: PathBuf,
    /// `skopeo`; run it through [`skopeo()`], which sets its library path.
    pub skopeo: PathBuf,
    /// The folder of the unpacked shared libraries skopeo loads.
    pub library_path: PathBuf,
}

/// `skopeo`, ready to be given arguments: the unpacked binary with `LD_LIBRARY_PATH` set.
/// Policy and TLS flags (`--insecure-policy`, `--tls-verify=false`, ...) are the caller's:
/// they differ between `copy` and `inspect`.
pub fn skopeo() -> Result<Command, RegistryError> {
    let tools = tools()?;
    let mut command = Command::new(&tools.skopeo);
    command.env("LD_LIBRARY_PATH", &tools.library_path);
    Ok(command)
}

/// The programs, downloaded and unpacked now if this machine has not done it yet.
pub fn tools() -> Result<Tools, RegistryError> {
    // One install per process; a failure is not kept, so the next caller tries again.
    static TOOLS: Mutex<Option<Tools>> = Mutex::new(None);
    let mut tools = TOOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(tools) = tools.as_ref() {
        return Ok(tools.clone());
    }
    let installed = install()?;
    *tools = Some(installed.clone());
    Ok(installed)
}

/// The build folder's `registry-tools` (`CARGO_TARGET_DIR`, else `<workspace>/target`).
fn home() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tinyhost_go_bin::workspace_root().join("target"))
        .join("registry-tools")
}

fn install() -> Result<Tools, RegistryError> {
    let key = hex::encode(&Sha256::digest(PACKAGES.join(" "))[..8]);
    let root = home();
    let dir = root.join(&key);
    if let Some(tools) = found(&dir) {
        return Ok(tools);
    }
    fs::create_dir_all(&root).map_err(RegistryError::io(format!("creating {}", root.display())))?;
    // Another test process may be installing the same key: one installs, the others wait,
    // then find its work done.
    let lock_path = root.join(format!("{key}.lock"));
    let lock = File::create(&lock_path).map_err(RegistryError::io(format!(
        "creating {}",
        lock_path.display()
    )))?;
    lock.lock().map_err(RegistryError::io(format!(
        "locking {}",
        lock_path.display()
    )))?;
    if let Some(tools) = found(&dir) {
        return Ok(tools);
    }
    eprintln!(
        "fetching {} for the test registry (once) ...",
        PACKAGES.join(", ")
    );
    let began = std::time::Instant::now();
    // Unpacked beside the final folder and renamed into place, so a half-done install is
    // never taken for a finished one.
    let staging = root.join(format!("{key}.partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let debs = staging.join("debs");
    let unpacked = staging.join("root");
    fs::create_dir_all(&debs).map_err(RegistryError::io(format!("creating {}", debs.display())))?;
    download(&debs)?;
    for entry in
        fs::read_dir(&debs).map_err(RegistryError::io(format!("reading {}", debs.display())))?
    {
        let deb = entry
            .map_err(RegistryError::io(format!("reading {}", debs.display())))?
            .path();
        let mut dpkg = Command::new("dpkg");
        dpkg.arg("-x").arg(&deb).arg(&unpacked);
        run(&mut dpkg)?;
    }
    fs::rename(&unpacked, &dir).map_err(RegistryError::io(format!(
        "moving {} to {}",
        unpacked.display(),
        dir.display()
    )))?;
    let _ = fs::remove_dir_all(&staging);
    eprintln!(
        "fetched the test registry's tools in {:.1?}",
        began.elapsed()
    );
    found(&dir).ok_or_else(|| {
        RegistryError::Missing(format!(
            "{} lacks usr/bin/docker-registry, usr/bin/skopeo or {SKOPEO_LIBRARY}",
            dir.display()
        ))
    })
}

/// `apt-get download` of the packages into `debs`; on failure (stale package lists on a
/// fresh machine, say), `apt-get update` once and again.
fn download(debs: &Path) -> Result<(), RegistryError> {
    let download = || {
        let mut command = Command::new("apt-get");
        command.arg("download").args(PACKAGES).current_dir(debs);
        command
    };
    if run(&mut download()).is_ok() {
        return Ok(());
    }
    run(Command::new("apt-get").arg("update"))?;
    run(&mut download())
}

/// Runs `command`; its stderr in the error if it fails.
fn run(command: &mut Command) -> Result<(), RegistryError> {
    let mut line = format!("{}", command.get_program().to_string_lossy());
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    if let Some(cwd) = command.get_current_dir() {
        line = format!("{line} (in {})", cwd.display());
    }
    let output = command.output().map_err(|e| RegistryError::Install {
        command: line.clone(),
        stderr: e.to_string(),
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(RegistryError::Install {
            command: line,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// The tools in an unpacked folder, if it is complete. The libraries' folder is named for
/// the machine's architecture (`usr/lib/x86_64-linux-gnu`), so it is looked for.
fn found(dir: &Path) -> Option<Tools> {
    let registry = dir.join("usr/bin/docker-registry");
    let skopeo = dir.join("usr/bin/skopeo");
    if !registry.is_file() || !skopeo.is_file() {
        return None;
    }
    let library_path = fs::read_dir(dir.join("usr/lib"))
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.join(SKOPEO_LIBRARY).exists())?;
    Some(Tools {
        registry,
        skopeo,
        library_path,
    })
}
