//! Loading components: files and folders go through the same path as the built-ins;
//! bad files are reported by name and do not stop the rest; compiled components are
//! cached on disk so a restart compiles nothing.

mod support;

use std::sync::Arc;

use tinyhost::engine::{EngineConfig, HostEngine};
use tinyhost::flow::components::load_standalone;
use tinyhost::registry::ComponentSource;

#[tokio::test]
async fn bad_files_are_named_and_the_rest_still_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("garbage.wasm"), b"this is not wasm").expect("write");
    std::fs::write(dir.path().join("core.wasm"), b"\0asm\x01\0\0\0").expect("write");
    std::fs::copy(support::testkit(), dir.path().join("testkit.wasm")).expect("copy");
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let registry = load_standalone(
        &engine,
        &tinyhost::guests::builtins()
            .into_iter()
            .chain([ComponentSource::Path(dir.path().into())])
            .collect::<Vec<_>>(),
    )
    .await
    .expect("load");
    let errors: Vec<String> = registry.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("core.wasm") && e.contains("core wasm module, not a component")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("garbage.wasm") && e.contains("not a WebAssembly component")),
        "{errors:?}"
    );
    assert!(registry.get("chaos").is_some());
    assert!(registry.get("router").is_some());
}

#[tokio::test]
async fn a_component_without_the_world_is_rejected() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A valid component that exports nothing.
    std::fs::write(dir.path().join("empty.wasm"), b"\0asm\x0d\0\x01\0").expect("write");
    let engine = HostEngine::new(support::engine_config()).expect("engine");
    let registry = load_standalone(&engine, &[ComponentSource::Path(dir.path().into())])
        .await
        .expect("load");
    let errors: Vec<String> = registry.errors().iter().map(|e| e.to_string()).collect();
    assert!(
        errors.len() == 1 && errors[0].contains("empty.wasm"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_restart_loads_precompiled_components_from_disk() {
    let cache = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        cache_dir: Some(cache.path().into()),
        ..support::engine_config()
    };
    let first = HostEngine::new(config.clone()).expect("engine");
    load_standalone(&first, &tinyhost::guests::builtins())
        .await
        .expect("load");
    assert_eq!(first.cache_stats().compiles, 2, "the two built-in files");
    let second: Arc<HostEngine> = HostEngine::new(config).expect("engine");
    load_standalone(&second, &tinyhost::guests::builtins())
        .await
        .expect("load");
    let stats = second.cache_stats();
    assert_eq!((stats.compiles, stats.disk_hits), (0, 2), "{stats:?}");
}
