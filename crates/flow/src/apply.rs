//! Applying a desired node set: diff it against what runs, create, replace and remove
//! nodes, deliver settings (only when they changed; a failed delivery is not remembered),
//! re-read ports, check edges, and let components resume recorded work. One apply runs
//! at a time; nodes of one apply initialise concurrently, so one node's slow settings (an
//! inline program compiling) do not hold up the others.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::components::Components;
use crate::instance::Op;
use crate::manifest::{self, TinyNode};
use crate::node::Node;
use crate::router::Router;
use crate::settings::DeliveredSettings;
use crate::status::{NodeProblem, ProblemKind};

/// What an apply did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ApplyReport {
    /// Nodes created.
    pub added: Vec<String>,
    /// Nodes whose manifest changed.
    pub updated: Vec<String>,
    /// Nodes deleted.
    pub removed: Vec<String>,
    /// Nodes whose status is an error after the apply, with the error.
    pub errors: Vec<(String, String)>,
}

/// Applies desired node sets to a router.
pub struct Applier {
    router: Arc<Router>,
    components: Components,
    delivered: DeliveredSettings,
    one_at_a_time: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
    /// Bumped after every apply: what waiting for a node to be ready listens to.
    applied: watch::Sender<u64>,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier").finish_non_exhaustive()
    }
}

impl Applier {
    /// An applier creating nodes of `components` on `router`.
    pub fn new(router: Arc<Router>, components: Components) -> Applier {
        Applier {
            router,
            components,
            delivered: DeliveredSettings::default(),
            one_at_a_time: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(1),
            applied: watch::Sender::new(0),
        }
    }

    /// The components nodes can name.
    pub fn components(&self) -> &Components {
        &self.components
    }

    /// Makes `desired` the complete set of running nodes.
    pub async fn apply(&self, desired: Vec<TinyNode>) -> ApplyReport {
        let _one_at_a_time = self.one_at_a_time.lock().await;
        let router = &self.router;
        let mut report = ApplyReport::default();
        let mut changed = Vec::new();
        let wanted: HashSet<String> = desired.iter().map(|n| n.metadata.name.clone()).collect();

        for manifest in desired {
            let name = manifest.metadata.name.clone();
            let existing = router.node(&name);
            if existing.as_ref().is_some_and(|n| n.manifest == manifest) {
                continue;
            }
            let metadata = match &existing {
                Some(old) => old.status().metadata,
                None => router.metadata().load(&name),
            };
            let component = self.components.get(&manifest.spec.component);
            let node = Arc::new(Node::new(
                self.next_id.fetch_add(1, Ordering::Relaxed),
                manifest,
                component,
                metadata,
            ));
            if let Some(old) = &existing {
                // Carry the control state and the accepted settings over to the new incarnation.
                let control = old.status().control;
                node.update_status(|s| s.control = control);
                if let Some(text) = old.settings().text {
                    node.set_settings(text);
                }
                old.retire();
                report.updated.push(name.clone());
            } else {
                report.added.push(name.clone());
            }
            router.nodes.insert(node.clone());
            changed.push(node);
        }

        for node in router.nodes.remove_unwanted(&wanted) {
            node.retire();
            router.timers().cancel_node(&node.name);
            router.listeners().remove(&node.name).await;
            router.metadata().forget(&node.name);
            self.delivered.forget(&node.name);
            report.removed.push(node.name.clone());
        }

        futures::future::join_all(changed.iter().map(|node| self.initialise(node))).await;
        // Edge targets can only be checked once every node of the batch has its ports.
        for node in router.nodes.all() {
            self.check_edges(&node);
        }
        for node in &changed {
            self.reconcile(node).await;
            node.mark_ready();
        }
        for node in router.nodes.all() {
            let status = node.status();
            if status.error {
                report.errors.push((node.name.clone(), status.status));
            }
        }
        report.errors.sort();
        self.applied.send_modify(|generation| *generation += 1);
        report
    }

    /// Settings (deduplicated) and ports of a new or changed node.
    async fn initialise(&self, node: &Arc<Node>) {
        let router = &self.router;
        if node.component.is_none() {
            let component = node.manifest.spec.component.clone();
            router.report(node, NodeProblem::ComponentMissing(component));
            return;
        }
        let mut problem = None;
        if let Some(settings) = node.manifest.spec.settings() {
            let owned = settings.to_string();
            if !self.delivered.is_delivered(&node.name, &owned) {
                match router.call(node, 0, Op::Settings(&owned)).await {
                    Ok(_) => self.delivered.record(&node.name, Arc::from(owned.as_str())),
                    // Not remembered as delivered: the next apply tries again and the
                    // error stays visible until the settings are fixed.
                    Err(e) => problem = Some(NodeProblem::Settings(e.to_string())),
                }
            } else if node.settings().text.as_deref() != Some(owned.as_str()) {
                node.set_settings(Arc::from(owned.as_str()));
            }
        }
        let ports_read = router.refresh_ports(node).await;
        match problem {
            Some(problem) => router.report(node, problem),
            // A ports error found just now stays visible.
            None if ports_read => router.set_status(node, |s| s.clear_all()),
            None => {}
        }
    }

    /// Marks edges whose target node or port does not exist.
    fn check_edges(&self, node: &Node) {
        let router = &self.router;
        let mut problems = Vec::new();
        for edge in node.manifest.spec.edges.iter() {
            let Some((to_node, to_port)) = manifest::split_address(&edge.to) else {
                problems.push(format!(
                    "edge `{}`: invalid target `{}` (expected node:port)",
                    edge.id, edge.to
                ));
                continue;
            };
            match router.node(to_node) {
                // Another module's node: only its own module can tell whether it exists.
                None if router.routes_remotely(to_node) => {}
                None => problems.push(format!(
                    "edge `{}`: target node `{to_node}` not found",
                    edge.id
                )),
                Some(target) if target.component.is_some() && !target.has_port(to_port) => problems
                    .push(format!(
                        "edge `{}`: node `{to_node}` has no port `{to_port}`",
                        edge.id
                    )),
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            router.clear(node, ProblemKind::Edges);
        } else {
            let problem = NodeProblem::Edges(problems.join("; "));
            router.set_status(node, |s| s.report_unless_other(problem));
        }
    }

    /// Lets the component resume work recorded in metadata (start-up, leadership gained).
    pub async fn reconcile(&self, node: &Arc<Node>) {
        let router = &self.router;
        if node.component.is_none() || node.status().problem() == Some(ProblemKind::Settings) {
            return;
        }
        if let Err(e) = router.call(node, 0, Op::Reconcile).await {
            tracing::warn!(node = %node.name, error = %e, "reconcile failed");
            router.report(node, NodeProblem::Reconcile(e.to_string()));
        }
    }

    /// Reconciles every node (leadership gained).
    pub async fn reconcile_all(&self) {
        for node in self.router.nodes.all() {
            self.reconcile(&node).await;
        }
    }

    /// Waits until `name` runs and its first apply finished, for up to `timeout`;
    /// whether it did.
    pub async fn wait_ready(&self, name: &str, timeout: Duration) -> bool {
        let mut applied = self.applied.subscribe();
        let ready = async {
            loop {
                if self.router.node(name).is_some_and(|n| n.is_ready()) {
                    return;
                }
                if applied.changed().await.is_err() {
                    // The applier is gone: nothing will become ready.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, ready).await.is_ok()
    }
}
