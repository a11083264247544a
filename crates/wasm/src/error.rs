//! Why a component or module could not be loaded. Each error names its origin (a file
//! path, `builtin:…`, a program id) because a flow author reads it in a status line.

/// Why a `.wasm` file (or embedded component, or program) could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct LoadError {
    /// The file path, `builtin:<name>`, or another label of where the bytes came from.
    pub origin: String,
    /// What was wrong.
    pub message: String,
}

impl LoadError {
    /// An error about `origin`.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError {
            origin: origin.into(),
            message: message.into(),
        }
    }
}
