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
//!   back as JSON integers. `+` adds two numbers or concatenates two strings;
//!   mixing them is an error, as in ajson (`'n=' + string($.n)` converts).
//! * **Literals**: numbers, `'single'` or `"double"` quoted strings (JSON
//!   escapes plus `\'`), `true false null`, `e pi phi sqrt2 ln2 ...`.
//! * **Functions** (case-insensitive): math (`abs ceil floor round sqrt pow10
//!   log exp erf gamma j0 logb` and the rest of ajson's `math` list), `length
//!   size avg sum first last not factorial rand randint b64encode b64encoden
//!   b64decode`, the node functions `parent root key`, `is_*` type checks,
//!   strings (`upper lower trim reverse split join contains hasprefix
//!   hassuffix replace substr index`), `now RFC3339 string`.
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
//!   at 3, the comparison level); unary `-` and `!` apply to any operand
//!   (ajson only has signed number literals), but a sign must be followed
//!   by an operand, not another sign (`++2`, `--2` are errors, as in ajson);
//! * `contains(array, x)`, `contains(object, key)` and `index(array, x)` work
//!   on arrays and objects too (Tiny Systems: strings only);
//! * `parent`, `root` and `key` of an element taken from several path matches
//!   (`first($.a[*])`) see the element's place in the message (ajson copies
//!   the matches into a new array, which becomes their parent);
//! * objects are traversed in document order (ajson sorts keys);
//! * `length` and `substr`/`index` count characters, not UTF-8 bytes;
//! * interpolated numbers print like Go's JSON encoder (`1000000`, not
//!   `1e+06`); integral numbers never get a fraction;
//! * `string(x)` renders arrays as JSON and `null` as `"null"`;
//! * errors instead of Go panics or garbage: `%` by zero, `randint(0)`,
//!   `factorial(n)` above 170, non-finite results (`sqrt(-1)`, `erfinv(1)`;
//!   they may still be used inside an expression: `erfinv(1) > 0` is true);
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
mod context;
mod error;
mod eval;
mod expression;
mod functions;
mod lexer;
mod locate;
mod math;
mod parser;
mod path_eval;
mod path_parse;
mod pattern;
mod special;
mod template;
mod time;
mod value;

pub use error::ExprError;
pub use expression::{Expression, eval};
pub use serde_json::Value;
pub use template::{Mapping, Rendered, render};

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
