//! Behaviour of the trigger, timing and state built-ins (`ticker`, `delay`, `async`,
//! `signal`, `cron`, `kv`, `retry`) inside the real host: their loops run on host timers,
//! their state lives in node metadata and their waits are host sleeps, so only the real
//! scheduler, timer wheel and state directory (across a restart) show that they work.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};
use support::{Flow, node};

/// The control state `name` published last, as the host holds it; `Null` when none.
async fn last_control(flow: &Flow, name: &str) -> Value {
    flow.status(name).await.control.unwrap_or(Value::Null)
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

// ---------------------------------------------------------------------------------------
// ticker
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn ticker_emits_until_stopped() {
    let flow = Flow::start(vec![
        node("t", "ticker")
            .settings(json!({"delay": 10, "context": {"n": 1}}))
            .edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    flow.control("t", json!({"start": true})).await.unwrap();
    let outs = flow.wait_output("t", "out", 3, 2000).await;
    assert!(outs.len() >= 3, "ticker emitted {} times", outs.len());
    // A Start without a context emits the settings' context, bare, as upstream does.
    assert!(outs.iter().all(|o| *o == json!({"n": 1})), "{outs:?}");
    assert_eq!(
        last_control(&flow, "t").await,
        json!({"context": {"n": 1}, "status": "Running", "stop": true})
    );
    assert_eq!(
        flow.status("t")
            .await
            .metadata
            .get("ticker-running")
            .map(String::as_str),
        Some("true")
    );

    flow.control("t", json!({"stop": true})).await.unwrap();
    sleep_ms(100).await;
    let settled = flow.outputs("t", "out").len();
    sleep_ms(300).await;
    assert_eq!(
        flow.outputs("t", "out").len(),
        settled,
        "no tick after Stop"
    );
    assert_eq!(
        last_control(&flow, "t").await,
        json!({"context": {"n": 1}, "status": "Not running", "start": true})
    );
    let st = flow.status("t").await;
    assert!(!st.error, "{}", st.status);
    assert!(
        !st.metadata.contains_key("ticker-running"),
        "{:?}",
        st.metadata
    );
    flow.stop().await;
}

#[tokio::test]
async fn ticker_start_uses_the_control_context_and_records_it() {
    let flow = Flow::start(vec![
        node("t", "ticker")
            .settings(json!({"delay": 20, "context": "from settings"}))
            .edge("out", "d:in", json!({"context": "{{$.m}}"})),
        node("d", "debug"),
    ])
    .await;

    flow.control("t", json!({"start": true, "context": {"m": 2}}))
        .await
        .unwrap();
    let outs = flow.wait_output("t", "out", 2, 2000).await;
    assert_eq!(outs[0], json!({"m": 2}));
    // The edge mapping reads the emitted context at the root.
    let seen = flow.wait_output("d", "_control", 1, 2000).await;
    assert_eq!(seen[0], json!({"context": {"context": 2}}));

    let meta = flow.status("t").await.metadata;
    let config: Value =
        serde_json::from_str(meta.get("ticker-config").expect("ticker-config")).unwrap();
    assert_eq!(config["context"], json!({"m": 2}));
    flow.control("t", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn ticker_waits_for_downstream_before_the_next_tick() {
    let flow = Flow::start(vec![
        node("t", "ticker")
            .settings(json!({"delay": 10, "context": {"n": 1}}))
            .edge("out", "w:in", json!({"context": "{{$.n}}", "delay": 100})),
        node("w", "delay").edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    let started = Instant::now();
    flow.control("t", json!({"start": true})).await.unwrap();
    let outs = flow.wait_output("t", "out", 3, 5000).await;
    let elapsed = started.elapsed();
    assert!(outs.len() >= 3);
    // Tick 2 waits for tick 1's 100 ms downstream, tick 3 for tick 2's.
    assert!(
        elapsed >= Duration::from_millis(200),
        "3 ticks in {elapsed:?}"
    );
    flow.control("t", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn ticker_resumes_after_restart() {
    let mut flow = Flow::start(vec![
        node("t", "ticker")
            .settings(json!({"delay": 10, "context": {"n": 1}}))
            .edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;
    flow.control("t", json!({"start": true, "context": {"resumed": true}}))
        .await
        .unwrap();
    flow.wait_output("t", "out", 2, 2000).await;

    flow.restart().await;
    let before = flow.outputs("t", "out").len();
    let outs = flow.wait_output("t", "out", before + 2, 3000).await;
    assert!(
        outs.len() >= before + 2,
        "no ticks after restart: {} then {}",
        before,
        outs.len()
    );
    // The context given at Start survives the restart too.
    assert_eq!(outs.last(), Some(&json!({"resumed": true})));
    assert_eq!(last_control(&flow, "t").await["status"], json!("Running"));

    flow.control("t", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn ticker_reconcile_keeps_the_pending_tick_on_time() {
    let ticker = |context: Value| {
        node("t", "ticker")
            .settings(json!({"delay": 60_000, "context": context}))
            .edge("out", "d:in", json!({}))
    };
    let mut flow = Flow::start(vec![ticker(json!(1)), node("d", "debug")]).await;
    flow.control("t", json!({"start": true})).await.unwrap();
    assert_eq!(flow.wait_output("t", "out", 1, 2000).await.len(), 1);

    // New settings re-create and reconcile the node; the next tick is still a minute away.
    flow.apply(vec![ticker(json!(2)), node("d", "debug")]).await;
    sleep_ms(300).await;
    assert_eq!(
        flow.outputs("t", "out").len(),
        1,
        "a reconcile must not tick early"
    );
    assert_eq!(last_control(&flow, "t").await["status"], json!("Running"));
    flow.control("t", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn ticker_stop_while_stopped_and_bad_controls() {
    let flow = Flow::start(vec![
        node("t", "ticker")
            .settings(json!({"delay": 10, "context": 1}))
            .edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    assert_eq!(flow.control("t", json!({"stop": true})).await, Ok(None));
    assert_eq!(
        flow.control("t", json!({"status": "whatever"})).await,
        Ok(None)
    );
    let err = flow.control("t", json!("start")).await.unwrap_err();
    assert!(err.contains("invalid control message"), "{err}");
    sleep_ms(200).await;
    assert!(
        flow.outputs("t", "out").is_empty(),
        "nothing may start the ticker but Start"
    );
    flow.stop().await;
}

#[tokio::test]
async fn ticker_rejects_a_negative_delay() {
    let flow = Flow::start(vec![node("t", "ticker").settings(json!({"delay": -5}))]).await;
    let st = flow.status("t").await;
    assert!(st.error, "negative delay accepted: {}", st.status);
    assert!(st.status.contains("delay"), "{}", st.status);
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// delay
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn delay_waits_then_emits_the_context() {
    let flow = Flow::start(vec![
        node("w", "delay").edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    let started = Instant::now();
    let resp = flow
        .send("w:in", json!({"context": {"a": 1}, "delay": 50}))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(resp, Ok(None));
    assert!(
        elapsed >= Duration::from_millis(50),
        "returned after {elapsed:?}"
    );
    assert_eq!(
        flow.wait_output("w", "out", 1, 2000).await,
        vec![json!({"context": {"a": 1}})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn delay_takes_its_time_from_an_edge_expression() {
    let flow = Flow::start(vec![
        node("w1", "delay").edge(
            "out",
            "w2:in",
            json!({"context": "{{$.context}}", "delay": "{{$.context.ms * 2}}"}),
        ),
        node("w2", "delay").edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    let started = Instant::now();
    let resp = flow
        .send("w1:in", json!({"context": {"ms": 30}, "delay": 1}))
        .await;
    assert_eq!(resp, Ok(None));
    assert!(
        started.elapsed() >= Duration::from_millis(61),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        flow.wait_output("w2", "out", 1, 2000).await,
        vec![json!({"context": {"ms": 30}})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn delay_rejects_missing_and_non_positive_delays() {
    let flow = Flow::start(vec![
        node("w", "delay").edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    for bad in [
        json!({"context": 1, "delay": 0}),
        json!({"context": 1, "delay": -5}),
        json!({"context": 1}),
    ] {
        let err = flow.send("w:in", bad.clone()).await.unwrap_err();
        assert!(err.contains("invalid delay"), "{bad}: {err}");
    }
    let err = flow
        .send("w:in", json!({"delay": "soon"}))
        .await
        .unwrap_err();
    assert!(err.contains("invalid message"), "{err}");
    sleep_ms(100).await;
    assert!(flow.outputs("w", "out").is_empty());
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// async
// ---------------------------------------------------------------------------------------

/// async `a` → delay `w` (`ms`) → debug `d`.
async fn async_flow(settings: Value, ms: u64) -> Flow {
    Flow::start(vec![
        node("a", "async").settings(settings).edge(
            "out",
            "w:in",
            json!({"context": "{{$.context}}", "delay": ms}),
        ),
        node("w", "delay").edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await
}

#[tokio::test]
async fn async_returns_before_the_background_emit_finishes() {
    let flow = async_flow(json!({"maxConcurrency": 0}), 1000).await;

    let started = Instant::now();
    let resp = flow.send("a:in", json!({"context": {"x": 1}})).await;
    let returned = started.elapsed();
    assert_eq!(resp, Ok(None));
    assert!(
        returned < Duration::from_millis(800),
        "async held the sender for {returned:?}"
    );

    let done = flow.wait_output("w", "out", 1, 5000).await;
    assert_eq!(done, vec![json!({"context": {"x": 1}})]);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(
        flow.wait_output("a", "out", 1, 2000).await,
        vec![json!({"context": {"x": 1}})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn async_runs_inline_when_every_slot_is_busy() {
    let flow = async_flow(json!({"maxConcurrency": 1}), 300).await;

    let first = Instant::now();
    flow.send("a:in", json!({"context": 1})).await.unwrap();
    assert!(
        first.elapsed() < Duration::from_millis(250),
        "first message held {:?}",
        first.elapsed()
    );

    // The one background slot is still busy with the first message: the second one is
    // delivered inline and its sender waits for the whole delay.
    let second = Instant::now();
    flow.send("a:in", json!({"context": 2})).await.unwrap();
    assert!(
        second.elapsed() >= Duration::from_millis(300),
        "second message returned after {:?}",
        second.elapsed()
    );

    let done = flow.wait_output("w", "out", 2, 5000).await;
    assert_eq!(done.len(), 2);
    flow.stop().await;
}

#[tokio::test]
async fn async_default_concurrency_keeps_many_in_the_background() {
    let flow = async_flow(json!({}), 500).await;

    let started = Instant::now();
    for i in 0..5 {
        flow.send("a:in", json!({"context": i})).await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "5 sends took {:?}",
        started.elapsed()
    );
    let done = flow.wait_output("w", "out", 5, 5000).await;
    assert_eq!(done.len(), 5);
    flow.stop().await;
}

#[tokio::test]
async fn async_rejects_a_message_that_is_not_an_object() {
    let flow = async_flow(json!({}), 10).await;
    let err = flow.send("a:in", json!("hello")).await.unwrap_err();
    assert!(err.contains("invalid message"), "{err}");
    let st = flow.status("a").await;
    assert!(st.ports.iter().any(|p| p == "_settings"), "{:?}", st.ports);
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// signal
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn signal_send_without_context_emits_the_settings_context() {
    let flow = Flow::start(vec![
        node("s", "signal")
            .settings(json!({"context": {"k": "v"}}))
            .edge("out", "d:in", json!({"context": "{{$.k}}"})),
        node("d", "debug"),
    ])
    .await;

    flow.control("s", json!({"send": true})).await.unwrap();
    assert_eq!(
        flow.wait_output("s", "out", 1, 2000).await,
        vec![json!({"k": "v"})]
    );
    assert_eq!(
        flow.wait_output("d", "_control", 1, 2000).await,
        vec![json!({"context": {"context": "v"}})]
    );
    flow.stop().await;
}

#[tokio::test]
async fn signal_send_emits_the_control_context() {
    let flow = Flow::start(vec![
        node("s", "signal")
            .settings(json!({"context": {"k": "v"}}))
            .edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    flow.control("s", json!({"send": true, "context": {"a": 2}}))
        .await
        .unwrap();
    flow.control("s", json!({"send": true, "context": "second"}))
        .await
        .unwrap();
    let mut outs = flow.wait_output("s", "out", 2, 2000).await;
    // Each Send is emitted in the background, so the two may arrive in either order.
    outs.sort_by_key(|v| v.to_string());
    assert_eq!(outs, vec![json!("second"), json!({"a": 2})]);
    flow.stop().await;
}

#[tokio::test]
async fn signal_ignores_controls_without_send_and_rejects_garbage() {
    let flow = Flow::start(vec![
        node("s", "signal")
            .settings(json!({"context": 1}))
            .edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await;

    assert_eq!(
        flow.control("s", json!({"send": false, "context": 5}))
            .await,
        Ok(None)
    );
    assert_eq!(flow.control("s", json!({})).await, Ok(None));
    let err = flow.control("s", json!([true])).await.unwrap_err();
    assert!(err.contains("invalid control message"), "{err}");
    sleep_ms(200).await;
    assert!(flow.outputs("s", "out").is_empty());
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// cron
// ---------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC year of a time in ms since the epoch.
fn utc_year(ms: i64) -> i64 {
    let days = ms.div_euclid(86_400_000);
    let mut year = 1970 + days / 366;
    while days_from_civil(year + 1, 1, 1) <= days {
        year += 1;
    }
    year
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `YYYY-MM-DDTHH:MM:SSZ` → ms since the epoch.
fn parse_rfc3339(text: &str) -> i64 {
    assert_eq!(text.len(), 20, "not RFC 3339 UTC: {text}");
    assert!(text.ends_with('Z'), "not UTC: {text}");
    let n = |a: usize, b: usize| text[a..b].parse::<i64>().unwrap();
    let days = days_from_civil(n(0, 4), n(5, 7), n(8, 10));
    ((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 + n(17, 19) * 1000
}

async fn cron_flow(settings: Value) -> Flow {
    Flow::start(vec![
        node("c", "cron")
            .settings(settings)
            .edge("out", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await
}

#[tokio::test]
async fn cron_start_shows_the_running_state_and_next_run() {
    let flow = cron_flow(json!({})).await;

    let before = now_ms();
    flow.control(
        "c",
        json!({"start": true, "schedule": "*/5 * * * *", "context": {"job": 1}}),
    )
    .await
    .unwrap();
    let state = last_control(&flow, "c").await;
    assert_eq!(state["status"], json!("Running"));
    assert_eq!(state["schedule"], json!("*/5 * * * *"));
    assert_eq!(state["context"], json!({"job": 1}));
    assert_eq!(state["stop"], json!(true));
    let next = parse_rfc3339(state["nextRun"].as_str().expect("nextRun"));
    assert_eq!(next % 300_000, 0, "not on a 5-minute boundary: {state}");
    assert!(
        next > before && next <= before + 300_000 + 1000,
        "next run {next} vs now {before}"
    );

    let meta = flow.status("c").await.metadata;
    assert_eq!(meta.get("cron-running").map(String::as_str), Some("true"));
    assert_eq!(
        meta.get("cron-schedule").map(String::as_str),
        Some("*/5 * * * *")
    );
    assert_eq!(
        meta.get("cron-context").map(String::as_str),
        Some(r#"{"job":1}"#)
    );

    flow.control("c", json!({"stop": true})).await.unwrap();
    let meta = flow.status("c").await.metadata;
    for key in [
        "cron-running",
        "cron-schedule",
        "cron-context",
        "cron-error",
    ] {
        assert!(!meta.contains_key(key), "{key} left after Stop: {meta:?}");
    }
    assert_eq!(
        last_control(&flow, "c").await["status"],
        json!("Not running")
    );
    assert!(flow.outputs("c", "out").is_empty(), "no time matched yet");
    flow.stop().await;
}

#[tokio::test]
async fn cron_computes_next_run_from_the_fields() {
    let flow = cron_flow(json!({})).await;

    // Fixed date: midnight of the next 1 January.
    flow.control("c", json!({"start": true, "schedule": "0 0 1 1 *"}))
        .await
        .unwrap();
    let next = parse_rfc3339(last_control(&flow, "c").await["nextRun"].as_str().unwrap());
    let year = utc_year(now_ms()) + 1;
    assert_eq!(next, days_from_civil(year, 1, 1) * 86_400_000);

    // Names and weekdays: 12:30 on the next Sunday; a running cron takes a new Start.
    flow.control("c", json!({"start": true, "schedule": "30 12 * * SUN"}))
        .await
        .unwrap();
    let next = parse_rfc3339(last_control(&flow, "c").await["nextRun"].as_str().unwrap());
    let days = next.div_euclid(86_400_000);
    assert_eq!((days + 4).rem_euclid(7), 0, "not a Sunday");
    assert_eq!(next.rem_euclid(86_400_000), (12 * 60 + 30) * 60_000);
    assert!(next - now_ms() <= 7 * 86_400_000);

    // Both day fields restricted: either may match (the 13th OR a Friday), so within a week.
    flow.control("c", json!({"start": true, "schedule": "0 0 13 * 5"}))
        .await
        .unwrap();
    let next = parse_rfc3339(last_control(&flow, "c").await["nextRun"].as_str().unwrap());
    assert!(
        next - now_ms() <= 7 * 86_400_000,
        "OR of day fields not applied"
    );

    flow.control("c", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn cron_invalid_schedule_is_an_error() {
    let flow = cron_flow(json!({})).await;

    for (schedule, why) in [
        ("not-a-cron", "expected exactly 5 fields"),
        ("* * * * * *", "expected exactly 5 fields"),
        ("61 * * * *", "above maximum"),
        ("*/0 * * * *", "step"),
        ("0 0 30 2 *", "matches no time"),
        ("@hourly", "descriptors"),
    ] {
        let err = flow
            .control("c", json!({"start": true, "schedule": schedule}))
            .await
            .unwrap_err();
        assert!(
            err.contains("invalid schedule") && err.contains(why),
            "{schedule}: {err}"
        );
    }
    let meta = flow.status("c").await.metadata;
    assert!(!meta.contains_key("cron-running"), "{meta:?}");
    assert!(
        meta.get("cron-error")
            .is_some_and(|e| e.contains("invalid schedule")),
        "{meta:?}"
    );
    let state = last_control(&flow, "c").await;
    assert!(
        state["status"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid schedule"),
        "{state}"
    );

    // A valid start clears the error.
    flow.control("c", json!({"start": true, "schedule": "0 * * * *"}))
        .await
        .unwrap();
    assert!(!flow.status("c").await.metadata.contains_key("cron-error"));
    flow.control("c", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn cron_start_without_schedule_uses_the_settings() {
    let flow = cron_flow(json!({"schedule": "0 * * * *", "context": "hourly"})).await;

    flow.control("c", json!({"start": true})).await.unwrap();
    let state = last_control(&flow, "c").await;
    assert_eq!(state["schedule"], json!("0 * * * *"));
    assert_eq!(state["context"], json!("hourly"));
    let next = parse_rfc3339(state["nextRun"].as_str().unwrap());
    assert_eq!(next % 3_600_000, 0);

    // A context sent while running replaces the one emitted from then on.
    flow.control("c", json!({"context": {"key": "typed later"}}))
        .await
        .unwrap();
    let meta = flow.status("c").await.metadata;
    assert_eq!(
        meta.get("cron-context").map(String::as_str),
        Some(r#"{"key":"typed later"}"#)
    );
    assert_eq!(
        last_control(&flow, "c").await["context"],
        json!({"key": "typed later"})
    );
    flow.control("c", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn cron_resumes_after_restart() {
    let mut flow = cron_flow(json!({})).await;
    flow.control(
        "c",
        json!({"start": true, "schedule": "*/2 * * * *", "context": "kept"}),
    )
    .await
    .unwrap();

    flow.restart().await;
    let meta = flow.status("c").await.metadata;
    assert_eq!(meta.get("cron-running").map(String::as_str), Some("true"));
    assert_eq!(
        meta.get("cron-schedule").map(String::as_str),
        Some("*/2 * * * *")
    );
    // The reconcile at start-up re-arms the schedule and shows it again.
    let mut state = last_control(&flow, "c").await;
    for _ in 0..40 {
        if state["status"] == json!("Running") {
            break;
        }
        sleep_ms(50).await;
        state = last_control(&flow, "c").await;
    }
    assert_eq!(state["status"], json!("Running"), "{state}");
    assert_eq!(state["context"], json!("kept"));
    assert_eq!(
        parse_rfc3339(state["nextRun"].as_str().unwrap()) % 120_000,
        0
    );
    flow.control("c", json!({"stop": true})).await.unwrap();
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// kv
// ---------------------------------------------------------------------------------------

/// kv `k` → debug `d` for query results (the ack port is off unless a test enables it).
async fn kv_flow(settings: Value) -> Flow {
    Flow::start(vec![
        node("k", "kv")
            .settings(settings)
            .edge("query_result", "d:in", json!({})),
        node("d", "debug"),
    ])
    .await
}

fn kv_settings() -> Value {
    json!({"document": {"id": "", "status": ""}, "primaryKey": "id", "maxRecords": 100})
}

async fn store(flow: &Flow, doc: Value) -> Result<Option<Value>, String> {
    flow.send("k:store", json!({"operation": "store", "document": doc}))
        .await
}

#[tokio::test]
async fn kv_store_then_query() {
    let flow = kv_flow(kv_settings()).await;
    store(&flow, json!({"id": "ep1", "status": "UP"}))
        .await
        .unwrap();
    store(&flow, json!({"id": "ep2", "status": "DOWN"}))
        .await
        .unwrap();
    // Storing an existing key replaces the record.
    store(&flow, json!({"id": "ep1", "status": "UP", "note": "again"}))
        .await
        .unwrap();

    flow.send(
        "k:query",
        json!({"context": "q1", "query": "$.status == 'DOWN'"}),
    )
    .await
    .unwrap();
    flow.send("k:query", json!({"context": "q2"}))
        .await
        .unwrap();
    let results = flow.wait_output("k", "query_result", 2, 2000).await;
    assert_eq!(
        results[0],
        json!({"context": "q1", "results": [{"key": "ep2", "document": {"id": "ep2", "status": "DOWN"}}],
               "count": 1, "query": "$.status == 'DOWN'"})
    );
    assert_eq!(results[1]["count"], json!(2));
    assert_eq!(results[1]["results"][0]["key"], json!("ep1"));
    assert_eq!(results[1]["results"][0]["document"]["note"], json!("again"));
    assert_eq!(
        last_control(&flow, "k").await,
        json!({"records": 2, "reset": false})
    );

    // A query that matches nothing answers with an empty list, not an error.
    flow.send("k:query", json!({"query": "$.status == 'GONE'"}))
        .await
        .unwrap();
    let last = flow
        .wait_output("k", "query_result", 3, 2000)
        .await
        .pop()
        .unwrap();
    assert_eq!(
        last,
        json!({"results": [], "count": 0, "query": "$.status == 'GONE'"})
    );
    flow.stop().await;
}

#[tokio::test]
async fn kv_records_are_upstream_state_entries() {
    let flow = kv_flow(kv_settings()).await;
    store(&flow, json!({"id": "ep1", "status": "UP"}))
        .await
        .unwrap();

    let meta = flow.status("k").await.metadata;
    let encoded = meta.get("_state/ep1").expect("record under _state/<key>");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let doc: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(doc, json!({"id": "ep1", "status": "UP"}));
    flow.stop().await;
}

#[tokio::test]
async fn kv_delete_and_reset_remove_records() {
    let flow = kv_flow(kv_settings()).await;
    for id in ["a", "b", "c"] {
        store(&flow, json!({"id": id, "status": "UP"}))
            .await
            .unwrap();
    }
    flow.send(
        "k:store",
        json!({"operation": "delete", "document": {"id": "b"}}),
    )
    .await
    .unwrap();
    let meta = flow.status("k").await.metadata;
    assert!(
        !meta.contains_key("_state/b") && meta.contains_key("_state/a"),
        "{meta:?}"
    );
    assert_eq!(last_control(&flow, "k").await["records"], json!(2));

    flow.control("k", json!({"reset": true})).await.unwrap();
    assert_eq!(
        last_control(&flow, "k").await,
        json!({"records": 0, "reset": false})
    );
    flow.send("k:query", json!({"query": ""})).await.unwrap();
    assert_eq!(
        flow.wait_output("k", "query_result", 1, 2000)
            .await
            .pop()
            .unwrap()["count"],
        json!(0)
    );
    flow.stop().await;
}

#[tokio::test]
async fn kv_max_records_refuses_new_keys_but_allows_updates() {
    let flow = kv_flow(json!({"document": {"id": ""}, "primaryKey": "id", "maxRecords": 2})).await;
    store(&flow, json!({"id": "a"})).await.unwrap();
    store(&flow, json!({"id": "b"})).await.unwrap();
    let err = store(&flow, json!({"id": "c"})).await.unwrap_err();
    assert!(err.contains("store full"), "{err}");
    store(&flow, json!({"id": "a", "updated": "yes"}))
        .await
        .unwrap();
    flow.stop().await;
}

#[tokio::test]
async fn kv_rejects_bad_store_requests() {
    let flow = kv_flow(kv_settings()).await;
    for (doc, why) in [
        (json!({"status": "UP"}), "not found in document"),
        (json!({"id": ""}), "cannot be empty"),
        (json!({"id": 7}), "must be a string"),
        (
            json!({"id": "big", "data": "x".repeat(33 * 1024)}),
            "too large",
        ),
    ] {
        let err = store(&flow, doc).await.unwrap_err();
        assert!(err.contains(why), "{why}: {err}");
    }
    let err = flow
        .send(
            "k:store",
            json!({"operation": "upsert", "document": {"id": "a"}}),
        )
        .await
        .unwrap_err();
    assert!(err.contains("unknown operation"), "{err}");
    assert!(
        flow.status("k")
            .await
            .metadata
            .keys()
            .all(|k| !k.starts_with("_state/"))
    );
    flow.stop().await;
}

#[tokio::test]
async fn kv_store_ack_port_follows_the_setting() {
    let mut flow = kv_flow(kv_settings()).await;
    assert!(
        !flow
            .status("k")
            .await
            .ports
            .iter()
            .any(|p| p == "store_ack")
    );

    let mut settings = kv_settings();
    settings["enableStoreAckPort"] = json!(true);
    flow.apply(vec![
        node("k", "kv")
            .settings(settings)
            .edge("query_result", "d:in", json!({}))
            .edge("store_ack", "a:in", json!({})),
        node("d", "debug"),
        node("a", "debug"),
    ])
    .await;
    assert!(
        flow.status("k")
            .await
            .ports
            .iter()
            .any(|p| p == "store_ack")
    );
    flow.send(
        "k:store",
        json!({"context": "c1", "operation": "store", "document": {"id": "ep1"}}),
    )
    .await
    .unwrap();
    assert_eq!(
        flow.wait_output("k", "store_ack", 1, 2000).await,
        vec![
            json!({"context": "c1", "request": {"context": "c1", "operation": "store", "document": {"id": "ep1"}}})
        ]
    );
    flow.stop().await;
}

#[tokio::test]
async fn kv_settings_must_name_a_primary_key_in_the_document() {
    let flow = kv_flow(json!({"document": {"name": ""}, "primaryKey": "id"})).await;
    let st = flow.status("k").await;
    assert!(
        st.error && st.status.contains("primary key"),
        "{}",
        st.status
    );
    flow.stop().await;
}

#[tokio::test]
async fn kv_records_survive_a_restart() {
    let mut flow = kv_flow(kv_settings()).await;
    store(&flow, json!({"id": "ep1", "status": "DOWN"}))
        .await
        .unwrap();
    flow.restart().await;
    flow.send(
        "k:query",
        json!({"context": "after", "query": "$.status == 'DOWN'"}),
    )
    .await
    .unwrap();
    let last = flow
        .wait_output("k", "query_result", 1, 2000)
        .await
        .pop()
        .unwrap();
    assert_eq!(last["count"], json!(1), "{last}");
    assert_eq!(last["results"][0]["key"], json!("ep1"));
    flow.stop().await;
}

// ---------------------------------------------------------------------------------------
// retry
// ---------------------------------------------------------------------------------------

/// `array_get` `g` whose error port feeds `retry` `r`, whose retries go back into `g`.
/// `index` is the mapping of the retried request's index: with `{{$.attempt - 1}}` the
/// first two attempts fail (index -1, 0) and the third gets item 1.
async fn retry_loop(retry_settings: Value, index: Value) -> Flow {
    Flow::start(vec![
        node("g", "array_get")
            .settings(json!({"enableErrorPort": true}))
            .edge("result", "ok:in", json!({}))
            .edge(
                "error",
                "r:request",
                json!({"context": "{{$.context}}", "error": "{{$.error}}", "retryable": true,
                       "attempt": "{{$.context.attempt}}"}),
            ),
        node("r", "retry")
            .settings(retry_settings)
            .edge(
                "retry",
                "g:request",
                json!({"context": {"attempt": "{{$.attempt}}"}, "array": ["a", "b", "c"], "index": index}),
            )
            .edge("failed", "dead:in", json!({})),
        node("ok", "debug"),
        node("dead", "debug"),
    ])
    .await
}

#[tokio::test]
async fn retry_succeeds_after_transient_failures() {
    let flow = retry_loop(
        json!({"maxAttempts": 5, "initialDelayMs": 20, "maxDelayMs": 100, "backoff": "constant", "jitter": false}),
        json!("{{$.attempt - 1}}"),
    )
    .await;

    let started = Instant::now();
    let resp = flow
        .send(
            "g:request",
            json!({"context": {"attempt": 0}, "array": ["a", "b", "c"], "index": -1}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "two waits of 20 ms"
    );
    assert_eq!(
        flow.wait_output("r", "retry", 2, 2000).await,
        vec![
            json!({"context": {"attempt": 0}, "attempt": 1, "nextDelayMs": 20}),
            json!({"context": {"attempt": 1}, "attempt": 2, "nextDelayMs": 20}),
        ]
    );
    let results = flow.wait_output("g", "result", 1, 2000).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["item"], json!("a"));
    assert!(flow.outputs("r", "failed").is_empty());
    flow.stop().await;
}

#[tokio::test]
async fn retry_gives_up_after_max_attempts() {
    let flow = retry_loop(
        json!({"maxAttempts": 3, "initialDelayMs": 5, "maxDelayMs": 100, "backoff": "linear", "jitter": false}),
        json!(0),
    )
    .await;

    let resp = flow
        .send(
            "g:request",
            json!({"context": {"attempt": 0}, "array": ["a"], "index": 0}),
        )
        .await;
    assert!(resp.is_ok(), "{resp:?}");
    // Linear backoff: 5 ms before attempt 1, 10 ms before attempt 2.
    let delays: Vec<Value> = flow
        .wait_output("r", "retry", 2, 2000)
        .await
        .iter()
        .map(|m| m["nextDelayMs"].clone())
        .collect();
    assert_eq!(delays, vec![json!(5), json!(10)]);
    let failed = flow.wait_output("r", "failed", 1, 2000).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["reason"], json!("max_attempts"));
    assert_eq!(failed[0]["attempt"], json!(3));
    assert_eq!(failed[0]["context"], json!({"attempt": 2}));
    assert!(
        failed[0]["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed:?}"
    );
    assert!(flow.outputs("g", "result").is_empty());
    flow.stop().await;
}

async fn retry_alone(settings: Value) -> Flow {
    Flow::start(vec![
        node("r", "retry")
            .settings(settings)
            .edge("retry", "again:in", json!({}))
            .edge("failed", "dead:in", json!({})),
        node("again", "debug"),
        node("dead", "debug"),
    ])
    .await
}

#[tokio::test]
async fn retry_sends_non_retryable_failures_straight_to_failed() {
    let flow = retry_alone(json!({})).await;
    let started = Instant::now();
    flow.send(
        "r:request",
        json!({"context": "c", "error": "boom", "retryable": false}),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "it must not wait the 500 ms default"
    );
    assert_eq!(
        flow.wait_output("r", "failed", 1, 2000).await,
        vec![json!({"context": "c", "attempt": 0, "error": "boom", "reason": "not_retryable"})]
    );
    assert!(flow.outputs("r", "retry").is_empty());
    flow.stop().await;
}

#[tokio::test]
async fn retry_waits_the_backoff_and_caps_it() {
    let flow = retry_alone(
        json!({"maxAttempts": 20, "initialDelayMs": 20, "maxDelayMs": 120,
                                   "backoff": "exponential", "jitter": false}),
    )
    .await;

    // Attempt 2 → 20 * 2^2 = 80 ms.
    let started = Instant::now();
    flow.send(
        "r:request",
        json!({"context": 1, "attempt": 2, "retryable": true}),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(80),
        "waited {:?}",
        started.elapsed()
    );
    // Attempt 10 → capped at maxDelayMs.
    flow.send("r:request", json!({"attempt": 10, "retryable": true}))
        .await
        .unwrap();
    assert_eq!(
        flow.wait_output("r", "retry", 2, 2000).await,
        vec![
            json!({"context": 1, "attempt": 3, "nextDelayMs": 80}),
            json!({"attempt": 11, "nextDelayMs": 120}),
        ]
    );
    flow.stop().await;
}

#[tokio::test]
async fn retry_jitter_stays_within_a_quarter() {
    let flow = retry_alone(
        json!({"maxAttempts": 20, "initialDelayMs": 40, "maxDelayMs": 1000,
                                   "backoff": "constant", "jitter": true}),
    )
    .await;
    for _ in 0..5 {
        flow.send("r:request", json!({"retryable": true}))
            .await
            .unwrap();
    }
    let outs = flow.wait_output("r", "retry", 5, 2000).await;
    assert_eq!(outs.len(), 5);
    for out in outs {
        let ms = out["nextDelayMs"].as_i64().unwrap();
        assert!((30..=50).contains(&ms), "{ms} outside 40 ms +-25%");
    }
    let err = flow
        .send("r:request", json!({"attempt": "first"}))
        .await
        .unwrap_err();
    assert!(err.contains("invalid request"), "{err}");
    flow.stop().await;
}
