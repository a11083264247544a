//! Message routing with the Tiny Systems semantics (CONTRACT §4): a node's `output` is
//! blocking and returns the downstream response; every edge of a port is delivered in
//! parallel and the first non-empty response wins (else the first error); an edge with a
//! configuration renders it against the message, one without delivers the target port's
//! default; hops are counted and capped; retries are opt-in per edge.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use tracing::Instrument;

use crate::error::CallError;
use crate::events::Event;
use crate::manifest::{self, RetryPolicy};
use crate::node::{Edge, Node};
use crate::pool::Op;
use crate::runtime::{RemoteCall, Shared};

/// The settings port.
pub const SETTINGS_PORT: &str = "_settings";
/// The control port.
pub const CONTROL_PORT: &str = "_control";
/// The reconcile port: output here asks the host to republish status.
pub const RECONCILE_PORT: &str = "_reconcile";

impl Shared {
    /// A node emits `payload` on its source port `port`: deliver along every edge and wait
    /// for all of them.
    pub fn emit(
        self: Arc<Self>,
        node: Arc<Node>,
        port: String,
        payload: String,
        depth: u32,
    ) -> BoxFuture<'static, Result<Option<String>, CallError>> {
        Box::pin(async move {
            if port == RECONCILE_PORT {
                self.publish_status(&node);
                return Ok(None);
            }
            if port == CONTROL_PORT {
                let data: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                if let Some(status) = node.update_status(|s| s.control = Some(data.clone())) {
                    self.events.publish(Event::Status {
                        node: node.name.clone(),
                        status: Box::new(status),
                    });
                }
                self.events.publish(Event::Output {
                    node: node.name.clone(),
                    port: port.clone(),
                    data,
                });
            } else if self.trace_outputs && self.events.has_subscribers() {
                let data: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                self.events.publish(Event::Output {
                    node: node.name.clone(),
                    port: port.clone(),
                    data,
                });
            }
            let Some(outgoing) = node.outgoing(&port) else {
                return Ok(None);
            };
            let from = outgoing.from.as_str();
            if let [edge] = outgoing.edges.as_slice() {
                return self.deliver_edge(from, edge, &payload, depth).await;
            }
            let deliveries = outgoing
                .edges
                .iter()
                .map(|edge| self.deliver_edge(from, edge, &payload, depth));
            let results = futures::future::join_all(deliveries).await;
            let mut first_error = None;
            for result in results {
                match result {
                    Ok(Some(reply)) => return Ok(Some(reply)),
                    Ok(None) => {}
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            match first_error {
                Some(e) => Err(e),
                None => Ok(None),
            }
        })
    }

    /// `output-detached`: deliver in the background, counting in-flight deliveries.
    pub fn emit_detached(
        self: Arc<Self>,
        node: Arc<Node>,
        port: String,
        payload: String,
        depth: u32,
    ) {
        node.detached().fetch_add(1, Ordering::AcqRel);
        tokio::spawn(async move {
            let name = node.name.clone();
            let result = self.emit(node.clone(), port.clone(), payload, depth).await;
            node.detached().fetch_sub(1, Ordering::AcqRel);
            if let Err(e) = result {
                tracing::warn!(node = %name, port = %port, error = %e, "background delivery failed");
            }
        });
    }

    async fn deliver_edge(
        self: &Arc<Self>,
        from: &str,
        edge: &Edge,
        payload: &str,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        let Some(policy) = &edge.retry else {
            return self.deliver_mapped(from, edge, payload, depth).await;
        };
        let attempts = policy.max_attempts.clamp(1, 10);
        let mut delay = Duration::from_millis(policy.initial_delay_ms);
        let mut attempt = 1;
        loop {
            let result = match policy.timeout_ms {
                0 => self.deliver_mapped(from, edge, payload, depth).await,
                ms => match tokio::time::timeout(
                    Duration::from_millis(ms),
                    self.deliver_mapped(from, edge, payload, depth),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(CallError::Failed {
                        node: edge.to_node.clone(),
                        message: format!("edge `{}` timed out after {ms} ms", edge.id),
                        retryable: true,
                    }),
                },
            };
            match result {
                Err(e) if e.retryable() && attempt < attempts => {
                    tracing::debug!(edge = %edge.id, attempt, error = %e, "retrying delivery");
                    tokio::time::sleep(delay).await;
                    delay = next_delay(policy, delay);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn deliver_mapped(
        self: &Arc<Self>,
        from: &str,
        edge: &Edge,
        payload: &str,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        self.deliver_incoming(from, &edge.to_node, &edge.to_port, &edge.id, payload, depth)
            .await
    }

    /// A message arriving at `node:port` from `from`: through the target node's mapping
    /// for that source (or the port's default), then into the component. A node that runs
    /// in another module is handed to [`crate::runtime::RemoteModules`] unmapped; its
    /// module maps it.
    pub(crate) async fn deliver_incoming(
        self: &Arc<Self>,
        from: &str,
        node: &str,
        port: &str,
        edge_id: &str,
        payload: &str,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        let Some(target) = self.node(node) else {
            if let (Some(remote), Some(module)) = (&self.remote, manifest::module_of(node))
                && remote.routes(module)
            {
                return remote
                    .call(RemoteCall {
                        module: module.to_string(),
                        from: from.to_string(),
                        node: node.to_string(),
                        port: port.to_string(),
                        edge_id: edge_id.to_string(),
                        payload: payload.to_string(),
                        depth,
                    })
                    .await;
            }
            return Err(CallError::NodeNotFound(node.to_string()));
        };
        let data = match target.mapping(from, port) {
            Some(mapping) => {
                let message: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
                let rendered = mapping.render(&message);
                for error in &rendered.errors {
                    self.report_expression_error(node, port, error);
                }
                rendered.value.to_string()
            }
            // An edge without configuration delivers the target port's default, not the
            // source payload (CONTRACT §4).
            None => match target.port_default(port) {
                Some(default) => default.to_string(),
                None if target.component.is_some() => {
                    return Err(CallError::PortNotFound {
                        node: node.to_string(),
                        port: port.to_string(),
                    });
                }
                None => "null".to_string(),
            },
        };
        self.dispatch(target, port, data, depth + 1).await
    }

    /// Delivers a payload as is (signals, `Runtime::send`).
    pub async fn deliver_raw(
        self: &Arc<Self>,
        from: &str,
        node: &str,
        port: &str,
        payload: String,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        let target = self
            .node(node)
            .ok_or_else(|| CallError::NodeNotFound(node.to_string()))?;
        tracing::debug!(from, to = %format!("{node}:{port}"), "raw delivery");
        self.dispatch(target, port, payload, depth + 1).await
    }

    /// Calls the target node's component for `port`.
    async fn dispatch(
        self: &Arc<Self>,
        target: Arc<Node>,
        port: &str,
        data: String,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        let span = tracing::debug_span!("message", node = %target.name, port, depth);
        self.dispatch_in_span(target, port, data, depth)
            .instrument(span)
            .await
    }

    async fn dispatch_in_span(
        self: &Arc<Self>,
        target: Arc<Node>,
        port: &str,
        data: String,
        depth: u32,
    ) -> Result<Option<String>, CallError> {
        if depth > self.max_depth {
            return Err(CallError::DepthExceeded {
                limit: self.max_depth,
                at: format!("{}:{port}", target.name),
            });
        }
        let Some(entry) = target.component.as_ref() else {
            return Err(CallError::UnknownComponent {
                node: target.name.clone(),
                component: target.manifest.spec.component.clone(),
            });
        };
        match port {
            SETTINGS_PORT => {
                let result = entry
                    .pool
                    .call(self, &target, depth, Op::Settings(&data))
                    .await;
                match &result {
                    Ok(_) => {
                        self.refresh_ports(&target).await;
                    }
                    Err(e) => {
                        let message = format!("settings: {e}");
                        if let Some(status) = target.update_status(|s| {
                            s.status = message;
                            s.error = true;
                        }) {
                            self.events.publish(Event::Status {
                                node: target.name.clone(),
                                status: Box::new(status),
                            });
                        }
                    }
                }
                result
            }
            CONTROL_PORT => {
                entry
                    .pool
                    .call(self, &target, depth, Op::Control(&data))
                    .await
            }
            _ => {
                if !target.has_port(port) {
                    return Err(CallError::PortNotFound {
                        node: target.name.clone(),
                        port: port.to_string(),
                    });
                }
                target.count_received();
                entry
                    .pool
                    .call(self, &target, depth, Op::Handle(port, &data))
                    .await
            }
        }
    }
}

impl Shared {
    /// Expression errors never stop a delivery; they are logged (the contract's
    /// `expression_error` event) and published for whoever watches the flow.
    fn report_expression_error(&self, node: &str, port: &str, error: &tinyhost_expr::ExprError) {
        tracing::warn!(
            target_port = %format!("{node}:{port}"),
            expression = %error.expression,
            position = error.position,
            error = %error.message,
            "expression_error"
        );
        self.events.publish(Event::ExpressionError {
            node: node.to_string(),
            port: port.to_string(),
            expression: error.expression.clone(),
            position: error.position,
            error: error.message.clone(),
        });
    }
}

fn next_delay(policy: &RetryPolicy, current: Duration) -> Duration {
    let coefficient = if policy.backoff_coefficient.is_finite() && policy.backoff_coefficient >= 1.0
    {
        policy.backoff_coefficient
    } else {
        1.0
    };
    let next = current.mul_f64(coefficient);
    match policy.max_delay_ms {
        0 => next,
        max => next.min(Duration::from_millis(max)),
    }
}
