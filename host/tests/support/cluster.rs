//! The real control plane (`tinyhost-control-plane`) as the cluster tests use it: start
//! one, drive it with kubectl as a person would, and read objects back as JSON.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tinyhost_control_plane::ControlPlane;

/// A control plane for one test; the test fails with the reason when it cannot start.
pub fn control_plane() -> ControlPlane {
    ControlPlane::start().unwrap_or_else(|e| panic!("the control plane did not start: {e}"))
}

/// Runs `command` with `stdin` fed in; its output.
pub fn run_with_input(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("writing stdin");
    }
    child.wait_with_output().expect("the command finishes")
}

/// `kubectl apply -f -` of `objects` (YAML or JSON); its output.
pub fn apply(cp: &ControlPlane, objects: &[u8]) -> Output {
    let mut kubectl = cp.kubectl();
    kubectl.args(["apply", "-f", "-"]);
    run_with_input(kubectl, objects)
}

/// `kubectl ARGS -o json`, parsed; panics with kubectl's message on failure.
pub fn get_json(cp: &ControlPlane, args: &[&str]) -> Value {
    let out = cp
        .kubectl()
        .args(args)
        .args(["-o", "json"])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl printed JSON")
}

/// `kubectl ARGS`, which must succeed; its standard output.
pub fn kubectl_ok(cp: &ControlPlane, args: &[&str]) -> String {
    let out = cp.kubectl().args(args).output().expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CRDs of `tinyhost crds`, applied and established.
pub fn install_crds(cp: &ControlPlane) {
    let crds = super::tinyhost_command()
        .arg("crds")
        .output()
        .expect("tinyhost crds runs");
    assert!(crds.status.success());
    let out = apply(cp, &crds.stdout);
    assert!(
        out.status.success(),
        "the API server refused the CRDs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    kubectl_ok(
        cp,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/tinynodes.operator.tinysystems.io",
            "crd/tinymodules.operator.tinysystems.io",
            "crd/tinysignals.operator.tinysystems.io",
        ],
    );
}
