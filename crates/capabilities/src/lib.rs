//! The capabilities layer: what a flow component may call on the host, one module per
//! capability of the `tinysystems:component@0.2.0` WIT package.
//!
//! Each capability module declares the narrow service it needs from the layer above
//! (the flow runtime implements it), keeps its own context in the store, implements its
//! interface's generated `Host` trait and offers an `add_to_linker`:
//! [`output`], [`timers`], [`metadata`] (with its stores and write-behind), [`log`],
//! [`node_info`], [`expr`], [`sandbox`], [`http_server`] (listeners the host serves for
//! nodes) and [`outbound_http`] (`wasi:http` calls, allowed per host). [`state`] gathers them in one store type and one
//! linker; [`bindings`] is the generated code, made once.

#![warn(missing_docs)]

pub mod bindings;
pub mod expr;
pub mod http_server;
pub mod log;
pub mod metadata;
pub mod node_info;
pub mod outbound_http;
pub mod output;
pub mod sandbox;
pub mod state;
pub mod timers;
pub mod unbound;
