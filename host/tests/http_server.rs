//! The `http_server` built-in through the real binary over real sockets: a request becomes
//! upstream's `Request` message, the flow's `Response` message becomes the answer, and the
//! host answers the bad cases itself — an oversized body (413) or head (431), a slow client,
//! a flow too slow (504) or failing (500, naming the node), a path outside the routes (404)
//! — while HTTP/1.1 keep-alive, HTTP/2 without TLS, TLS, restarts and many connections work.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::http::{
    FlowDir, Http1, SERVER, request, send, send_h2c, serve, server_node, signal, tiny_node,
};

const MODIFY: &str = "00000031.common-module.transform-t";

/// A server whose answer is the whole request message it emitted, as JSON: the Modify node
/// puts the message into `context`, the response maps `context` into the body.
fn echo_flow(settings: Value, start: Value) -> String {
    let response =
        json!({"statusCode": 200, "contentType": "application/json", "body": "{{$.context}}"});
    server_node(
        &settings,
        &format!("{MODIFY}:in"),
        &format!("{MODIFY}:out"),
        &response,
    ) + &modify_node(r#"{context: "{{$}}"}"#)
        + &signal("start", SERVER, "start", &start)
}

/// The Modify node between the server's `request` and `response` ports, its incoming edge
/// mapped with `configuration` (YAML).
fn modify_node(configuration: &str) -> String {
    tiny_node(
        MODIFY,
        "common-module",
        "transform",
        &format!("[{{from: \"{SERVER}:request\", port: in, configuration: {configuration}}}]"),
        &format!("[{{id: answer, port: out, to: \"{SERVER}:response\"}}]"),
    )
}

fn default_start() -> Value {
    json!({"readTimeout": 60, "writeTimeout": 10, "autoHostName": false, "context": {"flow": "echo"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_becomes_upstreams_request_message_and_keep_alive_and_h2c_are_served() {
    let dir = FlowDir::new(&echo_flow(json!({"port": 0}), default_start()));
    let served = serve(dir.path(), &[]);
    assert!(
        served.url.starts_with("http://127.0.0.1:"),
        "{}",
        served.url
    );

    let mut connection = Http1::connect(served.addr).await;
    let mut post = request("POST", "/users/7?name=Ada&tag=a&tag=b", "hi there");
    post.headers_mut()
        .insert("x-zeta", "1".parse().expect("header"));
    post.headers_mut().insert(
        "x-forwarded-for",
        "203.0.113.9, 10.0.0.1".parse().expect("header"),
    );
    let reply = connection.send(post).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/json");
    let message = reply.json();
    assert_eq!(
        message["context"],
        json!({"flow": "echo"}),
        "the start context"
    );
    assert_eq!(message["method"], "POST");
    assert_eq!(message["requestURI"], "/users/7?name=Ada&tag=a&tag=b");
    assert_eq!(
        message["requestParams"],
        json!({"name": ["Ada"], "tag": ["a", "b"]})
    );
    assert_eq!(message["host"], "test.local");
    assert_eq!(message["realIP"], "203.0.113.9");
    assert_eq!(message["body"], "hi there");
    assert_eq!(message["scheme"], "http");
    assert_eq!(message["path"], "/users/7");
    assert!(message["podName"].as_str().is_some_and(|p| !p.is_empty()));
    assert!(
        message["remoteAddr"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{message}"
    );
    // Upstream's headers: canonical keys, sorted.
    let keys: Vec<&str> = message["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h["key"].as_str())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        keys.contains(&"X-Zeta") && keys.contains(&"X-Forwarded-For"),
        "{keys:?}"
    );

    // Keep-alive: the same connection serves the next request.
    let again = connection.send(request("GET", "/again", "")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["requestURI"], "/again");

    // HTTP/2 by prior knowledge on the same port.
    let h2 = send_h2c(served.addr, request("GET", "/h2", "")).await;
    assert_eq!(h2.status, 200);
    assert_eq!(h2.json()["requestURI"], "/h2");

    // A binary body reaches the flow as base64.
    let binary = send(
        served.addr,
        request("POST", "/bin", vec![0xff_u8, 0x00, 0xfe]),
    )
    .await;
    let message = binary.json();
    assert_eq!(message["body"], "/wD+");
    assert_eq!(message["bodyEncoding"], "base64");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_of_upstream_components_answers_with_upstreams_response_shape() {
    // Only upstream names and settings: no content type → echo's text/plain default; a
    // header list (the last value of a name wins); statusCode from the mapping.
    let response = json!({
        "statusCode": 201,
        "headers": [{"key": "X-Answer", "value": "1"}, {"key": "X-Answer", "value": "2"}],
        "body": "created {{$.context.who}}",
    });
    let flow = server_node(
        &json!({"enableStatusPort": false, "enableStopPort": false, "maxBodySize": 0}),
        &format!("{MODIFY}:in"),
        &format!("{MODIFY}:out"),
        &response,
    ) + &modify_node(r#"{context: {who: "{{$.body}}"}}"#)
        + &signal(
            "start",
            SERVER,
            "start",
            &json!({"readTimeout": 60, "writeTimeout": 10}),
        );
    let dir = FlowDir::new(&flow);
    let served = serve(dir.path(), &[]);
    let reply = send(served.addr, request("PUT", "/", "Ada")).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("content-type"), "text/plain; charset=UTF-8");
    assert_eq!(reply.header("x-answer"), "2");
    assert_eq!(reply.headers.get_all("x-answer").iter().count(), 1);
    assert_eq!(&reply.body[..], b"created Ada");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_and_oversized_heads_431_without_reaching_the_flow() {
    let dir = FlowDir::new(&echo_flow(
        json!({"port": 0, "maxBodySize": 1}),
        default_start(),
    ));
    let served = serve(dir.path(), &[]);
    let mb = 1024 * 1024;
    let fits = send(served.addr, request("POST", "/", vec![b'a'; mb])).await;
    assert_eq!(fits.status, 200, "exactly the limit is accepted");
    let declared = send(served.addr, request("POST", "/", vec![b'a'; mb + 1])).await;
    assert_eq!(declared.status, 413);
    assert_eq!(declared.json()["message"], "Payload Too Large");
    assert!(
        declared.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("1048576"))
    );

    // Chunked, so the size is only known while reading.
    let mut stream = TcpStream::connect(served.addr).await.expect("connect");
    let chunk = vec![b'b'; 64 * 1024];
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .expect("head");
    for _ in 0..20 {
        let sent = stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .and(stream.write_all(&chunk).await)
            .and(stream.write_all(b"\r\n").await);
        if sent.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");

    // A 70 KiB header.
    let mut big = request("GET", "/", "");
    big.headers_mut()
        .insert("x-big", "a".repeat(70 * 1024).parse().expect("header"));
    let mut stream = TcpStream::connect(served.addr).await.expect("connect");
    let head = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");

    // Nothing of the refused requests reached the flow, and the server still serves.
    let fine = send(served.addr, request("GET", "/still", "")).await;
    assert_eq!(fine.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_cut_off_and_a_late_body_gets_408() {
    let start = json!({"readTimeout": 1, "writeTimeout": 10, "autoHostName": false});
    let dir = FlowDir::new(&echo_flow(json!({"port": 0}), start));
    let served = serve(dir.path(), &[]);

    // Half a request head, then nothing: disconnected after the read timeout.
    let mut slow = TcpStream::connect(served.addr).await.expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("partial head");
    let began = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the slow client was not disconnected");
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );

    // A head with a body promised and half sent: 408 after the read timeout.
    let mut late = TcpStream::connect(served.addr).await.expect("connect");
    late.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n12345")
        .await
        .expect("partial body");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), late.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");

    // Meanwhile others are served.
    assert_eq!(send(served.addr, request("GET", "/", "")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_flow_gets_504_and_a_failing_one_500_naming_the_node() {
    const DELAY: &str = "00000032.common-module.delay-t";
    const PICK: &str = "00000033.common-module.array-get-t";
    const ROUTER: &str = "00000034.common-module.router-t";
    // `/slow` goes through a 3 s delay, `/fail` to an array_get that fails, `/none` nowhere.
    let flow = server_node(
        &json!({"port": 0}),
        &format!("{ROUTER}:input"),
        &format!("{DELAY}:out"),
        &json!({"statusCode": 200, "body": "late"}),
    ) + &tiny_node(
        ROUTER,
        "common-module",
        "router",
        &format!(
            "[{{port: _settings, configuration: {{routes: [SLOW, FAIL, NONE]}}}}, {{from: \"{SERVER}:request\", port: input, configuration: {{context: \"{{{{$}}}}\", conditions: [{{route: SLOW, condition: \"{{{{$.requestURI == '/slow'}}}}\"}}, {{route: FAIL, condition: \"{{{{$.requestURI == '/fail'}}}}\"}}, {{route: NONE, condition: true}}]}}}}]"
        ),
        &format!(
            "[{{id: slow, port: out_slow, to: \"{DELAY}:in\"}}, {{id: fail, port: out_fail, to: \"{PICK}:request\"}}]"
        ),
    ) + &tiny_node(
        DELAY,
        "common-module",
        "delay",
        &format!("[{{from: \"{ROUTER}:out_slow\", port: in, configuration: {{delay: 3000}}}}]"),
        &format!("[{{id: back, port: out, to: \"{SERVER}:response\"}}]"),
    ) + &tiny_node(
        PICK,
        "common-module",
        "array_get",
        &format!(
            "[{{from: \"{ROUTER}:out_fail\", port: request, configuration: {{array: [], index: 5}}}}]"
        ),
        "[]",
    ) + &signal(
        "start",
        SERVER,
        "start",
        &json!({"readTimeout": 60, "writeTimeout": 1, "autoHostName": false}),
    );
    let dir = FlowDir::new(&flow);
    let served = serve(dir.path(), &[]);

    let began = Instant::now();
    let slow = send(served.addr, request("GET", "/slow", "")).await;
    assert_eq!(slow.status, 504);
    assert!(
        began.elapsed() < Duration::from_millis(2900),
        "{:?}",
        began.elapsed()
    );
    let body = slow.json();
    assert_eq!(body["message"], "Gateway Timeout");
    assert_eq!(body["node"], SERVER);

    let fail = send(served.addr, request("GET", "/fail", "")).await;
    assert_eq!(fail.status, 500);
    let body = fail.json();
    assert_eq!(body["message"], "Internal Server Error");
    assert_eq!(body["node"], SERVER);
    let error = body["error"].as_str().expect("error text");
    assert!(error.contains(PICK), "the failing node is named: {error}");
    assert!(!error.contains('\n'), "no backtrace: {error}");

    let none = send(served.addr, request("GET", "/none", "")).await;
    assert_eq!(none.status, 500);
    assert!(
        none.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("no response"))
    );

    // The server survived all of it.
    let fail_again = send(served.addr, request("GET", "/fail", "")).await;
    assert_eq!(fail_again.status, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_the_routes_get_404_and_route_parameters_reach_the_flow() {
    let settings = json!({"port": 0, "routes": ["/users/{id}", "/static/{*rest}"]});
    let dir = FlowDir::new(&echo_flow(settings, default_start()));
    let served = serve(dir.path(), &[]);
    let user = send(served.addr, request("GET", "/users/7", "")).await;
    assert_eq!(user.status, 200);
    assert_eq!(user.json()["route"], "/users/{id}");
    assert_eq!(user.json()["params"], json!({"id": "7"}));
    let file = send(served.addr, request("GET", "/static/a/b.css", "")).await;
    assert_eq!(file.json()["params"], json!({"rest": "a/b.css"}));
    let unknown = send(served.addr, request("GET", "/other", "")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["message"], "Not Found");
    assert!(
        unknown.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("/other"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_serves_the_same_port_from_metadata_and_stop_closes_it() {
    let settings = json!({"port": 0, "enableStopPort": true});
    let dir = FlowDir::new(&echo_flow(settings, default_start()));
    let first = serve(dir.path(), &[]);
    let port = first.addr.port();
    // Metadata is written behind; wait until the port is on disk before stopping.
    let state = support::http::state_dir(dir.path());
    let recorded = support::http::eventually(Duration::from_secs(5), || {
        std::fs::read_dir(&state)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                std::fs::read_to_string(entry.path()).is_ok_and(|text| {
                    text.contains("http-start") && text.contains(&port.to_string())
                })
            })
    })
    .await;
    assert!(
        recorded,
        "the port and start configuration were not persisted"
    );
    drop(first);

    // No start signal this time: the recorded configuration and port bring it back.
    let flow = std::fs::read_to_string(dir.path().join("flow.yaml")).expect("flow");
    let without_signal = flow
        .split("kind: TinySignal")
        .next()
        .expect("nodes")
        .to_string();
    let without_signal =
        without_signal.trim_end_matches("apiVersion: operator.tinysystems.io/v1alpha1\n");
    dir.write("flow.yaml", without_signal);
    let second = serve(dir.path(), &[]);
    assert_eq!(second.addr.port(), port, "the port recorded in metadata");
    assert_eq!(send(second.addr, request("GET", "/", "")).await.status, 200);

    // A message on `stop` closes the listener.
    dir.write("stop.yaml", &signal("stop", SERVER, "stop", &json!({})));
    second.lines.expect("the server stopped", |v| {
        v["node"] == SERVER && v["port"] == "_control" && v["data"]["status"] == "Not running"
    });
    let refused = support::http::eventually(Duration::from_secs(5), || {
        std::net::TcpStream::connect(second.addr).is_err()
    })
    .await;
    assert!(refused, "the port still accepts connections after stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_get_their_own_listeners_and_a_taken_port_is_a_node_error() {
    const OTHER: &str = "00000035.http-module.http-server-other";
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("addr").port();
    let other = tiny_node(
        OTHER,
        "http-module",
        "http_server",
        &format!("[{{port: _settings, configuration: {{port: {taken_port}}}}}]"),
        "[]",
    ) + &signal("start-other", OTHER, "start", &json!({}));
    let dir = FlowDir::new(&(echo_flow(json!({"port": 0}), default_start()) + &other));
    let lines = support::json_lines::JsonLines::start(
        support::tinyhost_command()
            .args(["run", "--output", "json", "--duration", "300s"])
            .arg(dir.path()),
    );
    // The two nodes start in either order: watch for both outcomes in one pass.
    let (mut url, mut error) = (None, None);
    while url.is_none() || error.is_none() {
        let line = lines.expect("the server running and the taken port reported", |v| {
            support::http::running(v, SERVER)
                || (v["type"] == "error"
                    && v["message"].as_str().is_some_and(|m| {
                        m.contains("start-other") && m.contains(&taken_port.to_string())
                    }))
        });
        if line["type"] == "error" {
            error = line["message"].as_str().map(str::to_string);
        } else {
            url = line["data"]["listenAddr"][0].as_str().map(str::to_string);
        }
    }
    let addr = support::http::address_of(url.as_deref().unwrap_or_default());
    assert_eq!(send(addr, request("GET", "/", "")).await.status, 200);
    let error = error.unwrap_or_default();
    assert!(error.contains("cannot listen"), "{error}");
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_with_the_start_messages_certificate() {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    let start = json!({
        "readTimeout": 60, "writeTimeout": 10, "autoHostName": false,
        "tlsCert": cert.pem(), "tlsKey": key.serialize_pem(),
    });
    let dir = FlowDir::new(&echo_flow(json!({"port": 0}), start));
    let served = serve(dir.path(), &[]);
    assert!(served.url.starts_with("https://"), "{}", served.url);

    use rustls_pki_types::ServerName;
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).expect("root");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(served.addr).await.expect("connect");
    let tls = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("tls handshake");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    let response = sender
        .send_request(request("GET", "/secure", ""))
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    use http_body_util::BodyExt;
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let message: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(message["scheme"], "https");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_connections_are_all_answered_in_bounded_memory() {
    const CONNECTIONS: usize = 10_000;
    let dir = FlowDir::new(&echo_flow(json!({"port": 0}), default_start()));
    let served = serve(dir.path(), &[]);
    let addr = served.addr;
    // Every connection open at once before any request is sent.
    let mut streams = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        streams.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, mut stream)| {
            tokio::spawn(async move {
                let head = format!("GET /c/{i} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
                stream.write_all(head.as_bytes()).await?;
                let mut answer = Vec::new();
                stream.read_to_end(&mut answer).await?;
                Ok::<_, std::io::Error>(answer)
            })
        })
        .collect();
    let mut ok = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        let answer = task.await.expect("task").expect("exchange");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200"), "connection {i}: {text}");
        assert!(
            text.contains(&format!("/c/{i}")),
            "connection {i} got another's answer"
        );
        ok += 1;
    }
    assert_eq!(ok, CONNECTIONS);
    let pid = served.lines.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    eprintln!(
        "peak RSS with {CONNECTIONS} connections: {} MiB",
        peak_kib / 1024
    );
    assert!(peak_kib < 384 * 1024, "peak RSS {peak_kib} KiB");
    assert_eq!(send(addr, request("GET", "/after", "")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_port_tells_the_flow_when_the_server_starts_and_stops() {
    const WATCH: &str = "00000036.common-module.debug-status";
    let settings = json!({"port": 0, "enableStatusPort": true, "enableStopPort": true});
    let server = server_node(
        &settings,
        &format!("{MODIFY}:in"),
        &format!("{MODIFY}:out"),
        &json!({"statusCode": 200}),
    );
    // The server's own node again, with its status port wired to a debug node.
    let server = server.replacen(
        "edges: [",
        &format!("edges: [{{id: status, port: status, to: \"{WATCH}:in\"}}, "),
        1,
    );
    let flow = server
        + &modify_node(r#"{context: "{{$}}"}"#)
        + &tiny_node(
            WATCH,
            "common-module",
            "debug",
            &format!(
                "[{{from: \"{SERVER}:status\", port: in, configuration: {{status: \"{{{{$}}}}\"}}}}]"
            ),
            "[]",
        )
        + &signal(
            "start",
            SERVER,
            "start",
            &json!({"context": {"n": 1}, "autoHostName": false}),
        );
    let dir = FlowDir::new(&flow);
    let served = serve(dir.path(), &[]);
    let up = served.lines.expect("the status port saying it runs", |v| {
        v["node"] == WATCH && v["data"]["context"]["status"]["isRunning"] == true
    });
    assert_eq!(up["data"]["context"]["status"]["context"], json!({"n": 1}));
    assert_eq!(
        up["data"]["context"]["status"]["listenAddr"],
        json!([served.url])
    );
    dir.write("stop.yaml", &signal("stop", SERVER, "stop", &json!({})));
    served
        .lines
        .expect("the status port saying it stopped", |v| {
            v["node"] == WATCH && v["data"]["context"]["status"]["isRunning"] == false
        });
}
