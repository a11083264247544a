//! Two modules as two processes on loopback, as the README shows them: module B serves its
//! greeter over gRPC, module A's flow calls it and prints B's answer; a peer that is down or
//! restarted; the peers file.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{KillOnDrop, free_port};

const ASK: &str = "00000011.common-module.transform-ask:in";

/// Starts module B on `address` and waits until it serves.
fn start_module_b(address: &str) -> KillOnDrop {
    start_module_b_with(address, &[])
}

/// Starts module B with extra flags and waits until it serves.
fn start_module_b_with(address: &str, extra: &[&str]) -> KillOnDrop {
    let mut child = support::tinyhost_command()
        .arg("run")
        .arg(support::examples().join("two-modules/module-b"))
        .args(["--grpc-server-bind-address", address, "--no-watch"])
        .args(extra)
        .arg("--components")
        .arg(tinyhost::guests::GREETER_WASM)
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
    format!("127.0.0.1:{}", free_port())
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

/// A CA, and a certificate it signed for `localhost` and 127.0.0.1, as PEM files in `dir`:
/// (ca, cert, key).
fn certificates(dir: &std::path::Path, name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("certificate");
    let write = |file: &str, text: String| {
        let path = dir.join(format!("{name}-{file}"));
        std::fs::write(&path, text).expect("PEM written");
        path.to_str().expect("UTF-8 path").to_string()
    };
    (
        write("ca.pem", ca.pem()),
        write("cert.pem", cert.pem()),
        write("key.pem", key.serialize_pem()),
    )
}

#[test]
fn modules_can_talk_over_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, cert, key) = certificates(dir.path(), "b");
    let (other_ca, _, _) = certificates(dir.path(), "other");
    let address = free_address();
    let _b = start_module_b_with(
        &address,
        &["--grpc-tls-cert", &cert, "--grpc-tls-key", &key],
    );
    let peer = format!("greeter-module={address}");

    let output = call_module_a(&["--peer", &peer, "--grpc-tls-ca", &ca]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON answer");
    assert_eq!(answer["greeting"], "Hello from module B, Ada!");
    let output = call_module_a(&[
        "--peer",
        &peer,
        "--grpc-tls-ca",
        &ca,
        "--grpc-tls-domain",
        "localhost",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A certificate from another CA, or plaintext against TLS: refused, clearly, quickly.
    for extra in [vec!["--grpc-tls-ca", other_ca.as_str()], vec![]] {
        let started = Instant::now();
        let mut flags = vec!["--peer", peer.as_str(), "--call-deadline", "10s"];
        flags.extend(extra);
        let output = call_module_a(&flags);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("module `greeter-module`"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(8), "{stderr}");
    }
    // A missing certificate file is a start-up error.
    let output = call_module_a(&["--peer", &peer, "--grpc-tls-ca", "/nonexistent/ca.pem"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot read CA"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
