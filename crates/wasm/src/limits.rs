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
    /// The outermost host call in progress: when it began and the waits booked by then.
    in_host: Option<(u64, u64)>,
    /// Host calls in progress: the host may call back into the guest (to allocate a
    /// result) and that code may call the host again (to grow its memory).
    host_depth: u32,
}

/// A host call at least this long (in coarse milliseconds: two epoch ticks) was a wait, not
/// work, even if its capability did not say so (an HTTP response awaited through
/// `wasi:io/poll`). Shorter ones count as the guest's time, so a guest spinning on cheap host
/// calls still runs out of budget.
const LONG_HOST_CALL_MS: u64 = 20;

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
                let now = coarse_ms();
                let ran = now
                    .saturating_sub(call.started_ms)
                    .saturating_sub(call.waited_ms)
                    .saturating_sub(self.host_wait_so_far(call, now));
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

    /// The guest calls into the host (the store's call hook).
    pub fn enter_host(&mut self) {
        self.host_depth += 1;
        if self.host_depth == 1
            && let Some(call) = &self.call
        {
            self.in_host = Some((coarse_ms(), call.waited_ms));
        }
    }

    /// How long the host call in progress has waited, if it is a long one nothing booked
    /// yet. Guest code can run before the call returns — the host lowering a result calls
    /// the guest's allocator — so the epoch check must not count the wait as work then.
    fn host_wait_so_far(&self, call: &Framed, now: u64) -> u64 {
        match self.in_host {
            Some((entered, waited_before)) if call.waited_ms == waited_before => {
                let took = now.saturating_sub(entered);
                if took >= LONG_HOST_CALL_MS { took } else { 0 }
            }
            _ => 0,
        }
    }

    /// The host call returns: books it off the clock if it was long and its capability
    /// booked nothing itself (see [`LONG_HOST_CALL_MS`]).
    pub fn leave_host(&mut self) {
        self.host_depth = self.host_depth.saturating_sub(1);
        if self.host_depth > 0 {
            return;
        }
        let (Some((entered, waited_before)), Some(call)) =
            (self.in_host.take(), self.call.as_mut())
        else {
            return;
        };
        let took = coarse_ms().saturating_sub(entered);
        if took >= LONG_HOST_CALL_MS && call.waited_ms == waited_before {
            call.waited_ms += took;
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

    #[test]
    fn a_long_host_call_is_a_wait_and_short_ones_are_work() {
        crate::clock::advance();
        let mut budget = CallBudget::default();
        budget.start_call(Duration::from_millis(30));
        budget.enter_host();
        std::thread::sleep(Duration::from_millis(60));
        crate::clock::advance();
        budget.leave_host();
        assert!(
            !budget.over_budget(),
            "60 ms inside one host call is a wait"
        );
        for _ in 0..8 {
            budget.enter_host();
            std::thread::sleep(Duration::from_millis(5));
            crate::clock::advance();
            budget.leave_host();
        }
        assert!(
            budget.over_budget(),
            "40 ms of 5 ms host calls counts as the guest's time"
        );
    }

    #[test]
    fn a_host_call_made_while_the_host_calls_the_guest_back_does_not_end_the_outer_one() {
        crate::clock::advance();
        let mut budget = CallBudget::default();
        budget.start_call(Duration::from_millis(30));
        budget.enter_host();
        std::thread::sleep(Duration::from_millis(60));
        crate::clock::advance();
        // The host lowers its result into the guest, whose allocator grows memory.
        budget.enter_host();
        budget.leave_host();
        assert!(
            !budget.over_budget(),
            "still inside the outer, long host call"
        );
        budget.leave_host();
        assert!(!budget.over_budget(), "the outer call was booked as a wait");
    }

    #[test]
    fn a_wait_the_capability_booked_is_not_booked_twice() {
        crate::clock::advance();
        let mut budget = CallBudget::default();
        budget.start_call(Duration::from_millis(1000));
        budget.enter_host();
        std::thread::sleep(Duration::from_millis(30));
        crate::clock::advance();
        budget.book_wait(30);
        budget.leave_host();
        let Some(call) = budget.call else {
            panic!("call ended")
        };
        assert_eq!(call.waited_ms, 30);
    }
}
