//! Cluster mode: the same runtime, fed by Kubernetes instead of a folder.
//!
//! One [`Operator`] serves one module. It follows the namespace's TinyNode objects
//! ([`nodes`]) and applies those of its module to the runtime through a
//! [`tinyhost_flow::source::NodeSource`], so the scheduler runs exactly as it does locally. Replicas
//! elect a leader on a Lease ([`lease`]); every replica runs every node, while only the
//! leader writes status, fires long-running triggers, reports the module ([`modules`]) and
//! delivers TinySignals ([`signals`]). [`http`] serves the probes and metrics.

mod controller;
pub mod crd;
pub mod http;
pub mod lease;
pub mod metrics;
pub mod modules;
pub mod nodes;
pub mod peers;
pub mod signals;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use lease::{LeaderElector, LeaseTiming};
pub use nodes::{ClusterSource, DesiredNodes};
pub use peers::{ClusterPeers, PeerTable};

use tinyhost_flow::{Runtime, RuntimeConfig};

/// How often the leader re-reports every node and the module even when nothing changed:
/// `lastUpdateTime` is the heartbeat the platform reads (CONTRACT §1).
pub const DEFAULT_REQUEUE: Duration = Duration::from_secs(300);

/// Delivery deadline of a TinySignal.
pub use tinyhost_flow::drive::SIGNAL_TIMEOUT;

/// What an operator replica is and how it behaves.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    /// The module name as given (`--name`); compared with nodes' `spec.module` sanitised.
    pub module: String,
    /// The module version, without a leading `v`.
    pub version: String,
    /// The namespace holding the module's nodes, signals, TinyModule and Lease.
    pub namespace: String,
    /// The gRPC address other modules dial, written to the TinyModule status.
    pub advertise_addr: String,
    /// The image recorded in the TinyModule spec (may be empty).
    pub image: String,
    /// This replica's name in the Lease (the pod name).
    pub identity: String,
    /// Lease timing.
    pub lease: LeaseTiming,
    /// Heartbeat period of node and module status.
    pub requeue_after: Duration,
    /// Where the gRPC server for other modules listens (`None`: no server).
    pub grpc_listen: Option<std::net::SocketAddr>,
    /// How this module calls others.
    pub grpc_client: tinyhost_grpc::client::ClientConfig,
    /// TLS of the gRPC server (`None`: plaintext).
    pub grpc_server_tls: Option<tonic::transport::ServerTlsConfig>,
    /// The runtime behind the controllers.
    pub runtime: RuntimeConfig,
}

impl OperatorConfig {
    /// The sanitised module name: the TinyModule's name and the key nodes are matched on.
    pub fn module_key(&self) -> String {
        tinyhost_flow::manifest::sanitize_name(&self.module)
    }
}

/// What stops an operator.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The components could not be loaded.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[from] tinyhost_flow::LoadError),
    /// The gRPC address could not be bound.
    #[error("cannot listen for gRPC on {address}: {source}")]
    Bind {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The module name sanitises to nothing.
    #[error("module name `{0}` is empty after sanitising (use letters or digits)")]
    BadModuleName(String),
}

/// Why a single reconciliation failed; the controllers retry it with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// An API call failed (conflict, server error, connection lost).
    #[error("Kubernetes API: {0}")]
    Api(#[from] kube::Error),
    /// Adding or removing the node finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The runtime did not apply the desired nodes in time.
    #[error("the runtime has not applied the node yet")]
    NotApplied,
    /// An object could not be turned into JSON (never expected).
    #[error("cannot encode: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Whether the replica can serve: `/readyz` answers from this.
#[derive(Debug, Default)]
pub struct Readiness {
    components: AtomicBool,
    nodes: AtomicBool,
    modules: AtomicBool,
    signals: AtomicBool,
}

impl Readiness {
    /// Marks the components loaded.
    pub fn components_loaded(&self) {
        self.components.store(true, Ordering::Release);
    }

    /// Marks the TinyNode watch listed.
    pub fn nodes_listed(&self) {
        self.nodes.store(true, Ordering::Release);
    }

    /// Marks the TinyModule watch listed.
    pub fn modules_listed(&self) {
        self.modules.store(true, Ordering::Release);
    }

    /// Marks the TinySignal watch listed.
    pub fn signals_listed(&self) {
        self.signals.store(true, Ordering::Release);
    }

    /// `Ok` when ready, else what is still missing.
    pub fn check(&self) -> Result<(), String> {
        let missing: Vec<&str> = [
            (&self.components, "components not loaded"),
            (&self.nodes, "TinyNode watch not listed"),
            (&self.modules, "TinyModule watch not listed"),
            (&self.signals, "TinySignal watch not listed"),
        ]
        .into_iter()
        .filter(|(flag, _)| !flag.load(Ordering::Acquire))
        .map(|(_, what)| what)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing.join(", "))
        }
    }
}

/// Everything the controllers share.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// The replica's configuration.
    pub config: OperatorConfig,
    /// The flow runtime.
    pub runtime: Runtime,
    /// The nodes this module should run, as last observed.
    pub desired: Arc<DesiredNodes>,
    /// Whether this replica leads.
    pub leader: watch::Receiver<bool>,
    /// Peer module addresses.
    pub peers: PeerTable,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Readiness flags.
    pub readiness: Arc<Readiness>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("module", &self.config.module)
            .field("namespace", &self.config.namespace)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// Whether this replica leads right now.
    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }
}

/// A running operator replica.
#[derive(Debug)]
pub struct Operator {
    context: Arc<Context>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Operator {
    /// Loads the components, then starts the watchers, the controllers and the leader
    /// election. Returns once everything is spawned; readiness follows as the watches list.
    pub async fn start(
        config: OperatorConfig,
        client: Client,
        metrics: Arc<crate::metrics::Metrics>,
        readiness: Arc<Readiness>,
    ) -> Result<Operator, OperatorError> {
        if config.module_key().is_empty() {
            return Err(OperatorError::BadModuleName(config.module.clone()));
        }
        let desired = Arc::new(DesiredNodes::new(config.module_key()));
        let peers = PeerTable::default();
        let mut runtime_config = config.runtime.clone();
        // Every other module's nodes are reached over gRPC at the address its TinyModule
        // advertises.
        let grpc_client = tinyhost_grpc::client::GrpcClient::new(
            Arc::new(ClusterPeers::new(peers.clone(), &config.module)),
            tinyhost_grpc::client::ClientConfig {
                source_module: config.module.clone(),
                ..config.grpc_client.clone()
            },
            Some(metrics.clone()),
        );
        runtime_config.remote = Some(Arc::new(grpc_client));
        // Nodes start as followers; the election says when to lead.
        runtime_config.leader = false;
        runtime_config.state = Arc::new(nodes::ObservedMetadata::new(desired.clone()));
        let runtime = Runtime::start(runtime_config).await?;
        for error in runtime.registry().errors() {
            tracing::warn!(error = %error, "component not loaded");
        }
        readiness.components_loaded();

        let grpc_listener = match config.grpc_listen {
            Some(address) => Some(
                tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| OperatorError::Bind { address, source })?,
            ),
            None => None,
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let elector = LeaderElector::new(
            client.clone(),
            &config.namespace,
            &format!("{}-lock", config.module_key()),
            &config.identity,
            config.lease,
        );
        let leader = elector.subscribe();
        let context = Arc::new(Context {
            client,
            config,
            runtime,
            desired,
            leader,
            peers,
            metrics,
            readiness,
        });

        let mut tasks = JoinSet::new();
        tasks.spawn(elector.run(shutdown_rx.clone()));
        tasks.spawn(follow_leadership(context.clone(), shutdown_rx.clone()));
        tasks.spawn(nodes::apply_loop(context.clone(), shutdown_rx.clone()));
        tasks.spawn(nodes::run_controller(context.clone(), shutdown_rx.clone()));
        tasks.spawn(signals::run_controller(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(modules::watch_peers(context.clone(), shutdown_rx.clone()));
        tasks.spawn(modules::report_module(context.clone(), shutdown_rx.clone()));
        if let Some(listener) = grpc_listener {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "gRPC listening");
            }
            let serve = tinyhost_grpc::server::serve(
                listener,
                context.runtime.clone(),
                context.config.grpc_server_tls.clone(),
                stopped(shutdown_rx.clone()),
            );
            tasks.spawn(async move {
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "gRPC server stopped");
                }
            });
        }
        tasks.spawn(log_flow_events(context.clone(), shutdown_rx));
        Ok(Operator {
            context,
            shutdown,
            tasks,
        })
    }

    /// The shared state (runtime, peers, leadership) for callers and tests.
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    /// The flow runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.context.runtime
    }

    /// Whether this replica leads.
    pub fn is_leader(&self) -> bool {
        self.context.is_leader()
    }

    /// Resolves when any background task ends on its own (which only an unrecoverable
    /// failure does); the binary exits then.
    pub async fn failed(&mut self) {
        if self.tasks.join_next().await.is_none() {
            std::future::pending::<()>().await;
        }
    }

    /// Stops the controllers, releases the Lease and drops every node.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            tracing::warn!("operator tasks did not stop within 10 s; aborting them");
            self.tasks.abort_all();
        }
        self.context.runtime.shutdown().await;
    }
}

/// Resolves when `shutdown` turns true (or its sender is gone).
pub(crate) async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Passes leadership to the runtime (timers and triggers fire on the leader only).
async fn follow_leadership(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let mut leader = context.leader.clone();
    let work = async {
        loop {
            let now = *leader.borrow_and_update();
            context.metrics.set_leader(now);
            context.runtime.set_leader(now).await;
            if leader.changed().await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = stopped(shutdown) => {}
    }
    context.runtime.set_leader(false).await;
}

/// Writes what debug nodes show and expression errors to the log: in a cluster the log is
/// where a flow author looks first.
async fn log_flow_events(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let mut events = context.runtime.subscribe();
    let work = async {
        loop {
            match events.recv().await {
                Ok(tinyhost_flow::events::Event::Output { node, port, data })
                    if port == "_control" =>
                {
                    tracing::info!(node = %node, data = %data, "control");
                }
                Ok(tinyhost_flow::events::Event::ExpressionError {
                    node,
                    port,
                    expression,
                    error,
                    ..
                }) => {
                    tracing::warn!(node = %node, port = %port, expression = %expression, error = %error, "expression failed");
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(skipped = n, "event log fell behind");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = stopped(shutdown) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_names_what_is_missing() {
        let readiness = Readiness::default();
        let missing = readiness.check().expect_err("not ready at first");
        assert!(missing.contains("components not loaded"), "{missing}");
        readiness.components_loaded();
        readiness.nodes_listed();
        readiness.signals_listed();
        assert_eq!(
            readiness.check(),
            Err("TinyModule watch not listed".to_string())
        );
        readiness.modules_listed();
        assert_eq!(readiness.check(), Ok(()));
    }

    #[test]
    fn the_module_key_is_sanitised() {
        let config = OperatorConfig {
            module: "Tiny Systems/Common Module".into(),
            version: String::new(),
            namespace: String::new(),
            advertise_addr: String::new(),
            image: String::new(),
            identity: String::new(),
            lease: LeaseTiming::default(),
            requeue_after: DEFAULT_REQUEUE,
            grpc_listen: None,
            grpc_client: Default::default(),
            grpc_server_tls: None,
            runtime: RuntimeConfig::default(),
        };
        assert_eq!(config.module_key(), "tiny-systems-common-module");
    }
}
