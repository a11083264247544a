//! Edge-mapping expressions for tinyhost, compatible with Tiny Systems.
//!
//! Tiny Systems flows connect nodes with edges whose JSON *configuration* is
//! evaluated against the incoming message. Strings in that configuration may
//! contain `{{expression}}`s written in the script language of the Go library
//! ajson (`ajson.Eval`) plus Tiny Systems' additions (string helpers, time
//! arithmetic). This crate implements that language natively:
//!
//! * [`Expression`] – one parsed expression (`$.count + 1`), evaluated many times;
//! * [`Mapping`] – a whole configuration compiled once and rendered per message;
//! * [`eval()`] / [`render()`] – one-shot conveniences.
//!
//! ```
//! use serde_json::json;
//! use tinyhost_expr::{Mapping, eval};
//!
//! let msg = json!({"user": {"name": "Ada", "role": "admin"}, "count": 41});
//! assert_eq!(eval("$.count + 1", &msg).unwrap(), json!(42));
//!
//! let mapping = Mapping::compile(&json!({
//!     "greeting": "Hello {{$.user.name}}!",
//!     "isAdmin": "{{$.user.role == 'admin'}}",
//!     "price": "$18.99"
//! }));
//! let out = mapping.render(&msg);
//! assert_eq!(out.value, json!({"greeting": "Hello Ada!", "isAdmin": true, "price": "$18.99"}));
//! assert!(out.errors.is_empty());
//! ```
//!
//! Evaluation never copies the message: paths borrow from it, and only the
//! final result is turned into an owned [`Value`].
//!
//! # Language
//!
//! * **Paths**: `$` is the message, `@` the current node inside filters.
//!   `$.a.b`, `$['a']`, `$["a b"]`, `$.a[0]`, `$.a[-1]`, `$.a[*]`, `$.a.*`,
//!   `$..name`, slices `[1:3]`, `[:2]`, `[::-1]`, unions `[0,2]`,
//!   `['a','b']`, filters `[?(@.x > 1)]`, computed indexes `[(@.length-1)]`,
//!   `.length` of arrays. No match → `null`, one → the value, several → array.
//! * **Operators** (loosest to tightest): `c ? a : b`; `||`; `&&`;
//!   `== != < <= > >= =~`; `+ - | ^`; `* / % << >> & &^`; `**` (right
//!   associative); unary `- + !`. Numbers are `f64`; integral results come
//!   back as JSON integers.
//! * **Literals**: numbers, `'single'` or `"double"` quoted strings (JSON
//!   escapes plus `\'`), `true false null`, `e pi phi sqrt2 ln2 ...`.
//! * **Functions** (case-insensitive): math (`abs ceil floor round sqrt pow10
//!   log exp` and the rest of ajson's `math` list), `length size avg sum first
//!   last not factorial rand randint b64encode b64encoden b64decode`, `is_*`
//!   type checks, strings (`upper lower trim reverse split join contains
//!   hasprefix hassuffix replace substr index`), `now RFC3339 string`.
//! * **Time**: an RFC 3339 timestamp `±` a Go duration string moves the time
//!   (`'2024-01-01T00:00:00Z' + '1h30m'`), duration `±` duration gives seconds
//!   (`'1h' + '30m'` → `"5400s"`), timestamp `-` timestamp gives a Go duration
//!   string (`"25h30m0s"`).
//!
//! # Differences from ajson / Tiny Systems
//!
//! Deliberate, for predictability; everything else follows ajson:
//! * a path that matches nothing is `null` for comparisons (`$.x == null` is
//!   true; ajson makes every comparison with a missing value false);
//! * `+` and `-` have their usual precedence 4 (Tiny Systems re-registers them
//!   at 3, the comparison level); unary `-`/`!` apply to any operand;
//! * `+` concatenates when *either* side is a string (ajson: left side only);
//! * objects are traversed in document order (ajson sorts keys);
//! * `length` and `substr`/`index` count characters, not UTF-8 bytes;
//! * interpolated numbers print like Go's JSON encoder (`1000000`, not
//!   `1e+06`); integral numbers never get a fraction;
//! * `string(x)` renders arrays as JSON and `null` as `"null"`;
//! * errors instead of Go panics or garbage: `%` by zero, `randint(0)`,
//!   `factorial(n)` above 170, non-finite results (`sqrt(-1)`);
//! * nesting deeper than 256 levels is rejected (scripts inside paths count
//!   double).

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented,
        clippy::unreachable
    )
)]
#![warn(missing_docs)]

mod ast;
mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod path;
mod template;
mod time;
mod value;

use std::fmt;
use std::sync::Arc;

pub use error::ExprError;
pub use serde_json::Value;
pub use template::{Mapping, Rendered};

use crate::eval::Ctx;

/// A parsed expression (the text between `{{ }}`), evaluated many times.
///
/// Cloning is cheap (the syntax tree is shared).
#[derive(Clone)]
pub struct Expression {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    ast: ast::Expr,
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
        let ctx = Ctx {
            root: data,
            current: data,
        };
        let source = &self.inner.source;
        let v = eval::eval(&self.inner.ast, &ctx).map_err(|f| f.into_error(source))?;
        v.into_value()
            .map_err(|msg| ExprError::new(source.as_str(), 0, msg))
    }

    /// Evaluates and appends the text form (as used by interpolation) to `out`.
    pub(crate) fn eval_text(&self, data: &Value, out: &mut String) -> Result<(), ExprError> {
        let ctx = Ctx {
            root: data,
            current: data,
        };
        let source = &self.inner.source;
        let v = eval::eval(&self.inner.ast, &ctx).map_err(|f| f.into_error(source))?;
        if let Some(n) = v.as_num().filter(|n| !n.is_finite()) {
            // Keep interpolation consistent with typed results.
            return Err(ExprError::new(
                source.as_str(),
                0,
                format!("result {} is not a finite number", value::format_number(n)),
            ));
        }
        let text = value::to_text(&v).map_err(|msg| ExprError::new(source.as_str(), 0, msg))?;
        out.push_str(&text);
        Ok(())
    }

    /// The expression text as given to [`Expression::parse`].
    pub fn source(&self) -> &str {
        &self.inner.source
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

/// Parses and evaluates `source` once against `data`.
pub fn eval(source: &str, data: &Value) -> Result<Value, ExprError> {
    Expression::parse(source)?.eval(data)
}

/// Compiles and renders a configuration once (see [`Mapping`]).
pub fn render(configuration: &Value, data: &Value) -> Rendered {
    Mapping::compile(configuration).render(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_thread_safe() {
        assert_send_sync::<Expression>();
        assert_send_sync::<Mapping>();
        assert_send_sync::<ExprError>();
    }
}
