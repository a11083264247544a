//! Builds the guest components (`guests/`) for `wasm32-wasip2`: the built-ins, which this
//! crate embeds so the host loads them through the same path as any author's `.wasm`,
//! plus the test and example components, whose paths it exports. The guests use their own target directory: sharing the outer build's would
//! wait forever on its lock.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    // crates/guests -> the workspace root.
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.clone());
    let guests = root.join("guests");
    for watched in [
        "wit",
        "guests/sdk",
        "guests/builtins",
        "guests/http",
        "guests/testkit",
        "guests/greeter",
        "guests/Cargo.toml",
        "guests/Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=TINYHOST_BUILTINS_WASM");
    println!("cargo:rerun-if-env-changed=TINYHOST_HTTP_WASM");

    let out = PathBuf::from(env("OUT_DIR")).join("builtins.wasm");
    let http_out = PathBuf::from(env("OUT_DIR")).join("http.wasm");
    // Escape hatch for packagers who build the guests separately.
    if let Ok(prebuilt) = std::env::var("TINYHOST_BUILTINS_WASM") {
        copy(Path::new(&prebuilt), &out);
        let http = std::env::var("TINYHOST_HTTP_WASM").unwrap_or_else(|_| {
            fail("TINYHOST_BUILTINS_WASM is set but TINYHOST_HTTP_WASM is not: give both prebuilt components")
        });
        copy(Path::new(&http), &http_out);
        println!("cargo:rustc-env=TINYHOST_TESTKIT_WASM=");
        println!("cargo:rustc-env=TINYHOST_GREETER_WASM=");
        return;
    }

    ensure_target();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&guests)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "-p",
            "tinyhost-builtins",
            "-p",
            "tinyhost-http",
            "-p",
            "tinyhost-testkit",
            "-p",
            "tinyhost-greeter",
            "--target-dir",
        ])
        .arg(&target_dir)
        // The outer build's flags (coverage, sanitizers, host-only options) are not meant for guests.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run cargo to build the built-in components: {e}"
            ))
        });
    if !status.success() {
        fail(
            "building the built-in components (guests/) for wasm32-wasip2 failed; see the errors above",
        );
    }
    let release = target_dir.join(TARGET).join("release");
    copy(&release.join("tinyhost_builtins.wasm"), &out);
    copy(&release.join("tinyhost_http.wasm"), &http_out);
    // The misbehaving test component: tests find it through this variable; it is not
    // embedded in the binary.
    let testkit = PathBuf::from(env("OUT_DIR")).join("testkit.wasm");
    copy(&release.join("tinyhost_testkit.wasm"), &testkit);
    println!(
        "cargo:rustc-env=TINYHOST_TESTKIT_WASM={}",
        testkit.display()
    );
    // The example responder of `examples/request-response`; the README's commands load
    // it from the guests' target directory.
    let greeter = release.join("tinyhost_greeter.wasm");
    println!(
        "cargo:rustc-env=TINYHOST_GREETER_WASM={}",
        greeter.display()
    );
}

/// Installs the wasm target when rustup is present and the target is missing, so a fresh
/// machine needs nothing but Rust (`RUSTUP_AUTO_INSTALL=0` stops rustup doing it for us).
fn ensure_target() {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    if let Some(sysroot) = sysroot
        && sysroot.join("lib/rustlib").join(TARGET).exists()
    {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target with rustup (needed for the built-in components)"
    );
    let ok = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        fail(&format!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed; install it and rebuild"
        ));
    }
}

fn copy(from: &Path, to: &Path) {
    if let Err(e) = std::fs::copy(from, to) {
        fail(&format!(
            "cannot copy {} to {}: {e}",
            from.display(),
            to.display()
        ));
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set by cargo")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
