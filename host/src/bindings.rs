//! The host side of the `tinysystems:component` package, generated once from `wit/`.
//! Nothing else in the crate re-declares these types.
//!
//! Bindings are generated for `sandboxed-component`, the superset world: its exports are
//! those of every component, and its imports include `sandbox`, so one linker serves both
//! plain components and those (like `wasm_eval`) that compile and run inline programs.

// Generated items carry the WIT file's documentation where it exists.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "sandboxed-component",
    path: "../wit",
    imports: {
        "tinysystems:component/host.output": async | trappable,
        "tinysystems:component/host.output-detached": trappable,
        "tinysystems:component/host.sleep": async | trappable,
        "tinysystems:component/sandbox.compile": async | trappable,
        "tinysystems:component/sandbox.run": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});

pub use exports::tinysystems::component::component::{ComponentInfo, PortDef};
pub use tinysystems::component::types::{Failure, LogLevel, NodeIdentity, Position};

/// Every component's bindings (the exports are the same in both worlds).
pub type FlowComponent = SandboxedComponent;
/// Pre-instantiated bindings.
pub type FlowComponentPre<T> = SandboxedComponentPre<T>;
