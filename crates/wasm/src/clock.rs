//! The coarse clock: milliseconds since the first engine started, advanced by the epoch
//! ticker. Calls book their CPU time on it because a hop reads the time several times and
//! the system clock showed up in profiles; its granularity is the epoch tick, which is
//! already the granularity of time limits.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the epoch advances (and this clock with it); the granularity of time limits.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

static COARSE_MS: AtomicU64 = AtomicU64::new(0);
static COARSE_BASE: OnceLock<Instant> = OnceLock::new();

/// The coarse clock, in milliseconds.
pub fn coarse_ms() -> u64 {
    COARSE_MS.load(Ordering::Relaxed)
}

/// Moves the clock to the current time; called by every epoch ticker, and once when an
/// engine starts so the clock is never behind by more than a tick.
pub(crate) fn advance() {
    let elapsed = COARSE_BASE.get_or_init(Instant::now).elapsed();
    COARSE_MS.fetch_max(elapsed.as_millis() as u64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_only_moves_forward() {
        advance();
        let first = coarse_ms();
        std::thread::sleep(Duration::from_millis(5));
        advance();
        assert!(coarse_ms() >= first + 4);
    }
}
