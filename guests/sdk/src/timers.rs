//! The `timers` interface: timers that call the node back, waits that are not work, and the
//! host's wall clock. See `wit/timers.wit`.

use crate::bindings::tinysystems::component::timers as wit;

/// Schedules [`Node::on_timer`](crate::Node::on_timer) with `id` after `after_ms`,
/// replacing a pending timer with the same id. Timers fire on the module's leader only.
pub fn set_timer(id: &str, after_ms: u64) {
    wit::set_timer(id, after_ms)
}

/// Cancels the timer `id` if it is pending.
pub fn cancel_timer(id: &str) {
    wit::cancel_timer(id)
}

/// Waits `ms` milliseconds without spending the call's CPU time budget.
pub fn sleep_ms(ms: u64) {
    wit::sleep(ms)
}

/// Wall-clock milliseconds since the Unix epoch, as the host sees it.
pub fn now_ms() -> u64 {
    wit::now_ms()
}
