//! The `output` interface: messages out of the node's source ports.
//!
//! Every function acts for the node whose call (`handle`, `on_timer`, ...) is running; see
//! `wit/output.wit`.

use crate::bindings::tinysystems::component::output as wit;
use crate::{Failure, Value};

fn parse_reply(text: Option<String>) -> Result<Option<Value>, Failure> {
    match text {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| Failure::permanent(format!("downstream response is not JSON: {e}"))),
    }
}

/// Sends `payload` out of source port `port` and waits for the downstream subtree; returns
/// the first non-empty downstream response.
pub fn output(port: &str, payload: &Value) -> Result<Option<Value>, Failure> {
    parse_reply(wit::output(port, &payload.to_string())?)
}

/// [`output`] for a payload that is already JSON text; the reply stays text too. For
/// components that forward data without looking into it: no `Value` is built either way.
pub fn output_text(port: &str, payload: &str) -> Result<Option<String>, Failure> {
    Ok(wit::output(port, payload)?.filter(|t| !t.is_empty()))
}

/// Sends `payload` out of `port` in the background and returns at once.
pub fn output_detached(port: &str, payload: &Value) -> Result<(), Failure> {
    wit::output_detached(port, &payload.to_string())
}

/// How many background deliveries of this node are still running.
pub fn detached_in_flight() -> u32 {
    wit::detached_in_flight()
}
