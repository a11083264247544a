//! tinyhost: one universal execution plane for Tiny Systems flows, in which every
//! component — the built-ins included — is a sandboxed WebAssembly component.
//!
//! This crate is the `tinyhost` binary ([`cli`], one module per subcommand) and the
//! public API of the layers it is built from, re-exported under one name so programs and
//! tests that embed the host need one dependency. See `docs/architecture.md` for the
//! layers: [`wasm`] (engine, limits, pools), [`sandbox`] (inline programs),
//! [`capabilities`] (what a component may call), [`flow`] (nodes, router, apply, drive
//! loop), [`grpc`] (other modules) and [`operator`] (the cluster).

#![warn(missing_docs)]

pub mod cli;

pub use tinyhost_capabilities as capabilities;
pub use tinyhost_flow as flow;
pub use tinyhost_grpc as grpc;
pub use tinyhost_guests as guests;
pub use tinyhost_oci as oci;
pub use tinyhost_operator as operator;
pub use tinyhost_sandbox as sandbox;
pub use tinyhost_wasm as wasm;

pub use tinyhost_flow::{CallError, Event, LoadError, ManifestError, Runtime, RuntimeConfig};
pub use tinyhost_flow::{apply, events, manifest, node, runtime, source, status};
pub use tinyhost_operator::{crd, metrics};
pub use tinyhost_sandbox::snapshot;
pub use tinyhost_wasm::{engine, registry};
