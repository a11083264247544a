//! What a guest did wrong, as a typed answer: wasmtime reports a time-limit interruption,
//! a memory-limit refusal and a trap all as `wasmtime::Error`; callers need to tell them
//! apart (and show the guest's last stderr line with a trap).

use crate::limits::{MemoryLimitExceeded, TimeLimitExceeded};
use crate::store::StoreCore;

/// Why a guest call ended without an answer. The instance it ran on must be discarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The call ran out of CPU time.
    TimeLimit {
        /// The limit of the call, in milliseconds (0 when unframed).
        limit_ms: u64,
    },
    /// The guest tried to grow its memory past the cap.
    MemoryLimit {
        /// The cap, in bytes.
        limit_bytes: usize,
    },
    /// The guest trapped (panic, unreachable, out-of-bounds access...) or the host failed.
    Trap {
        /// What wasmtime reported, with the guest's last stderr words when there are some.
        message: String,
    },
}

impl Fault {
    /// Classifies `error` raised by a call on the store whose core is `core`.
    pub fn classify(core: &StoreCore, error: &wasmtime::Error) -> Fault {
        if error.downcast_ref::<TimeLimitExceeded>().is_some() {
            let limit_ms = core
                .budget
                .call_limit()
                .map(|l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0);
            return Fault::TimeLimit { limit_ms };
        }
        if let Some(m) = error.downcast_ref::<MemoryLimitExceeded>() {
            return Fault::MemoryLimit {
                limit_bytes: m.limit,
            };
        }
        let mut message = trap_message(error);
        if let Some(words) = core.stderr.last_words() {
            message = format!("{message} ({words})");
        }
        Fault::Trap { message }
    }
}

/// The first line of a trap: wasmtime appends a backtrace a status line has no room for.
fn trap_message(e: &wasmtime::Error) -> String {
    let mut text = e.to_string();
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        text = format!("{trap}");
    }
    text.lines().next().unwrap_or("trap").to_string()
}
