//! Inline programs run in the sandbox: fresh instance per request, stdin in, capped
//! stdout out, wall-time and memory limits, no files. The programs here are written in
//! WAT so the tests need no compiler; real Go and Rust programs are covered by the
//! toolchain's tests.

mod support;

use std::time::Duration;

use tinyhost::engine::HostEngine;
use tinyhost::sandbox::{ProgramLoader, RunError, RunLimits};

const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
"#;

fn program(body: &str) -> Vec<u8> {
    format!("(module {IMPORTS} (func (export \"_start\") {body}))").into_bytes()
}

/// Reads up to 1 KiB of stdin and writes it back.
const ECHO: &str = r#"
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 1024))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 4) (i32.load (i32.const 16)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
"#;

async fn run(body: &str, stdin: &[u8], limits: RunLimits) -> Result<Vec<u8>, RunError> {
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let loader = ProgramLoader::new(engine).expect("loader");
    let program = loader.load("test", &program(body)).expect("loads");
    program.run(stdin.to_vec(), limits).await
}

#[tokio::test]
async fn a_program_reads_stdin_and_writes_stdout() {
    let out = run(ECHO, br#"{"a":1}"#, RunLimits::default()).await;
    assert_eq!(out, Ok(br#"{"a":1}"#.to_vec()));
}

#[tokio::test]
async fn every_run_gets_a_fresh_instance() {
    // Counts runs in linear memory: a reused instance would answer 2.
    let body = r#"
        (i32.store8 (i32.const 64) (i32.add (i32.const 49) (i32.load8_u (i32.const 200))))
        (i32.store8 (i32.const 200) (i32.add (i32.const 1) (i32.load8_u (i32.const 200))))
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 1))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
    "#;
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let program = ProgramLoader::new(engine)
        .expect("loader")
        .load("counter", &program(body))
        .expect("loads");
    for _ in 0..3 {
        assert_eq!(
            program.run(Vec::new(), RunLimits::default()).await,
            Ok(b"1".to_vec())
        );
    }
}

#[tokio::test]
async fn an_infinite_loop_hits_the_time_limit() {
    let limits = RunLimits {
        timeout: Duration::from_millis(100),
        ..RunLimits::default()
    };
    assert_eq!(
        run("(loop $l (br $l))", b"", limits).await,
        Err(RunError::TimeLimit(100))
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    let limits = RunLimits {
        memory_bytes: 4 << 20,
        ..RunLimits::default()
    };
    let bomb = "(loop $l (drop (memory.grow (i32.const 16))) (br $l))";
    assert_eq!(
        run(bomb, b"", limits).await,
        Err(RunError::MemoryLimit(4 << 20))
    );
}

#[tokio::test]
async fn output_over_the_cap_is_refused() {
    let limits = RunLimits {
        max_output_bytes: 100,
        ..RunLimits::default()
    };
    let flood = r#"
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 60))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
    "#;
    assert_eq!(
        run(flood, b"", limits).await,
        Err(RunError::OutputTooLarge(100))
    );
}

#[tokio::test]
async fn a_non_zero_exit_is_an_error() {
    let out = run("(call $proc_exit (i32.const 3))", b"", RunLimits::default()).await;
    assert!(
        matches!(out, Err(RunError::Exit { code: 3, .. })),
        "{out:?}"
    );
    assert_eq!(
        run("(call $proc_exit (i32.const 0))", b"", RunLimits::default()).await,
        Ok(Vec::new())
    );
}

#[tokio::test]
async fn opening_a_file_is_denied() {
    // path_open on fd 3 (there are no preopened directories): exit with the errno.
    let body = r#"
        (i32.store8 (i32.const 100) (i32.const 47))
        (call $proc_exit (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 1)
            (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 120)))
    "#;
    let out = run(body, b"", RunLimits::default()).await;
    // errno 8 = EBADF: there is no directory to open anything in.
    assert!(
        matches!(out, Err(RunError::Exit { code: 8, .. })),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_trap_is_a_clear_error() {
    let out = run("unreachable", b"", RunLimits::default()).await;
    assert!(matches!(&out, Err(RunError::Trap { .. })), "{out:?}");
}

#[tokio::test]
async fn a_module_without_start_or_with_bad_imports_is_refused() {
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let loader = ProgramLoader::new(engine).expect("loader");
    let no_start = loader
        .load("no-start", b"(module (memory (export \"memory\") 1))")
        .expect("links");
    let out = no_start.run(Vec::new(), RunLimits::default()).await;
    assert!(
        matches!(&out, Err(RunError::Instantiate(m)) if m.contains("_start")),
        "{out:?}"
    );
    let bad = loader.load("bad-import", b"(module (import \"env\" \"nope\" (func)))");
    assert!(bad.is_err_and(|e| e.to_string().contains("bad-import")));
    assert!(loader.load("garbage", b"garbage").is_err());
}
