//! Instances of one component, lent per call.
//!
//! A component instance cannot be re-entered while one of its calls waits on the host
//! (cycles, concurrent messages), so one user may need several instances at once; and an
//! idle user must not pin an instance if thousands are to fit in memory. So instances
//! belong to the component, not to who calls it: a call borrows an idle instance (or
//! instantiates one, in microseconds with the pooling allocator), runs, and gives it back.
//! An instance whose call faulted is dropped, never given back.
//!
//! The layer above says how an instance is made and what it keeps between calls by
//! implementing [`Instantiate`]; the pool knows nothing about what runs inside.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::Store;

use crate::engine::HostEngine;
use crate::store::{HasStoreCore, StoreCore, new_store};

/// Idle instances kept per component; more are created on demand and dropped after use.
pub const MAX_IDLE: usize = 32;

/// How long a call waits for an instance when every slot of the engine is in use (a burst
/// of concurrent messages queues instead of failing; calls that each hold an instance
/// while waiting for a downstream one cannot wait forever).
pub const INSTANCE_WAIT: Duration = Duration::from_secs(30);

/// How an instance of one component is made, and what it keeps between calls.
pub trait Instantiate: Send + Sync + 'static {
    /// The store's data: the layer's own state around a [`StoreCore`].
    type Data: HasStoreCore;
    /// The typed exports of an instance.
    type Bindings: Send + 'static;
    /// What the layer keeps per instance between calls (e.g. guest resources it created).
    type Kept: Send + 'static;

    /// The store data of a new instance.
    fn data(&self, core: StoreCore) -> Self::Data;

    /// Instantiates into `store`.
    fn instantiate<'a>(
        &'a self,
        store: &'a mut Store<Self::Data>,
    ) -> impl Future<Output = wasmtime::Result<(Self::Bindings, Self::Kept)>> + Send + 'a;

    /// Tidies what an instance keeps before it goes back idle (runs after every call, so
    /// it must be cheap when there is nothing to do).
    fn recycle(&self, kept: &mut Self::Kept);

    /// Whether the guest may wait in host calls its layer does not book as waits itself
    /// (an HTTP response awaited through `wasi:io/poll`): its stores then book every long
    /// host call off the CPU budget, at a small cost per host call.
    fn waits_in_host_calls(&self) -> bool {
        false
    }
}

/// One lent instance.
pub struct Pooled<I: Instantiate> {
    /// Its store.
    pub store: Store<I::Data>,
    /// Its exports.
    pub bindings: I::Bindings,
    /// What the layer keeps in it.
    pub kept: I::Kept,
    _slot: Slot,
}

/// Tells waiting calls when the instance's engine slot is free again.
struct Slot(Arc<HostEngine>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.instance_freed().freed();
    }
}

/// The instances of one loaded component file.
pub struct InstancePool<I: Instantiate> {
    origin: String,
    engine: Arc<HostEngine>,
    factory: I,
    idle: Mutex<Vec<Pooled<I>>>,
}

impl<I: Instantiate> std::fmt::Debug for InstancePool<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePool")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl<I: Instantiate> InstancePool<I> {
    /// A pool whose instances `factory` makes.
    pub fn new(origin: String, engine: Arc<HostEngine>, factory: I) -> InstancePool<I> {
        InstancePool {
            origin,
            engine,
            factory,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Where the component came from (file path or `builtin:`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The engine the instances run on.
    pub fn engine(&self) -> &Arc<HostEngine> {
        &self.engine
    }

    async fn instantiate(&self) -> wasmtime::Result<Pooled<I>> {
        let config = self.engine.config();
        let data = self.factory.data(StoreCore::new(config.memory_limit));
        let mut store = new_store(
            self.engine.engine(),
            data,
            config.call_time_limit,
            self.factory.waits_in_host_calls(),
        );
        let (bindings, kept) = self.factory.instantiate(&mut store).await?;
        Ok(Pooled {
            store,
            bindings,
            kept,
            _slot: Slot(self.engine.clone()),
        })
    }

    fn pop_idle(&self) -> Option<Pooled<I>> {
        self.idle.lock().ok().and_then(|mut v| v.pop())
    }

    /// An idle instance, a new one, or — when every slot of the engine is taken — the next
    /// one freed, for up to [`INSTANCE_WAIT`]. The caller frames its call on the store's
    /// budget before running anything.
    pub async fn take(&self) -> wasmtime::Result<Pooled<I>> {
        let give_up = Instant::now() + INSTANCE_WAIT;
        if let Some(instance) = self.pop_idle() {
            return Ok(instance);
        }
        // Registered before looking again, so a slot freed meanwhile is not missed.
        let waiter = self.engine.instance_freed().waiter();
        loop {
            if let Some(instance) = self.pop_idle() {
                return Ok(instance);
            }
            let freed = waiter.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.instantiate().await {
                Err(e)
                    if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                        .is_some()
                        && Instant::now() < give_up =>
                {
                    // Also re-check now and then: another pool's idle instance going away
                    // frees a slot without waking anyone.
                    let _ = tokio::time::timeout(Duration::from_millis(50), freed).await;
                }
                other => return other,
            }
        }
    }

    /// An instance for work that belongs to no call (introspection), with the engine's
    /// call time limit as a plain deadline.
    pub async fn take_unframed(&self) -> wasmtime::Result<Pooled<I>> {
        let mut instance = self.take().await?;
        let limit = self.engine.config().call_time_limit;
        instance
            .store
            .data_mut()
            .core_mut()
            .budget
            .start_unframed(limit);
        instance.store.set_epoch_deadline(1);
        Ok(instance)
    }

    /// Returns a healthy instance for reuse (a faulted one is dropped instead).
    pub fn give_back(&self, mut instance: Pooled<I>) {
        self.factory.recycle(&mut instance.kept);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(instance);
        }
        self.engine.instance_freed().freed();
    }

    /// Drops every idle instance, returning how many were dropped: frees their memory now
    /// (and lets a benchmark measure a call that must instantiate).
    pub fn drain_idle(&self) -> usize {
        let drained = self
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        let count = drained.len();
        drop(drained);
        self.engine.instance_freed().freed();
        count
    }
}
