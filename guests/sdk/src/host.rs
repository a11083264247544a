//! Safe wrappers over the `host` and `expr` imports, speaking `serde_json::Value`.
//!
//! Every function acts for the node whose call is running; see `wit/component.wit`.

use crate::bindings::tinysystems::component::{expr as wit_expr, host as wit_host};
use crate::{Failure, Value};

pub use crate::bindings::tinysystems::component::types::{LogLevel, NodeIdentity};

fn parse_reply(text: Option<String>) -> Result<Option<Value>, Failure> {
    match text {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| Failure::permanent(format!("downstream response is not JSON: {e}"))),
    }
}

/// Sends `payload` out of source port `port` and waits for the downstream subtree.
pub fn output(port: &str, payload: &Value) -> Result<Option<Value>, Failure> {
    parse_reply(wit_host::output(port, &payload.to_string())?)
}

/// [`output`] for a payload that is already JSON text; the reply stays text too. For
/// components that forward data without looking into it: no `Value` is built either way.
pub fn output_text(port: &str, payload: &str) -> Result<Option<String>, Failure> {
    Ok(wit_host::output(port, payload)?.filter(|t| !t.is_empty()))
}

/// Sends `payload` out of `port` in the background and returns at once.
pub fn output_detached(port: &str, payload: &Value) -> Result<(), Failure> {
    wit_host::output_detached(port, &payload.to_string())
}

/// How many background deliveries of this node are still running.
pub fn detached_in_flight() -> u32 {
    wit_host::detached_in_flight()
}

/// Waits without spending the call's CPU time budget.
pub fn sleep_ms(ms: u64) {
    wit_host::sleep(ms)
}

/// Writes a log line attributed to the node.
pub fn log(level: LogLevel, message: &str) {
    wit_host::log(level, message)
}

/// Reads one durable entry of the node.
pub fn metadata_get(key: &str) -> Option<String> {
    wit_host::metadata_get(key)
}

/// Sets or removes one durable entry of the node.
pub fn metadata_set(key: &str, value: Option<&str>) {
    wit_host::metadata_set(key, value)
}

/// Every durable entry of the node, sorted by key.
pub fn metadata_list() -> Vec<(String, String)> {
    wit_host::metadata_list()
}

/// Asks the host to re-read ports and republish status.
pub fn refresh_status() {
    wit_host::refresh_status()
}

/// Whether this replica leads the module (always true locally).
pub fn is_leader() -> bool {
    wit_host::is_leader()
}

/// Schedules `on_timer(id)` after `after_ms`, replacing a timer with the same id.
pub fn set_timer(id: &str, after_ms: u64) {
    wit_host::set_timer(id, after_ms)
}

/// Cancels a pending timer.
pub fn cancel_timer(id: &str) {
    wit_host::cancel_timer(id)
}

/// Who the node is.
pub fn identity() -> NodeIdentity {
    wit_host::identity()
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    wit_host::now_ms()
}

/// Evaluates one expression (no `{{ }}`) against `data` with the host's evaluator.
pub fn eval(expression: &str, data: &Value) -> Result<Value, Failure> {
    let text = wit_expr::eval(expression, &data.to_string())?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::permanent(format!("expression result is not JSON: {e}")))
}

/// Renders a configuration value as an edge mapping would.
pub fn render(configuration: &Value, data: &Value) -> Result<Value, Failure> {
    let text = wit_expr::render(&configuration.to_string(), &data.to_string())?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::permanent(format!("rendered configuration is not JSON: {e}")))
}
