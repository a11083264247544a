//! Outbound HTTP through the real binary against a backend on loopback: the
//! `http_request` built-in (upstream's message shapes, auth headers, status errors and
//! their retryability, the error port, timeouts, the response cap, redirects), the
//! `http-proxy` example end to end, and `wasi:http` for author components — denied unless
//! the module allows the host, and never charged to the call's CPU time while it waits.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use serde_json::{Value, json};

use support::http::{Backend, FlowDir, Seen, backend, respond, serve_node, signal, tiny_node};
use support::{examples, testkit, tinyhost_command};

const REQUEST: &str = "00000050.http-module.http-request-t";
const SINK: &str = "00000051.test.chaos-sink";

/// An `http_request` node whose response and error ports end in a node that answers with
/// what it got, so `tinyhost call` prints the message the port carried.
fn client_flow(settings: &Value) -> FlowDir {
    let sink_ports = format!(
        "[{{from: \"{REQUEST}:response\", port: in, configuration: {{do: echo, value: {{port: response, message: \"{{{{$}}}}\"}}}}}}, {{from: \"{REQUEST}:error\", port: in, configuration: {{do: echo, value: {{port: error, message: \"{{{{$}}}}\"}}}}}}]"
    );
    FlowDir::new(
        &(tiny_node(
            REQUEST,
            "http-module",
            "http_request",
            &format!("[{{port: _settings, configuration: {settings}}}]"),
            &format!(
                "[{{id: ok, port: response, to: \"{SINK}:in\"}}, {{id: failed, port: error, to: \"{SINK}:in\"}}]"
            ),
        ) + &tiny_node(SINK, "test", "chaos", &sink_ports, "[]")),
    )
}

/// `tinyhost call DIR NODE:PORT --data DATA` with the test component and `extra` flags.
async fn call(dir: &Path, to: &str, data: &Value, extra: &[&str]) -> (bool, Value, String) {
    let mut command = tinyhost_command();
    command
        .arg("call")
        .arg(dir)
        .arg(to)
        .args(["--data", &data.to_string(), "--components"])
        .arg(testkit())
        .args(extra);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("tinyhost runs");
    let stdout: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A backend recording what it saw and answering by path.
async fn recording_backend() -> (Backend, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let server = backend(Arc::new(move |request: Seen| {
        if let Ok(mut log) = log.lock() {
            log.push(request.clone());
        }
        async move {
            let path = request
                .uri
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string();
            match path.as_str() {
                "/missing" => respond(404, "text/plain", "no such thing"),
                "/busy" => respond(503, "text/plain", "try later"),
                "/limited" => respond(429, "text/plain", "slow down"),
                "/big" => respond(200, "text/plain", vec![b'x'; 1000]),
                "/slow" => {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    respond(200, "text/plain", "finally")
                }
                "/redirect" => hyper::Response::builder()
                    .status(302)
                    .header("location", "/landed")
                    .body(http_body_util::Full::new(bytes::Bytes::new()))
                    .expect("response"),
                _ => respond(200, "application/json", r#"{"hello":"world"}"#),
            }
        }
        .boxed()
    }))
    .await;
    (server, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_sent_as_described_and_its_response_emitted_in_upstreams_shape() {
    let (server, seen) = recording_backend().await;
    let dir = client_flow(&json!({}));
    let url = format!("http://{}/things?a=1", server.addr);
    let (ok, reply, stderr) = call(
        dir.path(),
        &format!("{REQUEST}:request"),
        &json!({
            "context": {"id": 7}, "method": "POST", "url": url, "timeout": 5,
            "bearerToken": "secret", "contentType": "application/json",
            "headers": [{"key": "X-Trace", "value": "t1"}], "body": "{\"q\":1}",
        }),
        &[],
    )
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(reply["port"], "response");
    let message = &reply["message"];
    assert_eq!(message["context"], json!({"id": 7}));
    assert_eq!(message["response"]["statusCode"], 200);
    assert_eq!(message["response"]["status"], "200 OK");
    assert_eq!(message["response"]["body"], r#"{"hello":"world"}"#);
    assert!(
        message["response"]["headers"].as_array().is_some_and(|h| h
            .iter()
            .any(|h| h["key"] == "content-type" && h["value"] == "application/json")),
        "{message}"
    );
    let seen = seen.lock().expect("log").clone();
    let request = seen.first().expect("the backend was called");
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "/things?a=1");
    assert_eq!(&request.body[..], br#"{"q":1}"#);
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("authorization"), Some("Bearer secret"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("x-trace"), Some("t1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_is_encoded_and_redirects_are_followed() {
    let (server, seen) = recording_backend().await;
    let dir = client_flow(&json!({}));
    let (ok, reply, stderr) = call(
        dir.path(),
        &format!("{REQUEST}:request"),
        &json!({"method": "GET", "url": format!("http://{}/redirect", server.addr), "timeout": 5,
                "basicAuthUser": "ada", "basicAuthPassword": "pw"}),
        &[],
    )
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(reply["message"]["response"]["statusCode"], 200);
    let seen = seen.lock().expect("log").clone();
    let uris: Vec<&str> = seen.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(uris, ["/redirect", "/landed"]);
    assert!(
        seen[0]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Basic YWRhOnB3"),
        "{:?}",
        seen[0].headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_go_to_the_error_port_with_upstreams_retryability() {
    let (server, _seen) = recording_backend().await;
    let dir = client_flow(&json!({"enableErrorPort": true, "maxResponseBytes": 100}));
    let to = format!("{REQUEST}:request");
    let ask = |path: &str| json!({"context": "c", "method": "GET", "url": format!("http://{}{path}", server.addr), "timeout": 1});
    for (path, error, retryable, status) in [
        ("/missing", "no such thing", false, 404),
        ("/busy", "try later", true, 503),
        ("/limited", "slow down", true, 429),
        ("/big", "exceeds the 100 byte cap", false, 0),
        ("/slow", "timed out", true, 0),
    ] {
        let began = Instant::now();
        let (ok, reply, stderr) = call(dir.path(), &to, &ask(path), &[]).await;
        assert!(ok, "{path}: {stderr}");
        assert_eq!(reply["port"], "error", "{path}: {reply}");
        let message = &reply["message"];
        assert_eq!(message["context"], "c");
        assert!(
            message["error"].as_str().is_some_and(|e| e.contains(error)),
            "{path}: {message}"
        );
        assert_eq!(message["retryable"], retryable, "{path}: {message}");
        assert_eq!(
            message["response"]["statusCode"], status,
            "{path}: {message}"
        );
        if path == "/slow" {
            assert!(
                began.elapsed() < Duration::from_millis(1450) + Duration::from_secs(1),
                "{:?}",
                began.elapsed()
            );
        }
    }
    // Nobody listens on a freshly freed port.
    let refused = json!({"method": "GET", "url": format!("http://127.0.0.1:{}/", support::free_port()), "timeout": 2});
    let (ok, reply, stderr) = call(dir.path(), &to, &refused, &[]).await;
    assert!(ok, "{stderr}");
    assert_eq!(reply["message"]["retryable"], true, "{reply}");
    assert!(
        reply["message"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("request failed")),
        "{reply}"
    );
    // A URL that cannot be sent is permanent.
    let (ok, reply, _) = call(dir.path(), &to, &json!({"url": "ftp://x/y"}), &[]).await;
    assert!(ok);
    assert_eq!(reply["message"]["retryable"], false, "{reply}");
    assert!(
        reply["message"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("ftp")),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_error_port_a_failure_fails_the_flow() {
    let (server, _seen) = recording_backend().await;
    let dir = client_flow(&json!({}));
    let (ok, _, stderr) = call(
        dir.path(),
        &format!("{REQUEST}:request"),
        &json!({"method": "GET", "url": format!("http://{}/missing", server.addr), "timeout": 5}),
        &[],
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.contains("no such thing") && stderr.contains(REQUEST),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_example_forwards_to_its_upstream_and_reports_a_dead_one_as_502() {
    let flow = std::fs::read_to_string(examples().join("http-proxy/flow.yaml")).expect("example");
    let (proxy_port, upstream_port) = (support::free_port(), support::free_port());
    let flow = flow
        .replace("8081", &proxy_port.to_string())
        .replace("8082", &upstream_port.to_string());
    let dir = FlowDir::new(&flow);
    let lines = support::json_lines::JsonLines::start(
        tinyhost_command()
            .args(["run", "--output", "json", "--duration", "120s"])
            .arg(dir.path()),
    );
    // The two start in either order: watch for both in one pass.
    let mut waiting = vec![
        "00000040.http-module.http-server-proxy",
        "00000042.http-module.http-server-upstream",
    ];
    while !waiting.is_empty() {
        let line = lines.expect("both servers running", |v| {
            v["port"] == "_control" && v["data"]["status"] == "Running"
        });
        waiting.retain(|node| line["node"] != *node);
    }
    let addr = format!("127.0.0.1:{proxy_port}").parse().expect("address");
    let reply = support::http::send(
        addr,
        support::http::request("POST", "/anything?x=1", "ping"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"upstream": "echo", "method": "POST", "uri": "/anything?x=1", "body": "ping"})
    );
    // Stop the upstream: the proxy answers 502 from its error port.
    dir.write(
        "stop.yaml",
        &signal(
            "stop-upstream",
            "00000042.http-module.http-server-upstream",
            "start",
            &Value::Null,
        ),
    );
    lines.expect("the upstream stopped", |v| {
        v["node"] == "00000042.http-module.http-server-upstream"
            && v["port"] == "_control"
            && v["data"]["status"] == "Not running"
    });
    let reply = support::http::send(addr, support::http::request("GET", "/x", "")).await;
    assert_eq!(reply.status, 502);
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("request failed")),
        "{:?}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_example_serves_as_its_comment_shows() {
    let flow = std::fs::read_to_string(examples().join("http-echo/flow.yaml")).expect("example");
    let port = support::free_port();
    let dir = FlowDir::new(&flow.replace("port: 8080", &format!("port: {port}")));
    let served = serve_node(dir.path(), "00000020.http-module.http-server-echo", &[]);
    let reply = support::http::send(
        served.addr,
        support::http::request("POST", "/hello?name=Ada", "hi there"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"method": "POST", "uri": "/hello?name=Ada", "name": ["Ada"], "body": "hi there", "from": "127.0.0.1"})
    );
}

/// The test component fetching `url` over `wasi:http`.
fn fetch_flow() -> FlowDir {
    FlowDir::new(&tiny_node(SINK, "test", "chaos", "[]", "[]"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn author_components_reach_only_the_hosts_their_module_allows() {
    let (server, seen) = recording_backend().await;
    let dir = fetch_flow();
    let to = format!("{SINK}:in");
    let fetch = json!({"do": "fetch", "url": format!("http://{}/ok", server.addr)});

    let (ok, _, stderr) = call(dir.path(), &to, &fetch, &[]).await;
    assert!(!ok, "denied by default");
    assert!(
        stderr.contains("denied") && stderr.contains(&server.addr.to_string()),
        "{stderr}"
    );

    let other_port = format!("127.0.0.1:{}", server.addr.port().wrapping_add(1));
    let (ok, _, stderr) = call(
        dir.path(),
        &to,
        &fetch,
        &["--allow-outbound-http", &other_port],
    )
    .await;
    assert!(!ok, "another port of the same host is not allowed");
    assert!(stderr.contains("denied"), "{stderr}");
    assert!(
        seen.lock().expect("log").is_empty(),
        "nothing reached the backend"
    );

    let allowed = format!("127.0.0.1:{}", server.addr.port());
    let (ok, reply, stderr) = call(
        dir.path(),
        &to,
        &fetch,
        &["--allow-outbound-http", &allowed],
    )
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(
        reply,
        json!({"status": 200, "body": r#"{"hello":"world"}"#})
    );

    let (ok, _, stderr) = call(
        dir.path(),
        &to,
        &fetch,
        &["--allow-outbound-http", "ftp://x"],
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.contains("--allow-outbound-http") && stderr.contains("ftp://x"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_response_does_not_count_against_the_call_time_limit() {
    let (server, _seen) = recording_backend().await;
    let dir = fetch_flow();
    let fetch = json!({"do": "fetch", "url": format!("http://{}/slow", server.addr)});
    let (ok, reply, stderr) = call(
        dir.path(),
        &format!("{SINK}:in"),
        &fetch,
        &[
            "--allow-outbound-http",
            "127.0.0.1:*",
            "--call-time-limit",
            "500ms",
        ],
    )
    .await;
    assert!(ok, "a 1.5 s response within a 500 ms CPU limit: {stderr}");
    assert_eq!(reply["body"], "finally");
}
