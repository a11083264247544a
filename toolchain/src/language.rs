//! The source languages a `wasm_eval` node can be written in, and how their names are parsed.

use std::fmt;
use std::str::FromStr;

use crate::error::CompileError;

/// A language whose source this crate compiles to a WASI preview-1 module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Go, built with `GOOS=wasip1 GOARCH=wasm go build`.
    Go,
    /// Go built with TinyGo (`tinygo build -target=wasip1`); falls back to the Go compiler when
    /// `tinygo` is not installed.
    TinyGo,
    /// Rust, built with cargo for `wasm32-wasip1`, with `serde_json` available.
    Rust,
}

impl Language {
    /// Every language, in a stable order.
    pub const ALL: [Language; 3] = [Language::Go, Language::TinyGo, Language::Rust];

    /// The lower-case name used in node settings: `go`, `tinygo` or `rust`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Language::Go => "go",
            Language::TinyGo => "tinygo",
            Language::Rust => "rust",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = CompileError;

    /// Parses `go`, `tinygo` or `rust`, ignoring case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Language::ALL
            .into_iter()
            .find(|language| language.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| CompileError::UnknownLanguage(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively() {
        assert_eq!("go".parse::<Language>(), Ok(Language::Go));
        assert_eq!("TinyGo".parse::<Language>(), Ok(Language::TinyGo));
        assert_eq!(" RUST ".parse::<Language>(), Ok(Language::Rust));
        for language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>(), Ok(language));
        }
    }

    #[test]
    fn rejects_unknown_names() {
        let err = "python".parse::<Language>().unwrap_err();
        assert_eq!(err, CompileError::UnknownLanguage("python".into()));
        assert_eq!(
            err.to_string(),
            "unknown language `python` (expected go, tinygo or rust)"
        );
    }
}
