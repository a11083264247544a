//! Settings of a [`Toolchain`](crate::Toolchain): where caches live, limits, and compiler paths.

use std::path::PathBuf;
use std::time::Duration;

/// Configuration of a [`Toolchain`](crate::Toolchain).
#[derive(Debug, Clone)]
pub struct ToolchainConfig {
    /// Root of everything this crate keeps on disk: `artifacts/` (compiled modules and their
    /// metadata), `go-build/` (the Go build cache), `rust-target/` (the shared cargo target
    /// directory and lock file) and `tinygo-cache/`.
    pub cache_dir: PathBuf,
    /// Longest time one compiler run may take before it is killed. Default 120 s.
    pub compile_timeout: Duration,
    /// Largest accepted source text, in bytes. Default 256 KiB.
    pub max_source_bytes: usize,
    /// Bound on the disk size of `artifacts/`; least-recently-used artifacts beyond it are
    /// deleted. Default 1 GiB.
    pub max_cache_bytes: u64,
    /// The `go` binary to use. When `None`: `TINYHOST_GO`, then `go` on `PATH`.
    pub go: Option<PathBuf>,
    /// The `tinygo` binary to use. When `None`: `tinygo` on `PATH`. When neither is runnable,
    /// TinyGo source is built with the Go compiler instead.
    pub tinygo: Option<PathBuf>,
}

impl ToolchainConfig {
    /// Default compile timeout.
    pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(120);
    /// Default source size limit (256 KiB).
    pub const DEFAULT_MAX_SOURCE_BYTES: usize = 256 * 1024;
    /// Default artifact cache bound (1 GiB).
    pub const DEFAULT_MAX_CACHE_BYTES: u64 = 1 << 30;

    /// A configuration with every default and the given cache directory.
    pub fn new(cache_dir: PathBuf) -> Self {
        ToolchainConfig {
            cache_dir,
            compile_timeout: Self::DEFAULT_COMPILE_TIMEOUT,
            max_source_bytes: Self::DEFAULT_MAX_SOURCE_BYTES,
            max_cache_bytes: Self::DEFAULT_MAX_CACHE_BYTES,
            go: None,
            tinygo: None,
        }
    }
}
