//! The `tinyhost` binary as a user drives it: the local runner on the examples, hot
//! reload and dropped-in signals, JSON output, `call`, `expr` and `components`, and the
//! errors a user sees for bad manifests and expressions.

mod support;

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use support::json_lines::JsonLines;
use support::{examples, tinyhost_command as tinyhost};

/// `tinyhost ARGS` with its JSON lines on a channel.
fn running(args: &[&str]) -> JsonLines {
    JsonLines::start(tinyhost().args(args))
}

fn debug_message(node_suffix: &'static str) -> impl Fn(&Value) -> bool {
    move |v| {
        v["type"] == "message"
            && v["port"] == "_control"
            && v["node"].as_str().is_some_and(|n| n.ends_with(node_suffix))
    }
}

#[test]
fn run_prints_debug_messages_of_the_hello_flow_as_json_lines() {
    let lines = support::run_example_json(tinyhost(), &examples().join("hello"), 4, "20s");
    let greetings = support::debug_shown(&lines);
    assert!(!greetings.is_empty(), "{lines:?}");
    let shown = &greetings[0];
    let branch = shown
        .get("even")
        .or_else(|| shown.get("odd"))
        .expect("even or odd branch");
    assert_eq!(branch["greeting"], "Hello World!");
    assert!(
        lines
            .iter()
            .any(|v| v["type"] == "status" && v["data"]["status"] == "OK"),
        "status lines are printed"
    );
}

#[test]
fn run_without_a_path_runs_the_embedded_example() {
    let out = tinyhost()
        .args([
            "run",
            "--no-watch",
            "--output",
            "json",
            "--max-messages",
            "3",
            "--duration",
            "20s",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Hello World!"));
}

const DEBUG_NODE: &str = r#"
apiVersion: operator.tinysystems.io/v1alpha1
kind: TinyNode
metadata: {name: 00000001.common-module.debug-watch}
spec:
  module: common-module
  component: debug
"#;

fn signal(name: &str, data: &str) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinySignal\nmetadata: {{name: {name}}}\nspec:\n  node: 00000001.common-module.debug-watch\n  port: in\n  data: {data}\n"
    )
}

#[test]
fn run_reloads_changed_files_and_delivers_dropped_signals() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.yaml"), DEBUG_NODE).expect("write");
    let running = running(&[
        "run",
        "--output",
        "json",
        "--duration",
        "60s",
        dir.path().to_str().expect("utf-8 path"),
    ]);
    running.expect("the node applied", |v| v["type"] == "applied");
    std::fs::write(
        dir.path().join("poke.yaml"),
        signal("poke", "{hello: signal}"),
    )
    .expect("write");
    let shown = running.expect("the signal's message", debug_message("debug-watch"));
    assert_eq!(shown["data"], json!({"context": {"hello": "signal"}}));
    // Renaming the node file's node: the old node goes, the new one comes.
    std::fs::write(
        dir.path().join("flow.yaml"),
        DEBUG_NODE.replace("debug-watch", "debug-renamed"),
    )
    .expect("write");
    let applied = running.expect("the reload", |v| {
        v["type"] == "applied" && !v["removed"].as_array().is_none_or(Vec::is_empty)
    });
    assert_eq!(
        applied["added"],
        json!(["00000001.common-module.debug-renamed"])
    );
}

#[test]
fn a_broken_manifest_is_reported_by_file_and_field_and_the_rest_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("good.yaml"), DEBUG_NODE).expect("write");
    std::fs::write(
        dir.path().join("bad.yaml"),
        DEBUG_NODE.replace("component: debug", "component: debug\n  colour: red"),
    )
    .expect("write");
    std::fs::write(dir.path().join("ugly.yaml"), "kind: [unclosed").expect("write");
    std::fs::write(
        dir.path().join("signal.yaml"),
        signal("go", "{still: running}"),
    )
    .expect("write");
    let out = tinyhost()
        .args([
            "run",
            "--no-watch",
            "--max-messages",
            "1",
            "--duration",
            "20s",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("unknown field `colour`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ugly.yaml") && stderr.contains("invalid YAML"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("still"),
        "the good node still runs"
    );
}

/// `tinyhost call` on the request/response example with the greeter component.
fn call_example(data: &str) -> std::process::Output {
    tinyhost()
        .args(["call"])
        .arg(examples().join("request-response"))
        .args([
            "00000010.example.transform-api:in",
            "--data",
            data,
            "--components",
            tinyhost::guests::GREETER_WASM,
        ])
        .output()
        .expect("runs")
}

#[test]
fn call_prints_the_response_of_a_blocking_output() {
    let out = call_example(r#"{"context": {"user": "Ada"}}"#);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).expect("JSON response");
    assert_eq!(
        reply,
        json!({"context": {"user": "Ada"}, "greeting": "Welcome, Ada!"})
    );
}

#[test]
fn call_reports_a_failing_flow() {
    let out = call_example(r#"{"context": {}}"#);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`name` is required"));
}

#[test]
fn expr_evaluates_templates_and_configurations() {
    let run = |config: &str, input: &str| {
        let out = tinyhost()
            .args(["expr", config, "--input", input])
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(run("{{$.count + 1}}", r#"{"count": 41}"#).1, "42");
    assert_eq!(
        run("Hello {{$.name}}!", r#"{"name": "Ada"}"#).1,
        "\"Hello Ada!\""
    );
    let (_, out, _) = run(
        r#"{"admin": "{{$.role == 'admin'}}", "price": "$18.99"}"#,
        r#"{"role": "admin"}"#,
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("JSON"),
        json!({"admin": true, "price": "$18.99"})
    );
    // A negative number is an input, not a flag.
    assert_eq!(run("{{abs($)}}", "-1").1, "1");
    assert_eq!(run("{{$ * 2}}", "-2.5").1, "-5");
    let (code, _, err) = run("{{$.count +}}", "{}");
    assert_eq!(code, Some(2));
    assert!(err.contains("position"), "{err}");
}

#[test]
fn expr_reads_the_message_from_stdin() {
    let mut child = tinyhost()
        .args(["expr", "{{upper($.name)}}", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"name": "ada"}"#)
        .expect("write");
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"ADA\"");
}

#[test]
fn components_lists_built_ins_and_reports_bad_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("broken.wasm"), b"nope").expect("write");
    let out = tinyhost()
        .args(["components", "--output", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["name"].as_str().map(String::from))
        .collect();
    for expected in [
        "array_filter",
        "array_get",
        "array_split",
        "async",
        "cron",
        "debug",
        "delay",
        "group_by",
        "inject",
        "kv",
        "retry",
        "router",
        "signal",
        "ticker",
        "transform",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.wasm"));
}

#[test]
fn eval_compiles_and_runs_a_program_once() {
    let out = tinyhost()
        .args(["eval", "--lang", "wat"])
        .arg(examples().join("wasm-eval/echo.wat"))
        .args(["--input", r#"{"hello": "world"}"#])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value, json!({"hello": "world"}));
}

#[test]
fn eval_reports_compile_errors_with_positions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.wat");
    std::fs::write(&file, "(module\n  (func (i32.nope)))").expect("write");
    let out = tinyhost()
        .args(["eval", "--lang", "wat"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.wat:2:"), "{stderr}");
    let out = tinyhost()
        .args(["eval", "--lang", "cobol"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown language `cobol`"));
}

#[test]
fn cache_stats_and_clear_cover_components_and_programs() {
    let cache = tempfile::tempdir().expect("temp dir");
    let with_cache = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinyhost"));
        cmd.env("TINYHOST_CACHE_DIR", cache.path()).args(args);
        cmd.output().expect("runs")
    };
    let echo = examples().join("wasm-eval/echo.wat");
    assert!(
        with_cache(&["eval", "--lang", "wat", echo.to_str().expect("utf-8")])
            .status
            .success()
    );
    let stats: Value =
        serde_json::from_slice(&with_cache(&["cache", "stats"]).stdout).expect("JSON");
    assert!(
        stats["precompiled"]["files"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{stats}"
    );
    assert!(with_cache(&["cache", "clear"]).status.success());
    let stats: Value =
        serde_json::from_slice(&with_cache(&["cache", "stats"]).stdout).expect("JSON");
    assert_eq!(stats["precompiled"]["files"], 0, "{stats}");
}

#[test]
fn bench_drives_a_flow_and_reports_numbers() {
    let output = support::tinyhost_command()
        .arg("bench")
        .arg(support::examples().join("bench"))
        .args([
            "00000001.bench.transform-a:in",
            "--quick",
            "--json",
            "--concurrency",
            "2",
        ])
        .output()
        .expect("tinyhost bench runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["messages"], 200);
    assert_eq!(report["concurrency"], 2);
    assert_eq!(report["errors"], 0);
    assert!(
        report["messages_per_second"]
            .as_f64()
            .is_some_and(|r| r > 0.0)
    );
    let p50 = report["latency_us"]["p50"].as_f64().expect("p50");
    let p99 = report["latency_us"]["p99"].as_f64().expect("p99");
    assert!(p50 > 0.0 && p99 >= p50, "{report}");

    // A target the flow does not have is an error, not a benchmark of errors.
    let output = support::tinyhost_command()
        .arg("bench")
        .arg(support::examples().join("bench"))
        .args(["00000009.bench.missing-x:in", "--quick"])
        .output()
        .expect("tinyhost bench runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("the flow rejects the message"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `tinyhost bench` on the compared flow (`examples/compare`), numbering the messages.
fn bench_compare(extra: &[&str], data: &str) -> std::process::Output {
    tinyhost()
        .arg("bench")
        .arg(examples().join("compare"))
        .args(["00000001.compare.transform-in:in", "--data", data])
        .args(extra)
        .output()
        .expect("tinyhost bench runs")
}

#[test]
fn bench_counts_what_each_sink_of_the_compared_flow_received() {
    let output = bench_compare(
        &["--quick", "--json", "--concurrency", "2"],
        r#"{"context": {"name": "World", "count": "{{$.i}}"}}"#,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let messages = report["messages"].as_u64().expect("messages");
    assert_eq!(messages, 200);
    assert_eq!(report["errors"], 0, "{report}");
    let received = |node: &str| {
        report["received"][node]
            .as_u64()
            .unwrap_or_else(|| panic!("no count for {node}: {report}"))
    };
    // Every measured message passed every node before the sinks.
    for node in [
        "00000001.compare.transform-in",
        "00000002.compare.transform-greet",
        "00000003.compare.router-parity",
    ] {
        assert_eq!(received(node), messages, "{report}");
    }
    // The counter is the message number plus one, so the router splits half and half.
    let even = received("00000004.compare.transform-even");
    let odd = received("00000005.compare.transform-odd");
    assert_eq!(even + odd, messages, "{report}");
    assert_eq!(even, messages / 2, "{report}");
    assert_eq!(odd, messages - messages / 2, "{report}");

    // The table lists the same counts.
    let output = bench_compare(
        &["--quick", "--messages", "7"],
        r#"{"context": {"name": "World", "count": "{{$.i}}"}}"#,
    );
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("\nreceived\n"), "{table}");
    let count_of = |node: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(node))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
    };
    assert_eq!(
        count_of("00000004.compare.transform-even"),
        Some(3),
        "{table}"
    );
    assert_eq!(
        count_of("00000005.compare.transform-odd"),
        Some(4),
        "{table}"
    );
}

#[test]
fn bench_rejects_a_bad_data_template() {
    let output = bench_compare(
        &["--quick"],
        r#"{"context": {"name": "World", "count": "{{$.i +}}"}}"#,
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--data has a template error") && stderr.contains("$.i +"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());
}
