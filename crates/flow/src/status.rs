//! What a node publishes (TinyNode status), and the one place its problems are recorded.
//! A node has at most one problem on show; [`NodeProblem`] says which kind it is, so a
//! later step clears or replaces only what it owns (the edge check clears an edge
//! problem, never a settings one) without reading its own text back.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tinyhost_capabilities::bindings::{ComponentInfo, Position};

/// Ports the contract keeps out of published status.
pub const HIDDEN_PORTS: [&str; 3] = ["_reconcile", "_client", "_identity"];

/// The text of a status without a problem.
pub const OK: &str = "OK";

/// A port as published in status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortStatus {
    /// Port name.
    pub name: String,
    /// Label.
    pub label: String,
    /// 0 top, 1 right, 2 bottom, 3 left.
    pub position: u8,
    /// Whether it emits.
    pub source: bool,
    /// JSON schema.
    pub schema: Value,
    /// Default configuration.
    pub configuration: Value,
}

/// Component information as published in status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    /// One-line description.
    pub description: String,
    /// Help text.
    pub info: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// Why a node is not OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeProblem {
    /// Its component is not loaded.
    ComponentMissing(String),
    /// The component refused its settings.
    Settings(String),
    /// Its ports could not be read.
    Ports(String),
    /// Edges point at missing nodes or ports (every problem, joined).
    Edges(String),
    /// Resuming recorded work failed.
    Reconcile(String),
}

/// The kinds of [`NodeProblem`], for clearing one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// See [`NodeProblem::ComponentMissing`].
    ComponentMissing,
    /// See [`NodeProblem::Settings`].
    Settings,
    /// See [`NodeProblem::Ports`].
    Ports,
    /// See [`NodeProblem::Edges`].
    Edges,
    /// See [`NodeProblem::Reconcile`].
    Reconcile,
}

impl NodeProblem {
    /// Its kind.
    pub fn kind(&self) -> ProblemKind {
        match self {
            NodeProblem::ComponentMissing(_) => ProblemKind::ComponentMissing,
            NodeProblem::Settings(_) => ProblemKind::Settings,
            NodeProblem::Ports(_) => ProblemKind::Ports,
            NodeProblem::Edges(_) => ProblemKind::Edges,
            NodeProblem::Reconcile(_) => ProblemKind::Reconcile,
        }
    }

    /// The status line, as flow authors and the upstream dashboard read it.
    pub fn text(&self) -> String {
        match self {
            NodeProblem::ComponentMissing(component) => {
                format!("component `{component}` is not loaded")
            }
            NodeProblem::Settings(e) => format!("settings: {e}"),
            NodeProblem::Ports(e) => format!("ports: {e}"),
            NodeProblem::Edges(problems) => problems.clone(),
            NodeProblem::Reconcile(e) => format!("reconcile: {e}"),
        }
    }
}

/// What a node publishes (TinyNode status).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Owning module.
    pub module: String,
    /// Component name.
    pub component: String,
    /// What the component says about itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_info: Option<ComponentStatus>,
    /// Ports sorted by name, without the hidden system ports.
    pub ports: Vec<PortStatus>,
    /// "OK" or the problem's text.
    pub status: String,
    /// Whether `status` is a problem.
    pub error: bool,
    /// Durable key-value state.
    pub metadata: BTreeMap<String, String>,
    /// The latest `_control` output (dashboard state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<Value>,
    /// The kind of the problem on show.
    #[serde(skip)]
    problem: Option<ProblemKind>,
}

impl NodeStatus {
    /// A status with nothing wrong.
    pub fn ok(module: String, component: String, info: Option<ComponentStatus>) -> NodeStatus {
        NodeStatus {
            module,
            component,
            component_info: info,
            status: OK.into(),
            ..NodeStatus::default()
        }
    }

    /// Shows `problem`, replacing whatever was on show.
    pub fn report(&mut self, problem: NodeProblem) {
        self.status = problem.text();
        self.error = true;
        self.problem = Some(problem.kind());
    }

    /// Shows `problem` unless a problem of another kind is on show (edge problems only
    /// matter once the node itself is healthy).
    pub fn report_unless_other(&mut self, problem: NodeProblem) {
        if self.problem.is_none_or(|kind| kind == problem.kind()) {
            self.report(problem);
        }
    }

    /// Clears the problem on show if it is of `kind`.
    pub fn clear(&mut self, kind: ProblemKind) {
        if self.problem == Some(kind) {
            self.clear_all();
        }
    }

    /// Clears whatever problem is on show.
    pub fn clear_all(&mut self) {
        if self.error {
            self.status = OK.into();
            self.error = false;
        }
        self.problem = None;
    }

    /// The kind of the problem on show.
    pub fn problem(&self) -> Option<ProblemKind> {
        self.problem
    }
}

/// The editor's number for a port position.
pub fn position_number(p: Position) -> u8 {
    match p {
        Position::Top => 0,
        Position::Right => 1,
        Position::Bottom => 2,
        Position::Left => 3,
    }
}

/// Component info in status form.
pub fn component_status(info: &ComponentInfo) -> ComponentStatus {
    ComponentStatus {
        description: info.description.clone(),
        info: info.info.clone(),
        tags: info.tags.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_clears_only_the_problem_it_owns() {
        let mut status = NodeStatus::ok("m".into(), "c".into(), None);
        status.report(NodeProblem::Settings("bad".into()));
        status.report_unless_other(NodeProblem::Edges(
            "edge `e`: target node `x` not found".into(),
        ));
        assert_eq!(
            status.status, "settings: bad",
            "an edge problem does not hide a settings one"
        );
        status.clear(ProblemKind::Edges);
        assert!(status.error);
        status.clear(ProblemKind::Settings);
        assert_eq!((status.status.as_str(), status.error), (OK, false));
        status.report_unless_other(NodeProblem::Edges("edge `e`: gone".into()));
        assert_eq!(status.status, "edge `e`: gone");
        status.clear(ProblemKind::Edges);
        assert!(!status.error);
    }
}
