//! The host side of the `tinysystems:component@0.2.0` package, generated once from `wit/`.
//! Nothing else re-declares these types. Each capability module implements the `Host`
//! trait of its own interface.
//!
//! Bindings are generated for `sandboxed-component`, the superset world: its exports are
//! those of every component, and its imports include `sandbox`, so one linker serves both
//! plain components and those (like `wasm_eval`) that compile and run inline programs.

// Generated items carry the WIT file's documentation where it exists.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "sandboxed-component",
    path: "../../wit",
    imports: {
        "tinysystems:component/output.output": async | trappable,
        "tinysystems:component/timers.sleep": async | trappable,
        "tinysystems:component/sandbox.compile": async | trappable,
        "tinysystems:component/sandbox.run": async | trappable,
        "tinysystems:component/http-server.listen": async | trappable,
        "tinysystems:component/http-server.close": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});

pub use exports::tinysystems::component::component::{ComponentInfo, PortDef};
pub use tinysystems::component::types::{Failure, Position};

impl Position {
    /// The side's name as the editor and listings write it (`top`, `right`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Position::Top => "top",
            Position::Right => "right",
            Position::Bottom => "bottom",
            Position::Left => "left",
        }
    }
}

/// Every component's bindings (the exports are the same in both worlds).
pub type FlowComponent = SandboxedComponent;
/// Pre-instantiated bindings.
pub type FlowComponentPre<T> = SandboxedComponentPre<T>;
