//! The `wasm_eval` built-in inside the real host: settings compile a program (here in
//! WebAssembly text, which needs no external compiler), requests run it in the sandbox.

mod support;

use serde_json::{Value, json};
use support::{Flow, node};

fn wat(body: &str) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "not json")
  (func (export "_start") {body}))"#
    )
}

/// Copies stdin (up to 1 KiB) to stdout.
fn echo() -> String {
    wat(r#"
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 400))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 4) (i32.load (i32.const 16)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))"#)
}

fn settings(source: &str, extra: Value) -> Value {
    let mut s = json!({"source": {"language": "wat", "content": source}, "enableStatusPort": true});
    if let (Some(obj), Value::Object(more)) = (s.as_object_mut(), extra) {
        obj.extend(more);
    }
    s
}

fn eval_node(name: &str, source: &str, extra: Value) -> support::NodeSpec {
    node(name, "wasm_eval").settings(settings(source, extra))
}

#[tokio::test]
async fn a_request_runs_the_program_and_the_response_carries_its_output() {
    let flow = Flow::start(vec![
        eval_node("e", &echo(), json!({})).edge(
            "response",
            "d:in",
            json!({"got": "{{$.outputData}}"}),
        ),
        node("d", "debug"),
    ])
    .await;
    assert!(
        !flow.status("e").await.error,
        "{:?}",
        flow.status("e").await
    );
    let reply = flow
        .send(
            "e:request",
            json!({"context": {"id": 7}, "inputData": {"a": [1, 2]}}),
        )
        .await;
    assert!(reply.is_ok(), "{reply:?}");
    assert_eq!(
        flow.outputs("e", "response"),
        vec![json!({"context": {"id": 7}, "outputData": {"a": [1, 2]}})]
    );
    let status = flow.outputs("e", "status");
    assert_eq!(
        status.first().map(|s| s["phase"].clone()),
        Some(json!("compiling"))
    );
    assert_eq!(
        status.last().map(|s| s["phase"].clone()),
        Some(json!("ready"))
    );
    flow.stop().await;
}

#[tokio::test]
async fn a_compile_error_shows_in_status_and_the_previous_program_keeps_serving() {
    let mut flow = Flow::start(vec![eval_node("e", &echo(), json!({}))]).await;
    flow.apply(vec![eval_node(
        "e",
        "(module\n  (func $broken (i32.nope)))",
        json!({}),
    )])
    .await;
    let st = flow.status("e").await;
    assert!(
        st.error && st.status.contains("compile error") && st.status.contains("program.wat:2:"),
        "{st:?}"
    );
    assert!(
        flow.outputs("e", "status")
            .iter()
            .any(|s| s["phase"] == "error")
    );
    flow.send("e:request", json!({"inputData": "still here"}))
        .await
        .expect("the old program answers");
    assert_eq!(
        flow.outputs("e", "response")
            .last()
            .map(|r| r["outputData"].clone()),
        Some(json!("still here"))
    );
    flow.stop().await;
}

#[tokio::test]
async fn unknown_language_and_empty_source_are_clear() {
    let flow = Flow::start(vec![
        node("lang", "wasm_eval")
            .settings(json!({"source": {"language": "cobol", "content": "DISPLAY 'HI'."}})),
        node("empty", "wasm_eval").settings(json!({"source": {"language": "wat", "content": ""}})),
    ])
    .await;
    let st = flow.status("lang").await;
    assert!(
        st.error && st.status.contains("unknown language `cobol`"),
        "{st:?}"
    );
    let err = flow
        .send("empty:request", json!({"inputData": 1}))
        .await
        .expect_err("nothing to run");
    assert!(err.contains("not ready"), "{err}");
    flow.stop().await;
}

#[tokio::test]
async fn output_that_is_not_json_goes_to_the_error_port() {
    let says_not_json = wat(r#"
    (i32.store (i32.const 0) (i32.const 512))
    (i32.store (i32.const 4) (i32.const 8))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))"#);
    let flow = Flow::start(vec![eval_node(
        "e",
        &says_not_json,
        json!({"enableErrorPort": true}),
    )])
    .await;
    assert!(flow.status("e").await.ports.contains(&"error".to_string()));
    flow.send("e:request", json!({"context": "c1", "inputData": 1}))
        .await
        .expect("the error port takes it");
    let errors = flow.outputs("e", "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["context"], "c1");
    assert!(
        errors[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not JSON")),
        "{errors:?}"
    );
    flow.stop().await;
}

#[tokio::test]
async fn loops_memory_bombs_and_floods_are_stopped() {
    let flow = Flow::start(vec![
        eval_node(
            "looping",
            &wat("(loop $l (br $l))"),
            json!({"timeoutMs": 100}),
        ),
        eval_node(
            "bomb",
            &wat("(loop $l (drop (memory.grow (i32.const 16))) (br $l))"),
            json!({"memoryLimitMb": 4}),
        ),
        eval_node("flood", &echo(), json!({"maxOutputBytes": 10})),
    ])
    .await;
    let err = flow
        .send("looping:request", json!({}))
        .await
        .expect_err("interrupted");
    assert!(err.contains("time limit of 100 ms"), "{err}");
    let err = flow
        .send("bomb:request", json!({}))
        .await
        .expect_err("stopped");
    assert!(err.contains("memory limit of 4194304 bytes"), "{err}");
    let err = flow
        .send(
            "flood:request",
            json!({"inputData": "a long string of more than ten bytes"}),
        )
        .await
        .expect_err("capped");
    assert!(err.contains("output exceeds 10 bytes"), "{err}");
    flow.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_requests_to_one_node_all_answer() {
    let flow = Flow::start(vec![eval_node("e", &echo(), json!({}))]).await;
    let calls = (0..50).map(|i| flow.send("e:request", json!({"inputData": i})));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut answers: Vec<i64> = flow
        .outputs("e", "response")
        .iter()
        .filter_map(|r| r["outputData"].as_i64())
        .collect();
    answers.sort_unstable();
    assert_eq!(answers, (0..50).collect::<Vec<i64>>());
    flow.stop().await;
}

#[tokio::test]
async fn an_oversized_source_is_refused() {
    let huge = format!("(module) ;; {}", "x".repeat(300 << 10));
    let flow = Flow::start(vec![eval_node("e", &huge, json!({}))]).await;
    let st = flow.status("e").await;
    assert!(
        st.error && st.status.contains("the limit is 262144"),
        "{}",
        &st.status[..st.status.len().min(300)]
    );
    flow.stop().await;
}
