//! The built-in Tiny Systems components, shipped inside tinyhost as one wasm component
//! and loaded through the same path as any author's component.
//!
//! Adding a built-in: one new file, one line in [`components`]. Behaviour is tested
//! inside the real host (`host/tests/builtins_*.rs`): a guest cannot link natively.

mod array_filter;
mod array_get;
mod array_split;
mod r#async;
mod cron;
mod debug;
mod delay;
mod group_by;
mod inject;
mod kv;
mod retry;
mod router;
mod signal;
mod ticker;
mod transform;
mod wasm_eval;

/// Every built-in component of the module.
fn components() -> &'static [tinyhost_sdk::ComponentDef] {
    &[
        array_filter::COMPONENT,
        array_get::COMPONENT,
        array_split::COMPONENT,
        r#async::COMPONENT,
        cron::COMPONENT,
        debug::COMPONENT,
        delay::COMPONENT,
        group_by::COMPONENT,
        inject::COMPONENT,
        kv::COMPONENT,
        retry::COMPONENT,
        router::COMPONENT,
        signal::COMPONENT,
        ticker::COMPONENT,
        transform::COMPONENT,
        wasm_eval::COMPONENT,
    ]
}

tinyhost_sdk::export_module!(components);
