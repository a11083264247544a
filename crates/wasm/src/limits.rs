//! What one guest may use: linear memory (a [`MemoryLimiter`] refusing growth past the cap)
//! and CPU time (a [`CallBudget`] the epoch callback checks). Time a call spends waiting on
//! the host — downstream nodes, a timer, a compiler — is booked off the clock, so a node
//! whose downstream is slow is not killed for it.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::clock::coarse_ms;

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
#[derive(Debug, Clone, Copy)]
pub struct MemoryLimiter {
    /// Bytes allowed.
    pub limit: usize,
}

/// Tables are tiny next to memories; this only stops a table bomb.
const MAX_TABLE_ELEMENTS: usize = 100_000;

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
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// The CPU-time budget of whatever runs on a store now: a framed call (booked on the
/// coarse clock, minus its waits) or unframed work (instantiation, introspection) with a
/// plain deadline, so a component looping there cannot hang loading or applying.
#[derive(Debug, Clone, Default)]
pub struct CallBudget {
    /// The framed call in progress, if any.
    call: Option<Framed>,
    /// When unframed work must have finished.
    unframed_deadline: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Framed {
    started_ms: u64,
    waited_ms: u64,
    limit: Duration,
}

impl CallBudget {
    /// Starts a framed call allowed `limit` of CPU time.
    pub fn start_call(&mut self, limit: Duration) {
        self.call = Some(Framed {
            started_ms: coarse_ms(),
            waited_ms: 0,
            limit,
        });
    }

    /// Ends the framed call.
    pub fn end_call(&mut self) {
        self.call = None;
    }

    /// Gives unframed work `limit` from now.
    pub fn start_unframed(&mut self, limit: Duration) {
        self.unframed_deadline = Some(Instant::now() + limit);
    }

    /// Whether a framed call is in progress (capabilities that act for a call refuse
    /// otherwise).
    pub fn in_call(&self) -> bool {
        self.call.is_some()
    }

    /// The limit of the framed call in progress (for error messages).
    pub fn call_limit(&self) -> Option<Duration> {
        self.call.map(|c| c.limit)
    }

    /// Whether the guest has run longer than allowed.
    pub fn over_budget(&self) -> bool {
        match &self.call {
            Some(call) => {
                let ran = coarse_ms()
                    .saturating_sub(call.started_ms)
                    .saturating_sub(call.waited_ms);
                u128::from(ran) > call.limit.as_millis()
            }
            None => self
                .unframed_deadline
                .is_some_and(|deadline| Instant::now() >= deadline),
        }
    }

    /// Books `ms` of waiting on the host off the framed call's clock.
    pub fn book_wait(&mut self, ms: u64) {
        if let Some(call) = self.call.as_mut() {
            call.waited_ms += ms;
        }
    }

    /// Awaits `wait` off the call's clock.
    pub async fn off_the_clock<T>(&mut self, wait: impl Future<Output = T>) -> T {
        let started = coarse_ms();
        let out = wait.await;
        self.book_wait(coarse_ms().saturating_sub(started));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_not_counted_against_the_limit() {
        crate::clock::advance();
        let mut budget = CallBudget::default();
        budget.start_call(Duration::from_millis(20));
        assert!(!budget.over_budget());
        std::thread::sleep(Duration::from_millis(40));
        crate::clock::advance();
        assert!(
            budget.over_budget(),
            "40 ms of running is over a 20 ms budget"
        );
        budget.book_wait(40);
        assert!(!budget.over_budget(), "once booked as waiting it is not");
        budget.end_call();
        assert!(
            !budget.over_budget(),
            "no call and no deadline: nothing to enforce"
        );
        budget.start_unframed(Duration::ZERO);
        assert!(budget.over_budget());
    }
}
