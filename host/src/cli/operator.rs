//! `tinyhost operator`: cluster mode. The flags are upstream's module flags (docs/compatibility.md#process-interface)
//! plus tinyhost's own, so an upstream chart's arguments work unchanged; the binary run
//! under the name `manager` (upstream's entry point) also takes `run` to mean `operator`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::shared::EngineArgs;
use crate::metrics::Metrics;
use crate::operator::http::{parse_bind_address, serve_metrics, serve_probes};
use crate::operator::{ExposeConfig, LeaseTiming, Operator, OperatorConfig, Readiness};
use crate::runtime::RuntimeConfig;

#[derive(clap::Args, Debug)]
pub(super) struct OperatorArgs {
    /// Module name: this replica runs the TinyNodes whose `spec.module` is this module.
    #[arg(long, env = "TINYHOST_MODULE_NAME")]
    name: String,
    /// Module version (a leading `v` is dropped).
    #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
    version: String,
    /// Namespace of the module's TinyNodes, TinySignals, TinyModule and Lease.
    #[arg(long, default_value = "tinysystems")]
    namespace: String,
    /// Kubeconfig file (default: `KUBECONFIG`, `~/.kube/config`, or the in-cluster account).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Where `/metrics` listens (`:PORT`, `HOST:PORT`, or `0` to disable).
    #[arg(long, default_value = ":8080")]
    metrics_bind_address: String,
    /// Where `/healthz` and `/readyz` listen (`:PORT`, `HOST:PORT`, or `0` to disable).
    #[arg(long, default_value = ":8081")]
    health_probe_bind_address: String,
    /// Where the gRPC server for other modules listens; its port is also the advertised one.
    #[arg(long, default_value = ":8483")]
    grpc_server_bind_address: String,
    /// The address other modules dial (default: `SELF_SERVICE_HOST`, else `POD_IP:<grpc
    /// port>`, else `127.0.0.1:<grpc port>`).
    #[arg(long)]
    advertise_addr: Option<String>,
    /// Components besides the built-ins: `.wasm` files, folders of them, or
    /// `oci://REGISTRY/REPO:TAG` (or `@sha256:…`) references, pulled once into the cache.
    #[arg(
        long = "components",
        short = 'c',
        env = "TINYHOST_COMPONENTS",
        value_delimiter = ','
    )]
    components: Vec<String>,
    #[command(flatten)]
    registry: super::sources::RegistryArgs,
    /// Image recorded in the module's TinyModule spec.
    #[arg(long, env = "TINYHOST_IMAGE", default_value = "")]
    image: String,
    /// This replica's leader-election identity (default: `HOSTNAME`, the pod name).
    #[arg(long)]
    identity: Option<String>,
    /// How long the Lease lasts without renewal.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
    lease_duration: Duration,
    /// How long a leader keeps leading while it cannot renew.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    renew_deadline: Duration,
    /// How often candidates try to acquire or renew the Lease.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "2s")]
    retry_period: Duration,
    /// How often the leader re-reports every node and the module when nothing changed.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5m")]
    requeue_after: Duration,
    /// How long a TinySignal whose TinyNode is not in the cluster is retried before it is
    /// dropped as an error.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s")]
    signal_node_grace: Duration,
    /// The module's Service: each HTTP server's port is added to it (`port<N>`), so the
    /// servers of every replica are reachable at `<service>.<namespace>.svc:<N>`. Without
    /// it, they are reachable on the pod's address only.
    #[arg(long, value_name = "NAME")]
    http_service: Option<String>,
    /// The module's Ingress: the host names HTTP servers ask for are routed through it
    /// (needs --http-service).
    #[arg(long, value_name = "NAME", requires = "http_service")]
    http_ingress: Option<String>,
    /// The cluster's DNS domain, for the Service addresses HTTP servers report.
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
    #[command(flatten)]
    grpc: super::grpc::GrpcArgs,
    #[command(flatten)]
    http: super::http::HttpArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Upstream's image starts `/manager run …`: invoked as `manager`, `run` means `operator`.
pub(super) fn upstream_arguments(mut args: Vec<OsString>) -> Vec<OsString> {
    let invoked_as_manager = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_stem())
        .is_some_and(|stem| stem == "manager");
    if invoked_as_manager && args.get(1).is_some_and(|a| a == "run") {
        args[1] = OsString::from("operator");
    }
    args
}

/// The replica's identity: the flag, the pod name, the host name, or the process.
fn identity(flag: Option<String>) -> String {
    flag.filter(|i| !i.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| format!("tinyhost-{}", std::process::id()))
}

/// The advertised gRPC address (docs/compatibility.md#wire-protocol).
fn advertise_addr(flag: Option<String>, grpc_port: u16) -> String {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    flag.filter(|a| !a.is_empty())
        .or_else(|| env("SELF_SERVICE_HOST"))
        .or_else(|| env("POD_IP").map(|ip| format!("{ip}:{grpc_port}")))
        .unwrap_or_else(|| format!("127.0.0.1:{grpc_port}"))
}

/// Where HTTP servers are published: the Service (and Ingress) named by the flags.
fn expose_config(args: &OperatorArgs) -> Option<ExposeConfig> {
    let service = named(&args.http_service)?;
    Some(ExposeConfig::new(
        service,
        named(&args.http_ingress),
        args.cluster_domain.trim().trim_end_matches('.'),
    ))
}

/// A name given by a flag; an empty one is none.
fn named(flag: &Option<String>) -> Option<&str> {
    flag.as_deref().map(str::trim).filter(|n| !n.is_empty())
}

async fn client(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("cannot use kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer().await.context(
            "no Kubernetes configuration found (use --kubeconfig, KUBECONFIG or run in a cluster)",
        )?,
    };
    kube::Client::try_from(config).context("cannot create the Kubernetes client")
}

async fn bind(address: &str, what: &str) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = parse_bind_address(address)? else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for {what} on {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, "{what} listening");
    Ok(Some(listener))
}

/// Resolves on SIGTERM (what the kubelet sends) or Ctrl-C.
async fn termination() {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub(super) async fn operator(args: OperatorArgs) -> anyhow::Result<ExitCode> {
    let timing = LeaseTiming {
        lease_duration: args.lease_duration,
        renew_deadline: args.renew_deadline,
        retry_period: args.retry_period,
    };
    if !(timing.lease_duration > timing.renew_deadline
        && timing.renew_deadline > timing.retry_period
        && !timing.retry_period.is_zero())
    {
        bail!(
            "lease timing must satisfy lease-duration > renew-deadline > retry-period > 0 (got {:?} / {:?} / {:?})",
            timing.lease_duration,
            timing.renew_deadline,
            timing.retry_period
        );
    }
    let grpc = parse_bind_address(&args.grpc_server_bind_address)?
        .ok_or_else(|| anyhow!("--grpc-server-bind-address cannot be disabled"))?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let readiness = Arc::new(Readiness::default());
    let metrics = Arc::new(Metrics::new());
    // Probes first: the kubelet may ask while components are still loading.
    let mut servers = tokio::task::JoinSet::new();
    if let Some(listener) = bind(&args.health_probe_bind_address, "health probes").await? {
        servers.spawn(serve_probes(
            listener,
            readiness.clone(),
            shutdown_rx.clone(),
        ));
    }
    if let Some(listener) = bind(&args.metrics_bind_address, "metrics").await? {
        servers.spawn(serve_metrics(
            listener,
            metrics.clone(),
            shutdown_rx.clone(),
        ));
    }
    let client = client(args.kubeconfig.as_ref()).await?;
    let identity = identity(args.identity.clone());
    // Pulled after the probes are up (a large pull must not look like a hung pod), and
    // before anything is served: a module does not run without a component it names.
    let (engine, components) =
        super::sources::engine_and_components(&args.engine, &args.components, &args.registry)
            .await?;
    let config = OperatorConfig {
        module: args.name.clone(),
        version: args.version.trim_start_matches('v').to_string(),
        namespace: args.namespace.clone(),
        advertise_addr: advertise_addr(args.advertise_addr.clone(), grpc.port()),
        image: args.image.clone(),
        identity: identity.clone(),
        lease: timing,
        requeue_after: args.requeue_after,
        signal_node_grace: args.signal_node_grace,
        grpc_listen: Some(grpc),
        grpc_client: args.grpc.client_config(&args.name)?,
        grpc_server_tls: args.grpc.server_tls()?,
        expose: expose_config(&args),
        runtime: RuntimeConfig {
            engine,
            components,
            http: args.http.listeners("0.0.0.0"),
            outbound: args.http.outbound()?,
            replica: identity,
            ..RuntimeConfig::default()
        },
    };
    tracing::info!(
        module = %config.module,
        namespace = %config.namespace,
        identity = %config.identity,
        advertise = %config.advertise_addr,
        "starting operator"
    );
    let mut operator = Operator::start(config, client, metrics, readiness).await?;
    let code = tokio::select! {
        _ = termination() => ExitCode::SUCCESS,
        _ = operator.failed() => {
            eprintln!("error: an operator task stopped unexpectedly");
            ExitCode::FAILURE
        }
        Some(result) = servers.join_next() => {
            match result {
                Ok(Err(e)) => eprintln!("error: HTTP endpoint failed: {e}"),
                _ => eprintln!("error: HTTP endpoint stopped"),
            }
            ExitCode::FAILURE
        }
    };
    tracing::info!("shutting down");
    operator.shutdown().await;
    let _ = shutdown.send(true);
    while servers.join_next().await.is_some() {}
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn manager_run_means_operator() {
        assert_eq!(
            upstream_arguments(os(&["/manager", "run", "--name=x"])),
            os(&["/manager", "operator", "--name=x"])
        );
        assert_eq!(
            upstream_arguments(os(&["tinyhost", "run", "x"])),
            os(&["tinyhost", "run", "x"])
        );
        assert_eq!(
            upstream_arguments(os(&["/manager", "crds"])),
            os(&["/manager", "crds"])
        );
    }

    #[derive(clap::Parser)]
    struct Command {
        #[command(flatten)]
        args: OperatorArgs,
    }

    fn parse(args: &[&str]) -> Result<OperatorArgs, clap::Error> {
        use clap::Parser as _;
        let mut argv = vec!["operator", "--name=http-module"];
        argv.extend_from_slice(args);
        Command::try_parse_from(argv).map(|c| c.args)
    }

    #[test]
    fn http_servers_are_exposed_only_with_a_service() {
        let none = parse(&[]).expect("parses");
        assert_eq!(expose_config(&none), None);
        let empty = parse(&["--http-service="]).expect("parses");
        assert_eq!(expose_config(&empty), None, "an empty name is none");
        let both = parse(&[
            "--http-service=web",
            "--http-ingress=web",
            "--cluster-domain=corp.internal.",
        ])
        .expect("parses");
        assert_eq!(
            expose_config(&both),
            Some(ExposeConfig::new("web", Some("web"), "corp.internal"))
        );
        let service_only = parse(&["--http-service=web"]).expect("parses");
        assert_eq!(
            expose_config(&service_only),
            Some(ExposeConfig::new("web", None, "cluster.local"))
        );
        assert!(
            parse(&["--http-ingress=web"]).is_err(),
            "an Ingress needs the Service it routes to"
        );
    }

    #[test]
    fn advertised_address_prefers_the_flag() {
        assert_eq!(
            advertise_addr(Some("peer:1".into()), 8483),
            "peer:1".to_string()
        );
    }
}
