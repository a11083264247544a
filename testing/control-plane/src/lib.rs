//! A real Kubernetes control plane for tests, on loopback: `etcd` and `kube-apiserver`,
//! built from their Go modules (`go/` beside this crate) with the machine's Go and cached
//! under the build folder, keyed by the modules and the Go version. The harness makes the
//! certificates, the service-account signing key and an admin kubeconfig, starts the two
//! servers with RBAC authorization, waits until the API server is ready, and stops both
//! when dropped (or when the test process dies: the children are tied to it). No kubelet:
//! no pod runs, which the operator's tests do not need. `kubectl` and `helm` are built the
//! same way, for tests that drive the cluster as a person would.
//!
//! ```no_run
//! let cp = tinyhost_control_plane::ControlPlane::start().expect("control plane");
//! let status = std::process::Command::new(cp.tools().kubectl())
//!     .env("KUBECONFIG", cp.kubeconfig())
//!     .args(["get", "namespaces"])
//!     .status();
//! ```

mod error;
mod pki;
pub mod process;
mod servers;
mod tools;

pub use error::ControlPlaneError;
pub use servers::{ControlPlane, Options};
pub use tools::{Tools, home, tools};
