//! HTTP for the tests: a flow folder with an `http_server` node run by the real binary
//! (`tinyhost run --output json`), the URL it reports once listening, and a small client
//! (HTTP/1.1 with keep-alive, HTTP/2 by prior knowledge, optional TLS) and a backend server
//! on loopback for flows that call out.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::TcpStream;

use super::json_lines::JsonLines;
use super::tinyhost_command;

/// The `http_server` node of every test flow.
pub const SERVER: &str = "00000030.http-module.http-server-t";

/// A manifest of a TinyNode (`ports` and `edges` are YAML lists, possibly empty).
pub fn tiny_node(name: &str, module: &str, component: &str, ports: &str, edges: &str) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinyNode\nmetadata: {{name: {name}}}\nspec:\n  module: {module}\n  component: {component}\n  ports: {ports}\n  edges: {edges}\n---\n"
    )
}

/// A TinySignal to `node:port` carrying `data` (a JSON value).
pub fn signal(name: &str, node: &str, port: &str, data: &Value) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinySignal\nmetadata: {{name: {name}}}\nspec:\n  node: {node}\n  port: {port}\n  data: {data}\n---\n"
    )
}

/// The test server node: `settings`, the response mapped from `response_from` with
/// `response`, and its request port wired to `request_to`.
pub fn server_node(
    settings: &Value,
    request_to: &str,
    response_from: &str,
    response: &Value,
) -> String {
    tiny_node(
        SERVER,
        "http-module",
        "http_server",
        &format!(
            "[{{port: _settings, configuration: {settings}}}, {{from: \"{response_from}\", port: response, configuration: {response}}}]"
        ),
        &format!("[{{id: request, port: request, to: \"{request_to}\"}}]"),
    )
}

/// A folder of manifests.
pub struct FlowDir {
    dir: tempfile::TempDir,
}

impl FlowDir {
    /// A folder holding `manifests` in `flow.yaml`.
    pub fn new(manifests: &str) -> FlowDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("flow.yaml"), manifests).expect("write flow");
        FlowDir { dir }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or replaces) `file` in the folder.
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).expect("write manifest");
    }

    /// Removes `file` from the folder.
    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.path().join(file)).expect("remove manifest");
    }
}

/// A running `tinyhost run` of a folder, with the address its server node reported.
pub struct Served {
    /// The process's JSON lines.
    pub lines: JsonLines,
    /// What the server node reported in `_control.listenAddr`.
    pub url: String,
    /// Its socket address.
    pub addr: SocketAddr,
}

/// Whether `v` is the `_control` line of `node` saying it runs.
pub fn running(v: &Value, node: &str) -> bool {
    v["type"] == "message"
        && v["node"] == node
        && v["port"] == "_control"
        && v["data"]["status"] == "Running"
}

/// Runs `dir` with `extra` arguments and waits until [`SERVER`] listens.
pub fn serve(dir: &Path, extra: &[&str]) -> Served {
    serve_node(dir, SERVER, extra)
}

/// Runs `dir` with `extra` arguments and waits until the server `node` listens.
pub fn serve_node(dir: &Path, node: &str, extra: &[&str]) -> Served {
    let lines = JsonLines::start(
        tinyhost_command()
            .args(["run", "--output", "json", "--duration", "300s"])
            .args(extra)
            .arg(dir),
    );
    let control = lines.expect("the http server running", |v| running(v, node));
    let url = control["data"]["listenAddr"][0]
        .as_str()
        .expect("a listen address")
        .to_string();
    let addr = address_of(&url);
    Served { lines, url, addr }
}

/// `127.0.0.1:PORT` of `http://127.0.0.1:PORT`.
pub fn address_of(url: &str) -> SocketAddr {
    let authority = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("an absolute URL");
    authority
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("a socket address")
}

/// A finished exchange.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A request to send.
pub fn request(method: &str, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", "test.local")
        .body(Full::new(body.into()))
        .expect("a valid request")
}

async fn finish(response: Response<Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("response body").to_bytes();
    Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

/// An HTTP/1.1 connection that stays open between requests.
pub struct Http1 {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Http1 {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Http1 {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("http/1.1 handshake");
        tokio::spawn(connection);
        Http1 { sender }
    }

    /// Sends one request on the connection.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Reply {
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        finish(response).await
    }
}

/// One request on a new HTTP/1.1 connection.
pub async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> Reply {
    Http1::connect(addr).await.send(request).await
}

/// One request over HTTP/2 without TLS (prior knowledge).
pub async fn send_h2c(addr: SocketAddr, request: Request<Full<Bytes>>) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2c handshake");
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    parts.uri = format!("http://{addr}{}", parts.uri).parse().expect("uri");
    let response = sender
        .send_request(Request::from_parts(parts, body))
        .await
        .expect("response");
    finish(response).await
}

/// A backend on loopback answering every request with `answer(request)`; stopped when
/// dropped.
pub struct Backend {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a backend sees of a request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

type Answer =
    Arc<dyn Fn(Seen) -> futures::future::BoxFuture<'static, Response<Full<Bytes>>> + Send + Sync>;

/// Starts a backend.
pub async fn backend(answer: Answer) -> Backend {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind backend");
    let addr = listener.local_addr().expect("backend address");
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let answer = answer.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let seen = Seen {
                            method: parts.method.to_string(),
                            uri: parts.uri.to_string(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(k, v)| {
                                    (k.to_string(), v.to_str().unwrap_or_default().to_string())
                                })
                                .collect(),
                            body,
                        };
                        Ok::<_, Infallible>(answer(seen).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Backend { addr, task }
}

/// A response with `status`, `content-type` and `body`.
pub fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("a valid response")
}

/// `GET path` on loopback `port` over a plain HTTP/1.1 connection that closes after the
/// answer: the status code and the body, or `None` when nothing answers.
pub async fn get_status_and_body(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())?;
    Some((code, body))
}

/// The `.tinyhost/state` folder of a flow folder.
pub fn state_dir(dir: &Path) -> PathBuf {
    dir.join(".tinyhost").join("state")
}

/// Waits up to `within` for `check` to hold.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}
