//! Prometheus metrics of an operator replica, served as text on `/metrics`: enough to
//! alert on a module that stopped reconciling, lost its leader or drops signals.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    controller: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

type DurationFamily = Family<ControllerLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 1 ms .. ~33 s
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The replica's metrics and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciliations: Family<ReconcileLabels, Counter>,
    reconcile_duration: DurationFamily,
    leader: Gauge,
    nodes: Gauge,
    signals: Family<ResultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric under the `tinyhost_` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tinyhost");
        let reconciliations = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciliations",
            "Reconciliations by controller and result (ok, error)",
            reconciliations.clone(),
        );
        let reconcile_duration: DurationFamily =
            Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconciliation",
            reconcile_duration.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica leads its module",
            leader.clone(),
        );
        let nodes = Gauge::default();
        registry.register(
            "nodes",
            "TinyNodes of this module applied to the runtime",
            nodes.clone(),
        );
        let signals = Family::<ResultLabels, Counter>::default();
        registry.register(
            "signals",
            "TinySignals taken by this replica, by outcome (delivered, failed, timeout, invalid)",
            signals.clone(),
        );
        Metrics {
            registry,
            reconciliations,
            reconcile_duration,
            leader,
            nodes,
            signals,
        }
    }

    /// Counts one reconciliation.
    pub fn reconciled(&self, controller: &str, ok: bool, took: Duration) {
        self.reconciliations
            .get_or_create(&ReconcileLabels {
                controller: controller.to_string(),
                result: if ok { "ok" } else { "error" }.to_string(),
            })
            .inc();
        self.reconcile_duration
            .get_or_create(&ControllerLabels {
                controller: controller.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// Records leadership.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Records how many nodes run.
    pub fn set_nodes(&self, count: usize) {
        self.nodes.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Counts one signal outcome.
    pub fn signal(&self, result: &str) {
        self.signals
            .get_or_create(&ResultLabels {
                result: result.to_string(),
            })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        text
    }
}
