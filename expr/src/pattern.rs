//! Regular expressions for the `=~` operator.
//!
//! Literal patterns are compiled once by the parser, others when the
//! expression runs; both go through [`compile_regex`] so they get the same
//! size limit (the `regex` crate matches in linear time, and the limit bounds
//! the memory a hostile pattern can claim).

use regex::{Regex, RegexBuilder};

/// Limit on the compiled size of a regular expression.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a regular expression for `=~`.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regular expression: {e}"))
}
