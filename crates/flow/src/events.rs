//! What a running flow tells the outside world: control state (what a debug node shows),
//! node status changes and, when asked for, every output. The local runner prints these;
//! tests and scripts subscribe to them.

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::status::NodeStatus;

/// One observable thing that happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A node emitted on a port. `_control` outputs are always published (they are the
    /// node's dashboard state, e.g. a debug node's last message); other ports only when
    /// the runtime traces outputs.
    Output {
        /// Node name.
        node: String,
        /// Source port.
        port: String,
        /// The payload.
        data: Value,
    },
    /// An edge mapping's expression failed. Delivery went on (the `{{…}}` text stayed in
    /// place, or the value became null); this is how the flow author finds out.
    ExpressionError {
        /// Target node of the edge.
        node: String,
        /// Target port.
        port: String,
        /// The expression, without braces.
        expression: String,
        /// Character offset of the error in the expression.
        position: usize,
        /// What was wrong.
        error: String,
    },
    /// A node's status changed (settings error, ports re-read, metadata written).
    Status {
        /// Node name.
        node: String,
        /// The new status.
        status: Box<NodeStatus>,
    },
}

/// A broadcast bus; slow subscribers lose old events rather than stall the flow.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl EventBus {
    /// A bus that keeps up to `capacity` events per lagging subscriber.
    pub fn new(capacity: usize) -> Self {
        EventBus {
            sender: broadcast::channel(capacity.max(16)).0,
        }
    }

    /// Publishes an event; no subscriber is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// Whether anyone listens (lets hot paths skip building events).
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// A new subscription from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
