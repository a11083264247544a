//! TinySignal files dropped into the folder of a running `tinyhost run`: each one reaches
//! its node once the node is ready, however busy the runner is when the file appears —
//! while the flow is still being applied (an inline Go program compiling on a cold cache),
//! or while a fast ticker keeps the event stream full — and a signal whose node does not
//! exist fails loudly, naming the signal and the node.

mod support;
#[path = "../../toolchain/tests/support/mod.rs"]
mod toolchain_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use support::json_lines::JsonLines;
use support::tinyhost_command;

/// `tinyhost run --output json FOLDER` for up to two minutes.
fn run_folder(mut command: Command, folder: &Path) -> JsonLines {
    JsonLines::start(
        command
            .args(["run", "--output", "json", "--duration", "120s"])
            .arg(folder),
    )
}

const WATCH_NODE: &str = "00000009.common-module.debug-signalled";

/// A debug node that only signals reach.
fn watch_node() -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinyNode\nmetadata: {{name: {WATCH_NODE}}}\nspec:\n  module: common-module\n  component: debug\n"
    )
}

fn signal(name: &str, node: &str, payload: &str) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinySignal\nmetadata: {{name: {name}}}\nspec:\n  node: {node}\n  port: in\n  data: {{pressed: {payload}}}\n"
    )
}

/// The `_control` message with which the watch node shows the signal's payload (a debug
/// node shows `{"context": <message>}`).
fn shows(payload: &'static str) -> impl Fn(&Value) -> bool {
    move |v| {
        v["type"] == "message"
            && v["node"] == WATCH_NODE
            && v["data"]["context"]["pressed"] == payload
    }
}

/// A Go `wasm_eval` node: on a cold cache its program compiles for several seconds while
/// the flow is being applied.
const GO_NODE: &str = r#"
apiVersion: operator.tinysystems.io/v1alpha1
kind: TinyNode
metadata: {name: 00000008.common-module.wasm-eval-slow}
spec:
  module: common-module
  component: wasm_eval
  ports:
    - port: _settings
      configuration:
        source:
          language: go
          content: |
            package main

            import (
            	"io"
            	"os"
            )

            func main() { io.Copy(os.Stdout, os.Stdin) }
"#;

#[test]
fn a_signal_dropped_while_a_go_node_compiles_reaches_its_node() {
    let Some(go) = toolchain_support::go_binary() else {
        eprintln!("SKIPPING: no Go toolchain");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("flow.yaml"),
        format!("{GO_NODE}---\n{}", watch_node()),
    )
    .expect("write");
    // A cold cache, so the Go node compiles for seconds while the signal arrives.
    let cold = tempfile::tempdir().expect("temp dir");
    let mut command = tinyhost_command();
    command
        .env("TINYHOST_CACHE_DIR", cold.path())
        .env("TINYHOST_GO", go);
    let running = run_folder(command, dir.path());
    std::thread::sleep(Duration::from_secs(1));
    std::fs::write(
        dir.path().join("press.yaml"),
        signal("press", WATCH_NODE, "while-compiling"),
    )
    .expect("write");
    let shown = running.wait_for(Duration::from_secs(90), shows("while-compiling"));
    assert!(
        shown.is_some(),
        "the signal never reached its node ({:.1} s)",
        running.started.elapsed().as_secs_f64()
    );
}

const FAST_TICKER: &str = r#"
apiVersion: operator.tinysystems.io/v1alpha1
kind: TinyNode
metadata: {name: 00000007.common-module.ticker-fast}
spec:
  module: common-module
  component: ticker
  ports:
    - port: _settings
      configuration: {delay: 5, context: {tick: true}}
  edges:
    - {id: tick, port: out, to: "00000006.common-module.debug-ticks:in"}
---
apiVersion: operator.tinysystems.io/v1alpha1
kind: TinyNode
metadata: {name: 00000006.common-module.debug-ticks}
spec:
  module: common-module
  component: debug
---
apiVersion: operator.tinysystems.io/v1alpha1
kind: TinySignal
metadata: {name: start-fast}
spec:
  node: 00000007.common-module.ticker-fast
  port: _control
  data: {start: true}
"#;

#[test]
fn a_signal_dropped_while_a_fast_ticker_runs_reaches_its_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("flow.yaml"),
        format!("{FAST_TICKER}---\n{}", watch_node()),
    )
    .expect("write");
    let running = run_folder(tinyhost_command(), dir.path());
    let ticking = running.wait_for(Duration::from_secs(20), |v| {
        v["type"] == "message" && v["node"] == "00000006.common-module.debug-ticks"
    });
    assert!(ticking.is_some(), "the ticker runs");
    for (i, payload) in ["first", "second", "third"].into_iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("press-{i}.yaml")),
            signal(&format!("press-{i}"), WATCH_NODE, payload),
        )
        .expect("write");
        let shown = running.wait_for(Duration::from_secs(20), shows(payload));
        assert!(shown.is_some(), "signal {payload} never reached its node");
    }
}

#[test]
fn a_signal_for_a_missing_node_fails_naming_the_signal_and_the_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.yaml"), watch_node()).expect("write");
    let running = run_folder(tinyhost_command(), dir.path());
    let applied = running.wait_for(Duration::from_secs(20), |v| v["type"] == "applied");
    assert!(applied.is_some(), "the flow is applied");
    std::fs::write(
        dir.path().join("lost.yaml"),
        signal("lost-press", "00000099.common-module.debug-nowhere", "x"),
    )
    .expect("write");
    let error = running.wait_for(Duration::from_secs(20), |v| v["type"] == "error");
    let message = error
        .as_ref()
        .and_then(|e| e["message"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("lost-press") && message.contains("debug-nowhere"),
        "{error:?}"
    );
}
