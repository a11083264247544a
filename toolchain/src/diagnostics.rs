//! Compiler diagnostics: the `file:line:col: message` records pulled out of Go and Rust
//! compiler output so a user can see where their inline program is wrong.

use std::fmt;

/// One compiler message, located in the user's source where the compiler said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// File the message is about, relative to the program (`main.go`, `src/main.rs`); empty
    /// when the compiler gave no position.
    pub file: String,
    /// 1-based line, or 0 when unknown.
    pub line: u32,
    /// 1-based column, or 0 when unknown.
    pub column: u32,
    /// The message, e.g. `undefined: x` or `error[E0425]: cannot find value `x` in this scope`.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.line, self.column) {
            (true, _, _) => f.write_str(&self.message),
            (false, 0, _) => write!(f, "{}: {}", self.file, self.message),
            (false, line, 0) => write!(f, "{}:{line}: {}", self.file, self.message),
            (false, line, column) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
        }
    }
}

/// Most diagnostics kept from one compile; the raw output is still in the error message.
const MAX_DIAGNOSTICS: usize = 100;

/// Parses `go build` (and `tinygo build`) output: lines like `./main.go:5:2: undefined: x`.
pub(crate) fn parse_go(output: &str) -> Vec<Diagnostic> {
    output
        .lines()
        .filter_map(parse_positioned)
        .map(|mut diagnostic| {
            if let Some(rest) = diagnostic.file.strip_prefix("./") {
                diagnostic.file = rest.to_owned();
            }
            diagnostic
        })
        .take(MAX_DIAGNOSTICS)
        .collect()
}

/// Parses `cargo build --message-format short` output: errors like
/// `src/main.rs:3:5: error[E0425]: cannot find value `x` in this scope`, and position-less
/// `error: ...` lines (message only). Warnings and cargo's closing summary are left out.
pub(crate) fn parse_rust(output: &str) -> Vec<Diagnostic> {
    output
        .lines()
        .filter_map(|line| {
            if let Some(diagnostic) = parse_positioned(line) {
                return is_rust_error(&diagnostic.message).then_some(diagnostic);
            }
            let line = line.trim();
            let summary = line.starts_with("error: could not compile")
                || line.starts_with("error: aborting due to");
            (is_rust_error(line) && !summary).then(|| Diagnostic {
                file: String::new(),
                line: 0,
                column: 0,
                message: line.to_owned(),
            })
        })
        .take(MAX_DIAGNOSTICS)
        .collect()
}

fn is_rust_error(message: &str) -> bool {
    message.starts_with("error:") || message.starts_with("error[")
}

/// Parses `file:line:col: message` or `file:line: message`; the file has no whitespace.
fn parse_positioned(line: &str) -> Option<Diagnostic> {
    let line = line.trim_end();
    let (file, rest) = line.split_once(':')?;
    if file.is_empty() || file.contains(char::is_whitespace) {
        return None;
    }
    let (line_no, rest) = split_number(rest)?;
    let (column, message) = match split_number(rest) {
        Some((column, message)) => (column, message),
        None => (0, rest),
    };
    let message = message.strip_prefix(' ').unwrap_or(message);
    if line_no == 0 || message.is_empty() {
        return None;
    }
    Some(Diagnostic {
        file: file.to_owned(),
        line: line_no,
        column,
        message: message.to_owned(),
    })
}

/// Splits `123:rest` into `(123, "rest")`.
fn split_number(text: &str) -> Option<(u32, &str)> {
    let (digits, rest) = text.split_once(':')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(file: &str, line: u32, column: u32, message: &str) -> Diagnostic {
        Diagnostic {
            file: file.into(),
            line,
            column,
            message: message.into(),
        }
    }

    #[test]
    fn go_output() {
        let out = "# program\n./main.go:5:2: undefined: x\n./main.go:7:1: syntax error: unexpected }\nmain.go:9: odd\n";
        assert_eq!(
            parse_go(out),
            vec![
                diag("main.go", 5, 2, "undefined: x"),
                diag("main.go", 7, 1, "syntax error: unexpected }"),
                diag("main.go", 9, 0, "odd"),
            ]
        );
    }

    #[test]
    fn rust_output() {
        let out = "   Compiling program_ab v0.1.0 (/tmp/x)\n\
            src/main.rs:2:9: warning: unused variable: `y`\n\
            src/main.rs:3:20: error[E0425]: cannot find value `x` in this scope\n\
            error: linking with `rust-lld` failed\n\
            error: could not compile `program_ab` (bin \"program_ab\") due to 1 previous error\n";
        assert_eq!(
            parse_rust(out),
            vec![
                diag(
                    "src/main.rs",
                    3,
                    20,
                    "error[E0425]: cannot find value `x` in this scope"
                ),
                diag("", 0, 0, "error: linking with `rust-lld` failed"),
            ]
        );
    }

    #[test]
    fn ignores_non_diagnostics() {
        assert!(parse_go("go: downloading x\nerror: thing: 1:2: no\nhttp://x:80: y").is_empty());
        assert!(parse_rust("warning: unused\n    Finished").is_empty());
    }

    #[test]
    fn display() {
        assert_eq!(diag("main.go", 5, 2, "m").to_string(), "main.go:5:2: m");
        assert_eq!(diag("main.go", 5, 0, "m").to_string(), "main.go:5: m");
        assert_eq!(diag("", 0, 0, "error: m").to_string(), "error: m");
    }
}
