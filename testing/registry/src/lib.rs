//! A real OCI registry for tests, on loopback: the CNCF distribution registry from Debian's
//! `docker-registry` package, plus `skopeo` to cross-check what tinyhost pushes and pulls
//! against a second, independent client. Both come from Debian packages fetched with
//! `apt-get download` and unpacked (never installed) into the build folder, once per
//! machine. Each [`Registry`] has its own port, storage and config in a temporary folder,
//! and its server dies with the handle (or with the test thread that started it).
//!
//! ```no_run
//! use tinyhost_test_registry::{Options, Registry, skopeo};
//!
//! let registry = Registry::start(Options::default()).expect("registry");
//! let tags = skopeo()
//!     .expect("skopeo")
//!     .args(["list-tags", "--tls-verify=false"])
//!     .arg(format!("docker://{}/test/thing", registry.address()))
//!     .output();
//! ```

mod error;
mod registry;
mod tools;

pub use error::RegistryError;
pub use registry::{Options, Registry, get_status};
pub use tools::{Tools, skopeo, tools};
