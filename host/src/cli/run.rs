//! `tinyhost run`: a flow from a folder of manifests (or the embedded hello flow), driven
//! by the drive loop while this prints what happens.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use serde_json::{Value, json};

use super::grpc;
use super::shared::{EngineArgs, OutputFormat, start_runtime};
use crate::capabilities::metadata::FileMetadataStore;
use crate::events::Event;
use crate::runtime::RuntimeConfig;
use crate::source::FolderSource;

/// The hello flow, embedded so `tinyhost run` works with no files at all.
const EMBEDDED_EXAMPLE: &str = include_str!("../../../examples/hello/flow.yaml");

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// Folder or file of manifests; omitted = the embedded hello flow.
    path: Option<PathBuf>,
    /// Extra components: `.wasm` files, folders of them, or `oci://REGISTRY/REPO:TAG`
    /// (or `@sha256:…`) references; added to those the flow folder's `components.yaml` names.
    #[arg(long = "components", short = 'c')]
    components: Vec<String>,
    #[command(flatten)]
    registry: super::sources::RegistryArgs,
    /// Stop after this many debug/control messages.
    #[arg(long)]
    max_messages: Option<u64>,
    /// Stop after this long (e.g. `10s`, `2m`).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    /// Also print every output of every node, not only debug/control messages.
    #[arg(long)]
    trace: bool,
    /// Do not watch the manifests for changes.
    #[arg(long)]
    no_watch: bool,
    /// Where node metadata persists (default: `.tinyhost/state` beside the manifests).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Serve this flow's nodes to other modules over gRPC on this address (`HOST:PORT`).
    #[arg(long)]
    grpc_server_bind_address: Option<String>,
    #[command(flatten)]
    grpc: grpc::GrpcArgs,
    #[command(flatten)]
    http: super::http::HttpArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (path, embedded) = match &args.path {
        Some(p) => (p.clone(), None),
        None => {
            let dir = tempfile_dir()?;
            let file = dir.join("hello.yaml");
            std::fs::write(&file, EMBEDDED_EXAMPLE).context("cannot write the embedded example")?;
            (file, Some(dir))
        }
    };
    let state_dir = args.state_dir.clone().unwrap_or_else(|| {
        let base = if path.is_dir() {
            path.clone()
        } else {
            path.parent().map(PathBuf::from).unwrap_or_default()
        };
        base.join(".tinyhost").join("state")
    });
    let mut names = args.components.clone();
    names.extend(super::sources::flow_components(&path)?);
    let (engine, components) =
        super::sources::engine_and_components(&args.engine, &names, &args.registry).await?;
    let config = RuntimeConfig {
        engine,
        components,
        state: Arc::new(FileMetadataStore::new(state_dir)),
        trace_outputs: args.trace,
        remote: grpc::local_remote(&args.grpc)?,
        http: args.http.listeners("127.0.0.1"),
        outbound: args.http.outbound()?,
        ..RuntimeConfig::default()
    };
    let runtime = start_runtime(config).await?;
    let (stop_grpc, grpc_stopped) = tokio::sync::oneshot::channel::<()>();
    let grpc_server = match &args.grpc_server_bind_address {
        None => None,
        Some(address) => {
            let addr = crate::operator::http::parse_bind_address(address)?
                .ok_or_else(|| anyhow!("--grpc-server-bind-address needs HOST:PORT"))?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for gRPC on {addr}"))?;
            eprintln!("serving gRPC on {}", listener.local_addr()?);
            let shutdown = async {
                let _ = grpc_stopped.await;
            };
            Some(tokio::spawn(crate::grpc::server::serve(
                listener,
                runtime.clone(),
                args.grpc.server_tls()?,
                shutdown,
            )))
        }
    };
    let mut events = runtime.subscribe();
    let source = FolderSource::new(path.clone(), !args.no_watch).map_err(|e| anyhow!("{e}"))?;
    let printer = Printer {
        format: args.output,
        started: Instant::now(),
        shown: Arc::default(),
    };
    // The drive loop runs on its own: printing events or the deadline never cancels the
    // folder source half-way through reading a change.
    let driving = tokio::spawn(crate::flow::drive::drive(
        runtime.clone(),
        source,
        Arc::new(printer.clone()),
    ));
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut messages = 0u64;
    loop {
        let sleep_until = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => {
                match event {
                    Ok(event) => {
                        if printer.event(&event) {
                            messages += 1;
                            if args.max_messages.is_some_and(|max| messages >= max) {
                                break;
                            }
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => printer.error(&format!("output fell behind; {n} events not shown")),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
            _ = sleep_until => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    driving.abort();
    let _ = stop_grpc.send(());
    if let Some(server) = grpc_server
        && let Ok(Err(e)) = server.await
    {
        printer.error(&e.to_string());
    }
    runtime.shutdown().await;
    if let Some(dir) = embedded {
        // The embedded example and its state were throw-away.
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(ExitCode::SUCCESS)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tinyhost-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Prints events readably or as JSON lines.
#[derive(Clone)]
struct Printer {
    format: OutputFormat,
    started: Instant,
    /// Last shown (error, text) per node: only changes are printed.
    shown: Arc<std::sync::Mutex<std::collections::HashMap<String, (bool, String)>>>,
}

impl Printer {
    fn line(&self, value: Value, text: String) {
        let mut out = std::io::stdout().lock();
        let _ = match self.format {
            OutputFormat::Json => writeln!(out, "{value}"),
            OutputFormat::Text => writeln!(
                out,
                "{:>8.3}s  {text}",
                self.started.elapsed().as_secs_f64()
            ),
        };
        let _ = out.flush();
    }

    /// Prints an event; returns whether it counts as a message.
    fn event(&self, event: &Event) -> bool {
        match event {
            Event::Output { node, port, data } => {
                let value = json!({"type": "message", "node": node, "port": port, "data": data});
                self.line(value, format!("{} {port} ▸ {data}", short(node)));
                true
            }
            Event::Status { node, status } => {
                let current = (status.error, status.status.clone());
                if let Ok(mut shown) = self.shown.lock() {
                    if shown.get(node) == Some(&current) {
                        return false;
                    }
                    shown.insert(node.clone(), current);
                }
                let state = if status.error {
                    format!("ERROR {}", status.status)
                } else {
                    status.status.clone()
                };
                let value = json!({"type": "status", "node": node, "port": null, "data": status});
                self.line(value, format!("{} status: {state}", short(node)));
                false
            }
            Event::ExpressionError {
                node,
                port,
                expression,
                position,
                error,
            } => {
                let value = json!({
                    "type": "expression_error", "node": node, "port": port,
                    "data": {"expression": expression, "position": position, "error": error},
                });
                self.line(
                    value,
                    format!("{} {port} expression error: {error} at position {position} in `{expression}`", short(node)),
                );
                false
            }
        }
    }

    fn report_applied(&self, report: &crate::apply::ApplyReport) {
        if report.added.is_empty() && report.updated.is_empty() && report.removed.is_empty() {
            return;
        }
        let value = json!({"type": "applied", "added": report.added, "updated": report.updated, "removed": report.removed});
        self.line(
            value,
            format!(
                "applied: {} added, {} updated, {} removed",
                report.added.len(),
                report.updated.len(),
                report.removed.len()
            ),
        );
    }

    fn error(&self, message: &str) {
        match self.format {
            OutputFormat::Json => {
                self.line(json!({"type": "error", "message": message}), String::new())
            }
            OutputFormat::Text => eprintln!("error: {message}"),
        }
    }
}

impl crate::flow::drive::DriveObserver for Printer {
    fn source_errors(&self, errors: &[crate::ManifestError]) {
        for e in errors {
            self.error(&e.to_string());
        }
    }

    fn applied(&self, report: &crate::apply::ApplyReport) {
        self.report_applied(report);
    }

    fn signal(
        &self,
        signal: &crate::manifest::TinySignal,
        outcome: &Result<(), crate::flow::drive::SignalError>,
    ) {
        if let Err(e) = outcome {
            let to = format!("{}:{}", signal.spec.node, signal.spec.port);
            self.error(&format!("signal {} to {to}: {e}", signal.metadata.name));
        }
    }
}

/// `1a2b3c4d.common-module.debug-x` reads better as `debug-x` on a terminal.
fn short(node: &str) -> &str {
    if std::io::stdout().is_terminal() {
        node.rsplit('.').next().unwrap_or(node)
    } else {
        node
    }
}
