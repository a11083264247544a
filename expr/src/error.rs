//! Error types.
//!
//! The public [`ExprError`] carries the expression text and a 0-based
//! *character* offset so a host can point at the problem. Internally the
//! parser and evaluator work with byte offsets ([`Fault`]); the conversion to a
//! character offset happens once, when a fault leaves the crate.

use std::fmt;

/// An error found while parsing or evaluating one expression.
///
/// Errors never abort rendering of a `Mapping`; they are collected in
/// `Rendered::errors` next to the value that was produced anyway.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at position {position} in `{expression}`")]
pub struct ExprError {
    /// The expression text (the part between `{{` and `}}`, trimmed).
    pub expression: String,
    /// 0-based character offset of the problem inside [`ExprError::expression`].
    pub position: usize,
    /// Human readable description of the problem.
    pub message: String,
}

impl ExprError {
    /// Builds an error for `expression` at a character `position`.
    pub(crate) fn new(
        expression: impl Into<String>,
        position: usize,
        message: impl Into<String>,
    ) -> Self {
        ExprError {
            expression: expression.into(),
            position,
            message: message.into(),
        }
    }
}

/// Internal error: a byte offset into the expression source plus a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fault {
    /// Byte offset into the expression source.
    pub pos: usize,
    /// Human readable description.
    pub msg: String,
}

impl Fault {
    /// Creates a fault at byte offset `pos`.
    pub(crate) fn new(pos: usize, msg: impl Into<String>) -> Self {
        Fault {
            pos,
            msg: msg.into(),
        }
    }

    /// Converts to the public error, turning the byte offset into a character offset.
    pub(crate) fn into_error(self, source: &str) -> ExprError {
        ExprError::new(source, char_offset(source, self.pos), self.msg)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.msg, self.pos)
    }
}

/// Number of characters before byte offset `byte` (clamped to the string).
pub(crate) fn char_offset(source: &str, byte: usize) -> usize {
    source.char_indices().take_while(|(i, _)| *i < byte).count()
}
