//! etcd and kube-apiserver, started on free loopback ports with the harness's certificates,
//! RBAC authorization and the service-account token signer, and an admin kubeconfig written
//! beside them. The API server can be restarted on the same port and the same etcd, as an
//! upgrade or a crash would restart it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::ControlPlaneError;
use crate::pki::{self, Pki};
use crate::process::Server;
use crate::tools::{Tools, tools};

/// How long the API server may take to become ready.
const READY_WITHIN: Duration = Duration::from_secs(90);

/// How the control plane is started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where its files go; a temporary folder, removed when it stops, if none.
    pub dir: Option<PathBuf>,
    /// More `kube-apiserver` flags (`--audit-log-path=…`, say).
    pub apiserver_args: Vec<String>,
    /// Leave the servers running when the handle is gone (`control-plane up`).
    pub detached: bool,
    /// Write the API server's audit log (every request's metadata: user, verb, resource,
    /// status) to `audit.log`, so a test can count what a client asked of the server.
    pub audit: bool,
}

/// Every request at `Metadata` level, once it completes (watches also when they start).
const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
";

/// A running control plane.
#[derive(Debug)]
pub struct ControlPlane {
    tools: Tools,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    pki: Pki,
    etcd: Option<Server>,
    apiserver: Option<Server>,
    etcd_url: String,
    apiserver_port: u16,
    options: Options,
    kubeconfig: PathBuf,
}

/// One call to etcd's JSON gateway (`POST path` with `body`): its answer.
fn etcd_call(
    url: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, ControlPlaneError> {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).map_err(ControlPlaneError::io(
        format!("connecting to etcd at {address}"),
    ))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(ControlPlaneError::io("setting a timeout"))?;
    let body = body.to_string();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(ControlPlaneError::io(format!("calling etcd {path}")))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(ControlPlaneError::io(format!(
            "reading etcd's answer to {path}"
        )))?;
    let (head, payload) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| ControlPlaneError::Etcd(format!("{path}: no HTTP answer: {response}")))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(ControlPlaneError::Etcd(format!(
            "{path}: {head}\n{payload}"
        )));
    }
    serde_json::from_str(payload)
        .map_err(|e| ControlPlaneError::Etcd(format!("{path}: {e}: {payload}")))
}

fn free_port() -> Result<u16, ControlPlaneError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(ControlPlaneError::io("finding a free port"))
}

impl ControlPlane {
    /// Builds (once) and starts a control plane in a temporary folder. Its servers are
    /// tied to the calling thread (unless detached): call this, and the restarts, on the
    /// thread that owns the handle, not on a short-lived helper thread.
    pub fn start() -> Result<ControlPlane, ControlPlaneError> {
        ControlPlane::start_with(Options::default())
    }

    /// Builds (once) and starts a control plane as `options` say.
    pub fn start_with(options: Options) -> Result<ControlPlane, ControlPlaneError> {
        let tools = tools()?;
        let (dir, temp) = match &options.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(ControlPlaneError::io(format!("creating {}", dir.display())))?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("tinyhost-control-plane-")
                    .tempdir()
                    .map_err(ControlPlaneError::io("creating a temporary folder"))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let pki = pki::make(&dir)?;
        if options.audit {
            let policy = dir.join("audit-policy.yaml");
            std::fs::write(&policy, AUDIT_POLICY).map_err(ControlPlaneError::io(format!(
                "writing {}",
                policy.display()
            )))?;
        }
        let etcd_port = free_port()?;
        let peer_port = free_port()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd_args = vec![
            "--name=test".to_string(),
            format!("--data-dir={}", dir.join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=test={peer_url}"),
            "--log-level=warn".to_string(),
            // Test data need not survive a power cut; fsync dominates etcd's latency.
            "--unsafe-no-fsync".to_string(),
        ];
        let etcd = Server::spawn(
            "etcd",
            &tools.etcd(),
            &etcd_args,
            &dir.join("etcd.log"),
            !options.detached,
        )?;
        let apiserver_port = free_port()?;
        let server_url = format!("https://127.0.0.1:{apiserver_port}");
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, pki::admin_kubeconfig(&pki, &server_url)).map_err(
            ControlPlaneError::io(format!("writing {}", kubeconfig.display())),
        )?;
        let mut plane = ControlPlane {
            tools,
            dir,
            _temp: temp,
            pki,
            etcd: Some(etcd),
            apiserver: None,
            etcd_url,
            apiserver_port,
            options,
            kubeconfig,
        };
        plane.start_apiserver()?;
        Ok(plane)
    }

    fn apiserver_args(&self) -> Vec<String> {
        let pki = &self.pki;
        let mut args = vec![
            format!("--etcd-servers={}", self.etcd_url),
            "--bind-address=127.0.0.1".to_string(),
            "--advertise-address=127.0.0.1".to_string(),
            // The `kubernetes` Service's endpoints would name this loopback address, which
            // the reconciler refuses; no pod here needs to reach the API server through it.
            "--endpoint-reconciler-type=none".to_string(),
            format!("--secure-port={}", self.apiserver_port),
            format!("--cert-dir={}", self.dir.join("certs").display()),
            format!("--tls-cert-file={}", pki.serving_cert.display()),
            format!("--tls-private-key-file={}", pki.serving_key.display()),
            format!("--client-ca-file={}", pki.ca_cert.display()),
            format!("--service-account-key-file={}", pki.sa_pub.display()),
            format!(
                "--service-account-signing-key-file={}",
                pki.sa_key.display()
            ),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_string(),
            "--authorization-mode=RBAC".to_string(),
            "--service-cluster-ip-range=10.96.0.0/16".to_string(),
            "--profiling=false".to_string(),
            "--v=0".to_string(),
        ];
        if self.options.audit {
            args.push(format!(
                "--audit-policy-file={}",
                self.dir.join("audit-policy.yaml").display()
            ));
            args.push(format!("--audit-log-path={}", self.audit_log().display()));
            args.push("--audit-log-mode=blocking".to_string());
        }
        args.extend(self.options.apiserver_args.iter().cloned());
        args
    }

    fn start_apiserver(&mut self) -> Result<(), ControlPlaneError> {
        let args = self.apiserver_args();
        let mut server = Server::spawn(
            "kube-apiserver",
            &self.tools.kube_apiserver(),
            &args,
            &self.dir.join("kube-apiserver.log"),
            !self.options.detached,
        )?;
        let began = Instant::now();
        loop {
            if !server.running() {
                return Err(server.failed("it exited"));
            }
            if self.ready() {
                break;
            }
            if began.elapsed() > READY_WITHIN {
                return Err(
                    server.failed(format!("/readyz did not answer ok within {READY_WITHIN:?}"))
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        self.apiserver = Some(server);
        Ok(())
    }

    /// Whether the API server answers `/readyz` with `ok`.
    pub fn ready(&self) -> bool {
        self.kubectl()
            .args(["get", "--raw", "/readyz", "--request-timeout=5s"])
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"ok"))
    }

    /// Kills the API server (`kill -9`) and starts it again on the same port and etcd.
    pub fn restart_apiserver(&mut self) -> Result<(), ControlPlaneError> {
        self.stop_apiserver();
        self.start_apiserver()
    }

    /// Kills the API server and leaves it down (an outage).
    pub fn stop_apiserver(&mut self) {
        if let Some(mut server) = self.apiserver.take() {
            server.kill();
        }
    }

    /// Starts the API server again after [`ControlPlane::stop_apiserver`].
    pub fn resume_apiserver(&mut self) -> Result<(), ControlPlaneError> {
        if self.apiserver.is_some() {
            return Ok(());
        }
        self.start_apiserver()
    }

    /// The admin kubeconfig (client certificate in group `system:masters`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `https://127.0.0.1:PORT`.
    pub fn server(&self) -> String {
        format!("https://127.0.0.1:{}", self.apiserver_port)
    }

    /// etcd's client URL (for compaction and for tests that look under the API server).
    pub fn etcd_url(&self) -> &str {
        &self.etcd_url
    }

    /// Compacts etcd's history up to now, after one write of a key the API server does not
    /// use: every resourceVersion a client holds is then older than the oldest revision
    /// etcd keeps, so the client's next watch is answered 410 Gone. The revision compacted.
    pub fn compact_etcd(&self) -> Result<i64, ControlPlaneError> {
        let put = etcd_call(
            &self.etcd_url,
            "/v3/kv/put",
            &serde_json::json!({"key": "L3Rlc3QvY29tcGFjdA==", "value": "eA=="}),
        )?;
        let revision: i64 = put["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| ControlPlaneError::Etcd(format!("no revision in {put}")))?;
        etcd_call(
            &self.etcd_url,
            "/v3/kv/compaction",
            &serde_json::json!({"revision": revision.to_string(), "physical": true}),
        )?;
        Ok(revision)
    }

    /// The API server's audit log, one JSON event per line (with [`Options::audit`]); it
    /// spans restarts of the API server.
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// The folder holding the certificates, the kubeconfig, etcd's data and the logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The built programs.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    /// `kubectl` with the admin kubeconfig.
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(self.tools.kubectl());
        command.env("KUBECONFIG", &self.kubeconfig);
        command
    }

    /// `helm` with the admin kubeconfig and its caches under the control plane's folder.
    pub fn helm(&self) -> Command {
        let mut command = Command::new(self.tools.helm());
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CACHE_HOME", self.dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", self.dir.join("helm/config"))
            .env("HELM_DATA_HOME", self.dir.join("helm/data"));
        command
    }

    /// Writes a kubeconfig authenticating with `token` (a service account's) as `name`
    /// in the control plane's folder; its path.
    pub fn token_kubeconfig(&self, name: &str, token: &str) -> Result<PathBuf, ControlPlaneError> {
        let path = self.dir.join(format!("{name}.kubeconfig"));
        std::fs::write(
            &path,
            pki::token_kubeconfig(&self.pki.ca_cert_pem, &self.server(), token),
        )
        .map_err(ControlPlaneError::io(format!("writing {}", path.display())))?;
        Ok(path)
    }

    /// Leaves both servers running after this handle is gone; their process ids
    /// (etcd, kube-apiserver). For `control-plane up`.
    pub fn detach(mut self) -> (u32, u32) {
        let etcd = self.etcd.take().map(Server::detach).unwrap_or(0);
        let apiserver = self.apiserver.take().map(Server::detach).unwrap_or(0);
        if let Some(temp) = self._temp.take() {
            let _ = temp.keep();
        }
        (etcd, apiserver)
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // The API server first, so it does not log etcd going away.
        self.stop_apiserver();
        if let Some(mut etcd) = self.etcd.take() {
            etcd.kill();
        }
    }
}
