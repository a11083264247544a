//! `control-plane up` and `down` as a person runs them: `up` prints a KUBECONFIG that
//! reaches a working API server and leaves it running after the command ends; a second
//! `up` refuses; `down` stops both servers and removes the files.

use std::process::Command;
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_control-plane");

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn up_prints_a_working_kubeconfig_and_down_stops_everything() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = base.path().join("run");
    let up = Command::new(BINARY)
        .args(["up", "--dir"])
        .arg(&dir)
        .output()
        .expect("control-plane up runs");
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let stdout = String::from_utf8_lossy(&up.stdout);
    let kubeconfig = stdout
        .trim()
        .strip_prefix("KUBECONFIG=")
        .unwrap_or_else(|| panic!("no KUBECONFIG= line: {stdout}"))
        .to_string();
    let pids: Vec<i32> = std::fs::read_to_string(dir.join("pids"))
        .expect("pids file")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    // From here on, a failed assertion must not leave the servers running.
    struct Stop<'a>(&'a std::path::Path);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = Command::new(BINARY)
                .args(["down", "--dir"])
                .arg(self.0)
                .output();
        }
    }
    let stop = Stop(&dir);
    assert_eq!(pids.len(), 2, "etcd and kube-apiserver");
    assert!(
        pids.iter().all(|&p| alive(p)),
        "both run after `up` returned"
    );

    let tools = tinyhost_control_plane::tools().expect("tools");
    let namespaces = Command::new(tools.kubectl())
        .env("KUBECONFIG", &kubeconfig)
        .args(["get", "namespaces", "-o", "name"])
        .output()
        .expect("kubectl runs");
    assert!(
        String::from_utf8_lossy(&namespaces.stdout).contains("namespace/kube-system"),
        "{}",
        String::from_utf8_lossy(&namespaces.stderr)
    );

    let again = Command::new(BINARY)
        .args(["up", "--dir"])
        .arg(&dir)
        .output()
        .expect("control-plane up runs");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already runs"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    std::mem::forget(stop);
    let down = Command::new(BINARY)
        .args(["down", "--dir"])
        .arg(&dir)
        .output()
        .expect("control-plane down runs");
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!pids.iter().any(|&p| alive(p)), "a server outlived `down`");
    assert!(!dir.exists(), "`down` leaves no files");

    let nothing = Command::new(BINARY)
        .args(["down", "--dir"])
        .arg(&dir)
        .output()
        .expect("control-plane down runs");
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no control plane runs"));
}

#[test]
fn an_unknown_command_prints_the_usage() {
    let out = Command::new(BINARY).arg("sideways").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: control-plane up"));
}
