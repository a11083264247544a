//! tinyhost: one universal execution plane for Tiny Systems flows, in which every
//! component — the built-ins included — is a sandboxed WebAssembly component.
//!
//! The crate reads like the data flow of a message (see `README.md`):
//! [`manifest`] parses TinyNode/TinySignal resources, [`source`] feeds them from a folder,
//! [`runtime`] applies them, [`scheduler`] routes each message along edges through
//! [`mapping`] into a node's component, [`pool`] lends it a wasm instance created by
//! [`engine`] from a component in the [`registry`], and [`host_api`] is what the guest can
//! call back (blocking `output`, metadata, timers). In a cluster, [`operator`] feeds the
//! same runtime from [`crd`] objects (TinyNode, TinyModule, TinySignal) instead of a folder.

#![warn(missing_docs)]

pub mod bindings;
pub mod cli;
pub mod crd;
pub mod engine;
pub mod error;
pub mod events;
pub mod grpc;
pub mod guest_stderr;
pub mod host_api;
pub mod manifest;
pub mod mapping;
pub mod metrics;
pub mod node;
pub mod operator;
pub mod pool;
pub mod registry;
pub mod runtime;
pub mod sandbox;
pub mod scheduler;
pub mod snapshot;
pub mod source;
pub mod state;
pub mod timers;
pub mod toolchains;

pub use error::{CallError, LoadError, ManifestError};
pub use events::Event;
pub use runtime::{Runtime, RuntimeConfig};
