//! What a capability answers when no call is in progress: while a component is being
//! instantiated or introspected (`components`, `ports`) there is no node to act for.

use crate::bindings::Failure;

/// The failure returned by capabilities that need a node call.
pub fn not_in_a_call() -> Failure {
    Failure {
        message: "host functions are not available while the component is being introspected"
            .into(),
        retryable: false,
    }
}
