//! The real control plane (`tinyhost-control-plane`) as the cluster tests use it: start
//! one, drive it with kubectl as a person would, and read objects back as JSON.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tinyhost_control_plane::{ControlPlane, Options};

/// A control plane for one test; the test fails with the reason when it cannot start.
pub fn control_plane() -> ControlPlane {
    control_plane_with(Options::default())
}

/// A control plane started as `options` say, for one test.
pub fn control_plane_with(options: Options) -> ControlPlane {
    ControlPlane::start_with(options)
        .unwrap_or_else(|e| panic!("the control plane did not start: {e}"))
}

/// Runs `command` with `stdin` fed in; its output.
pub fn run_with_input(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("writing stdin");
    }
    child.wait_with_output().expect("the command finishes")
}

/// `kubectl apply -f -` of `objects` (YAML or JSON); its output.
pub fn apply(cp: &ControlPlane, objects: &[u8]) -> Output {
    let mut kubectl = cp.kubectl();
    kubectl.args(["apply", "-f", "-"]);
    run_with_input(kubectl, objects)
}

/// `kubectl ARGS -o json`, parsed; panics with kubectl's message on failure.
pub fn get_json(cp: &ControlPlane, args: &[&str]) -> Value {
    let out = cp
        .kubectl()
        .args(args)
        .args(["-o", "json"])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl printed JSON")
}

/// `kubectl ARGS`, which must succeed; its standard output.
pub fn kubectl_ok(cp: &ControlPlane, args: &[&str]) -> String {
    let out = cp.kubectl().args(args).output().expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CRDs of `tinyhost crds`, applied and established.
pub fn install_crds(cp: &ControlPlane) {
    let crds = super::tinyhost_command()
        .arg("crds")
        .output()
        .expect("tinyhost crds runs");
    assert!(crds.status.success());
    let out = apply(cp, &crds.stdout);
    assert!(
        out.status.success(),
        "the API server refused the CRDs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    kubectl_ok(
        cp,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/tinynodes.operator.tinysystems.io",
            "crd/tinymodules.operator.tinysystems.io",
            "crd/tinysignals.operator.tinysystems.io",
        ],
    );
}

/// The namespace the chart is installed in.
pub const NS: &str = "tinysystems";

/// The chart installed by real helm as release `common-module` (module `common-module`),
/// and what its Deployment would run.
pub struct Chart {
    /// The Deployment's service account.
    pub account: String,
    /// The container's arguments.
    pub args: Vec<String>,
}

/// Installs `charts/tinyhost` with `helm install` (the server takes every object it
/// renders) and reads back the Deployment's account and arguments.
pub fn install_chart(cp: &ControlPlane) -> Chart {
    install_chart_with(cp, &[])
}

/// [`install_chart`] with more `helm install` arguments (`--set …`, `--values FILE`).
pub fn install_chart_with(cp: &ControlPlane, helm_args: &[&std::ffi::OsStr]) -> Chart {
    let chart = super::examples().join("../charts/tinyhost");
    let out = cp
        .helm()
        .args(["install", "common-module"])
        .arg(&chart)
        .args([
            "--namespace",
            NS,
            "--create-namespace",
            "--set",
            "module.name=common-module",
        ])
        .args(helm_args)
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deployment = get_json(
        cp,
        &["get", "deployment", "common-module-tinyhost", "-n", NS],
    );
    let pod = &deployment["spec"]["template"]["spec"];
    let account = pod["serviceAccountName"]
        .as_str()
        .expect("a service account")
        .to_string();
    let args = pod["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    Chart { account, args }
}

/// A kubeconfig authenticating as the chart's service account (a TokenRequest token).
pub fn account_kubeconfig(cp: &ControlPlane, chart: &Chart) -> std::path::PathBuf {
    let token = kubectl_ok(
        cp,
        &["create", "token", &chart.account, "-n", NS, "--duration=1h"],
    );
    cp.token_kubeconfig("operator", token.trim())
        .expect("token kubeconfig")
}

/// The user name the API server (and its audit log) knows the chart's account by.
pub fn account_user(chart: &Chart) -> String {
    format!("system:serviceaccount:{NS}:{}", chart.account)
}

/// An operator process run as the chart's Deployment would run it, with its bind
/// addresses moved to free loopback ports; killed when dropped.
pub struct Operator {
    child: Option<super::KillOnDrop>,
    /// `/healthz` and `/readyz`.
    pub health: u16,
    /// The gRPC server (the TinyModule's address).
    pub grpc: u16,
    dir: tempfile::TempDir,
}

impl Operator {
    /// Starts `tinyhost` with the chart's arguments (`extra` replacing those of the same
    /// flags, or added), as replica
    /// `identity`, authenticating with `kubeconfig`.
    pub fn start(chart: &Chart, kubeconfig: &Path, identity: &str, extra: &[&str]) -> Operator {
        let (health, metrics, grpc) = (super::free_port(), super::free_port(), super::free_port());
        let dir = tempfile::tempdir().expect("operator dir");
        let flag = |a: &str| a.split_once('=').map_or(a, |(f, _)| f).to_string();
        let overridden: Vec<String> = extra.iter().map(|a| flag(a)).collect();
        let args: Vec<String> = chart
            .args
            .iter()
            .filter(|a| !overridden.contains(&flag(a)))
            .map(|a| match a.split_once('=') {
                Some(("--health-probe-bind-address", _)) => {
                    format!("--health-probe-bind-address=127.0.0.1:{health}")
                }
                Some(("--metrics-bind-address", _)) => {
                    format!("--metrics-bind-address=127.0.0.1:{metrics}")
                }
                Some(("--grpc-server-bind-address", _)) => {
                    format!("--grpc-server-bind-address=127.0.0.1:{grpc}")
                }
                Some(("--cache-dir", _)) => {
                    format!("--cache-dir={}", super::cache_dir().display())
                }
                _ => a.clone(),
            })
            .collect();
        let log = std::fs::File::create(dir.path().join("operator.log")).expect("log file");
        let child = super::tinyhost_command()
            .args(&args)
            .args(extra)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .env("HOSTNAME", identity)
            .env("SELF_SERVICE_HOST", format!("127.0.0.1:{grpc}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("tinyhost operator starts");
        Operator {
            child: Some(super::KillOnDrop(child)),
            health,
            grpc,
            dir,
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Where its log goes.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("operator.log")
    }

    /// Whether `/readyz` answers 200.
    pub fn ready(&self) -> bool {
        http_status(self.health, "/readyz") == Some(200)
    }

    /// Waits until it is ready; fails with its log otherwise.
    pub fn wait_ready(&self) {
        eventually("the operator's /readyz", WAIT, || {
            self.ready().then_some(())
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", self.log()));
    }

    /// Its process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.0.id())
    }

    /// Kills it at once (`kill -9`), as a node failure would.
    pub fn kill(&mut self) {
        self.child.take();
    }
}

/// How long the operator may take for each step against the real API server.
pub const WAIT: Duration = Duration::from_secs(60);

/// Waits up to `within` for `check`; says what it waited for otherwise.
pub fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {within:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `GET path` on loopback `port`: the status code, or `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// The API server's audit events (with `Options::audit`), one per completed request.
pub fn audit_events(cp: &ControlPlane) -> Vec<Value> {
    std::fs::read_to_string(cp.audit_log())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["stage"] == "ResponseComplete")
        .collect()
}

/// `after - before`, key by key, zeros left out.
pub fn difference(
    before: &std::collections::BTreeMap<String, usize>,
    after: &std::collections::BTreeMap<String, usize>,
) -> std::collections::BTreeMap<String, usize> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0).min(*v)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// Who a request was made as: the impersonated user if any, else the authenticated one.
pub fn acting_user(event: &Value) -> &str {
    event["impersonatedUser"]["username"]
        .as_str()
        .or_else(|| event["user"]["username"].as_str())
        .unwrap_or_default()
}

/// The completed requests `user` made, as `verb resource[/subresource]`, counted.
pub fn requests_by(events: &[Value], user: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for event in events.iter().filter(|e| acting_user(e) == user) {
        let reference = &event["objectRef"];
        let mut resource = reference["resource"].as_str().unwrap_or("-").to_string();
        if let Some(sub) = reference["subresource"].as_str() {
            resource = format!("{resource}/{sub}");
        }
        let verb = event["verb"].as_str().unwrap_or("-");
        *counts.entry(format!("{verb} {resource}")).or_insert(0) += 1;
    }
    counts
}

/// Every example flow, as `tinyhost export` prints it for namespace `ns`.
pub fn exported(example: impl AsRef<std::path::Path>, ns: &str) -> Vec<u8> {
    let example = super::examples().join(example);
    let out = super::tinyhost_command()
        .args(["export", "--namespace", ns])
        .arg(&example)
        .output()
        .expect("tinyhost export runs");
    assert!(
        out.status.success(),
        "{}: {}",
        example.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The objects of a multi-document YAML stream.
pub fn documents(yaml: &[u8]) -> Vec<Value> {
    use serde::Deserialize as _;
    let text = String::from_utf8_lossy(yaml);
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).expect("a YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Writes `yaml` (TinyNodes and TinySignals as a local flow folder holds them) to a folder,
/// exports it for `NS` with `tinyhost export` and applies it.
pub fn apply_flow(cp: &ControlPlane, yaml: &str) {
    let dir = tempfile::tempdir().expect("flow dir");
    std::fs::write(dir.path().join("flow.yaml"), yaml).expect("writing the flow");
    let out = apply(cp, &exported(dir.path(), NS));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A TinyNode of module `common-module`, as a local flow file holds it.
pub fn node_yaml(name: &str, component: &str, ports: &str, edges: &str) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinyNode\nmetadata: {{name: {name}}}\nspec:\n  module: common-module\n  component: {component}\n  ports: {ports}\n  edges: {edges}\n---\n"
    )
}

/// The configuration of port `port` in a TinyNode's status, decoded.
pub fn status_port(node: &Value, port: &str) -> Value {
    use base64::Engine as _;
    node["status"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == port)
        .and_then(|p| p["configuration"].as_str())
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// A TinySignal to `node:port` with `data`.
pub fn signal_yaml(name: &str, node: &str, port: &str, data: &Value) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinySignal\nmetadata: {{name: {name}}}\nspec: {{node: {node}, port: {port}, data: {data}}}\n---\n"
    )
}

/// A kube client of the control plane's admin, acting as user `user` (impersonated, in
/// group `system:masters`), so the audit log tells apart what each in-process replica did.
pub async fn kube_client_as(cp: &ControlPlane, user: &str) -> kube::Client {
    kube_client_through(cp, user, None).await
}

/// [`kube_client_as`] reaching the API server at `through` (a relay's address) instead.
pub async fn kube_client_through(
    cp: &ControlPlane,
    user: &str,
    through: Option<std::net::SocketAddr>,
) -> kube::Client {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(cp.kubeconfig()).expect("the admin kubeconfig");
    let mut config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("a client configuration");
    if let Some(address) = through {
        config.cluster_url = format!("https://{address}")
            .parse()
            .expect("the relay's URL");
    }
    config.auth_info.impersonate = Some(user.to_string());
    config.auth_info.impersonate_groups = Some(vec!["system:masters".to_string()]);
    kube::Client::try_from(config).expect("a kube client")
}
