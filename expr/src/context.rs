//! The nodes an expression is evaluated against.
//!
//! Kept apart from the evaluator so that JSONPath evaluation, the operators
//! and the entry points all share it without importing each other.

use serde_json::Value;

/// `$` and `@` for one evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// `$` – the whole message.
    pub root: &'a Value,
    /// `@` – the current node (the message outside filters).
    pub current: &'a Value,
}

impl<'a> Ctx<'a> {
    /// The context at the top of an expression: `$` and `@` are both `data`.
    pub(crate) fn new(data: &'a Value) -> Self {
        Ctx {
            root: data,
            current: data,
        }
    }

    /// The same message with `@` moved to `node` (inside filters and scripts).
    pub(crate) fn at(&self, node: &'a Value) -> Self {
        Ctx {
            root: self.root,
            current: node,
        }
    }
}
