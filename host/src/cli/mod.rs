//! The command line: `run` (local mode, the embedded default), `operator` (cluster mode),
//! and the tools around them. Errors become `anyhow` only here, at the binary's edge.

mod bench;
mod grpc;
mod operator;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::engine::EngineConfig;
use crate::events::Event;
use crate::registry::ComponentSource;
use crate::runtime::{Runtime, RuntimeConfig};
use crate::source::{FolderSource, NodeSource};
use crate::state::FileStateStore;

/// The hello flow, embedded so `tinyhost run` works with no files at all.
const EMBEDDED_EXAMPLE: &str = include_str!("../../../examples/hello/flow.yaml");

#[derive(Parser, Debug)]
#[command(
    name = "tinyhost",
    version,
    about = "Run Tiny Systems flows where every component is a WebAssembly component"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (tracing env-filter syntax), e.g. `info` or `tinyhost=debug`.
    #[arg(long, global = true, env = "TINYHOST_LOG", default_value = "warn")]
    log: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a flow from a folder or file of TinyNode/TinySignal manifests (default: the
    /// embedded hello example), reloading when files change.
    Run(RunArgs),
    /// List components and their ports.
    Components(ComponentsArgs),
    /// Evaluate an edge configuration (a `{{ }}` template or a JSON object) against a message.
    Expr(ExprArgs),
    /// Load a flow, send one message to `node:port`, wait for the whole downstream subtree
    /// and print its response (what a blocking `output` returns).
    Call(CallArgs),
    /// Compile a program the way a `wasm_eval` node does (through the same cache) and run
    /// it once: the input JSON on stdin, the output JSON printed.
    Eval(EvalArgs),
    /// Inspect or empty the caches of compiled components and inline programs.
    Cache(CacheArgs),
    /// Print the TinyNode, TinyModule and TinySignal CustomResourceDefinitions as one
    /// multi-document YAML stream, or write one file per kind into a folder.
    Crds(CrdsArgs),
    /// Run as a Kubernetes operator serving one module: TinyNodes of the module from the
    /// cluster, leader election, status, TinySignals (upstream's module flags work).
    Operator(Box<operator::OperatorArgs>),
    /// Print local manifests as cluster objects (byte fields base64-encoded), ready for
    /// `kubectl apply -f -`.
    Export(ExportArgs),
    /// Drive a flow with N messages from C concurrent callers and print throughput,
    /// latency percentiles and peak memory (`--json` for one JSON object).
    Bench(Box<bench::BenchArgs>),
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// Folder or file of manifests.
    path: PathBuf,
    /// Put every object in this namespace.
    #[arg(long, short = 'n')]
    namespace: Option<String>,
}

#[derive(clap::Args, Debug)]
struct CrdsArgs {
    /// Write `<plural>.operator.tinysystems.io.yaml` files into this folder instead of
    /// printing.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CacheArgs {
    #[command(subcommand)]
    action: CacheAction,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Subcommand, Debug, Clone, Copy)]
enum CacheAction {
    /// Where the caches are and how much they hold.
    Stats,
    /// Delete every cached artifact.
    Clear,
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
    /// Source language: `go`, `tinygo`, `rust` or `wat`.
    #[arg(long = "lang", short = 'l')]
    language: String,
    /// The program's source file.
    file: PathBuf,
    /// The input as JSON, or `-` to read it from standard input.
    #[arg(long, short = 'i', default_value = "null")]
    input: String,
    /// Wall-clock limit of the run (e.g. `5s`).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    timeout: Duration,
    /// Let the program read the clocks (otherwise time stands still at the Unix epoch).
    #[arg(long)]
    clock: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(clap::Args, Debug)]
struct CallArgs {
    /// Folder or file of manifests.
    path: PathBuf,
    /// Target `node:port`.
    to: String,
    /// The message as JSON.
    #[arg(long, short = 'd', default_value = "{}")]
    data: String,
    /// Extra component files or folders of `.wasm` components.
    #[arg(long = "components", short = 'c')]
    components: Vec<PathBuf>,
    #[command(flatten)]
    grpc: grpc::GrpcArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Folder or file of manifests; omitted = the embedded hello flow.
    path: Option<PathBuf>,
    /// Extra component files or folders of `.wasm` components.
    #[arg(long = "components", short = 'c')]
    components: Vec<PathBuf>,
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
    engine: EngineArgs,
}

#[derive(clap::Args, Debug)]
pub(crate) struct EngineArgs {
    /// Directory of precompiled components (default: the user cache directory).
    #[arg(long, env = "TINYHOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Memory limit per component instance, in MiB.
    #[arg(long, default_value_t = 64)]
    memory_limit_mib: usize,
    /// CPU time limit per component call (e.g. `10s`).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    call_time_limit: Duration,
}

impl EngineArgs {
    pub(crate) fn config(&self) -> EngineConfig {
        EngineConfig {
            memory_limit: self.memory_limit_mib.saturating_mul(1 << 20),
            call_time_limit: self.call_time_limit,
            cache_dir: self
                .cache_dir
                .clone()
                .or_else(crate::engine::default_cache_dir),
            ..EngineConfig::default()
        }
    }
}

#[derive(clap::Args, Debug)]
struct ComponentsArgs {
    /// Component files or folders (the built-ins are always listed).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(clap::Args, Debug)]
struct ExprArgs {
    /// A template string (`'{{$.count + 1}}'`, `'Hello {{$.name}}!'`) or a JSON configuration object.
    config: String,
    /// The incoming message as JSON, or `-` to read it from standard input.
    #[arg(long, short = 'i')]
    input: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(operator::upstream_arguments(std::env::args_os().collect()));
    init_tracing(&cli.log);
    let result = match cli.command {
        Command::Expr(args) => expr(args),
        Command::Crds(args) => crds(args),
        Command::Export(args) => export(args),
        command => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
            .and_then(|rt| rt.block_on(async_main(command))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn async_main(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run(args).await,
        Command::Components(args) => components(args).await,
        Command::Call(args) => call(args).await,
        Command::Eval(args) => eval(args).await,
        Command::Cache(args) => cache(args),
        Command::Expr(_) => Err(anyhow!("unreachable: expr runs without the async runtime")),
        Command::Operator(args) => operator::operator(*args).await,
        Command::Bench(args) => bench::bench(*args).await,
        Command::Crds(_) | Command::Export(_) => Err(anyhow!(
            "unreachable: this command runs without the async runtime"
        )),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
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
    let config = RuntimeConfig {
        engine: args.engine.config(),
        component_paths: args.components.clone(),
        state: Arc::new(FileStateStore::new(state_dir)),
        trace_outputs: args.trace,
        remote: grpc::local_remote(&args.grpc)?,
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
    let mut source = FolderSource::new(path.clone(), !args.no_watch).map_err(|e| anyhow!("{e}"))?;
    let printer = Printer {
        format: args.output,
        started: Instant::now(),
        shown: Arc::default(),
    };
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut messages = 0u64;
    let mut source_open = true;
    loop {
        let sleep_until = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            snapshot = source.next(), if source_open => {
                let Some(snapshot) = snapshot else { source_open = false; continue };
                for e in &snapshot.errors {
                    printer.error(&e.to_string());
                }
                let report = runtime.apply(snapshot.nodes).await;
                source.applied(&report);
                printer.applied(&report);
                for signal in snapshot.new_signals {
                    let to = format!("{}:{}", signal.spec.node, signal.spec.port);
                    let runtime = runtime.clone();
                    let printer = printer.clone();
                    // Signals are fire-and-forget with a deadline (CONTRACT §1).
                    tokio::spawn(async move {
                        match tokio::time::timeout(Duration::from_secs(30), runtime.send(&to, &signal.spec.data.0)).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => printer.error(&format!("signal {} to {to}: {e}", signal.metadata.name)),
                            Err(_) => printer.error(&format!("signal {} to {to}: timed out after 30 s", signal.metadata.name)),
                        }
                    });
                }
            }
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

/// Starts a runtime; component files that failed to load are warned about, not fatal.
async fn start_runtime(config: RuntimeConfig) -> anyhow::Result<Runtime> {
    let runtime = Runtime::start(config)
        .await
        .context("cannot start the runtime")?;
    for e in runtime.registry().errors() {
        eprintln!("warning: {e}");
    }
    Ok(runtime)
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

    fn applied(&self, report: &crate::runtime::ApplyReport) {
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

/// `1a2b3c4d.common-module.debug-x` reads better as `debug-x` on a terminal.
fn short(node: &str) -> &str {
    if std::io::stdout().is_terminal() {
        node.rsplit('.').next().unwrap_or(node)
    } else {
        node
    }
}

async fn components(args: ComponentsArgs) -> anyhow::Result<ExitCode> {
    let engine =
        crate::engine::HostEngine::new(args.engine.config()).map_err(|e| anyhow!("{e}"))?;
    let mut sources = vec![ComponentSource::builtins()];
    sources.extend(args.paths.iter().cloned().map(ComponentSource::Path));
    let registry = crate::registry::Registry::load(&engine, &sources)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    for entry in registry.components() {
        let ports: Vec<Value> = entry
            .default_ports
            .iter()
            .map(|p| json!({"name": p.name, "label": p.label, "source": p.source, "position": format!("{:?}", p.position).to_lowercase()}))
            .collect();
        match args.output {
            OutputFormat::Json => {
                writeln!(
                    out,
                    "{}",
                    json!({"name": entry.info.name, "description": entry.info.description, "origin": entry.pool.origin(), "ports": ports})
                )?;
            }
            OutputFormat::Text => {
                writeln!(
                    out,
                    "{:<14} {}  [{}]",
                    entry.info.name,
                    entry.info.description,
                    entry.pool.origin()
                )?;
                for p in &entry.default_ports {
                    let dir = if p.source { "out" } else { "in " };
                    writeln!(out, "    {dir} {:<16} {}", p.name, p.label)?;
                }
            }
        }
    }
    for e in registry.errors() {
        eprintln!("error: {e}");
    }
    Ok(if registry.errors().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let data: Value = serde_json::from_str(&args.data).context("--data is not JSON")?;
    let config = RuntimeConfig {
        engine: args.engine.config(),
        component_paths: args.components.clone(),
        remote: grpc::local_remote(&args.grpc)?,
        ..RuntimeConfig::default()
    };
    let runtime = start_runtime(config).await?;
    let (nodes, _signals, errors) = crate::source::read_manifests(&args.path);
    for e in &errors {
        eprintln!("error: {e}");
    }
    let report = runtime.apply(nodes).await;
    for (node, error) in &report.errors {
        eprintln!("warning: node {node}: {error}");
    }
    let result = runtime.send(&args.to, &data).await;
    runtime.shutdown().await;
    match result {
        Ok(Some(reply)) => println!("{}", serde_json::to_string_pretty(&reply)?),
        Ok(None) => println!("null"),
        Err(e) => return Err(anyhow!("{e}")),
    }
    Ok(ExitCode::SUCCESS)
}

async fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let input: Value = read_json_arg(&args.input, "--input")?;
    let config = RuntimeConfig {
        engine: args.engine.config(),
        ..RuntimeConfig::default()
    };
    let engine =
        crate::engine::HostEngine::new(config.engine.clone()).map_err(|e| anyhow!("{e}"))?;
    let (_toolchain, sandbox) =
        crate::runtime::build_sandbox(&config, &engine).map_err(|e| anyhow!("{e}"))?;
    let program = match sandbox.compile(&args.language, &source).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", e.message);
            for d in &e.diagnostics {
                eprintln!(
                    "  {}:{}:{}: {}",
                    args.file.display(),
                    d.line,
                    d.column,
                    d.message
                );
            }
            return Ok(ExitCode::from(2));
        }
    };
    eprintln!(
        "compiled with {} in {} ms{}",
        program.compiler,
        program.elapsed.as_millis(),
        if program.cached { " (cached)" } else { "" }
    );
    let limits = crate::sandbox::RunLimits {
        timeout: args.timeout,
        clock: args.clock,
        ..crate::sandbox::RunLimits::default()
    };
    let output = sandbox
        .run(&program.id, input.to_string().into_bytes(), limits)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let text = String::from_utf8_lossy(&output);
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(value) => println!("{}", serde_json::to_string_pretty(&value)?),
        Err(e) => {
            return Err(anyhow!(
                "program output is not JSON ({e}): {}",
                text.chars().take(200).collect::<String>()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cache(args: CacheArgs) -> anyhow::Result<ExitCode> {
    let Some(dir) = args.engine.config().cache_dir else {
        return Err(anyhow!(
            "no cache directory (set --cache-dir or TINYHOST_CACHE_DIR)"
        ));
    };
    let toolchain = tinyhost_toolchain::Toolchain::new(tinyhost_toolchain::ToolchainConfig::new(
        dir.join("toolchain"),
    ));
    let precompiled = ["components", "modules", "snapshots"].map(|kind| dir.join(kind));
    match args.action {
        CacheAction::Stats => {
            let (programs, program_bytes) = toolchain
                .disk_usage()
                .context("cannot read the program cache")?;
            let (files, bytes) = precompiled
                .iter()
                .map(|d| folder_usage(d))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let value = json!({
                "dir": dir,
                "programs": {"files": programs, "bytes": program_bytes},
                "precompiled": {"files": files, "bytes": bytes},
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        CacheAction::Clear => {
            let mut freed = toolchain
                .clear()
                .context("cannot clear the program cache")?;
            for d in &precompiled {
                freed += folder_usage(d).1;
                if d.exists() {
                    std::fs::remove_dir_all(d)
                        .with_context(|| format!("cannot remove {}", d.display()))?;
                }
            }
            println!("freed {freed} bytes");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Files and bytes directly in a folder (missing = empty).
fn folder_usage(dir: &std::path::Path) -> (u64, u64) {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .fold((0, 0), |(n, b), m| (n + 1, b + m.len()))
        })
        .unwrap_or((0, 0))
}

/// A JSON command-line value, or standard input for `-`.
fn read_json_arg(text: &str, name: &str) -> anyhow::Result<Value> {
    if text == "-" {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read standard input")?;
        return serde_json::from_str(&input).context("standard input is not JSON");
    }
    serde_json::from_str(text).with_context(|| format!("{name} is not JSON"))
}

fn crds(args: CrdsArgs) -> anyhow::Result<ExitCode> {
    let Some(dir) = args.out else {
        print!("{}", crate::crd::render_stream()?);
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for crd in crate::crd::render()? {
        let path = dir.join(&crd.file_name);
        std::fs::write(&path, &crd.yaml)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (nodes, signals, errors) = crate::source::read_manifests(&args.path);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let mut out = String::new();
    let nodes = nodes.iter().map(crate::crd::TinyNode::from);
    let signals = signals.iter().map(crate::crd::TinySignal::from);
    for document in nodes
        .map(|n| in_namespace(n, args.namespace.as_deref()))
        .chain(signals.map(|s| in_namespace(s, args.namespace.as_deref())))
    {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(&document?)?);
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// A cluster object, placed in `namespace` if given, as a YAML-ready value.
fn in_namespace<K: kube::Resource + serde::Serialize>(
    mut object: K,
    namespace: Option<&str>,
) -> anyhow::Result<Value> {
    if let Some(ns) = namespace {
        object.meta_mut().namespace = Some(ns.to_string());
    }
    Ok(serde_json::to_value(&object)?)
}

fn expr(args: ExprArgs) -> anyhow::Result<ExitCode> {
    let input: Value = match args.input.as_deref() {
        None => Value::Null,
        Some(text) => read_json_arg(text, "--input")?,
    };
    // A JSON object/array is a whole configuration; anything else is one template string.
    let config = match serde_json::from_str::<Value>(&args.config) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(args.config.clone()),
    };
    let rendered = tinyhost_expr::render(&config, &input);
    if rendered.errors.is_empty() {
        println!("{}", serde_json::to_string_pretty(&rendered.value)?);
        return Ok(ExitCode::SUCCESS);
    }
    for e in &rendered.errors {
        eprintln!("error: {}", e.message);
        eprintln!("  {{{{{}}}}}", e.expression);
        eprintln!("  {}^ position {}", " ".repeat(e.position + 2), e.position);
    }
    Ok(ExitCode::from(2))
}
