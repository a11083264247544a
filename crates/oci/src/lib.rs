//! Components from OCI registries. A component named `oci://REGISTRY/REPO:TAG` (or
//! `…@sha256:…`) is pulled as a wasm artifact in the CNCF wasm working group's layout
//! (config `application/vnd.wasm.config.v0+json`, one `application/wasm` layer), so `wkg`,
//! `oras` and `wash` can push what tinyhost pulls and pull what it pushes.
//!
//! Pulls are verified by digest and kept on disk by digest ([`store`]): a restart reads
//! the disk instead of the network, a tag that moved is noticed (and pulled) on the next
//! resolve, and a registry that is down does not stop a host whose components are cached.

#![warn(missing_docs)]

pub mod credentials;
pub mod error;
pub mod reference;
pub mod registries;
pub mod store;

pub use credentials::Credentials;
pub use error::OciError;
pub use reference::{ComponentRef, is_oci_reference};
pub use registries::{Pulled, Pushed, Registries, RegistryOptions};
