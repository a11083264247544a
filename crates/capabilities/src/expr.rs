//! The `expr` capability: the edge-mapping expression language offered to components
//! (a filter evaluating a condition per record, a transform rendering a template).
//! Compiled expressions and configurations are cached by text in an [`ExprCache`] shared
//! by every instance, so a filter evaluated per record is parsed once.

use std::sync::Arc;

use serde_json::Value;
use tinyhost_expr::{ExprError, Expression, Mapping};
use tinyhost_wasm::limits::CallBudget;
use wasmtime::component::{HasData, Linker};

use crate::bindings::Failure;
use crate::bindings::tinysystems::component::expr;

/// Compiled expressions and configurations, by text.
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

/// The capability's state in a store: the process-wide cache, set when the store is made.
pub struct ExprCtx {
    /// The shared cache.
    pub cache: Arc<ExprCache>,
}

/// What the import functions see: the cache, and the budget that says whether a call is
/// in progress (expressions are for node calls, not for introspection).
pub struct ExprView<'a> {
    /// The capability's state.
    pub ctx: &'a ExprCtx,
    /// The budget of the call in progress.
    pub budget: &'a CallBudget,
}

struct HasExpr;

impl HasData for HasExpr {
    type Data<'a> = ExprView<'a>;
}

/// Adds the `expr` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> ExprView<'_>,
) -> wasmtime::Result<()> {
    expr::add_to_linker::<T, HasExpr>(linker, get)
}

fn parse_json(what: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure {
        message: format!("{what} is not JSON: {e}"),
        retryable: false,
    })
}

fn no_call() -> Failure {
    Failure {
        message: "no call in progress".into(),
        retryable: false,
    }
}

fn permanent(e: ExprError) -> Failure {
    Failure {
        message: e.to_string(),
        retryable: false,
    }
}

impl expr::Host for ExprView<'_> {
    fn eval(
        &mut self,
        expression: String,
        data: String,
    ) -> wasmtime::Result<Result<String, Failure>> {
        if !self.budget.in_call() {
            return Ok(Err(no_call()));
        }
        Ok(parse_json("expression input", &data).and_then(|data| {
            self.ctx
                .cache
                .eval(&expression, &data)
                .map(|v| v.to_string())
                .map_err(permanent)
        }))
    }

    fn render(
        &mut self,
        configuration: String,
        data: String,
    ) -> wasmtime::Result<Result<String, Failure>> {
        if !self.budget.in_call() {
            return Ok(Err(no_call()));
        }
        let parsed = parse_json("configuration", &configuration)
            .and_then(|c| Ok((c, parse_json("input", &data)?)));
        let (conf, data) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let (value, error) = self.ctx.cache.render(&configuration, &conf, &data);
        Ok(match error {
            Some(e) => Err(permanent(e)),
            None => Ok(value.to_string()),
        })
    }
}
