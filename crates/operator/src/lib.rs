//! Cluster mode: the same runtime, fed by Kubernetes instead of a folder.
//!
//! One [`Operator`] serves one module. It follows the namespace's TinyNode objects
//! ([`nodes`], [`desired`]) and applies those of its module to the runtime through a
//! [`tinyhost_flow::source::NodeSource`], so the scheduler runs exactly as it does locally. Replicas
//! elect a leader on a Lease ([`lease`]); every replica runs every node, while only the
//! leader writes status, fires long-running triggers, reports the module ([`modules`]) and
//! delivers TinySignals ([`signals`]). [`http`] serves the probes and metrics; [`expose`]
//! puts the module's HTTP servers on its Service and Ingress.

mod config;
mod context;
mod controller;
pub mod crd;
pub mod desired;
mod error;
pub mod expose;
pub mod http;
pub mod lease;
pub mod metrics;
pub mod modules;
pub mod nodes;
mod operator;
pub mod peers;
mod readiness;
pub mod signals;

pub use config::{DEFAULT_REQUEUE, DEFAULT_SIGNAL_NODE_GRACE, OperatorConfig};
pub use context::Context;
pub use desired::{ClusterSource, DesiredNodes};
pub use error::{OperatorError, ReconcileError};
pub use expose::{ClusterExposer, ExposeConfig};
pub use lease::{LeaderElector, LeaseTiming};
pub use operator::Operator;
pub use peers::{ClusterPeers, PeerTable};
pub use readiness::Readiness;

/// Delivery deadline of a TinySignal.
pub use tinyhost_flow::drive::SIGNAL_TIMEOUT;
