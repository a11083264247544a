//! What a component can call: the `host` and `expr` imports of the WIT world, implemented
//! on the per-store [`HostState`]. Every import acts for the node whose call is running,
//! which the pool records in the store's [`CallFrame`] before each call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::tinysystems::component::{expr, host, sandbox, types};
use crate::bindings::{Failure, LogLevel, NodeIdentity};
use crate::node::Node;
use crate::runtime::Shared;

/// The call in progress on a store: which node, how deep in the flow, and how much of the
/// elapsed time was spent waiting on the host (which the CPU time limit does not count).
pub struct CallFrame {
    /// The runtime the call belongs to.
    pub shared: Arc<Shared>,
    /// The node the call is made for.
    pub node: Arc<Node>,
    /// Hops so far (the cycle guard).
    pub depth: u32,
    /// When the call started, on the engine's coarse clock ([`crate::engine::coarse_ms`]).
    pub started_ms: u64,
    /// Milliseconds spent in `output`, `sleep` and other waits.
    pub waited_ms: u64,
    /// CPU time allowed.
    pub time_limit: Duration,
}

impl CallFrame {
    /// Whether the guest itself has run longer than allowed.
    pub fn over_budget(&self) -> bool {
        let ran = crate::engine::coarse_ms()
            .saturating_sub(self.started_ms)
            .saturating_sub(self.waited_ms);
        u128::from(ran) > self.time_limit.as_millis()
    }
}

impl HostState {
    /// Awaits `wait` — downstream nodes, a timer, the compiler — off the call's clock: time
    /// spent waiting on something else does not count against the CPU time limit.
    async fn off_the_clock<T>(&mut self, wait: impl std::future::Future<Output = T>) -> T {
        let started = crate::engine::coarse_ms();
        let out = wait.await;
        if let Some(f) = self.frame.as_mut() {
            f.waited_ms += crate::engine::coarse_ms().saturating_sub(started);
        }
        out
    }
}

/// Raised from the epoch callback when a call runs out of CPU time.
#[derive(Debug, thiserror::Error)]
#[error("time limit exceeded")]
pub struct TimeLimitExceeded;

/// Raised from the resource limiter when a guest grows memory past the limit.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded (asked for {desired})")]
pub struct MemoryLimitExceeded {
    /// The limit.
    pub limit: usize,
    /// The size asked for.
    pub desired: usize,
}

/// Caps the linear memory of one instance.
pub struct MemoryLimiter {
    /// Bytes allowed.
    pub limit: usize,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.limit,
                desired,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Per-store state: WASI (with nothing granted), limits and the current call.
pub struct HostState {
    wasi: WasiCtx,
    /// The tail of the guest's stderr, for trap messages.
    pub stderr: crate::guest_stderr::StderrTail,
    table: ResourceTable,
    /// Memory cap.
    pub limiter: MemoryLimiter,
    /// The call in progress, if any.
    pub frame: Option<CallFrame>,
    /// When work that belongs to no node call (instantiation, `components`, `ports`)
    /// must have finished: a component looping there must not hang loading or applying.
    pub unframed_deadline: Option<Instant>,
}

impl HostState {
    /// A sandboxed state: no files, no network, no environment, no arguments.
    pub fn new(memory_limit: usize) -> HostState {
        let stderr = crate::guest_stderr::StderrTail::default();
        let wasi = WasiCtx::builder()
            .allow_tcp(false)
            .allow_udp(false)
            .stderr(stderr.clone())
            .build();
        HostState {
            wasi,
            stderr,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                limit: memory_limit,
            },
            frame: None,
            unframed_deadline: None,
        }
    }

    fn frame(&self) -> Result<&CallFrame, Failure> {
        self.frame.as_ref().ok_or_else(|| Failure {
            message: "host functions are not available while the component is being introspected"
                .into(),
            retryable: false,
        })
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

impl host::Host for HostState {
    async fn output(
        &mut self,
        port: String,
        payload: String,
    ) -> wasmtime::Result<Result<Option<String>, Failure>> {
        let (shared, node, depth) = match self.frame() {
            Ok(f) => (f.shared.clone(), f.node.clone(), f.depth),
            Err(e) => return Ok(Err(e)),
        };
        let result = self
            .off_the_clock(shared.emit(node, port, payload, depth))
            .await;
        Ok(result.map_err(|e| Failure {
            message: e.to_string(),
            retryable: e.retryable(),
        }))
    }

    fn output_detached(
        &mut self,
        port: String,
        payload: String,
    ) -> wasmtime::Result<Result<(), Failure>> {
        let (shared, node, depth) = match self.frame() {
            Ok(f) => (f.shared.clone(), f.node.clone(), f.depth),
            Err(e) => return Ok(Err(e)),
        };
        shared.emit_detached(node, port, payload, depth);
        Ok(Ok(()))
    }

    fn detached_in_flight(&mut self) -> wasmtime::Result<u32> {
        Ok(self
            .frame
            .as_ref()
            .map(|f| f.node.detached().load(std::sync::atomic::Ordering::Acquire))
            .unwrap_or(0))
    }

    async fn sleep(&mut self, ms: u64) -> wasmtime::Result<()> {
        self.off_the_clock(tokio::time::sleep(Duration::from_millis(ms)))
            .await;
        Ok(())
    }

    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let node = self
            .frame
            .as_ref()
            .map(|f| f.node.name.as_str())
            .unwrap_or("-");
        match level {
            LogLevel::Trace => tracing::trace!(node, "{message}"),
            LogLevel::Debug => tracing::debug!(node, "{message}"),
            LogLevel::Info => tracing::info!(node, "{message}"),
            LogLevel::Warn => tracing::warn!(node, "{message}"),
            LogLevel::Error => tracing::error!(node, "{message}"),
        }
        Ok(())
    }

    fn metadata_get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .frame
            .as_ref()
            .and_then(|f| f.node.status().metadata.get(&key).cloned()))
    }

    fn metadata_set(&mut self, key: String, value: Option<String>) -> wasmtime::Result<()> {
        if let Some(f) = &self.frame {
            f.shared.set_metadata(&f.node, key, value);
        }
        Ok(())
    }

    fn metadata_list(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self
            .frame
            .as_ref()
            .map(|f| f.node.status().metadata.into_iter().collect())
            .unwrap_or_default())
    }

    fn refresh_status(&mut self) -> wasmtime::Result<()> {
        if let Some(f) = &self.frame {
            f.shared.publish_status(&f.node);
        }
        Ok(())
    }

    fn is_leader(&mut self) -> wasmtime::Result<bool> {
        Ok(self
            .frame
            .as_ref()
            .map(|f| f.shared.is_leader())
            .unwrap_or(false))
    }

    fn set_timer(&mut self, id: String, after_ms: u64) -> wasmtime::Result<()> {
        if let Some(f) = &self.frame {
            f.shared
                .set_timer(&f.node, id, Duration::from_millis(after_ms));
        }
        Ok(())
    }

    fn cancel_timer(&mut self, id: String) -> wasmtime::Result<()> {
        if let Some(f) = &self.frame {
            f.shared.cancel_timer(&f.node, &id);
        }
        Ok(())
    }

    fn identity(&mut self) -> wasmtime::Result<NodeIdentity> {
        Ok(match &self.frame {
            Some(f) => NodeIdentity {
                node_name: f.node.name.clone(),
                namespace: f.node.identity.namespace.clone(),
                flow_name: f.node.identity.flow.clone(),
                project_name: f.node.identity.project.clone(),
                module: f.node.identity.module.clone(),
            },
            None => NodeIdentity {
                node_name: String::new(),
                namespace: String::new(),
                flow_name: String::new(),
                project_name: String::new(),
                module: String::new(),
            },
        })
    }

    fn now_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0))
    }
}

fn parse_json(what: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure {
        message: format!("{what} is not JSON: {e}"),
        retryable: false,
    })
}

impl expr::Host for HostState {
    fn eval(
        &mut self,
        expression: String,
        data: String,
    ) -> wasmtime::Result<Result<String, Failure>> {
        let Some(f) = &self.frame else {
            return Ok(Err(self.frame().err().unwrap_or_else(no_frame)));
        };
        let data = match parse_json("expression input", &data) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        Ok(f.shared
            .exprs()
            .eval(&expression, &data)
            .map(|v| v.to_string())
            .map_err(|e| Failure {
                message: e.to_string(),
                retryable: false,
            }))
    }

    fn render(
        &mut self,
        configuration: String,
        data: String,
    ) -> wasmtime::Result<Result<String, Failure>> {
        let Some(f) = &self.frame else {
            return Ok(Err(no_frame()));
        };
        let parsed = parse_json("configuration", &configuration)
            .and_then(|c| Ok((c, parse_json("input", &data)?)));
        let (conf, data) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let (value, error) = f.shared.exprs().render(&configuration, &conf, &data);
        Ok(match error {
            Some(e) => Err(Failure {
                message: e.to_string(),
                retryable: false,
            }),
            None => Ok(value.to_string()),
        })
    }
}

fn no_frame() -> Failure {
    Failure {
        message: "no call in progress".into(),
        retryable: false,
    }
}

impl sandbox::Host for HostState {
    async fn compile(
        &mut self,
        language: String,
        source: String,
    ) -> wasmtime::Result<Result<sandbox::Program, sandbox::CompileError>> {
        let Some(shared) = self.frame.as_ref().map(|f| f.shared.clone()) else {
            return Ok(Err(sandbox::CompileError {
                message: no_frame().message,
                diagnostics: Vec::new(),
            }));
        };
        let result = self
            .off_the_clock(shared.sandbox().compile(&language, &source))
            .await;
        Ok(result
            .map(|p| sandbox::Program {
                id: p.id,
                compiler: p.compiler,
                elapsed_ms: p.elapsed.as_millis() as u64,
                cached: p.cached,
            })
            .map_err(|e| sandbox::CompileError {
                message: e.message,
                diagnostics: e
                    .diagnostics
                    .into_iter()
                    .map(|d| sandbox::Diagnostic {
                        file: d.file,
                        line: d.line,
                        column: d.column,
                        message: d.message,
                    })
                    .collect(),
            }))
    }

    async fn run(
        &mut self,
        program_id: String,
        stdin: Vec<u8>,
        limits: sandbox::Limits,
    ) -> wasmtime::Result<Result<Vec<u8>, Failure>> {
        let Some(shared) = self.frame.as_ref().map(|f| f.shared.clone()) else {
            return Ok(Err(no_frame()));
        };
        let defaults = crate::sandbox::RunLimits::default();
        let pick = |value: u64, default: usize| {
            if value == 0 {
                default
            } else {
                usize::try_from(value).unwrap_or(usize::MAX)
            }
        };
        let limits = crate::sandbox::RunLimits {
            timeout: if limits.timeout_ms == 0 {
                defaults.timeout
            } else {
                Duration::from_millis(limits.timeout_ms)
            },
            memory_bytes: pick(limits.memory_bytes, defaults.memory_bytes),
            max_output_bytes: pick(limits.max_output_bytes, defaults.max_output_bytes),
            clock: limits.allow_clock,
        };
        let result = self
            .off_the_clock(shared.sandbox().run(&program_id, stdin, limits))
            .await;
        Ok(result.map_err(|e| Failure {
            message: e.to_string(),
            retryable: false,
        }))
    }
}
