//! The `sandbox` capability: compiling and running inline programs for components that
//! carry them (`wasm_eval`). The work is the inline-program layer's
//! ([`tinyhost_sandbox::Sandbox`]); this module translates the import's records and keeps
//! compile and run time off the calling component's CPU clock.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tinyhost_sandbox::{CompileFailure, ProgramInfo, RunError, RunLimits, Sandbox};
use tinyhost_wasm::limits::CallBudget;
use wasmtime::component::{HasData, Linker};

use crate::bindings::Failure;
use crate::bindings::tinysystems::component::sandbox;
use crate::unbound::not_in_a_call;

/// Compiles and runs programs; [`Sandbox`] is the implementation.
pub trait SandboxService: Send + Sync {
    /// Compiles (or finds in the caches) the program for `source`.
    fn compile<'a>(
        &'a self,
        language: &'a str,
        source: &'a str,
    ) -> BoxFuture<'a, Result<ProgramInfo, CompileFailure>>;
    /// Runs a compiled program once.
    fn run<'a>(
        &'a self,
        program_id: &'a str,
        stdin: Vec<u8>,
        limits: RunLimits,
    ) -> BoxFuture<'a, Result<Vec<u8>, RunError>>;
}

impl SandboxService for Sandbox {
    fn compile<'a>(
        &'a self,
        language: &'a str,
        source: &'a str,
    ) -> BoxFuture<'a, Result<ProgramInfo, CompileFailure>> {
        Box::pin(Sandbox::compile(self, language, source))
    }

    fn run<'a>(
        &'a self,
        program_id: &'a str,
        stdin: Vec<u8>,
        limits: RunLimits,
    ) -> BoxFuture<'a, Result<Vec<u8>, RunError>> {
        Box::pin(Sandbox::run(self, program_id, stdin, limits))
    }
}

/// The capability's state in a store: the process-wide sandbox, set when the store is made.
pub struct SandboxCtx {
    /// The shared sandbox.
    pub service: Arc<dyn SandboxService>,
}

/// What the import functions see.
pub struct SandboxView<'a> {
    /// The capability's state.
    pub ctx: &'a SandboxCtx,
    /// The budget compile and run time are booked off.
    pub budget: &'a mut CallBudget,
}

struct HasSandbox;

impl HasData for HasSandbox {
    type Data<'a> = SandboxView<'a>;
}

/// Adds the `sandbox` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> SandboxView<'_>,
) -> wasmtime::Result<()> {
    sandbox::add_to_linker::<T, HasSandbox>(linker, get)
}

/// The limits of a run: zero in the import means "the default".
fn run_limits(asked: sandbox::Limits) -> RunLimits {
    let defaults = RunLimits::default();
    let pick = |value: u64, default: usize| {
        if value == 0 {
            default
        } else {
            usize::try_from(value).unwrap_or(usize::MAX)
        }
    };
    RunLimits {
        timeout: if asked.timeout_ms == 0 {
            defaults.timeout
        } else {
            Duration::from_millis(asked.timeout_ms)
        },
        memory_bytes: pick(asked.memory_bytes, defaults.memory_bytes),
        max_output_bytes: pick(asked.max_output_bytes, defaults.max_output_bytes),
        clock: asked.allow_clock,
    }
}

impl sandbox::Host for SandboxView<'_> {
    async fn compile(
        &mut self,
        language: String,
        source: String,
    ) -> wasmtime::Result<Result<sandbox::Program, sandbox::CompileError>> {
        if !self.budget.in_call() {
            return Ok(Err(sandbox::CompileError {
                message: not_in_a_call().message,
                diagnostics: Vec::new(),
            }));
        }
        let service = self.ctx.service.clone();
        let result = self
            .budget
            .off_the_clock(service.compile(&language, &source))
            .await;
        Ok(result
            .map(|p| sandbox::Program {
                id: p.id,
                compiler: p.compiler,
                elapsed_ms: u64::try_from(p.elapsed.as_millis()).unwrap_or(u64::MAX),
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
        if !self.budget.in_call() {
            return Ok(Err(not_in_a_call()));
        }
        let service = self.ctx.service.clone();
        let result = self
            .budget
            .off_the_clock(service.run(&program_id, stdin, run_limits(limits)))
            .await;
        Ok(result.map_err(|e| Failure {
            message: e.to_string(),
            retryable: false,
        }))
    }
}
