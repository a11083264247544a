//! The compiled form of one `{{expression}}`: parsed once, evaluated per message.
//!
//! This is where a parse or evaluation [`Fault`] (byte offset) becomes the
//! public [`ExprError`] (character offset, expression text), and where the
//! evaluator's borrowed result becomes an owned JSON value.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::ast::Expr;
use crate::context::Ctx;
use crate::error::{ExprError, Fault};
use crate::eval::eval as evaluate;
use crate::parser;
use crate::value::{Val, format_number, to_text};

/// A parsed expression (the text between `{{ }}`), evaluated many times.
///
/// Cloning is cheap (the syntax tree is shared).
#[derive(Clone)]
pub struct Expression {
    inner: Arc<Inner>,
}

/// The shared part of an [`Expression`].
struct Inner {
    source: String,
    ast: Expr,
}

impl Expression {
    /// Parses an expression such as `$.user.role == 'admin'`.
    ///
    /// Errors carry the 0-based character position of the problem.
    pub fn parse(source: &str) -> Result<Expression, ExprError> {
        let ast = parser::parse(source).map_err(|f| f.into_error(source))?;
        Ok(Expression {
            inner: Arc::new(Inner {
                source: source.to_owned(),
                ast,
            }),
        })
    }

    /// Evaluates the expression with `$` (and `@`) bound to `data`.
    ///
    /// A path that matches nothing yields `null`; one match yields the value;
    /// several matches yield an array.
    pub fn eval(&self, data: &Value) -> Result<Value, ExprError> {
        let v = self.run(data)?;
        v.into_value().map_err(|msg| self.error(msg))
    }

    /// Evaluates and appends the text form (as used by interpolation) to `out`.
    pub(crate) fn eval_text(&self, data: &Value, out: &mut String) -> Result<(), ExprError> {
        let v = self.run(data)?;
        if let Some(n) = v.as_num().filter(|n| !n.is_finite()) {
            // Keep interpolation consistent with typed results.
            return Err(self.error(format!(
                "result {} is not a finite number",
                format_number(n)
            )));
        }
        let text = to_text(&v).map_err(|msg| self.error(msg))?;
        out.push_str(&text);
        Ok(())
    }

    /// The expression text as given to [`Expression::parse`], so logs and
    /// reports can show what the flow author wrote.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// Runs the evaluator against `data`.
    fn run<'a>(&'a self, data: &'a Value) -> Result<Val<'a>, ExprError> {
        evaluate(&self.inner.ast, &Ctx::new(data))
            .map_err(|f: Fault| f.into_error(&self.inner.source))
    }

    /// An error about the whole expression (position 0).
    fn error(&self, msg: impl Into<String>) -> ExprError {
        ExprError::new(self.inner.source.as_str(), 0, msg)
    }
}

impl fmt::Debug for Expression {
    /// Shows the source text (the syntax tree can be deep and is not useful to print).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.inner.source)
            .finish()
    }
}

/// Parses and evaluates `source` once against `data`: for a value needed
/// once; an expression evaluated per message is cheaper parsed once with
/// [`Expression::parse`].
pub fn eval(source: &str, data: &Value) -> Result<Value, ExprError> {
    Expression::parse(source)?.eval(data)
}
