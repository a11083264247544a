//! The `metadata` interface: the node's durable key-value state (TinyNode
//! `status.metadata`). Keep here whatever must outlive a call: any instance of the component
//! may serve the next one, and instances do not survive restarts. See `wit/metadata.wit`.

use crate::bindings::tinysystems::component::metadata as wit;

/// Reads one entry.
pub fn get(key: &str) -> Option<String> {
    wit::get(key)
}

/// Sets (`Some`) or removes (`None`) one entry; the host persists it.
pub fn set(key: &str, value: Option<&str>) {
    wit::set(key, value)
}

/// Every entry, sorted by key.
pub fn entries() -> Vec<(String, String)> {
    wit::entries()
}
