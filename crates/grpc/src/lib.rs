//! Cross-module calls over gRPC, wire-compatible with Tiny Systems modules
//! ([compatibility: wire protocol](../../../docs/compatibility.md#wire-protocol)).
//!
//! An edge may point at a node of another module. The router hands such a message to
//! [`client::GrpcClient`] (through [`tinyhost_flow::remote::RemoteModules`]), which calls
//! the peer's `module.ModuleService/Message` and waits for the peer's downstream response,
//! as a local blocking output does. [`server`] is the other side: it delivers incoming
//! messages through the target node's edge mapping. The hop count travels in
//! `x-message-depth`, so the cycle guard spans modules; errors travel as gRPC status codes
//! ([`wire`]).

#![warn(missing_docs)]

pub mod client;
pub mod proto;
pub mod server;
pub mod wire;

pub use wire::{DEFAULT_DEADLINE, DEPTH_METADATA, MAX_MESSAGE_BYTES, error_of, status_of};
