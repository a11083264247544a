//! What can stop the registry or its tools, said so a test's failure names the cause.

use tinyhost_control_plane::ControlPlaneError;

/// Why the tools could not be had or the registry could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A command of the install (`apt-get download`, `dpkg -x`) failed.
    #[error("installing the registry tools: `{command}` failed:\n{stderr}")]
    Install {
        /// The command line.
        command: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The unpacked packages lack a file the harness needs.
    #[error("installing the registry tools: {0}")]
    Missing(String),
    /// The server could not be spawned, or exited, or never answered (with its log's end).
    #[error(transparent)]
    Server(#[from] ControlPlaneError),
    /// The password could not be hashed for the htpasswd file.
    /// The test certificates could not be made.
    #[error("making the registry's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("hashing the registry password: {0}")]
    Password(#[from] bcrypt::BcryptError),
    /// Files could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl RegistryError {
    /// For `map_err`: an I/O error while doing `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| RegistryError::Io { what, source }
    }
}
