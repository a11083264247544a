//! Inline programs run in the sandbox: fresh instance per request, stdin in, capped
//! stdout out, wall-time and memory limits, no files. The programs here are written in
//! WAT so the tests need no compiler; real Go and Rust programs are covered by the
//! toolchain's tests. Reactors (`_initialize` + `tinyhost_run`) run from a start-up snapshot.

mod support;

use std::time::Duration;

use tinyhost::engine::{EngineConfig, HostEngine};
use tinyhost::sandbox::{ProgramLoader, RunError, RunLimits, SnapshotStats};
use tinyhost::snapshot::Entry;

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
    let program = loader
        .load("test", program(body).into())
        .await
        .expect("loads");
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
        .load("counter", program(body).into())
        .await
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
        .load("no-start", text("(module (memory (export \"memory\") 1))"))
        .await;
    assert!(
        no_start
            .as_ref()
            .is_err_and(|e| e.message.contains("_start")),
        "{no_start:?}"
    );
    let bad = loader
        .load(
            "bad-import",
            text("(module (import \"env\" \"nope\" (func)) (func (export \"_start\")))"),
        )
        .await;
    assert!(bad.is_err_and(|e| e.to_string().contains("bad-import")));
    assert!(loader.load("garbage", text("garbage")).await.is_err());
    let binary_garbage = loader.load("binary", b"\0asm\x01\0\0\0\x07\xff".as_slice().into());
    assert!(binary_garbage.await.is_err());
}

fn text(wat: &str) -> std::sync::Arc<[u8]> {
    wat.as_bytes().into()
}

/// A reactor: `_initialize` writes "init" to memory and sets a global, `tinyhost_run`
/// writes the memory and the global's value, then marks both so a reused instance differs.
fn reactor(initialise: &str) -> std::sync::Arc<[u8]> {
    text(&format!(
        r#"(module {IMPORTS}
          (global $g (mut i32) (i32.const 48))
          (func (export "_initialize") {initialise}
            (i32.store (i32.const 64) (i32.const 0x74696e69))
            (global.set $g (i32.const 55)))
          (func (export "tinyhost_run")
            (i32.store8 (i32.const 68) (global.get $g))
            (i32.store (i32.const 0) (i32.const 64))
            (i32.store (i32.const 4) (i32.const 5))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
            (i32.store (i32.const 64) (i32.const 0x656e6f64))
            (global.set $g (i32.const 57))))"#
    ))
}

#[tokio::test]
async fn a_reactor_runs_from_its_snapshot_and_every_run_starts_fresh() {
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let loader = ProgramLoader::new(engine).expect("loader");
    let program = loader.load("reactor", reactor("")).await.expect("loads");
    assert_eq!(program.entry(), Entry::Reactor { initialise: false });
    let stats = loader.snapshot_stats();
    assert_eq!(
        (stats.taken + stats.disk_hits, stats.failed),
        (1, 0),
        "{stats:?}"
    );
    for _ in 0..3 {
        assert_eq!(
            program.run(Vec::new(), RunLimits::default()).await,
            Ok(b"init7".to_vec())
        );
    }
}

#[tokio::test]
async fn without_snapshots_a_reactor_initialises_on_every_run() {
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let loader = ProgramLoader::new(engine)
        .expect("loader")
        .with_snapshots(false);
    let program = loader.load("reactor", reactor("")).await.expect("loads");
    assert_eq!(program.entry(), Entry::Reactor { initialise: true });
    assert_eq!(
        program.run(Vec::new(), RunLimits::default()).await,
        Ok(b"init7".to_vec())
    );
    assert_eq!(loader.snapshot_stats(), SnapshotStats::default());
}

#[tokio::test]
async fn snapshots_are_kept_on_disk_and_a_restart_takes_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..support::engine_config()
    };
    let first =
        ProgramLoader::new(HostEngine::new(config.clone()).expect("engine")).expect("loader");
    first.load("reactor", reactor("")).await.expect("loads");
    assert_eq!(first.snapshot_stats().taken, 1);

    let engine = HostEngine::new(config).expect("engine");
    let second = ProgramLoader::new(engine.clone()).expect("loader");
    let program = second.load("reactor", reactor("")).await.expect("loads");
    assert_eq!(
        second.snapshot_stats(),
        SnapshotStats {
            taken: 0,
            disk_hits: 1,
            failed: 0
        }
    );
    assert_eq!(
        engine.cache_stats().compiles,
        0,
        "the snapshot was precompiled on disk"
    );
    assert_eq!(
        program.run(Vec::new(), RunLimits::default()).await,
        Ok(b"init7".to_vec())
    );
}

#[tokio::test]
async fn a_corrupt_snapshot_file_is_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..support::engine_config()
    };
    let wasm = reactor("");
    let binary = wat::parse_bytes(&wasm).expect("wat").into_owned();
    let path = tinyhost::snapshot::snapshot_path(dir.path(), &binary);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(&path, b"not a module").expect("write");
    let loader = ProgramLoader::new(HostEngine::new(config).expect("engine")).expect("loader");
    let program = loader.load("reactor", wasm).await.expect("loads");
    assert_eq!(loader.snapshot_stats().taken, 1);
    assert_eq!(
        program.run(Vec::new(), RunLimits::default()).await,
        Ok(b"init7".to_vec())
    );
    assert!(
        std::fs::read(&path)
            .expect("rewritten")
            .starts_with(b"\0asm")
    );
}

#[tokio::test]
async fn a_reactor_whose_initialisation_fails_still_loads_and_reports_the_failure_per_run() {
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let loader = ProgramLoader::new(engine).expect("loader");
    let program = loader
        .load("broken", reactor("unreachable"))
        .await
        .expect("loads without a snapshot");
    assert_eq!(program.entry(), Entry::Reactor { initialise: true });
    assert_eq!(loader.snapshot_stats().failed, 1);
    let out = program.run(Vec::new(), RunLimits::default()).await;
    assert!(matches!(&out, Err(RunError::Trap { .. })), "{out:?}");
}

#[tokio::test]
async fn a_reactor_whose_initialisation_loops_is_stopped() {
    let config = EngineConfig {
        call_time_limit: Duration::from_millis(200),
        ..support::engine_config()
    };
    let loader = ProgramLoader::new(HostEngine::new(config).expect("engine")).expect("loader");
    let program = loader
        .load("looping", reactor("(loop $l (br $l))"))
        .await
        .expect("loads without a snapshot");
    assert_eq!(loader.snapshot_stats().failed, 1);
    let limits = RunLimits {
        timeout: Duration::from_millis(100),
        ..RunLimits::default()
    };
    assert_eq!(
        program.run(Vec::new(), limits).await,
        Err(RunError::TimeLimit(100))
    );
}

/// Writes the clock `id`'s reading as 8 little-endian bytes.
fn clock_reader(id: u32) -> std::sync::Arc<[u8]> {
    text(&format!(
        r#"(module
          (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (drop (call $now (i32.const {id}) (i64.const 1) (i32.const 64)))
            (i32.store (i32.const 0) (i32.const 64))
            (i32.store (i32.const 4) (i32.const 8))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))))"#
    ))
}

async fn read_clock(id: u32, clock: bool) -> u64 {
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let loader = ProgramLoader::new(engine).expect("loader");
    let program = loader.load("clock", clock_reader(id)).await.expect("loads");
    let limits = RunLimits {
        clock,
        ..RunLimits::default()
    };
    let out = program.run(Vec::new(), limits).await.expect("runs");
    u64::from_le_bytes(out.try_into().expect("8 bytes"))
}

#[tokio::test]
async fn time_stands_still_unless_the_clock_is_enabled() {
    const REALTIME: u32 = 0;
    const MONOTONIC: u32 = 1;
    assert_eq!(read_clock(REALTIME, false).await, 0, "the Unix epoch");
    let frozen = read_clock(MONOTONIC, false).await;
    assert_eq!(read_clock(MONOTONIC, false).await, frozen);

    let year_2020_ns = 1_577_836_800_000_000_000u64;
    assert!(read_clock(REALTIME, true).await > year_2020_ns);
    assert!(
        read_clock(MONOTONIC, true).await > frozen,
        "a running clock has advanced"
    );
}
