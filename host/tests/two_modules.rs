//! Two modules as two processes on loopback, as the README shows them: module B serves its
//! greeter over gRPC, module A's flow calls it and prints B's answer; a peer that is down or
//! restarted; the peers file.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const ASK: &str = "00000011.common-module.transform-ask:in";

/// A child process killed when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts module B on a free loopback port and waits until it serves; returns the process
/// and its address.
fn start_module_b(address: &str) -> KillOnDrop {
    let mut child = support::tinyhost_command()
        .arg("run")
        .arg(support::examples().join("two-modules/module-b"))
        .args(["--grpc-server-bind-address", address, "--no-watch"])
        .arg("--components")
        .arg(env!("TINYHOST_GREETER_WASM"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("module B starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let serving = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("serving gRPC on"));
    assert!(serving, "module B did not start serving");
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    KillOnDrop(child)
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").to_string()
}

fn call_module_a(extra: &[&str]) -> std::process::Output {
    support::tinyhost_command()
        .arg("call")
        .arg(support::examples().join("two-modules/module-a"))
        .arg(ASK)
        .args(["--data", r#"{"context": {"name": "Ada"}}"#])
        .args(extra)
        .output()
        .expect("module A runs")
}

#[test]
fn module_a_calls_module_b_and_prints_its_answer() {
    let address = free_address();
    let b = start_module_b(&address);
    let peer = format!("greeter-module={address}");
    let output = call_module_a(&["--peer", &peer]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON answer");
    assert_eq!(answer["greeting"], "Hello from module B, Ada!");
    assert_eq!(answer["context"]["name"], "Ada");

    // The same peer from a peers file.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("peers.yaml");
    std::fs::write(&file, format!("greeter-module: {address}\n")).expect("peers file");
    let output = call_module_a(&["--peers-file", file.to_str().expect("UTF-8 path")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // B goes away: A fails at once with an error naming the module and node.
    drop(b);
    let started = Instant::now();
    let output = call_module_a(&["--peer", &peer, "--call-deadline", "20s"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("module `greeter-module`")
            && stderr.contains("00000021.greeter-module.greeter-greet")
            && stderr.contains("unreachable"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "waited for the deadline"
    );

    // B is back on the same address: A's next call succeeds.
    let _b = start_module_b(&address);
    let output = call_module_a(&["--peer", &peer]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bad_peer_settings_are_explained() {
    let output = call_module_a(&["--peer", "greeter-module"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("expected MODULE=HOST:PORT"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("peers.yaml");
    std::fs::write(&file, "- not a map\n").expect("peers file");
    let output = call_module_a(&["--peers-file", file.to_str().expect("UTF-8 path")]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("expected a map of module: HOST:PORT"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Without any peer, the other module's node is simply not found.
    let output = call_module_a(&[]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not found"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A port already taken is a clear start-up error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("address").to_string();
    let output = support::tinyhost_command()
        .arg("run")
        .arg(support::examples().join("two-modules/module-b"))
        .args(["--grpc-server-bind-address", &address, "--duration", "1s"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot listen for gRPC"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
