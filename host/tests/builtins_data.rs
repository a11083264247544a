//! Behaviour of the data-shaping built-ins (`router`, `array_split`, `transform`, `inject`,
//! `group_by`, `array_get`, `array_filter`) inside the real host: the guests cannot link
//! natively, so the only honest test runs them as wasm behind the scheduler, with edge
//! mappings, dynamic ports and metadata exactly as a flow would see them.

mod support;

use base64::Engine as _;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Flow, node};

/// What `node` emitted on `port`, once the recorder (which hears outputs as events, after
/// the fact) has caught up with the `count` payloads expected; the short grace period
/// lets a surplus payload show up too, so "exactly these" is what gets checked.
async fn emitted(flow: &Flow, node: &str, port: &str, count: usize) -> Vec<Value> {
    flow.wait_output(node, port, count, 2000).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    flow.outputs(node, port)
}

/// `{"context": "{{$.context}}"}`: the mapping that forwards a passthrough context.
fn forward_context() -> Value {
    json!({"context": "{{$.context}}"})
}

/// Sample pods for the filter tests, shaped like upstream's test data.
fn pods() -> Value {
    json!([
        {"name": "api-1", "hasProblem": false, "restarts": 0},
        {"name": "api-2", "hasProblem": true, "restarts": 7},
        {"name": "web-1", "hasProblem": true, "restarts": 1}
    ])
}

// ---------------------------------------------------------------------------------------
// router
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn router_sends_to_first_true_condition() {
    let flow = Flow::start(vec![
        node("r", "router")
            .settings(json!({"routes": ["A", "B"], "enableDefaultPort": false}))
            .edge("out_a", "a:in", forward_context())
            .edge("out_b", "b:in", forward_context()),
        node("a", "debug"),
        node("b", "debug"),
    ])
    .await;

    let resp = flow
        .send(
            "r:input",
            json!({"context": {"x": 1}, "conditions": [
                {"route": "A", "condition": false},
                {"route": "B", "condition": true},
                {"route": "A", "condition": true}
            ]}),
        )
        .await;
    assert_eq!(resp, Ok(None));
    assert_eq!(
        emitted(&flow, "r", "out_b", 1).await,
        vec![json!({"context": {"x": 1}})]
    );
    assert!(
        emitted(&flow, "r", "out_a", 0).await.is_empty(),
        "only the first true condition decides"
    );

    // The edge mapping `{{$.context}}` reads the routed data under `context`.
    let seen = flow.wait_output("b", "_control", 1, 2000).await;
    assert_eq!(seen, vec![json!({"context": {"context": {"x": 1}}})]);
    flow.stop().await;
}

#[tokio::test]
async fn router_matches_route_names_case_insensitively() {
    let flow =
        Flow::start(vec![node("r", "router").settings(
            json!({"routes": ["Post", "Other"], "enableDefaultPort": false}),
        )])
        .await;

    let resp = flow
        .send(
            "r:input",
            json!({"context": "hello", "conditions": [{"route": "POST", "condition": true}]}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "r", "out_post", 1).await,
        vec![json!({"context": "hello"})]
    );

    let resp = flow
        .send(
            "r:input",
            json!({"context": 2, "conditions": [{"route": "other", "condition": true}]}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "r", "out_other", 1).await,
        vec![json!({"context": 2})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn router_without_default_fails_when_nothing_matches() {
    let flow =
        Flow::start(vec![node("r", "router").settings(
            json!({"routes": ["A", "B"], "enableDefaultPort": false}),
        )])
        .await;

    // No true condition.
    let resp = flow
        .send(
            "r:input",
            json!({"context": 1, "conditions": [{"route": "A", "condition": false}]}),
        )
        .await;
    let err = resp.expect_err("nothing matched and there is no default port");
    assert!(err.contains("no matching route"), "{err}");

    // The first true condition names an unknown route: a later true one is not consulted.
    let resp = flow
        .send(
            "r:input",
            json!({"context": 1, "conditions": [
                {"route": "Z", "condition": true},
                {"route": "A", "condition": true}
            ]}),
        )
        .await;
    let err = resp.expect_err("the first true condition names an unknown route");
    assert!(err.contains("no matching route"), "{err}");
    assert!(emitted(&flow, "r", "out_a", 0).await.is_empty());

    // No conditions at all.
    let resp = flow
        .send("r:input", json!({"context": 1, "conditions": []}))
        .await;
    assert!(resp.is_err());
    flow.stop().await;
}

#[tokio::test]
async fn router_default_port_takes_unmatched_messages() {
    let flow = Flow::start(vec![
        node("r", "router")
            .settings(json!({"routes": ["A", "B"], "enableDefaultPort": true}))
            .edge("default", "d:in", forward_context()),
        node("d", "debug"),
    ])
    .await;

    let resp = flow
        .send(
            "r:input",
            json!({"context": "none", "conditions": [{"route": "A", "condition": false}]}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    let resp = flow
        .send(
            "r:input",
            json!({"context": "unknown", "conditions": [
                {"route": "Z", "condition": true},
                {"route": "B", "condition": true}
            ]}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");

    assert_eq!(
        emitted(&flow, "r", "default", 2).await,
        vec![json!({"context": "none"}), json!({"context": "unknown"})]
    );
    assert!(emitted(&flow, "r", "out_b", 0).await.is_empty());
    let seen = flow.wait_output("d", "_control", 2, 2000).await;
    assert_eq!(seen.len(), 2);
    flow.stop().await;
}

#[tokio::test]
async fn router_ports_follow_routes_and_default_setting() {
    let mut flow =
        Flow::start(vec![node("r", "router").settings(
            json!({"routes": ["A", "B"], "enableDefaultPort": false}),
        )])
        .await;

    let st = flow.status("r").await;
    assert!(!st.error, "{}", st.status);
    for port in ["_settings", "input", "out_a", "out_b"] {
        assert!(
            st.ports.iter().any(|p| p == port),
            "missing {port} in {:?}",
            st.ports
        );
    }
    assert!(!st.ports.iter().any(|p| p == "default"), "{:?}", st.ports);

    flow.apply(vec![node("r", "router").settings(
        json!({"routes": ["Post", "Other"], "enableDefaultPort": true}),
    )])
    .await;
    let st = flow.status("r").await;
    assert!(!st.error, "{}", st.status);
    for port in ["out_post", "out_other", "default"] {
        assert!(
            st.ports.iter().any(|p| p == port),
            "missing {port} in {:?}",
            st.ports
        );
    }
    assert!(
        !st.ports.iter().any(|p| p == "out_a" || p == "out_b"),
        "{:?}",
        st.ports
    );

    // The new settings are in force for routing as well.
    let resp = flow
        .send(
            "r:input",
            json!({"context": 1, "conditions": [{"route": "A", "condition": true}]}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "r", "default", 1).await,
        vec![json!({"context": 1})]
    );
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// array_split
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn array_split_emits_each_item_in_order() {
    let flow = Flow::start(vec![
        node("s", "array_split").edge(
            "out",
            "d:in",
            json!({"item": "{{$.item}}", "index": "{{$.index}}"}),
        ),
        node("d", "debug"),
    ])
    .await;

    let resp = flow
        .send(
            "s:in",
            json!({"context": {"run": 7}, "array": [1, "two", {"three": 3}]}),
        )
        .await;
    assert_eq!(resp, Ok(None));
    assert_eq!(
        emitted(&flow, "s", "out", 3).await,
        vec![
            json!({"context": {"run": 7}, "item": 1, "index": 0, "total": 3}),
            json!({"context": {"run": 7}, "item": "two", "index": 1, "total": 3}),
            json!({"context": {"run": 7}, "item": {"three": 3}, "index": 2, "total": 3}),
        ]
    );
    let seen = flow.wait_output("d", "_control", 3, 2000).await;
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[2],
        json!({"context": {"item": {"three": 3}, "index": 2}})
    );
    flow.stop().await;
}

#[tokio::test]
async fn array_split_of_empty_or_missing_array_emits_nothing() {
    let flow = Flow::start(vec![node("s", "array_split")]).await;

    assert_eq!(
        flow.send("s:in", json!({"context": 1, "array": []})).await,
        Ok(None)
    );
    assert_eq!(
        flow.send("s:in", json!({"context": 1, "array": null}))
            .await,
        Ok(None)
    );
    assert_eq!(flow.send("s:in", json!({"context": 1})).await, Ok(None));
    assert!(emitted(&flow, "s", "out", 0).await.is_empty());

    // Something that is not an array is a bad message, not an empty one.
    let resp = flow
        .send("s:in", json!({"context": 1, "array": "abc"}))
        .await;
    assert!(resp.is_err(), "{resp:?}");
    flow.stop().await;
}

#[tokio::test]
async fn array_split_stops_on_first_downstream_error() {
    // Each item is an array handed to array_get, which fails on the empty one.
    let flow = Flow::start(vec![
        node("s", "array_split").edge(
            "out",
            "g:request",
            json!({"array": "{{$.item}}", "index": 1}),
        ),
        node("g", "array_get").settings(json!({"enableErrorPort": false})),
    ])
    .await;

    let resp = flow
        .send(
            "s:in",
            json!({"context": null, "array": [["a"], [], ["c"]]}),
        )
        .await;
    let err = resp.expect_err("the second item fails downstream");
    assert!(err.contains("array is empty"), "{err}");

    let sent = emitted(&flow, "s", "out", 2).await;
    assert_eq!(sent.len(), 2, "the third item must not be sent: {sent:?}");
    assert_eq!(sent[1]["index"], json!(1));
    assert_eq!(
        emitted(&flow, "g", "result", 1).await,
        vec![json!({"item": "a", "index": 1})]
    );
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// transform ("Modify")
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn transform_passes_context_through() {
    let flow = Flow::start(vec![node("t", "transform")]).await;

    let resp = flow
        .send("t:in", json!({"context": {"a": [1, 2], "b": null}}))
        .await;
    assert_eq!(resp, Ok(None));
    assert_eq!(
        emitted(&flow, "t", "out", 1).await,
        vec![json!({"context": {"a": [1, 2], "b": null}})]
    );

    let st = flow.status("t").await;
    assert!(!st.error, "{}", st.status);
    assert!(
        st.ports.iter().any(|p| p == "in") && st.ports.iter().any(|p| p == "out"),
        "{:?}",
        st.ports
    );
    flow.stop().await;
}

#[tokio::test]
async fn transform_emits_the_context_its_edge_mapped() {
    let flow = Flow::start(vec![
        node("src", "transform").edge(
            "out",
            "t:in",
            json!({"context": {"name": "{{$.context.user}}", "greeting": "Hi {{$.context.user}}!", "fixed": 42}}),
        ),
        node("t", "transform").edge("out", "d:in", forward_context()),
        node("d", "debug"),
    ])
    .await;

    let resp = flow
        .send("src:in", json!({"context": {"user": "ada"}}))
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    let expected = json!({"name": "ada", "greeting": "Hi ada!", "fixed": 42});
    assert_eq!(
        emitted(&flow, "t", "out", 1).await,
        vec![json!({"context": expected})]
    );
    let seen = flow.wait_output("d", "_control", 1, 2000).await;
    assert_eq!(seen, vec![json!({"context": {"context": expected}})]);
    flow.stop().await;
}

#[tokio::test]
async fn transform_handles_missing_and_bad_messages() {
    let flow = Flow::start(vec![node("t", "transform")]).await;

    // A message without context still emits the `{context}` shape.
    assert_eq!(flow.send("t:in", json!({})).await, Ok(None));
    assert_eq!(
        emitted(&flow, "t", "out", 1).await,
        vec![json!({"context": null})]
    );

    // A message that is not an object is refused, not emitted.
    let resp = flow.send("t:in", json!(5)).await;
    let err = resp.expect_err("a bare number is not a message");
    assert!(err.contains("invalid message"), "{err}");
    assert_eq!(emitted(&flow, "t", "out", 1).await.len(), 1);
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// inject
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn inject_attaches_stored_config_to_every_message() {
    let flow = Flow::start(vec![
        node("i", "inject")
            .settings(json!({"configRequired": false}))
            .edge(
                "output",
                "d:in",
                json!({"ctx": "{{$.context}}", "ns": "{{$.config.namespace}}"}),
            ),
        node("d", "debug"),
    ])
    .await;

    let config = json!({"labelSelector": "app=nginx", "namespace": "production"});
    assert_eq!(
        flow.send("i:config", json!({"data": config})).await,
        Ok(None)
    );
    for n in 0..3 {
        let resp = flow.send("i:message", json!({"context": n})).await;
        assert!(resp.is_ok(), "{resp:?}");
    }
    assert_eq!(
        emitted(&flow, "i", "output", 3).await,
        vec![
            json!({"context": 0, "config": config}),
            json!({"context": 1, "config": config}),
            json!({"context": 2, "config": config}),
        ]
    );
    let seen = flow.wait_output("d", "_control", 3, 2000).await;
    assert_eq!(seen[0], json!({"context": {"ctx": 0, "ns": "production"}}));
    flow.stop().await;
}

#[tokio::test]
async fn inject_without_config_passes_null_unless_required() {
    let mut flow = Flow::start(vec![
        node("i", "inject").settings(json!({"configRequired": false})),
    ])
    .await;

    let st = flow.status("i").await;
    assert!(
        !st.ports.iter().any(|p| p == "error"),
        "no error port by default: {:?}",
        st.ports
    );

    assert_eq!(
        flow.send("i:message", json!({"context": "early"})).await,
        Ok(None)
    );
    assert_eq!(
        emitted(&flow, "i", "output", 1).await,
        vec![json!({"context": "early", "config": null})]
    );

    // configRequired adds the error port, and a message without config goes there.
    flow.apply(vec![
        node("i", "inject").settings(json!({"configRequired": true})),
    ])
    .await;
    let st = flow.status("i").await;
    assert!(st.ports.iter().any(|p| p == "error"), "{:?}", st.ports);

    let resp = flow.send("i:message", json!({"context": "tick"})).await;
    assert!(
        resp.is_ok(),
        "the error port answers instead of failing: {resp:?}"
    );
    assert_eq!(
        emitted(&flow, "i", "error", 1).await,
        vec![json!({"context": "tick", "error": "config not set"})]
    );
    assert_eq!(
        emitted(&flow, "i", "output", 1).await.len(),
        1,
        "nothing more on output"
    );

    // Once configured, messages flow to output again.
    assert_eq!(
        flow.send("i:config", json!({"data": {"env": "prod"}}))
            .await,
        Ok(None)
    );
    assert!(
        flow.send("i:message", json!({"context": "later"}))
            .await
            .is_ok()
    );
    assert_eq!(
        emitted(&flow, "i", "output", 2).await.last(),
        Some(&json!({"context": "later", "config": {"env": "prod"}}))
    );
    assert_eq!(emitted(&flow, "i", "error", 1).await.len(), 1);
    flow.stop().await;
}

#[tokio::test]
async fn inject_keeps_config_in_metadata_and_updates_it() {
    let mut flow = Flow::start(vec![node("i", "inject")]).await;

    assert_eq!(
        flow.send("i:config", json!({"data": {"v": 1}})).await,
        Ok(None)
    );
    assert!(
        flow.send("i:message", json!({"context": "a"}))
            .await
            .is_ok()
    );
    assert_eq!(
        flow.send("i:config", json!({"data": {"v": 2}})).await,
        Ok(None)
    );
    assert!(
        flow.send("i:message", json!({"context": "b"}))
            .await
            .is_ok()
    );
    assert_eq!(
        emitted(&flow, "i", "output", 2).await,
        vec![
            json!({"context": "a", "config": {"v": 1}}),
            json!({"context": "b", "config": {"v": 2}})
        ]
    );

    // Stored the way upstream's metadata state stores it: `_state/config`, base64 of JSON.
    let st = flow.status("i").await;
    let stored = st
        .metadata
        .get("_state/config")
        .expect("config persisted in metadata");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .expect("base64");
    let value: Value = serde_json::from_slice(&raw).expect("json");
    assert_eq!(value, json!({"v": 2}));

    // A settings change (new instances, re-applied settings) does not lose it.
    flow.apply(vec![
        node("i", "inject").settings(json!({"configRequired": true})),
    ])
    .await;
    assert!(
        flow.send("i:message", json!({"context": "c"}))
            .await
            .is_ok()
    );
    assert_eq!(
        emitted(&flow, "i", "output", 3).await.last(),
        Some(&json!({"context": "c", "config": {"v": 2}}))
    );
    assert!(emitted(&flow, "i", "error", 0).await.is_empty());
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// group_by
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn group_by_groups_and_sorts_by_key() {
    let flow = Flow::start(vec![
        node("g", "group_by").edge(
            "out",
            "d:in",
            json!({"keys": "{{$.groups[*].key}}", "total": "{{$.total}}"}),
        ),
        node("d", "debug"),
    ])
    .await;

    let items = json!([
        {"name": "a", "labels": {"app": "web"}},
        {"name": "b", "labels": {"app": "api"}},
        {"name": "c", "labels": {"app": "web"}}
    ]);
    let resp = flow
        .send(
            "g:in",
            json!({"context": {"req": 1}, "items": items, "groupByPath": "labels.app"}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "g", "out", 1).await,
        vec![json!({
            "context": {"req": 1},
            "groups": [
                {"key": "api", "items": [{"name": "b", "labels": {"app": "api"}}], "count": 1},
                {"key": "web", "items": [
                    {"name": "a", "labels": {"app": "web"}},
                    {"name": "c", "labels": {"app": "web"}}
                ], "count": 2}
            ],
            "total": 3
        })]
    );
    let seen = flow.wait_output("d", "_control", 1, 2000).await;
    assert_eq!(
        seen,
        vec![json!({"context": {"keys": ["api", "web"], "total": 3}})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn group_by_keys_print_like_upstream() {
    let flow = Flow::start(vec![node("g", "group_by")]).await;

    let items = json!([
        {"n": 1000000},
        {"n": 2},
        {"n": true},
        {"other": 1},
        {"n": null},
        "not an object",
        {"n": 2.5}
    ]);
    let resp = flow
        .send("g:in", json!({"items": items, "groupByPath": "n"}))
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    let out = emitted(&flow, "g", "out", 1).await;
    assert_eq!(out.len(), 1);
    // No context in, none out (upstream's `omitempty`).
    assert!(out[0].get("context").is_none(), "{}", out[0]);
    let keys: Vec<&Value> = out[0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| &g["key"])
        .collect();
    assert_eq!(
        keys,
        vec![
            &json!(""),
            &json!("1e+06"),
            &json!("2"),
            &json!("2.5"),
            &json!("true")
        ]
    );
    assert_eq!(
        out[0]["groups"][0]["count"],
        json!(3),
        "missing, null and non-object share the empty key"
    );
    assert_eq!(out[0]["total"], json!(7));

    // An empty list is an empty grouping.
    assert!(
        flow.send("g:in", json!({"items": [], "groupByPath": "n"}))
            .await
            .is_ok()
    );
    assert_eq!(
        emitted(&flow, "g", "out", 2).await[1],
        json!({"groups": [], "total": 0})
    );
    flow.stop().await;
}

#[tokio::test]
async fn group_by_requires_a_path() {
    let flow = Flow::start(vec![node("g", "group_by")]).await;

    let resp = flow
        .send("g:in", json!({"items": [1, 2], "groupByPath": ""}))
        .await;
    let err = resp.expect_err("an empty path is refused");
    assert!(err.contains("groupByPath is required"), "{err}");

    let resp = flow.send("g:in", json!({"items": [1, 2]})).await;
    assert!(resp.is_err(), "{resp:?}");
    assert!(emitted(&flow, "g", "out", 0).await.is_empty());
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// array_get
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn array_get_returns_item_by_one_based_index() {
    let flow = Flow::start(vec![
        node("g", "array_get").edge(
            "result",
            "d:in",
            json!({"picked": "{{$.item}}", "ctx": "{{$.context}}"}),
        ),
        node("d", "debug"),
    ])
    .await;

    let resp = flow
        .send("g:request", json!({"context": {"key": "value"}, "array": ["apple", "banana", "cherry"], "index": 2}))
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "g", "result", 1).await,
        vec![json!({"context": {"key": "value"}, "item": "banana", "index": 2})]
    );
    let seen = flow.wait_output("d", "_control", 1, 2000).await;
    assert_eq!(
        seen,
        vec![json!({"context": {"picked": "banana", "ctx": {"key": "value"}}})]
    );

    // Without a context the result has none (upstream's `omitempty`); a float index with
    // no fraction, as expressions may produce, is a valid number.
    let resp = flow
        .send("g:request", json!({"array": ["only"], "index": 1.0}))
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "g", "result", 2).await[1],
        json!({"item": "only", "index": 1})
    );
    flow.stop().await;
}

#[tokio::test]
async fn array_get_fails_out_of_range_without_error_port() {
    let flow = Flow::start(vec![
        node("g", "array_get").settings(json!({"enableErrorPort": false})),
    ])
    .await;

    let st = flow.status("g").await;
    assert!(!st.ports.iter().any(|p| p == "error"), "{:?}", st.ports);

    let cases = [
        (
            json!({"array": [], "index": 1}),
            "array is empty — run a list command first",
        ),
        (
            json!({"index": 1}),
            "array is empty — run a list command first",
        ),
        (
            json!({"array": ["a"], "index": 0}),
            "index must be >= 1, got 0",
        ),
        (
            json!({"array": ["a"], "index": -1}),
            "index must be >= 1, got -1",
        ),
        (
            json!({"array": ["a", "b"], "index": 5}),
            "item #5 not found — list has 2 item(s)",
        ),
    ];
    for (request, message) in cases {
        let resp = flow.send("g:request", request.clone()).await;
        let err = resp.expect_err(message);
        assert!(err.contains(message), "{request}: {err}");
    }
    let resp = flow
        .send("g:request", json!({"array": ["a"], "index": 1.5}))
        .await;
    assert!(resp.is_err(), "{resp:?}");
    assert!(emitted(&flow, "g", "result", 0).await.is_empty());
    flow.stop().await;
}

#[tokio::test]
async fn array_get_error_port_carries_failures() {
    let mut flow = Flow::start(vec![
        node("g", "array_get").settings(json!({"enableErrorPort": false})),
    ])
    .await;
    assert!(!flow.status("g").await.ports.iter().any(|p| p == "error"));

    flow.apply(vec![
        node("g", "array_get")
            .settings(json!({"enableErrorPort": true}))
            .edge("error", "d:in", json!({"why": "{{$.error}}"})),
        node("d", "debug"),
    ])
    .await;
    let st = flow.status("g").await;
    assert!(st.ports.iter().any(|p| p == "error"), "{:?}", st.ports);

    let resp = flow
        .send(
            "g:request",
            json!({"context": "ctx-1", "array": ["a", "b"], "index": 3}),
        )
        .await;
    assert!(
        resp.is_ok(),
        "with the error port the call succeeds: {resp:?}"
    );
    assert_eq!(
        emitted(&flow, "g", "error", 1).await,
        vec![json!({"context": "ctx-1", "error": "item #3 not found — list has 2 item(s)"})]
    );
    assert!(emitted(&flow, "g", "result", 0).await.is_empty());
    let seen = flow.wait_output("d", "_control", 1, 2000).await;
    assert_eq!(
        seen,
        vec![json!({"context": {"why": "item #3 not found — list has 2 item(s)"}})]
    );
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// array_filter
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn array_filter_keeps_matching_items_in_order() {
    let flow = Flow::start(vec![
        node("f", "array_filter").edge("result", "d:in", json!({"count": "{{$.count}}"})),
        node("d", "debug"),
    ])
    .await;

    let resp = flow
        .send(
            "f:request",
            json!({"context": {"runId": "r1"}, "array": pods(), "query": "$.hasProblem"}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    let out = emitted(&flow, "f", "result", 1).await;
    assert_eq!(
        out,
        vec![json!({
            "context": {"runId": "r1"},
            "items": [
                {"name": "api-2", "hasProblem": true, "restarts": 7},
                {"name": "web-1", "hasProblem": true, "restarts": 1}
            ],
            "count": 2,
            "total": 3
        })]
    );
    let seen = flow.wait_output("d", "_control", 1, 2000).await;
    assert_eq!(seen, vec![json!({"context": {"count": 2}})]);

    let resp = flow
        .send(
            "f:request",
            json!({"array": pods(), "query": "$.restarts > 3"}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(emitted(&flow, "f", "result", 2).await[1]["count"], json!(1));

    // Nothing matching is an answer: empty items, not null.
    let resp = flow
        .send(
            "f:request",
            json!({"array": pods(), "query": "$.name == 'nope'"}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "f", "result", 3).await[2],
        json!({"items": [], "count": 0, "total": 3})
    );
    flow.stop().await;
}

#[tokio::test]
async fn array_filter_refuses_unevaluable_and_non_boolean_predicates() {
    let flow = Flow::start(vec![node("f", "array_filter")]).await;

    let resp = flow
        .send(
            "f:request",
            json!({"array": [{"name": "api-1"}], "query": "$.hasPrblem"}),
        )
        .await;
    let err = resp.expect_err("a predicate without an answer is reported");
    assert!(
        err.contains("could not be evaluated against item 0"),
        "{err}"
    );

    let resp = flow
        .send("f:request", json!({"array": pods(), "query": "$.name"}))
        .await;
    let err = resp.expect_err("a string is not a yes/no answer");
    assert!(
        err.contains("predicate answered api-1 (string), not true or false"),
        "{err}"
    );

    let resp = flow.send("f:request", json!({"array": pods()})).await;
    let err = resp.expect_err("an empty query is refused");
    assert!(err.contains("query is required"), "{err}");
    assert!(emitted(&flow, "f", "result", 0).await.is_empty());
    flow.stop().await;
}

#[tokio::test]
async fn array_filter_skips_unevaluable_items_when_asked() {
    let flow = Flow::start(vec![
        node("f", "array_filter").settings(json!({"skipUnevaluable": true})),
    ])
    .await;

    let resp = flow
        .send(
            "f:request",
            json!({"array": [{"name": "api-1", "hasProblem": true}, {"name": "api-2"}], "query": "$.hasProblem"}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(
        emitted(&flow, "f", "result", 1).await,
        vec![json!({"items": [{"name": "api-1", "hasProblem": true}], "count": 1, "total": 2})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn array_filter_error_port_appears_and_carries_failures() {
    let mut flow = Flow::start(vec![node("f", "array_filter")]).await;
    assert!(!flow.status("f").await.ports.iter().any(|p| p == "error"));

    flow.apply(vec![
        node("f", "array_filter").settings(json!({"enableErrorPort": true})),
    ])
    .await;
    let st = flow.status("f").await;
    assert!(st.ports.iter().any(|p| p == "error"), "{:?}", st.ports);

    let resp = flow
        .send(
            "f:request",
            json!({"context": 9, "array": pods(), "query": ""}),
        )
        .await;
    assert!(
        resp.is_ok(),
        "with the error port the call succeeds: {resp:?}"
    );
    let errors = emitted(&flow, "f", "error", 1).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["context"], json!(9));
    assert!(
        errors[0]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("query is required")),
        "{}",
        errors[0]
    );
    assert!(emitted(&flow, "f", "result", 0).await.is_empty());
    flow.stop().await;
}

#[tokio::test]
async fn inject_config_survives_a_restart() {
    let mut flow = Flow::start(vec![
        node("i", "inject").settings(json!({"configRequired": true})),
    ])
    .await;

    assert_eq!(
        flow.send("i:config", json!({"data": {"key": "value"}}))
            .await,
        Ok(None)
    );
    // Guest memory is gone after a restart; only metadata carries the config over.
    flow.restart().await;
    let resp = flow
        .send("i:message", json!({"context": "after restart"}))
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    let out = emitted(&flow, "i", "output", 1).await;
    assert_eq!(
        out,
        vec![json!({"context": "after restart", "config": {"key": "value"}})]
    );
    assert!(emitted(&flow, "i", "error", 0).await.is_empty());
    flow.stop().await;
}
