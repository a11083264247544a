//! Every node's listener in one process-wide table. A node asks to listen through the
//! capability; the table binds (or keeps, or re-binds) its socket, asks the cluster to make
//! the port public when an [`Exposer`] is configured, and closes the socket when the node
//! stops it or is removed. Requests go to the flow through the [`RequestSink`] the layer
//! above provides, so this module knows sockets and HTTP, not nodes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::listener::Listener;
use super::options::{self, BindSpec, Exposure, OptionsError};
use super::sink::RequestSink;
use crate::bindings::tinysystems::component::http_server::{BoundListener, ListenOptions};

/// Makes a listener's port reachable from outside its process (in a cluster: a Service
/// port and Ingress rules). Implemented by the operator.
pub trait Exposer: Send + Sync {
    /// Exposes `port` of `node`; the addresses clients use.
    fn expose(
        &self,
        node: &str,
        port: u16,
        exposure: &Exposure,
    ) -> BoxFuture<'static, Result<Vec<String>, String>>;
    /// Withdraws what [`Exposer::expose`] published for `port` (the node was removed).
    fn disclose(&self, node: &str, port: u16) -> BoxFuture<'static, ()>;
}

/// How this process listens.
#[derive(Clone)]
pub struct ListenerConfig {
    /// The address bound when a node names only a port (`127.0.0.1` locally, `0.0.0.0` in a
    /// cluster).
    pub default_host: String,
    /// Open connections per listener; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Requests handed to flows at once, over all listeners; more wait for a turn (their
    /// response timeout running). Every node a request passes holds a component instance
    /// while it waits for the nodes after it, so without a bound a burst of requests could
    /// take every instance slot and leave none for the nodes that would answer them.
    pub max_in_flight: usize,
    /// Publishes ports beyond the process, if anything does.
    pub exposer: Option<Arc<dyn Exposer>>,
}

impl std::fmt::Debug for ListenerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerConfig")
            .field("default_host", &self.default_host)
            .field("max_connections", &self.max_connections)
            .field("max_in_flight", &self.max_in_flight)
            .field("exposer", &self.exposer.is_some())
            .finish()
    }
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            default_host: "127.0.0.1".to_string(),
            max_connections: 16_384,
            max_in_flight: 256,
            exposer: None,
        }
    }
}

/// Why a node could not listen.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The options are wrong.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// What was bound.
        address: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The certificate or key is unusable.
    #[error("invalid tls identity: {0}")]
    Tls(String),
}

struct Running {
    listener: Listener,
    bind: BindSpec,
    exposure: Exposure,
    urls: Vec<String>,
    /// Whether the exposer published `exposure` (a failed attempt is retried on the next
    /// listen, which a server's reconcile makes).
    published: bool,
}

/// Every node's listener.
pub struct Listeners {
    config: ListenerConfig,
    running: Mutex<HashMap<String, Running>>,
    in_flight: Arc<Semaphore>,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("config", &self.config)
            .field("running", &self.len())
            .finish()
    }
}

impl Listeners {
    /// No listeners yet.
    pub fn new(config: ListenerConfig) -> Listeners {
        let in_flight = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
        Listeners {
            config,
            running: Mutex::new(HashMap::new()),
            in_flight,
        }
    }

    fn take(&self, node: &str) -> Option<Running> {
        self.running.lock().ok().and_then(|mut r| r.remove(node))
    }

    fn put(&self, node: &str, running: Running) -> BoundListener {
        let listening = listening_of(&running);
        if let Ok(mut all) = self.running.lock() {
            all.insert(node.to_string(), running);
        }
        listening
    }

    /// Starts `node`'s listener, or applies `options` to the running one (re-binding only
    /// when the address, port or TLS identity changed).
    pub async fn listen(
        &self,
        node: &str,
        options: ListenOptions,
        sink: Arc<dyn RequestSink>,
    ) -> Result<BoundListener, ListenError> {
        let mut checked = options::check(options)?;
        checked.exposure.tls = checked.bind.tls.is_some();
        if let Some(mut running) = self.take(node) {
            if same_socket(&running, &checked.bind) {
                running.listener.update(checked.serve);
                if running.exposure != checked.exposure || !running.published {
                    running.exposure = checked.exposure;
                    (running.urls, running.published) = self
                        .publish(node, &running.listener, &running.exposure)
                        .await;
                }
                return Ok(self.put(node, running));
            }
            let old_port = running.listener.local_addr().port();
            running.listener.close().await;
            self.withdraw_unless(node, old_port, checked.bind.port)
                .await;
        }
        let address = self.bind_address(&checked.bind);
        let tls = checked
            .bind
            .tls
            .as_ref()
            .map(|(cert, key)| acceptor(cert, key))
            .transpose()?;
        let socket = TcpListener::bind(&address)
            .await
            .map_err(|source| ListenError::Bind {
                address: address.clone(),
                source,
            })?;
        let listener = Listener::start(
            node,
            socket,
            checked.serve,
            sink,
            tls,
            self.config.max_connections,
            self.in_flight.clone(),
        )
        .map_err(|source| ListenError::Bind { address, source })?;
        tracing::info!(node, address = %listener.local_addr(), tls = listener.is_tls(), "http listener started");
        let (urls, published) = self.publish(node, &listener, &checked.exposure).await;
        Ok(self.put(
            node,
            Running {
                listener,
                bind: checked.bind,
                exposure: checked.exposure,
                urls,
                published,
            },
        ))
    }

    /// Where clients reach `listener` (what the exposer published, or its own address) and
    /// whether the exposer published it.
    async fn publish(
        &self,
        node: &str,
        listener: &Listener,
        exposure: &Exposure,
    ) -> (Vec<String>, bool) {
        let local = local_url(listener);
        let Some(exposer) = &self.config.exposer else {
            return (vec![local], true);
        };
        match exposer
            .expose(node, listener.local_addr().port(), exposure)
            .await
        {
            Ok(urls) if !urls.is_empty() => (urls, true),
            Ok(_) => (vec![local], true),
            Err(e) => {
                tracing::warn!(node, error = %e, "http port not exposed; serving on the pod's address only");
                (vec![local], false)
            }
        }
    }

    /// Withdraws what was published for `old_port` of `node` when the node moved to
    /// another port (a port it asks for again stays).
    async fn withdraw_unless(&self, node: &str, old_port: u16, new_port: u16) {
        if old_port != new_port
            && let Some(exposer) = &self.config.exposer
        {
            exposer.disclose(node, old_port).await;
        }
    }

    fn bind_address(&self, bind: &BindSpec) -> String {
        if bind.address.is_empty() {
            let host = &self.config.default_host;
            if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]:{}", bind.port)
            } else {
                format!("{host}:{}", bind.port)
            }
        } else {
            bind.address.clone()
        }
    }

    /// Stops `node`'s listener (a stop asked by the node: what was exposed stays, as
    /// upstream keeps it across restarts).
    pub async fn close(&self, node: &str) {
        if let Some(running) = self.take(node) {
            tracing::info!(node, address = %running.listener.local_addr(), "http listener closed");
            running.listener.close().await;
        }
    }

    /// Closes `node`'s listener and withdraws its exposure (the node was removed).
    pub async fn remove(&self, node: &str) {
        if let Some(running) = self.take(node) {
            let port = running.listener.local_addr().port();
            running.listener.close().await;
            if let Some(exposer) = &self.config.exposer {
                exposer.disclose(node, port).await;
            }
        }
    }

    /// Closes every listener (shutdown); exposures stay for the next process.
    pub async fn close_all(&self) {
        let all: Vec<(String, Running)> = self
            .running
            .lock()
            .map(|mut r| r.drain().collect())
            .unwrap_or_default();
        for (_, running) in all {
            running.listener.close().await;
        }
    }

    /// `node`'s running listener.
    pub fn listening(&self, node: &str) -> Option<BoundListener> {
        self.running
            .lock()
            .ok()
            .and_then(|r| r.get(node).map(listening_of))
    }

    /// Every running listener by node, sorted by node.
    pub fn all(&self) -> Vec<(String, BoundListener)> {
        let mut all: Vec<(String, BoundListener)> = self
            .running
            .lock()
            .map(|r| {
                r.iter()
                    .map(|(node, running)| (node.clone(), listening_of(running)))
                    .collect()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// How many listeners run.
    pub fn len(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a running listener already is the socket `bind` asks for (port `0` asks for
/// any port, so the bound one will do).
fn same_socket(running: &Running, bind: &BindSpec) -> bool {
    let bound = running.listener.local_addr().port();
    running.bind.address == bind.address
        && running.bind.tls == bind.tls
        && (bind.port == 0 || bind.port == bound || !bind.address.is_empty())
}

fn listening_of(running: &Running) -> BoundListener {
    BoundListener {
        port: running.listener.local_addr().port(),
        urls: running.urls.clone(),
    }
}

fn local_url(listener: &Listener) -> String {
    let scheme = if listener.is_tls() { "https" } else { "http" };
    let address: SocketAddr = listener.local_addr();
    let host = match address.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    format!("{scheme}://{host}:{}", address.port())
}

fn acceptor(cert_pem: &str, key_pem: &str) -> Result<TlsAcceptor, ListenError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ListenError::Tls(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(ListenError::Tls("no certificate in the PEM text".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| ListenError::Tls(format!("private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ListenError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ListenError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::bindings::tinysystems::component::http_server::{IncomingRequest, OutgoingResponse};

    struct NoFlow;

    impl RequestSink for NoFlow {
        fn serve(
            &self,
            _node: &str,
            _request: IncomingRequest,
        ) -> BoxFuture<'static, Result<OutgoingResponse, String>> {
            Box::pin(async { Err("no flow".to_string()) })
        }
    }

    /// Fails its first `failures` exposures, then publishes `https://host.test`; records
    /// what it withdrew.
    #[derive(Default)]
    struct Recording {
        failures: AtomicUsize,
        withdrawn: Mutex<Vec<u16>>,
    }

    impl Exposer for Recording {
        fn expose(
            &self,
            _node: &str,
            _port: u16,
            _exposure: &Exposure,
        ) -> BoxFuture<'static, Result<Vec<String>, String>> {
            let failed = self
                .failures
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_ok();
            Box::pin(async move {
                if failed {
                    Err("the API server is down".to_string())
                } else {
                    Ok(vec!["host.test".to_string()])
                }
            })
        }

        fn disclose(&self, _node: &str, port: u16) -> BoxFuture<'static, ()> {
            if let Ok(mut w) = self.withdrawn.lock() {
                w.push(port);
            }
            Box::pin(async {})
        }
    }

    fn options(port: u16) -> ListenOptions {
        ListenOptions {
            address: String::new(),
            port,
            read_timeout_ms: 0,
            response_timeout_ms: 0,
            max_body_bytes: 1024,
            routes: Vec::new(),
            hostnames: Vec::new(),
            auto_hostname: true,
            tls: None,
            tag: "null".into(),
        }
    }

    fn listeners(exposer: Arc<Recording>) -> Listeners {
        Listeners::new(ListenerConfig {
            exposer: Some(exposer),
            ..ListenerConfig::default()
        })
    }

    #[tokio::test]
    async fn a_failed_exposure_is_tried_again_on_the_next_listen() {
        let exposer = Arc::new(Recording {
            failures: AtomicUsize::new(1),
            ..Recording::default()
        });
        let table = listeners(exposer.clone());
        let first = table
            .listen("n", options(0), Arc::new(NoFlow))
            .await
            .map_err(|e| e.to_string());
        let Ok(first) = first else {
            panic!("{first:?}")
        };
        assert_eq!(first.urls, [format!("http://127.0.0.1:{}", first.port)]);
        let again = table
            .listen("n", options(first.port), Arc::new(NoFlow))
            .await
            .map_err(|e| e.to_string());
        let Ok(again) = again else {
            panic!("{again:?}")
        };
        assert_eq!(again.port, first.port, "the same socket");
        assert_eq!(again.urls, ["host.test"], "published this time");
        table.close_all().await;
    }

    #[tokio::test]
    async fn moving_to_another_port_withdraws_the_old_one() {
        let exposer = Arc::new(Recording::default());
        let table = listeners(exposer.clone());
        let first = table
            .listen("n", options(0), Arc::new(NoFlow))
            .await
            .map_err(|e| e.to_string());
        let Ok(first) = first else {
            panic!("{first:?}")
        };
        let spare = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        let moved = table
            .listen("n", options(spare), Arc::new(NoFlow))
            .await
            .map_err(|e| e.to_string());
        let Ok(moved) = moved else {
            panic!("{moved:?}")
        };
        assert_eq!(moved.port, spare);
        let withdrawn = exposer
            .withdrawn
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default();
        assert_eq!(withdrawn, [first.port]);
        table.remove("n").await;
        let withdrawn = exposer
            .withdrawn
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default();
        assert_eq!(
            withdrawn,
            [first.port, spare],
            "removing the node withdraws its port"
        );
        assert!(table.is_empty());
    }
}
