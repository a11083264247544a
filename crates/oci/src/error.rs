//! What can go wrong between a reference and a component file, each error naming the
//! reference so a flow author sees which component it is about.

use std::path::PathBuf;

/// A reference that could not be pulled or pushed.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The text is not a reference.
    #[error("`{reference}` is not an OCI reference: {reason}")]
    BadReference {
        /// The text given.
        reference: String,
        /// Why not.
        reason: String,
    },
    /// The registry answered with an error (unknown tag, denied, …).
    #[error("{reference}: {message}")]
    Registry {
        /// The reference.
        reference: String,
        /// The registry's answer.
        message: String,
    },
    /// The registry could not be reached and nothing is cached for the reference.
    #[error("{reference}: the registry cannot be reached and no copy is cached: {message}")]
    Unreachable {
        /// The reference.
        reference: String,
        /// The connection error.
        message: String,
    },
    /// The artifact is not a wasm component in the CNCF wasm layout.
    #[error("{reference}: not a wasm component artifact: {reason}")]
    NotWasm {
        /// The reference.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The component is larger than the host accepts.
    #[error(
        "{reference}: the component is {size} bytes, over the limit of {limit} bytes (raise it with --max-component-size-mib)"
    )]
    TooLarge {
        /// The reference.
        reference: String,
        /// Its size (declared, or read so far).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The content does not hash to the digest that names it.
    #[error("{reference}: digest mismatch: expected {expected}, the content is {actual}")]
    Digest {
        /// The reference.
        reference: String,
        /// The digest the manifest or reference names.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// A registry credentials file could not be read.
    #[error("registry credentials {path}: {message}")]
    Credentials {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The local store could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl OciError {
    /// Wraps an I/O error with the path it is about.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OciError {
        let path = path.into();
        move |source| OciError::Io { path, source }
    }
}
