//! One operator replica: loads the components, then runs the leader election, the
//! TinyNode, TinySignal and TinyModule controllers, the gRPC server, the re-assertion of
//! exposed HTTP ports and the event log as tasks, until it is shut down.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tinyhost_flow::Runtime;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::OperatorConfig;
use crate::context::{Context, stopped};
use crate::desired::{DesiredNodes, ObservedMetadata};
use crate::error::OperatorError;
use crate::expose::ClusterExposer;
use crate::lease::LeaderElector;
use crate::metrics::Metrics;
use crate::peers::{ClusterPeers, PeerTable};
use crate::readiness::Readiness;
use crate::{modules, nodes, signals};

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
        metrics: Arc<Metrics>,
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
        runtime_config.state = Arc::new(ObservedMetadata::new(desired.clone()));
        let elector = LeaderElector::new(
            client.clone(),
            &config.namespace,
            &format!("{}-lock", config.module_key()),
            &config.identity,
            config.lease,
        );
        let leader = elector.subscribe();
        // HTTP servers bind while nodes apply, so their ports are published from the start.
        let exposer = match &config.expose {
            Some(expose) => {
                let exposer = ClusterExposer::new(
                    client.clone(),
                    &config.namespace,
                    expose.clone(),
                    leader.clone(),
                );
                runtime_config.http.exposer = Some(Arc::new(exposer.clone()));
                Some(exposer)
            }
            None => {
                tracing::info!(
                    "no --http-service: HTTP servers are reachable on the pod's address only"
                );
                None
            }
        };
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
        if let Some(exposer) = exposer {
            tasks.spawn(exposer.run(shutdown_rx.clone()));
        }
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
