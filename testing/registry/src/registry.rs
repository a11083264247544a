//! One registry server on loopback: its config, storage, htpasswd file and logs in a
//! temporary folder of its own. It can be stopped and resumed on the same port and
//! storage, as a registry that goes down and comes back would be.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use tinyhost_control_plane::process::Server;

use crate::error::RegistryError;
use crate::tools::tools;

/// How long the registry may take to answer `GET /v2/` (it takes well under a second).
const READY_WITHIN: Duration = Duration::from_secs(30);

/// bcrypt's cheapest cost: the hash only guards a test registry, and each check of a
/// request's password costs this much.
const BCRYPT_COST: u32 = 4;

/// How the registry is started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A user and password the registry demands (HTTP Basic, from an htpasswd file), as a
    /// private registry would; `None` lets anyone pull and push.
    pub auth: Option<(String, String)>,
    /// Serve HTTPS with a certificate for `127.0.0.1` signed by a CA of the test's own
    /// ([`Registry::ca_certificate`]), as a real registry would; `false` serves plain HTTP.
    pub tls: bool,
}

/// A running (or stopped) registry. Dropping it kills the server and removes its folder.
#[derive(Debug)]
pub struct Registry {
    /// The server, `None` while stopped. Declared first so it is killed before the folder
    /// it writes to is removed.
    server: Option<Server>,
    /// The `docker-registry` program.
    program: PathBuf,
    /// Holds config.yml, htpasswd, storage/ and the logs; removed on drop.
    dir: tempfile::TempDir,
    /// `dir/storage`, the registry's root directory.
    storage: PathBuf,
    port: u16,
    auth: Option<(String, String)>,
    /// The CA certificate (PEM) the serving certificate is signed by, with TLS.
    ca: Option<PathBuf>,
    /// How many times the server was started: each start logs to its own file.
    starts: u32,
}

impl Registry {
    /// Fetches the tools (once) and starts a registry on a free loopback port, with empty
    /// storage; returns when it answers `GET /v2/`. The server is tied to the calling
    /// thread (killed if the thread ends), so call this, and [`Registry::resume`], on the
    /// thread that owns the handle.
    pub fn start(options: Options) -> Result<Registry, RegistryError> {
        let program = tools()?.registry;
        let dir = tempfile::Builder::new()
            .prefix("tinyhost-registry-")
            .tempdir()
            .map_err(RegistryError::io("creating a temporary folder"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .map_err(RegistryError::io("finding a free port"))?;
        let storage = dir.path().join("storage");
        let mut registry = Registry {
            server: None,
            program,
            dir,
            storage,
            port,
            auth: options.auth,
            ca: None,
            starts: 0,
        };
        if options.tls {
            registry.ca = Some(registry.write_certificates()?);
        }
        std::fs::create_dir_all(registry.storage()).map_err(RegistryError::io(format!(
            "creating {}",
            registry.storage().display()
        )))?;
        registry.write_config()?;
        registry.resume()?;
        Ok(registry)
    }

    /// `127.0.0.1:PORT`, as image references name it (`127.0.0.1:PORT/repo:tag`).
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server (`kill -9`, as a crash would), keeping its storage and port, so a
    /// test can see what a client does when the registry is down.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill();
        }
    }

    /// Starts the server again on the same port and storage; returns when it answers.
    /// Does nothing if it is running.
    pub fn resume(&mut self) -> Result<(), RegistryError> {
        if let Some(server) = self.server.as_mut()
            && server.running()
        {
            return Ok(());
        }
        self.stop();
        self.starts += 1;
        let config = self.dir.path().join("config.yml");
        let log = self
            .dir
            .path()
            .join(format!("registry-{}.log", self.starts));
        let args = ["serve".to_string(), config.to_string_lossy().into_owned()];
        let mut server = Server::spawn("docker-registry", &self.program, &args, &log, true)?;
        let address = self.address();
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if !server.running() {
                return Err(server.failed("it exited").into());
            }
            // 401 is the answer of a registry that wants credentials, 400 that of one
            // serving HTTPS to this plain request: either way it is up.
            match get_status(&address, "/v2/", None) {
                Ok(200 | 401) => break,
                Ok(400) if self.ca.is_some() => break,
                _ => {}
            }
            if Instant::now() > deadline {
                return Err(server
                    .failed(format!(
                        "GET http://{address}/v2/ got no answer within {READY_WITHIN:?}"
                    ))
                    .into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.server = Some(server);
        Ok(())
    }

    /// Writes `dir/config.json` in Docker's format, the file clients read credentials
    /// from (`DOCKER_CONFIG=dir`; skopeo's `--authfile`): this registry's user and
    /// password, or no entries without auth. Returns its path.
    pub fn docker_config(&self, dir: &Path) -> Result<PathBuf, RegistryError> {
        let mut auths = serde_json::Map::new();
        if let Some((user, password)) = &self.auth {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            auths.insert(self.address(), serde_json::json!({ "auth": token }));
        }
        let config = serde_json::json!({ "auths": auths });
        std::fs::create_dir_all(dir)
            .map_err(RegistryError::io(format!("creating {}", dir.display())))?;
        let path = dir.join("config.json");
        std::fs::write(&path, format!("{config:#}\n"))
            .map_err(RegistryError::io(format!("writing {}", path.display())))?;
        Ok(path)
    }

    /// The CA certificate (PEM file) that signed the registry's serving certificate, when
    /// it serves HTTPS: what a client must trust to reach it.
    pub fn ca_certificate(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// A CA and a serving certificate for `127.0.0.1` and `localhost`, written beside the
    /// config; returns the CA's path.
    fn write_certificates(&self) -> Result<PathBuf, RegistryError> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key)?;
        let key = KeyPair::generate()?;
        let serving =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?
                .signed_by(&key, &ca_cert, &ca_key)?;
        let write = |name: &str, pem: String| {
            let path = self.dir.path().join(name);
            std::fs::write(&path, pem)
                .map_err(RegistryError::io(format!("writing {}", path.display())))?;
            Ok::<_, RegistryError>(path)
        };
        write("server.pem", serving.pem())?;
        write("server-key.pem", key.serialize_pem())?;
        write("ca.pem", ca_cert.pem())
    }

    /// The registry's storage root (`docker/registry/v2/...` below it), for tests that
    /// look at or corrupt what was pushed.
    pub fn storage(&self) -> &Path {
        &self.storage
    }

    /// The registry's config: filesystem storage with deletes allowed (tests clean up and
    /// check garbage), the loopback port, and htpasswd auth when asked for.
    fn write_config(&self) -> Result<(), RegistryError> {
        // Paths as JSON strings: a JSON string is a valid double-quoted YAML scalar.
        let quoted = |path: &Path| serde_json::Value::from(path.to_string_lossy()).to_string();
        let mut config = format!(
            "version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {address}
",
            storage = quoted(self.storage()),
            address = self.address(),
        );
        if self.ca.is_some() {
            config.push_str(&format!(
                "  tls:
    certificate: {}
    key: {}
",
                quoted(&self.dir.path().join("server.pem")),
                quoted(&self.dir.path().join("server-key.pem"))
            ));
        }
        if let Some((user, password)) = &self.auth {
            let hash = bcrypt::hash(password, BCRYPT_COST)?;
            let htpasswd = self.dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{user}:{hash}\n"))
                .map_err(RegistryError::io(format!("writing {}", htpasswd.display())))?;
            config.push_str(&format!(
                "auth:
  htpasswd:
    realm: tinyhost-test
    path: {}
",
                quoted(&htpasswd)
            ));
        }
        let path = self.dir.path().join("config.yml");
        std::fs::write(&path, config)
            .map_err(RegistryError::io(format!("writing {}", path.display())))
    }
}

/// The status of `GET path` on `address` over plain HTTP, with Basic `credentials` if
/// given: how the harness sees the registry is up (`/v2/`, its "are you there"), and how
/// tests see what it demands.
pub fn get_status(
    address: &str,
    path: &str,
    credentials: Option<(&str, &str)>,
) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some((user, password)) = credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    response
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {response:?}")))
}
