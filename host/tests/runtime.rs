//! The runtime's message semantics and failure handling, driven through the public API
//! with the built-ins and the `chaos` test component.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Flow, engine_config, node, none};

fn chaos(name: &str) -> support::NodeSpec {
    node(name, "chaos")
}

#[tokio::test]
async fn blocking_output_returns_the_downstream_response() {
    let flow = Flow::start(vec![
        chaos("a").edge("out", "b:in", json!({"do": "echo", "value": "{{$.x * 2}}"})),
        chaos("b"),
    ])
    .await;
    let reply = flow
        .send("a:in", json!({"do": "emit", "value": {"x": 21}}))
        .await;
    assert_eq!(reply, Ok(Some(json!({"downstream": 42}))));
    flow.stop().await;
}

#[tokio::test]
async fn fan_out_returns_first_non_empty_response() {
    let flow = Flow::start(vec![
        chaos("a")
            .edge("out", "sink:in", json!({"seen": "{{$}}"}))
            .edge("out", "b:in", json!({"do": "echo", "value": "from b"})),
        node("sink", "debug"),
        chaos("b"),
    ])
    .await;
    let reply = flow.send("a:in", json!({"do": "emit", "value": 1})).await;
    assert_eq!(reply, Ok(Some(json!({"downstream": "from b"}))));
    assert_eq!(
        flow.wait_output("sink", "_control", 1, 2000).await.len(),
        1,
        "every edge is delivered"
    );
    flow.stop().await;
}

#[tokio::test]
async fn fan_out_reports_the_error_when_nobody_answers() {
    let flow = Flow::start(vec![
        chaos("a")
            .edge("out", "sink:in", json!({"seen": "{{$}}"}))
            .edge(
                "out",
                "b:in",
                json!({"do": "fail", "message": "b is broken"}),
            ),
        node("sink", "debug"),
        chaos("b"),
    ])
    .await;
    let reply = flow.send("a:in", json!({"do": "emit", "value": 1})).await;
    let err = reply.expect_err("the failure travels back");
    assert!(err.contains("b is broken"), "{err}");
    flow.stop().await;
}

#[tokio::test]
async fn edge_without_configuration_delivers_the_port_default() {
    let flow = Flow::start(vec![
        chaos("a").edge("out", "sink:in", none()),
        node("sink", "debug"),
    ])
    .await;
    flow.send(
        "a:in",
        json!({"do": "emit", "value": {"secret-looking": "source payload"}}),
    )
    .await
    .ok();
    let shown = flow.wait_output("sink", "_control", 1, 2000).await;
    assert_eq!(
        shown,
        vec![json!({"context": {}})],
        "the default of debug's `in`, not the source payload"
    );
    flow.stop().await;
}

#[tokio::test]
async fn depth_limit_stops_a_cycle() {
    let flow = Flow::start(vec![chaos("loop").edge(
        "out",
        "loop:in",
        json!({"do": "emit", "value": "again"}),
    )])
    .await;
    let err = flow
        .send("loop:in", json!({"do": "emit", "value": 0}))
        .await
        .expect_err("a cycle must end");
    assert!(err.contains("depth limit of 256"), "{err}");
    assert_eq!(
        flow.send("loop:in", json!({"value": "alive"})).await,
        Ok(Some(json!("alive")))
    );
    flow.stop().await;
}

#[tokio::test]
async fn a_panicking_component_is_an_error_and_the_host_lives_on() {
    let flow = Flow::start(vec![chaos("c")]).await;
    let err = flow
        .send("c:in", json!({"do": "panic"}))
        .await
        .expect_err("a panic is an error");
    assert!(err.contains("c: component trapped"), "{err}");
    assert!(
        err.contains("chaos was asked to panic"),
        "the panic message is kept: {err}"
    );
    assert_eq!(
        flow.send("c:in", json!({"value": 7})).await,
        Ok(Some(json!(7)))
    );
    flow.stop().await;
}

#[tokio::test]
async fn an_infinite_loop_hits_the_time_limit() {
    let engine = tinyhost::engine::EngineConfig {
        call_time_limit: Duration::from_millis(200),
        ..engine_config()
    };
    let flow = Flow::start_with(vec![chaos("c")], engine).await;
    let err = flow
        .send("c:in", json!({"do": "loop"}))
        .await
        .expect_err("the loop is interrupted");
    assert!(err.contains("time limit of 200 ms exceeded"), "{err}");
    assert_eq!(
        flow.send("c:in", json!({"value": 1})).await,
        Ok(Some(json!(1)))
    );
    flow.stop().await;
}

#[tokio::test]
async fn waiting_downstream_does_not_count_against_the_time_limit() {
    let engine = tinyhost::engine::EngineConfig {
        call_time_limit: Duration::from_millis(100),
        ..engine_config()
    };
    let flow = Flow::start_with(
        vec![
            chaos("a").edge("out", "b:in", json!({"do": "sleep", "ms": 300})),
            chaos("b"),
        ],
        engine,
    )
    .await;
    let reply = flow.send("a:in", json!({"do": "emit"})).await;
    assert_eq!(reply, Ok(Some(json!({"downstream": "slept"}))));
    flow.stop().await;
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    let engine = tinyhost::engine::EngineConfig {
        memory_limit: 16 << 20,
        ..engine_config()
    };
    let flow = Flow::start_with(vec![chaos("c")], engine).await;
    let err = flow
        .send("c:in", json!({"do": "alloc"}))
        .await
        .expect_err("the bomb is defused");
    assert!(
        err.contains("memory limit of 16777216 bytes exceeded"),
        "{err}"
    );
    assert_eq!(
        flow.send("c:in", json!({"value": 1})).await,
        Ok(Some(json!(1)))
    );
    flow.stop().await;
}

#[tokio::test]
async fn concurrent_messages_to_one_node_all_complete() {
    let flow = Flow::start(vec![chaos("c")]).await;
    let calls = (0..16).map(|i| flow.send("c:in", json!({"do": "sleep", "ms": 30 + i})));
    let results = futures::future::join_all(calls).await;
    assert!(
        results.iter().all(|r| r == &Ok(Some(json!("slept")))),
        "{results:?}"
    );
    flow.stop().await;
}

#[tokio::test]
async fn failed_settings_are_not_remembered_as_delivered() {
    let mut flow = Flow::start(vec![chaos("c").settings(json!({"reject": "bad settings"}))]).await;
    let st = flow.status("c").await;
    assert!(st.error && st.status.contains("bad settings"), "{st:?}");
    // Any change to the node re-applies it; the same bad settings are delivered again
    // (not skipped as "already delivered"), so the error stays until they are fixed.
    flow.apply(vec![
        chaos("c")
            .settings(json!({"reject": "bad settings"}))
            .edge("out", "d:in", none()),
        node("d", "debug"),
    ])
    .await;
    let st = flow.status("c").await;
    assert!(st.error && st.status.contains("bad settings"), "{st:?}");
    flow.apply(vec![chaos("c").settings(json!({"ok": true}))])
        .await;
    let st = flow.status("c").await;
    assert!(!st.error, "{st:?}");
    assert_eq!(
        flow.send("c:in", json!({"do": "settings"})).await,
        Ok(Some(json!({"ok": true})))
    );
    flow.stop().await;
}

#[tokio::test]
async fn ports_are_re_read_after_settings_change() {
    let mut flow = Flow::start(vec![chaos("c").settings(json!({"extraPorts": ["first"]}))]).await;
    assert!(flow.status("c").await.ports.contains(&"first".to_string()));
    flow.apply(vec![chaos("c").settings(json!({"extraPorts": ["second"]}))])
        .await;
    let ports = flow.status("c").await.ports;
    assert!(
        ports.contains(&"second".to_string()) && !ports.contains(&"first".to_string()),
        "{ports:?}"
    );
    flow.stop().await;
}

#[tokio::test]
async fn settings_reach_every_instance_of_a_node() {
    let flow = Flow::start(vec![chaos("c").settings(json!({"v": 1}))]).await;
    // Concurrent calls force extra instances; each must see the node's settings.
    let calls = (0..8).map(|_| flow.send("c:in", json!({"do": "settings"})));
    for r in futures::future::join_all(calls).await {
        assert_eq!(r, Ok(Some(json!({"v": 1}))));
    }
    flow.stop().await;
}

#[tokio::test]
async fn unknown_component_node_and_port_are_reported() {
    let flow = Flow::start(vec![
        node("ghost", "no-such-component"),
        chaos("a")
            .edge("out", "missing:in", none())
            .edge("other", "b:nope", none()),
        chaos("b"),
    ])
    .await;
    let st = flow.status("ghost").await;
    assert!(
        st.error
            && st
                .status
                .contains("component `no-such-component` is not loaded"),
        "{st:?}"
    );
    let st = flow.status("a").await;
    assert!(
        st.error && st.status.contains("target node `missing` not found"),
        "{st:?}"
    );
    assert!(st.status.contains("node `b` has no port `nope`"), "{st:?}");
    assert_eq!(
        flow.send("nobody:in", json!({})).await,
        Err("node `nobody` not found".into())
    );
    assert_eq!(
        flow.send("b:nope", json!({})).await,
        Err("node `b` has no port `nope`".into())
    );
    assert_eq!(
        flow.send("b-no-port", json!({})).await,
        Err("invalid port address `b-no-port`: expected `node:port`".into())
    );
    flow.stop().await;
}

#[tokio::test]
async fn a_broken_expression_still_delivers_the_message() {
    let flow = Flow::start(vec![
        chaos("a").edge(
            "out",
            "b:in",
            json!({"do": "echo", "value": "sum: {{$.x +}}"}),
        ),
        chaos("b"),
    ])
    .await;
    let reply = flow
        .send("a:in", json!({"do": "emit", "value": {"x": 1}}))
        .await;
    assert_eq!(reply, Ok(Some(json!({"downstream": "sum: {{$.x +}}"}))));
    flow.stop().await;
}

#[tokio::test]
async fn metadata_survives_a_restart() {
    let mut flow = Flow::start(vec![chaos("c")]).await;
    assert_eq!(
        flow.send("c:in", json!({"do": "count"})).await,
        Ok(Some(json!(1)))
    );
    assert_eq!(
        flow.send("c:in", json!({"do": "count"})).await,
        Ok(Some(json!(2)))
    );
    flow.restart().await;
    assert_eq!(
        flow.status("c")
            .await
            .metadata
            .get("count")
            .map(String::as_str),
        Some("2")
    );
    assert_eq!(
        flow.send("c:in", json!({"do": "count"})).await,
        Ok(Some(json!(3)))
    );
    flow.stop().await;
}

#[tokio::test]
async fn timers_fire_on_the_leader_only() {
    let flow = Flow::start(vec![
        node("t", "ticker")
            .settings(json!({"delay": 20, "context": {"n": 1}}))
            .edge("out", "d:in", none()),
        node("d", "debug"),
    ])
    .await;
    flow.control("t", json!({"start": true}))
        .await
        .expect("started");
    assert!(flow.wait_output("t", "out", 2, 3000).await.len() >= 2);
    flow.runtime.set_leader(false).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    let before = flow.outputs("t", "out").len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        flow.outputs("t", "out").len(),
        before,
        "a follower's timers do not fire"
    );
    // Gaining leadership reconciles every node: the ticker resumes from its metadata.
    flow.runtime.set_leader(true).await;
    assert!(flow.wait_output("t", "out", before + 2, 3000).await.len() >= before + 2);
    flow.stop().await;
}

#[tokio::test]
async fn reconcile_output_republishes_status() {
    let flow = Flow::start(vec![chaos("c")]).await;
    let mut events = flow.runtime.subscribe();
    flow.send(
        "c:in",
        json!({"do": "emit", "port": "_reconcile", "value": null}),
    )
    .await
    .expect("delivered");
    let mut saw_status = false;
    while let Ok(event) = events.try_recv() {
        saw_status |= matches!(event, tinyhost::Event::Status { ref node, .. } if node == "c");
    }
    assert!(saw_status);
    flow.stop().await;
}

#[tokio::test]
async fn a_broken_expression_is_reported_with_its_position() {
    let flow = Flow::start(vec![
        chaos("a").edge("out", "b:in", json!({"do": "echo", "value": "{{$.x +}}"})),
        chaos("b"),
    ])
    .await;
    let mut events = flow.runtime.subscribe();
    let reply = flow
        .send("a:in", json!({"do": "emit", "value": {"x": 1}}))
        .await;
    assert!(reply.is_ok(), "{reply:?}");
    let mut reported = None;
    while let Ok(event) = events.try_recv() {
        if let tinyhost::Event::ExpressionError {
            node,
            port,
            expression,
            position,
            ..
        } = event
        {
            reported = Some((node, port, expression, position));
        }
    }
    let (node, port, expression, position) = reported.expect("the error is published");
    assert_eq!(
        (node.as_str(), port.as_str(), expression.as_str()),
        ("b", "in", "$.x +")
    );
    assert!(position >= 3, "{position}");
    flow.stop().await;
}

#[tokio::test]
async fn metadata_reaches_the_state_store_without_a_shutdown() {
    let flow = Flow::start(vec![chaos("c")]).await;
    flow.send("c:in", json!({"do": "count"}))
        .await
        .expect("counted");
    let file = flow.state_dir().join("c.json");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !file.exists() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("state written")).expect("JSON");
    assert_eq!(stored, json!({"count": "1"}));
    flow.stop().await;
}

#[tokio::test]
async fn a_port_list_that_loops_forever_is_cut_off() {
    let engine = tinyhost::engine::EngineConfig {
        call_time_limit: Duration::from_millis(200),
        ..engine_config()
    };
    let flow = Flow::start_with(
        vec![
            chaos("c").settings(json!({"loopInPorts": true})),
            chaos("ok"),
        ],
        engine,
    )
    .await;
    let st = flow.status("c").await;
    assert!(
        st.error && st.status.contains("time limit exceeded"),
        "{st:?}"
    );
    assert_eq!(
        flow.send("ok:in", json!({"value": 1})).await,
        Ok(Some(json!(1)))
    );
    flow.stop().await;
}
