//! Message routing with the Tiny Systems semantics
//! ([compatibility: message semantics](../../../docs/compatibility.md#message-semantics)):
//! a node's `output` is blocking and returns the downstream response; every edge of a port
//! is delivered in parallel and the first non-empty response wins (else the first error);
//! an edge with a configuration renders it against the message, one without delivers the
//! target port's default; hops are counted and capped; retries are opt-in per edge.
//!
//! The [`Router`] also owns what acts for a node during a call ([`RouterCall`], the
//! services the capabilities ask for): outputs, timers, metadata, identity.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use tinyhost_capabilities::bindings::Failure;
use tinyhost_capabilities::bindings::tinysystems::component::node_info::NodeIdentity;
use tinyhost_capabilities::http_server::{
    BoundListener, HttpServerService, IncomingRequest, ListenOptions, Listeners, OutgoingResponse,
    RequestSink,
};
use tinyhost_capabilities::log::LogService;
use tinyhost_capabilities::metadata::{MetadataService, WriteBehind};
use tinyhost_capabilities::node_info::NodeInfoService;
use tinyhost_capabilities::output::OutputService;
use tinyhost_capabilities::timers::{TimerService, Timers};
use tracing::Instrument;

use crate::error::CallError;
use crate::events::{Event, EventBus};
use crate::instance::{self, Answer, Op};
use crate::manifest::{self, RetryPolicy};
use crate::node::{Edge, Node};
use crate::nodes::NodeTable;
use crate::remote::{RemoteCall, RemoteModules};
use crate::status::{NodeProblem, NodeStatus, ProblemKind};

/// The settings port.
pub const SETTINGS_PORT: &str = "_settings";
/// The control port.
pub const CONTROL_PORT: &str = "_control";
/// The reconcile port: output here asks the host to republish status.
pub const RECONCILE_PORT: &str = "_reconcile";

/// How far messages may go and what is published about them.
#[derive(Debug, Clone, Copy)]
pub struct RouteLimits {
    /// The cycle guard: hops a message may travel.
    pub max_depth: u32,
    /// Publish every output as an [`Event::Output`], not only `_control`.
    pub trace_outputs: bool,
}

/// Routes messages between the running nodes and acts for them during calls.
pub struct Router {
    /// The running nodes.
    pub(crate) nodes: NodeTable,
    /// Where what happens is published.
    pub(crate) events: EventBus,
    limits: RouteLimits,
    remote: Option<Arc<dyn RemoteModules>>,
    timers: Timers,
    listeners: Listeners,
    metadata: WriteBehind,
    leader: AtomicBool,
    /// This replica's name (the pod's in a cluster), as components see it.
    replica: Arc<str>,
    self_ref: Weak<Router>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router with no nodes.
    pub fn new(
        limits: RouteLimits,
        remote: Option<Arc<dyn RemoteModules>>,
        metadata: WriteBehind,
        listeners: Listeners,
        leader: bool,
        replica: Arc<str>,
    ) -> Arc<Router> {
        Arc::new_cyclic(|me| Router {
            nodes: NodeTable::default(),
            events: EventBus::new(4096),
            limits,
            remote,
            timers: Timers::default(),
            listeners,
            metadata,
            leader: AtomicBool::new(leader),
            replica,
            self_ref: me.clone(),
        })
    }

    /// The current incarnation of a node.
    pub fn node(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes.get(name)
    }

    /// Whether this replica leads.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    /// Sets leadership; whether it was held before.
    pub(crate) fn swap_leader(&self, leader: bool) -> bool {
        self.leader.swap(leader, Ordering::AcqRel)
    }

    /// The node metadata written behind.
    pub(crate) fn metadata(&self) -> &WriteBehind {
        &self.metadata
    }

    /// Pending timers.
    pub(crate) fn timers(&self) -> &Timers {
        &self.timers
    }

    /// The nodes' HTTP listeners.
    pub(crate) fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// Writes the metadata of every node changed since the last flush.
    pub(crate) fn flush_metadata(&self) {
        self.metadata
            .flush(|name| self.node(name).map(|n| n.status().metadata));
    }

    /// Whether `node` does not run here but lives in a module a peer serves.
    pub(crate) fn routes_remotely(&self, node: &str) -> bool {
        match (&self.remote, manifest::module_of(node)) {
            (Some(remote), Some(module)) => remote.routes(module),
            _ => false,
        }
    }

    /// Publishes the node's status.
    pub fn publish_status(&self, node: &Node) {
        self.events.publish(Event::Status {
            node: node.name.clone(),
            status: Box::new(node.status()),
        });
    }

    /// Publishes `status` of `node` if it changed.
    pub(crate) fn publish_changed(&self, node: &Node, changed: Option<NodeStatus>) {
        if let Some(status) = changed {
            self.events.publish(Event::Status {
                node: node.name.clone(),
                status: Box::new(status),
            });
        }
    }

    /// Shows `problem` in the node's status.
    pub(crate) fn report(&self, node: &Node, problem: NodeProblem) {
        self.publish_changed(node, node.report(problem));
    }

    /// Clears a problem of `kind` from the node's status.
    pub(crate) fn clear(&self, node: &Node, kind: ProblemKind) {
        self.publish_changed(node, node.clear(kind));
    }

    /// Changes the node's status and publishes it if it changed.
    pub(crate) fn set_status(&self, node: &Node, f: impl FnOnce(&mut NodeStatus)) {
        self.publish_changed(node, node.update_status(f));
    }

    /// Runs `op` on the node's component, acting for the node at hop `depth`; the reply.
    pub(crate) async fn call(
        self: &Arc<Self>,
        node: &Arc<Node>,
        depth: u32,
        op: Op<'_>,
    ) -> Result<Option<String>, CallError> {
        match self.call_op(node, depth, op).await? {
            Answer::Message(reply) => Ok(reply),
            Answer::Http(_) => Ok(None),
        }
    }

    /// Hands a request on the node's listener to its component; the response.
    async fn call_http(
        self: &Arc<Self>,
        node: &Arc<Node>,
        request: &IncomingRequest,
    ) -> Result<OutgoingResponse, CallError> {
        match self.call_op(node, 0, Op::HttpRequest(request)).await? {
            Answer::Http(response) => Ok(response),
            Answer::Message(_) => Err(CallError::Runtime {
                node: node.name.clone(),
                message: "the component answered an http request with a message".into(),
            }),
        }
    }

    async fn call_op(
        self: &Arc<Self>,
        node: &Arc<Node>,
        depth: u32,
        op: Op<'_>,
    ) -> Result<Answer, CallError> {
        let Some(entry) = node.component.as_ref() else {
            return Err(CallError::UnknownComponent {
                node: node.name.clone(),
                component: node.manifest.spec.component.clone(),
            });
        };
        let call = Arc::new(RouterCall {
            router: self.clone(),
            node: node.clone(),
            depth,
        });
        instance::call(&entry.pool, node, call, op).await
    }

    /// Re-reads the node's ports for its current settings (ports are dynamic).
    /// Returns whether the ports could be read (the status says why not).
    pub(crate) async fn refresh_ports(&self, node: &Arc<Node>) -> bool {
        let Some(entry) = node.component.clone() else {
            return false;
        };
        let settings = node.settings().text;
        let result = instance::ports(
            &entry.pool,
            &node.manifest.spec.component,
            settings.as_deref(),
        )
        .await;
        let read = match result {
            Ok(ports) => {
                node.set_ports(ports);
                true
            }
            Err(e) => {
                self.report(node, NodeProblem::Ports(e.to_string()));
                false
            }
        };
        self.publish_status(node);
        read
    }

    /// Stops every timer.
    pub(crate) fn cancel_all_timers(&self) {
        self.timers.cancel_all();
    }

    async fn fire_timer(self: &Arc<Self>, node_name: &str, id: &str) {
        if !self.is_leader() {
            return;
        }
        let Some(node) = self.node(node_name) else {
            return;
        };
        if node.component.is_none() {
            return;
        }
        if let Err(e) = self.call(&node, 0, Op::Timer(id)).await {
            tracing::warn!(node = node_name, timer = id, error = %e, "timer handler failed");
        }
    }

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
                self.set_status(&node, |s| s.control = Some(data.clone()));
                self.events.publish(Event::Output {
                    node: node.name.clone(),
                    port: port.clone(),
                    data,
                });
            } else if self.limits.trace_outputs && self.events.has_subscribers() {
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
    /// in another module is handed to [`RemoteModules`] unmapped; its module maps it.
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
            // source payload.
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
        if depth > self.limits.max_depth {
            return Err(CallError::DepthExceeded {
                limit: self.limits.max_depth,
                at: format!("{}:{port}", target.name),
            });
        }
        if target.component.is_none() {
            return Err(CallError::UnknownComponent {
                node: target.name.clone(),
                component: target.manifest.spec.component.clone(),
            });
        }
        match port {
            SETTINGS_PORT => {
                let result = self.call(&target, depth, Op::Settings(&data)).await;
                match &result {
                    Ok(_) => {
                        self.refresh_ports(&target).await;
                    }
                    Err(e) => self.report(&target, NodeProblem::Settings(e.to_string())),
                }
                result
            }
            CONTROL_PORT => self.call(&target, depth, Op::Control(&data)).await,
            _ => {
                if !target.has_port(port) {
                    return Err(CallError::PortNotFound {
                        node: target.name.clone(),
                        port: port.to_string(),
                    });
                }
                target.count_received();
                self.call(&target, depth, Op::Handle(port, &data)).await
            }
        }
    }

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

/// What acts for one node during one call: the per-node services of the capabilities.
pub struct RouterCall {
    router: Arc<Router>,
    node: Arc<Node>,
    depth: u32,
}

impl OutputService for RouterCall {
    fn output(
        &self,
        port: String,
        payload: String,
    ) -> BoxFuture<'static, Result<Option<String>, Failure>> {
        let delivery = self
            .router
            .clone()
            .emit(self.node.clone(), port, payload, self.depth);
        Box::pin(async move { delivery.await.map_err(|e| e.to_failure()) })
    }

    fn output_detached(&self, port: String, payload: String) {
        self.router
            .clone()
            .emit_detached(self.node.clone(), port, payload, self.depth);
    }

    fn detached_in_flight(&self) -> u32 {
        self.node.detached().load(Ordering::Acquire)
    }
}

impl TimerService for RouterCall {
    fn set_timer(&self, id: String, after: Duration) {
        let weak = self.router.self_ref.clone();
        let name = self.node.name.clone();
        let timer_id = id.clone();
        self.router
            .timers
            .set(&self.node.name, &id, after, async move {
                if let Some(router) = weak.upgrade() {
                    router.fire_timer(&name, &timer_id).await;
                }
            });
    }

    fn cancel_timer(&self, id: &str) {
        self.router.timers.cancel(&self.node.name, id);
    }
}

impl MetadataService for RouterCall {
    fn get(&self, key: &str) -> Option<String> {
        self.node.status().metadata.get(key).cloned()
    }

    fn set(&self, key: String, value: Option<String>) {
        self.router.set_status(&self.node, |s| {
            match value {
                Some(v) => s.metadata.insert(key, v),
                None => s.metadata.remove(&key),
            };
        });
        self.router.metadata.mark_dirty(&self.node.name);
    }

    fn entries(&self) -> Vec<(String, String)> {
        self.node.status().metadata.into_iter().collect()
    }
}

impl HttpServerService for RouterCall {
    fn listen(&self, options: ListenOptions) -> BoxFuture<'static, Result<BoundListener, Failure>> {
        let router = self.router.clone();
        let node = self.node.name.clone();
        let sink: Arc<dyn RequestSink> = Arc::new(HttpRequests(self.router.self_ref.clone()));
        Box::pin(async move {
            router
                .listeners
                .listen(&node, options, sink)
                .await
                .map_err(Failure::from)
        })
    }

    fn close(&self) -> BoxFuture<'static, ()> {
        let router = self.router.clone();
        let node = self.node.name.clone();
        Box::pin(async move { router.listeners.close(&node).await })
    }

    fn listening(&self) -> Option<BoundListener> {
        self.router.listeners.listening(&self.node.name)
    }
}

/// Requests of the nodes' listeners, delivered to the node's component (at hop 0: a
/// request starts a flow). Holds the router weakly: listeners live in the router.
struct HttpRequests(Weak<Router>);

impl RequestSink for HttpRequests {
    fn serve(
        &self,
        node: &str,
        request: IncomingRequest,
    ) -> BoxFuture<'static, Result<OutgoingResponse, String>> {
        let router = self.0.upgrade();
        let node = node.to_string();
        Box::pin(async move {
            let router = router.ok_or_else(|| "the host is shutting down".to_string())?;
            let target = router
                .node(&node)
                .ok_or_else(|| format!("node `{node}` no longer runs"))?;
            target.count_received();
            router
                .call_http(&target, &request)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

impl LogService for RouterCall {
    fn subject(&self) -> &str {
        &self.node.name
    }
}

impl NodeInfoService for RouterCall {
    fn identity(&self) -> NodeIdentity {
        let identity = &self.node.identity;
        NodeIdentity {
            node_name: self.node.name.clone(),
            namespace: identity.namespace.clone(),
            flow_name: identity.flow.clone(),
            project_name: identity.project.clone(),
            module: identity.module.clone(),
            replica: self.router.replica.to_string(),
        }
    }

    fn is_leader(&self) -> bool {
        self.router.is_leader()
    }

    fn refresh_status(&self) {
        self.router.publish_status(&self.node);
    }
}
