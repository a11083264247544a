//! `docs/authoring.md` as a new author runs it: the guide's first shell block — from
//! `component new` through `build`, `validate`, `inspect`, a run with the file, `push` to a
//! registry and a run of a flow naming the component by OCI reference — executed by bash,
//! line for line, with the `tinyhost` binary on `PATH` and a real registry (the CNCF
//! distribution registry on loopback) in place of `localhost:5000`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tinyhost_test_registry::{Options, Registry};

/// The first fenced `sh` block of the guide: its quick start.
fn quick_start(guide: &str) -> String {
    let start = guide.find("```sh\n").expect("the guide has a shell block") + "```sh\n".len();
    let end = guide[start..].find("```").expect("the block ends") + start;
    guide[start..end].to_string()
}

#[test]
fn the_authoring_guide_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let guide = std::fs::read_to_string(root.join("docs/authoring.md")).expect("the guide");
    let block = quick_start(&guide);
    for step in [
        "component new",
        "component build",
        "component push",
        "components.yaml",
    ] {
        assert!(
            block.contains(step),
            "the quick start lost `{step}`:\n{block}"
        );
    }

    let registry = Registry::start(Options::default()).expect("registry");
    let script = block.replace("localhost:5000", &registry.address());
    let work = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let no_credentials = tempfile::tempdir().expect("temp dir");
    let bin = Path::new(env!("CARGO_BIN_EXE_tinyhost"))
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(work.path())
        .env("PATH", path)
        .env("TINYHOST_CACHE_DIR", cache.path())
        .env("DOCKER_CONFIG", no_credentials.path())
        // The crate's dependencies compile once per test run, shared with component_cli.
        .env(
            "CARGO_TARGET_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-crate-target"),
        )
        .env_remove("TINYHOST_LOG")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the guide's commands failed\nscript:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // Both runs served the greeting: the one with the file and the one by reference.
    let greetings = stdout
        .lines()
        .filter(|l| l.contains("Hello, World!"))
        .count();
    assert_eq!(greetings, 4, "{stdout}");
    let reference = format!("oci://{}/flows/hello-world:0.1.0", registry.address());
    assert!(stdout.contains(&format!("pushed {reference}")), "{stdout}");

    // The run by reference pulled exactly the component that was built.
    let built = std::fs::read(work.path().join("hello-world/hello_world.wasm")).expect("the build");
    let blobs: Vec<PathBuf> = std::fs::read_dir(cache.path().join("oci/blobs/sha256"))
        .expect("pulled components")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert_eq!(std::fs::read(&blobs[0]).expect("pulled"), built);
}
