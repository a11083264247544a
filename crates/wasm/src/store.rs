//! The store every guest runs in. [`StoreCore`] is the part the wasm layer owns: a WASI
//! context with nothing granted (no files, network, environment or arguments), the stderr
//! tail, the memory cap and the call budget. The layers above wrap it in their own store
//! data and expose it through [`HasStoreCore`], so limits are enforced the same way for
//! every kind of guest.

use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{CallHook, Engine, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView};

use crate::limits::{CallBudget, MemoryLimiter, TimeLimitExceeded};
use crate::stderr::StderrTail;

/// The wasm layer's part of a store's data.
pub struct StoreCore {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The tail of the guest's stderr, for trap messages.
    pub stderr: StderrTail,
    /// Memory cap.
    pub limiter: MemoryLimiter,
    /// CPU-time budget of what runs now.
    pub budget: CallBudget,
}

impl StoreCore {
    /// A sandboxed core: no files, no network, no environment, no arguments.
    pub fn new(memory_limit: usize) -> StoreCore {
        let stderr = StderrTail::default();
        let wasi = WasiCtx::builder()
            .allow_tcp(false)
            .allow_udp(false)
            .stderr(stderr.clone())
            .build();
        StoreCore {
            wasi,
            table: ResourceTable::new(),
            stderr,
            limiter: MemoryLimiter {
                limit: memory_limit,
            },
            budget: CallBudget::default(),
        }
    }

    /// The resource table the WASI interfaces (and `wasi:http`) keep their handles in.
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The WASI view wasmtime-wasi's own host functions need.
    pub fn wasi_view(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Store data that carries a [`StoreCore`]: what the layer above implements so stores it
/// creates get the memory cap and the CPU budget.
pub trait HasStoreCore: Send + 'static {
    /// The core, read-only (the epoch callback).
    fn core(&self) -> &StoreCore;
    /// The core, to start and end calls.
    fn core_mut(&mut self) -> &mut StoreCore;
}

/// A store with the memory cap installed and the budget checked on every epoch tick.
/// Unframed work (instantiation) starts with `unframed_limit` to finish. With
/// `books_host_waits`, every long host call is booked as a wait (see
/// `CallBudget::leave_host`); without it only the waits capabilities book themselves.
pub fn new_store<T: HasStoreCore>(
    engine: &Engine,
    data: T,
    unframed_limit: Duration,
    books_host_waits: bool,
) -> Store<T> {
    let mut store = Store::new(engine, data);
    store.limiter(|data| &mut data.core_mut().limiter);
    store.epoch_deadline_callback(|ctx| {
        if ctx.data().core().budget.over_budget() {
            Err(wasmtime::Error::new(TimeLimitExceeded))
        } else {
            // Yield each tick so a busy guest cannot starve other tasks on its thread.
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store.set_epoch_deadline(1);
    if books_host_waits {
        // Long host calls are waits, whichever interface made them.
        store.call_hook(|mut ctx, hook| {
            let budget = &mut ctx.data_mut().core_mut().budget;
            match hook {
                CallHook::CallingHost => budget.enter_host(),
                CallHook::ReturningFromHost => budget.leave_host(),
                CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
            }
            Ok(())
        });
    }
    store
        .data_mut()
        .core_mut()
        .budget
        .start_unframed(unframed_limit);
    store
}
