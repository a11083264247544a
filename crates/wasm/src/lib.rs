//! The wasm layer: everything about running WebAssembly that does not know what a flow is.
//!
//! - [`engine`]: the one wasmtime engine of the process (pooling allocator, epoch
//!   interruption) and the artifacts it compiles, cached by [`cache`] in memory and on disk;
//! - [`clock`]: the coarse clock call budgets are booked on;
//! - [`limits`] and [`store`]: the memory cap, the CPU budget of a call and the sandboxed
//!   WASI context every guest store starts from; [`fault`] turns what a guest did wrong
//!   into a typed answer; [`stderr`] keeps the last words of a guest that trapped;
//! - [`registry`]: component files (folders, paths, embedded bytes) loaded once;
//! - [`pool`]: instances of one component lent per call, over a small trait the layer
//!   above implements ([`pool::Instantiate`]), with [`slots`] waking callers when the
//!   engine's instance slots free up.

#![warn(missing_docs)]

pub mod cache;
pub mod clock;
pub mod engine;
pub mod error;
pub mod fault;
pub mod limits;
pub mod pool;
pub mod registry;
pub mod slots;
pub mod stderr;
pub mod store;
