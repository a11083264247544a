//! What can stop the control plane from coming up, said so a test's failure names it.

use std::path::PathBuf;

/// Why the control plane could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    /// No Go toolchain could be found or installed.
    #[error("no Go toolchain: {0}")]
    NoGo(String),
    /// `go build` of one of the servers failed.
    #[error("building {what} failed; go said:\n{output}")]
    Build {
        /// The command being built.
        what: String,
        /// Go's output.
        output: String,
    },
    /// A server exited or never became ready.
    #[error("{what} did not start: {reason}; its log ({}):\n{log}", log_path.display())]
    Start {
        /// `etcd` or `kube-apiserver`.
        what: String,
        /// What happened.
        reason: String,
        /// Where its output went.
        log_path: PathBuf,
        /// The end of that output.
        log: String,
    },
    /// Files could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// etcd refused or misunderstood a call.
    #[error("etcd: {0}")]
    Etcd(String),
    /// Certificates could not be made.
    #[error("making certificates: {0}")]
    Pki(String),
}

impl ControlPlaneError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| ControlPlaneError::Io { what, source }
    }
}
