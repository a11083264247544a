//! Error types of the library. Each says what was wrong and where (file, node, port,
//! field) because a flow author reads them in node status and logs, not in a debugger.

use std::path::PathBuf;

/// Why a message could not be delivered or a node call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The address was not `node:port`.
    #[error("invalid port address `{0}`: expected `node:port`")]
    BadAddress(String),
    /// No node with that name runs here.
    #[error("node `{0}` not found")]
    NodeNotFound(String),
    /// The node exists but its component has no such port.
    #[error("node `{node}` has no port `{port}`")]
    PortNotFound {
        /// Node name.
        node: String,
        /// Port name.
        port: String,
    },
    /// The hop count passed the cycle guard.
    #[error("message depth limit of {limit} exceeded at `{at}` (is there a cycle?)")]
    DepthExceeded {
        /// The limit in force.
        limit: u32,
        /// Where it was exceeded (`node:port`).
        at: String,
    },
    /// The node's component is not loaded.
    #[error("node `{node}`: component `{component}` is not loaded")]
    UnknownComponent {
        /// Node name.
        node: String,
        /// Missing component.
        component: String,
    },
    /// The component returned a failure.
    #[error("{node}: {message}")]
    Failed {
        /// Node name.
        node: String,
        /// The component's message.
        message: String,
        /// Whether a retry may succeed.
        retryable: bool,
    },
    /// The component trapped (panic, unreachable, out-of-bounds access...).
    #[error("{node}: component trapped: {message}")]
    Trap {
        /// Node name.
        node: String,
        /// What wasmtime reported.
        message: String,
    },
    /// The call used more CPU time than allowed.
    #[error("{node}: time limit of {limit_ms} ms exceeded")]
    TimeLimit {
        /// Node name.
        node: String,
        /// The limit in force.
        limit_ms: u64,
    },
    /// The component tried to grow its memory past the limit.
    #[error("{node}: memory limit of {limit_bytes} bytes exceeded")]
    MemoryLimit {
        /// Node name.
        node: String,
        /// The limit in force.
        limit_bytes: usize,
    },
    /// The runtime could not create an instance or is shutting down.
    #[error("{node}: {message}")]
    Runtime {
        /// Node name.
        node: String,
        /// What went wrong.
        message: String,
    },
    /// A call to a node of another module failed: the module could not be reached, or its
    /// node answered with an error.
    #[error("module `{module}`, node `{node}`: {message}")]
    Remote {
        /// The target module.
        module: String,
        /// The target node.
        node: String,
        /// What happened, as the peer or the transport said.
        message: String,
        /// Whether a retry may succeed (the peer was unreachable, or said so).
        retryable: bool,
    },
}

impl CallError {
    /// The failure a component sees when its `output` ends with this error.
    pub fn to_failure(&self) -> tinyhost_capabilities::bindings::Failure {
        tinyhost_capabilities::bindings::Failure {
            message: self.to_string(),
            retryable: self.retryable(),
        }
    }

    /// Whether trying the same delivery again may succeed; only such errors are retried
    /// by edge retry policies.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            CallError::Failed {
                retryable: true,
                ..
            } | CallError::Remote {
                retryable: true,
                ..
            } | CallError::Runtime { .. }
        )
    }
}

pub use tinyhost_wasm::error::LoadError;

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), field.as_deref().map(|f| format!(" at `{f}`")).unwrap_or_default())]
pub struct ManifestError {
    /// The file the manifest came from.
    pub file: PathBuf,
    /// The field path within the document (`spec.ports[0].configuration`), when known.
    pub field: Option<String>,
    /// What was wrong.
    pub message: String,
}
