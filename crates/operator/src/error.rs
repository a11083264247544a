//! Why an operator cannot start, and why one reconciliation failed (the controllers retry
//! those with backoff).

/// What stops an operator.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The components could not be loaded.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[from] tinyhost_flow::LoadError),
    /// The gRPC address could not be bound.
    #[error("cannot listen for gRPC on {address}: {source}")]
    Bind {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The module name sanitises to nothing.
    #[error("module name `{0}` is empty after sanitising (use letters or digits)")]
    BadModuleName(String),
}

/// Why a single reconciliation failed; the controllers retry it with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// An API call failed (conflict, server error, connection lost).
    #[error("Kubernetes API: {0}")]
    Api(#[from] kube::Error),
    /// Adding or removing the node finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The runtime did not apply the desired nodes in time.
    #[error("the runtime has not applied the node yet")]
    NotApplied,
    /// An object could not be turned into JSON (never expected).
    #[error("cannot encode: {0}")]
    Encode(#[from] serde_json::Error),
}
