//! The command line: `run` (local mode, the embedded default), `operator` (cluster mode),
//! and the tools around them, one module per subcommand. Errors become `anyhow` only
//! here, at the binary's edge.

mod bench;
mod cache;
mod call;
mod component;
mod components;
mod crds;
mod eval;
mod export;
mod expr;
mod grpc;
mod http;
mod operator;
mod run;
mod shared;
mod sources;

use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};

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
    Run(run::RunArgs),
    /// List components and their ports.
    Components(components::ComponentsArgs),
    /// The authors' kit: create, build, validate, inspect, push and pull components.
    Component(component::ComponentArgs),
    /// Evaluate an edge configuration (a `{{ }}` template or a JSON object) against a message.
    Expr(expr::ExprArgs),
    /// Load a flow, send one message to `node:port`, wait for the whole downstream subtree
    /// and print its response (what a blocking `output` returns).
    Call(call::CallArgs),
    /// Compile a program the way a `wasm_eval` node does (through the same cache) and run
    /// it once: the input JSON on stdin, the output JSON printed.
    Eval(eval::EvalArgs),
    /// Inspect or empty the caches of compiled components and inline programs.
    Cache(cache::CacheArgs),
    /// Print the TinyNode, TinyModule and TinySignal CustomResourceDefinitions as one
    /// multi-document YAML stream, or write one file per kind into a folder.
    Crds(crds::CrdsArgs),
    /// Run as a Kubernetes operator serving one module: TinyNodes of the module from the
    /// cluster, leader election, status, TinySignals (upstream's module flags work).
    Operator(Box<operator::OperatorArgs>),
    /// Print local manifests as cluster objects (byte fields base64-encoded), ready for
    /// `kubectl apply -f -`.
    Export(export::ExportArgs),
    /// Drive a flow with N messages from C concurrent callers and print throughput,
    /// latency percentiles and peak memory (`--json` for one JSON object).
    Bench(Box<bench::BenchArgs>),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(operator::upstream_arguments(std::env::args_os().collect()));
    init_tracing(&cli.log);
    let result = match cli.command {
        Command::Expr(args) => expr::expr(args),
        Command::Crds(args) => crds::crds(args),
        Command::Export(args) => export::export(args),
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
        Command::Run(args) => run::run(args).await,
        Command::Components(args) => components::components(args).await,
        Command::Component(args) => component::component(args).await,
        Command::Call(args) => call::call(args).await,
        Command::Eval(args) => eval::eval(args).await,
        Command::Cache(args) => cache::cache(args),
        Command::Expr(_) => Err(anyhow!("unreachable: expr runs without the async runtime")),
        Command::Operator(args) => operator::operator(*args).await,
        Command::Bench(args) => bench::bench(*args).await,
        Command::Crds(_) | Command::Export(_) => Err(anyhow!(
            "unreachable: this command runs without the async runtime"
        )),
    }
}
