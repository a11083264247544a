//! Edge mappings: a target port's configuration evaluated against the incoming message
//! ([compatibility: expressions](../../../docs/compatibility.md#expressions)). Each
//! configuration is compiled once, when the node is applied, and rendered per message. Expression errors never
//! stop a delivery: they are logged with an `expression_error` event and the `{{…}}` text
//! stays in place.

use serde_json::Value;
use tinyhost_expr::Mapping;

/// A compiled configuration of one edge (or a port default).
#[derive(Debug, Clone)]
pub struct EdgeMapping {
    mapping: Mapping,
}

impl EdgeMapping {
    /// Compiles `configuration`; parse errors are reported when it is rendered.
    pub fn compile(configuration: &Value) -> Self {
        EdgeMapping {
            mapping: Mapping::compile(configuration),
        }
    }

    /// Whether this is an edge "without configuration" (null or `{}`).
    pub fn is_empty(&self) -> bool {
        self.mapping.is_empty()
    }

    /// Renders against `data`; the caller reports the errors (the scheduler knows where
    /// the message was going).
    pub fn render(&self, data: &Value) -> tinyhost_expr::Rendered {
        self.mapping.render(data)
    }
}
