//! The `expr` interface: the host's expression and JSONPath evaluator, the same one the
//! edge mappings use, so components that filter, query or map data speak the edges'
//! dialect. See `wit/expr.wit`.

use crate::bindings::tinysystems::component::expr as wit;
use crate::{Failure, Value};

/// Evaluates one expression (no `{{ }}`) against `data` (`$` in the expression).
pub fn eval(expression: &str, data: &Value) -> Result<Value, Failure> {
    let text = wit::eval(expression, &data.to_string())?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::permanent(format!("expression result is not JSON: {e}")))
}

/// Renders a configuration value as an edge mapping would: every string holding `{{ }}` is
/// evaluated or interpolated against `data`, other values pass.
pub fn render(configuration: &Value, data: &Value) -> Result<Value, Failure> {
    let text = wit::render(&configuration.to_string(), &data.to_string())?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::permanent(format!("rendered configuration is not JSON: {e}")))
}
