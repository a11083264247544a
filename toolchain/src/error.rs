//! The one error type of the crate: why a compile did not produce a module.

use std::fmt::Write as _;

use crate::diagnostics::Diagnostic;

/// Why [`Toolchain::compile`](crate::Toolchain::compile) (or a related call) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// The language name is not `go`, `tinygo` or `rust`.
    #[error("unknown language `{0}` (expected go, tinygo or rust)")]
    UnknownLanguage(String),
    /// The source is empty or only whitespace.
    #[error("source is empty")]
    EmptySource,
    /// The source is longer than `max_source_bytes`.
    #[error("source is {size} bytes, over the limit of {limit} bytes")]
    SourceTooLarge {
        /// Size of the rejected source in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The compiler for the language is not installed (or not usable); `hint` says what to
    /// install.
    #[error("{compiler} not found: {hint}")]
    CompilerMissing {
        /// The missing program, e.g. `go`.
        compiler: String,
        /// What to install or configure.
        hint: String,
    },
    /// The compiler rejected the source.
    #[error("{}", failed_display(message, diagnostics))]
    Failed {
        /// The compiler's output (at most 64 KiB of each stream), or a description.
        message: String,
        /// The located messages parsed from that output.
        diagnostics: Vec<Diagnostic>,
    },
    /// The compiler ran longer than `compile_timeout` and was killed.
    #[error("compilation timed out after {seconds} s")]
    Timeout {
        /// The timeout, rounded up to whole seconds.
        seconds: u64,
    },
    /// A file-system or process error outside the compiler's control.
    #[error("i/o error: {0}")]
    Io(String),
}

impl From<std::io::Error> for CompileError {
    fn from(err: std::io::Error) -> Self {
        CompileError::Io(err.to_string())
    }
}

/// Diagnostics shown by `Display` of [`CompileError::Failed`].
const SHOWN_DIAGNOSTICS: usize = 10;
/// Message lines shown when there are no diagnostics.
const SHOWN_LINES: usize = 20;

fn failed_display(message: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::from("compilation failed:");
    if diagnostics.is_empty() {
        let lines: Vec<&str> = message.lines().collect();
        for line in lines.iter().take(SHOWN_LINES) {
            let _ = write!(out, "\n{line}");
        }
        if lines.len() > SHOWN_LINES {
            let _ = write!(out, "\n... ({} more lines)", lines.len() - SHOWN_LINES);
        }
        return out;
    }
    for diagnostic in diagnostics.iter().take(SHOWN_DIAGNOSTICS) {
        let _ = write!(out, "\n{diagnostic}");
    }
    if diagnostics.len() > SHOWN_DIAGNOSTICS {
        let _ = write!(
            out,
            "\n... and {} more",
            diagnostics.len() - SHOWN_DIAGNOSTICS
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_display_lists_diagnostics() {
        let err = CompileError::Failed {
            message: "raw".into(),
            diagnostics: vec![Diagnostic {
                file: "main.go".into(),
                line: 5,
                column: 2,
                message: "undefined: x".into(),
            }],
        };
        assert_eq!(
            err.to_string(),
            "compilation failed:\nmain.go:5:2: undefined: x"
        );
    }

    #[test]
    fn failed_display_without_diagnostics_shows_message() {
        let err = CompileError::Failed {
            message: "go: something broke".into(),
            diagnostics: vec![],
        };
        assert_eq!(err.to_string(), "compilation failed:\ngo: something broke");
    }
}
