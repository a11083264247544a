//! The host side of the `tinysystems:component` world, generated once from `wit/`.
//! Nothing else in the crate re-declares these types.

// Generated items carry the WIT file's documentation where it exists.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "flow-component",
    path: "../wit",
    imports: {
        "tinysystems:component/host.output": async | trappable,
        "tinysystems:component/host.output-detached": trappable,
        "tinysystems:component/host.sleep": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});

pub use exports::tinysystems::component::component::{ComponentInfo, PortDef};
pub use tinysystems::component::types::{Failure, LogLevel, NodeIdentity, Position};
