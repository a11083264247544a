//! Prometheus metrics, served as text on `/metrics`: enough to alert on a module that
//! stopped reconciling, lost its leader, drops signals or cannot reach another module.

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    source_module: String,
    target_module: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModulePair {
    source_module: String,
    target_module: String,
}

type CallDurationFamily = Family<ModulePair, Histogram, fn() -> Histogram>;

fn call_histogram() -> Histogram {
    // 50 µs .. ~3.3 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 17))
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
    calls: Family<CallLabels, Counter>,
    call_duration: CallDurationFamily,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric: the replica's under `tinyhost_`, cross-module calls under
    /// upstream's `tinysystems_` names so existing dashboards keep working.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let reconciliations = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "tinyhost_reconciliations",
            "Reconciliations by controller and result (ok, error)",
            reconciliations.clone(),
        );
        let reconcile_duration: DurationFamily =
            Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "tinyhost_reconcile_duration_seconds",
            "Time spent in one reconciliation",
            reconcile_duration.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "tinyhost_leader",
            "1 while this replica leads its module",
            leader.clone(),
        );
        let nodes = Gauge::default();
        registry.register(
            "tinyhost_nodes",
            "TinyNodes of this module applied to the runtime",
            nodes.clone(),
        );
        let signals = Family::<ResultLabels, Counter>::default();
        registry.register(
            "tinyhost_signals",
            "TinySignals taken by this replica, by outcome (delivered, failed, timeout, invalid, waiting, node-missing)",
            signals.clone(),
        );
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "tinysystems_cross_module_calls",
            "Calls to other modules over gRPC, by source, target and gRPC status",
            calls.clone(),
        );
        let call_duration: CallDurationFamily =
            Family::new_with_constructor(call_histogram as fn() -> Histogram);
        registry.register(
            "tinysystems_cross_module_call_duration_seconds",
            "Time of one call to another module, response included",
            call_duration.clone(),
        );
        Metrics {
            registry,
            calls,
            call_duration,
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

    /// Counts one call to another module; `status` is the gRPC code's name (`OK`, ...).
    pub fn cross_module_call(&self, source: &str, target: &str, status: &str, took: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                source_module: source.to_string(),
                target_module: target.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.call_duration
            .get_or_create(&ModulePair {
                source_module: source.to_string(),
                target_module: target.to_string(),
            })
            .observe(took.as_secs_f64());
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

impl tinyhost_grpc::client::CallMetrics for Metrics {
    fn cross_module_call(&self, source: &str, target: &str, status: &str, took: Duration) {
        Metrics::cross_module_call(self, source, target, status, took);
    }
}
