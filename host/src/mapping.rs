//! Edge mappings: a target port's configuration evaluated against the incoming message
//! (CONTRACT §5). Each configuration is compiled once — when the node is applied, or on
//! first use through the `expr` import — and rendered per message. Expression errors never
//! stop a delivery: they are logged with an `expression_error` event and the `{{…}}` text
//! stays in place.

use std::sync::Arc;

use serde_json::Value;
use tinyhost_expr::{ExprError, Expression, Mapping};

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

/// Compiled expressions and configurations requested by components through the `expr`
/// import, cached by text so a filter evaluated per record is parsed once.
#[derive(Debug, Clone)]
pub struct ExprCache {
    expressions: moka::sync::Cache<String, Result<Arc<Expression>, ExprError>>,
    mappings: moka::sync::Cache<String, Arc<Mapping>>,
}

impl Default for ExprCache {
    fn default() -> Self {
        ExprCache {
            expressions: moka::sync::Cache::new(4096),
            mappings: moka::sync::Cache::new(1024),
        }
    }
}

impl ExprCache {
    /// Evaluates one expression (without `{{ }}`) against `data`.
    pub fn eval(&self, expression: &str, data: &Value) -> Result<Value, ExprError> {
        let compiled = self
            .expressions
            .get_with_by_ref(expression, || Expression::parse(expression).map(Arc::new))?;
        compiled.eval(data)
    }

    /// Renders a configuration value against `data`; the first error, if any, is returned
    /// alongside the rendered value.
    pub fn render(
        &self,
        configuration_text: &str,
        configuration: &Value,
        data: &Value,
    ) -> (Value, Option<ExprError>) {
        let mapping = self.mappings.get_with_by_ref(configuration_text, || {
            Arc::new(Mapping::compile(configuration))
        });
        let rendered = mapping.render(data);
        (rendered.value, rendered.errors.into_iter().next())
    }
}
