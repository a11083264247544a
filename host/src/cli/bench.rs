//! `tinyhost bench`: a flow from a folder, driven with N messages by C concurrent callers;
//! prints throughput, latency percentiles and peak memory, as a table or as JSON, so a
//! flow's cost can be measured the same way on any machine (and compared with other
//! engines running the same flow).
//!
//! `--data` is a template: each message is rendered from it against `{"i": <index>}`
//! (`{{$.i}}`), before the clock starts. After the run, every node's received count for
//! the measured phase is reported, which is how a flow's sinks count.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};
use tinyhost_expr::Mapping;

use super::shared::EngineArgs;
use crate::runtime::{Runtime, RuntimeConfig};

#[derive(clap::Args, Debug)]
pub(super) struct BenchArgs {
    /// Folder or file of manifests.
    path: PathBuf,
    /// Where each message enters, `node:port`.
    to: String,
    /// The message as JSON; a template rendered per message against `{"i": <index>}`
    /// (0-based; `"{{$.i}}"` alone is the number, warm-up messages count on their own).
    #[arg(
        long,
        short = 'd',
        default_value = r#"{"context": {"name": "World", "count": 1}}"#
    )]
    data: String,
    /// Messages to measure.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    messages: u64,
    /// Callers sending at the same time (each waits for its answer before the next).
    #[arg(long, short = 'c', default_value_t = 1)]
    concurrency: u64,
    /// Messages sent first and not measured (compiles, caches, instance pools).
    #[arg(long, default_value_t = 1_000)]
    warmup: u64,
    /// A few messages only: checks that the flow runs (CI smoke), numbers mean little.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Extra components: `.wasm` files, folders of them, or `oci://REGISTRY/REPO:TAG`
    /// (or `@sha256:…`) references.
    #[arg(long = "components")]
    components: Vec<String>,
    #[command(flatten)]
    registry: super::sources::RegistryArgs,
    #[command(flatten)]
    http: super::http::HttpArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// What one run measured.
#[derive(Debug)]
struct Measured {
    messages: u64,
    concurrency: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    peak_rss_bytes: Option<u64>,
    /// Messages each node received during the measured phase.
    received: BTreeMap<String, u64>,
}

/// `--data` compiled once: a literal message, or a template rendered for each index.
#[derive(Debug)]
enum DataTemplate {
    /// No `{{ }}` in the text: every message is this value.
    Literal(Value),
    /// Rendered against `{"i": index}` for each message.
    Template(Mapping),
}

impl DataTemplate {
    /// Parses `--data`; a template whose expressions do not parse is an error here.
    fn parse(text: &str) -> anyhow::Result<DataTemplate> {
        let value: Value = serde_json::from_str(text).context("--data is not JSON")?;
        if !text.contains("{{") {
            return Ok(DataTemplate::Literal(value));
        }
        let mapping = Mapping::compile(&value);
        if let Some(e) = mapping.parse_errors().first() {
            bail!("--data has a template error: {e}");
        }
        Ok(DataTemplate::Template(mapping))
    }

    /// The message with index `i`.
    fn render(&self, i: u64) -> anyhow::Result<Value> {
        match self {
            DataTemplate::Literal(value) => Ok(value.clone()),
            DataTemplate::Template(mapping) => {
                let rendered = mapping.render(&json!({ "i": i }));
                match rendered.errors.first() {
                    Some(e) => bail!("--data has a template error for message {i}: {e}"),
                    None => Ok(rendered.value),
                }
            }
        }
    }

    /// Messages `0..count`, rendered up front so rendering is not measured.
    fn render_all(&self, count: u64) -> anyhow::Result<Messages> {
        match self {
            DataTemplate::Literal(value) => Ok(Messages::Same(value.to_string())),
            DataTemplate::Template(_) => (0..count)
                .map(|i| self.render(i).map(|v| v.to_string()))
                .collect::<anyhow::Result<Vec<_>>>()
                .map(Messages::Each),
        }
    }
}

/// The measured messages, ready to send, as JSON text: the form a message enters the
/// runtime in, and a tenth of the memory of parsed values (which inflated peak RSS).
#[derive(Debug)]
enum Messages {
    /// The same message every time.
    Same(String),
    /// One message per index.
    Each(Vec<String>),
}

impl Messages {
    /// The message with index `i` (`None` past the end of a rendered list).
    fn get(&self, i: u64) -> Option<&String> {
        match self {
            Messages::Same(value) => Some(value),
            Messages::Each(values) => usize::try_from(i).ok().and_then(|i| values.get(i)),
        }
    }
}

/// The message indexes caller `caller` of `callers` sends: every `callers`-th from its own
/// number, so the callers together send each index of `0..messages` exactly once.
fn caller_indexes(caller: u64, callers: u64, messages: u64) -> impl Iterator<Item = u64> {
    (caller..messages).step_by(usize::try_from(callers.max(1)).unwrap_or(usize::MAX))
}

/// Received counts of every running node.
fn received_counts(runtime: &Runtime) -> BTreeMap<String, u64> {
    runtime
        .node_names()
        .into_iter()
        .filter_map(|node| runtime.received(&node).map(|count| (node, count)))
        .collect()
}

/// What each node received between two snapshots (a node missing before counts from 0).
fn received_between(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(node, count)| {
            let base = before.get(node).copied().unwrap_or(0);
            (node.clone(), count.saturating_sub(base))
        })
        .collect()
}

impl Measured {
    fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }

    fn throughput(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn json(&self) -> Value {
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        json!({
            "messages": self.messages,
            "concurrency": self.concurrency,
            "seconds": self.elapsed.as_secs_f64(),
            "messages_per_second": self.throughput(),
            "latency_us": {
                "p50": micros(self.percentile(0.50)),
                "p90": micros(self.percentile(0.90)),
                "p99": micros(self.percentile(0.99)),
                "max": micros(self.percentile(1.0)),
            },
            "errors": self.errors,
            "first_error": self.first_error,
            "peak_rss_bytes": self.peak_rss_bytes,
            "received": self.received,
        })
    }

    fn table(&self) -> String {
        let rss = self
            .peak_rss_bytes
            .map(|b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)))
            .unwrap_or_else(|| "unknown".into());
        let width = self.received.keys().map(String::len).max().unwrap_or(0);
        let received: String = self
            .received
            .iter()
            .map(|(node, count)| format!("  {node:<width$}  {count}\n"))
            .collect();
        format!(
            "messages      {}\nconcurrency   {}\nthroughput    {:.0} msgs/s\nlatency p50   {:.1?}\nlatency p90   {:.1?}\nlatency p99   {:.1?}\nlatency max   {:.1?}\nerrors        {}\npeak RSS      {rss}\nreceived\n{received}",
            self.messages,
            self.concurrency,
            self.throughput(),
            self.percentile(0.50),
            self.percentile(0.90),
            self.percentile(0.99),
            self.percentile(1.0),
            self.errors,
        )
    }
}

/// The process's peak resident set size (Linux `VmHWM`), if the platform tells.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub(super) async fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let template = DataTemplate::parse(&args.data)?;
    let (messages, warmup) = if args.quick {
        (args.messages.min(200), args.warmup.min(20))
    } else {
        (args.messages, args.warmup)
    };
    if messages == 0 || args.concurrency == 0 {
        bail!("--messages and --concurrency must be at least 1");
    }
    // Every measured message is ready before the runtime starts: template errors show
    // early, and rendering is not part of the measured time.
    let measured_messages = Arc::new(template.render_all(messages)?);
    let (engine, components) =
        super::sources::engine_and_components(&args.engine, &args.components, &args.registry)
            .await?;
    let runtime = super::shared::start_runtime(RuntimeConfig {
        engine,
        components,
        http: args.http.listeners("127.0.0.1"),
        outbound: args.http.outbound()?,
        ..RuntimeConfig::default()
    })
    .await?;
    let (nodes, _signals, errors) = crate::source::read_manifests(&args.path);
    if let Some(e) = errors.first() {
        bail!("{e}");
    }
    let report = runtime.apply(nodes).await;
    for (node, error) in &report.errors {
        eprintln!("warning: node {node}: {error}");
    }
    // One message first: a flow that cannot take it is an error, not a benchmark. The
    // warm-up goes through the same text path as the measured messages.
    runtime
        .send_text(&args.to, template.render(0)?.to_string())
        .await
        .map_err(|e| anyhow!("the flow rejects the message: {e}"))?;
    for i in 0..warmup {
        let _ = runtime
            .send_text(&args.to, template.render(i)?.to_string())
            .await;
    }

    let to: Arc<str> = Arc::from(args.to.as_str());
    let received_before = received_counts(&runtime);
    let started = Instant::now();
    let callers: Vec<_> = (0..args.concurrency)
        .map(|caller| {
            let (runtime, messages_to_send, to) =
                (runtime.clone(), measured_messages.clone(), to.clone());
            let concurrency = args.concurrency;
            tokio::spawn(async move {
                let indexes = caller_indexes(caller, concurrency, messages);
                let mut latencies = Vec::with_capacity(indexes.size_hint().0);
                let mut errors = 0u64;
                let mut first_error = None;
                for i in indexes {
                    let Some(data) = messages_to_send.get(i) else {
                        break;
                    };
                    let data = data.clone();
                    let sent = Instant::now();
                    let result = runtime.send_text(&to, data).await;
                    latencies.push(sent.elapsed());
                    if let Err(e) = result {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
                (latencies, errors, first_error)
            })
        })
        .collect();
    let mut measured = Measured {
        messages,
        concurrency: args.concurrency,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(usize::try_from(messages).unwrap_or(0)),
        errors: 0,
        first_error: None,
        peak_rss_bytes: None,
        received: BTreeMap::new(),
    };
    for caller in callers {
        let (latencies, errors, first_error) = caller.await.context("a caller stopped")?;
        measured.latencies.extend(latencies);
        measured.errors += errors;
        if measured.first_error.is_none() {
            measured.first_error = first_error;
        }
    }
    measured.elapsed = started.elapsed();
    measured.received = received_between(&received_before, &received_counts(&runtime));
    measured.latencies.sort();
    measured.peak_rss_bytes = peak_rss_bytes();
    runtime.shutdown().await;
    if args.json {
        println!("{}", measured.json());
    } else {
        print!("{}", measured.table());
    }
    Ok(if measured.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: Option<&String>) -> Option<Value> {
        text.map(|t| serde_json::from_str(t).expect("rendered messages are JSON"))
    }

    #[test]
    fn percentiles_come_from_the_sorted_samples() {
        let measured = Measured {
            messages: 100,
            concurrency: 1,
            elapsed: Duration::from_secs(1),
            latencies: (1..=100).map(Duration::from_micros).collect(),
            errors: 0,
            first_error: None,
            peak_rss_bytes: Some(1 << 20),
            received: BTreeMap::from([("00000002.x.transform-b".to_string(), 100)]),
        };
        assert_eq!(measured.percentile(0.5), Duration::from_micros(51));
        assert_eq!(measured.percentile(0.99), Duration::from_micros(99));
        assert_eq!(measured.percentile(1.0), Duration::from_micros(100));
        assert!((measured.throughput() - 100.0).abs() < 1e-9);
        let json = measured.json();
        assert_eq!(json["latency_us"]["p50"], 51.0);
        assert!(measured.table().contains("1.0 MiB"));
        assert_eq!(json["received"]["00000002.x.transform-b"], 100);
        assert!(
            measured
                .table()
                .ends_with("received\n  00000002.x.transform-b  100\n")
        );
    }

    #[test]
    fn data_without_braces_is_one_literal_message() {
        let template = DataTemplate::parse(r#"{"context": {"count": 1}}"#).unwrap();
        let messages = template.render_all(3).unwrap();
        assert!(matches!(messages, Messages::Same(_)));
        assert_eq!(
            parsed(messages.get(2)),
            Some(json!({"context": {"count": 1}}))
        );
        assert_eq!(
            template.render(7).unwrap(),
            json!({"context": {"count": 1}})
        );
    }

    #[test]
    fn data_templates_see_the_message_index() {
        let template = DataTemplate::parse(
            r#"{"context": {"name": "n{{$.i}}", "count": "{{$.i}}", "even": "{{$.i % 2 == 0}}"}}"#,
        )
        .unwrap();
        let messages = template.render_all(3).unwrap();
        assert_eq!(
            parsed(messages.get(0)),
            Some(json!({"context": {"name": "n0", "count": 0, "even": true}}))
        );
        assert_eq!(
            parsed(messages.get(2)),
            Some(json!({"context": {"name": "n2", "count": 2, "even": true}}))
        );
        assert_eq!(messages.get(3), None);
        assert_eq!(template.render(5).unwrap()["context"]["count"], 5);
    }

    #[test]
    fn template_errors_are_errors() {
        let parse = DataTemplate::parse(r#"{"count": "{{$.i +}}"}"#).unwrap_err();
        assert!(parse.to_string().contains("template error"), "{parse}");
        assert!(parse.to_string().contains("$.i +"), "{parse}");
        // Parses, but fails when evaluated (modulo by zero) for one index only.
        let template = DataTemplate::parse(r#"{"x": "{{10 % ($.i - 2)}}"}"#).unwrap();
        assert_eq!(template.render(1).unwrap(), json!({"x": 0}));
        let eval = template.render_all(5).unwrap_err();
        assert!(eval.to_string().contains("message 2"), "{eval}");
        assert!(DataTemplate::parse("{not json").is_err());
    }

    #[test]
    fn callers_share_every_index_once() {
        let mut seen: Vec<u64> = (0..3).flat_map(|c| caller_indexes(c, 3, 10)).collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(caller_indexes(0, 3, 10).count(), 4);
        assert_eq!(caller_indexes(2, 3, 10).count(), 3);
        assert_eq!(caller_indexes(4, 5, 2).count(), 0);
    }

    #[test]
    fn received_counts_are_the_difference() {
        let before = BTreeMap::from([("a".to_string(), 10), ("b".to_string(), 3)]);
        let after = BTreeMap::from([
            ("a".to_string(), 60),
            ("b".to_string(), 3),
            ("c".to_string(), 5),
        ]);
        assert_eq!(
            received_between(&before, &after),
            BTreeMap::from([
                ("a".to_string(), 50),
                ("b".to_string(), 0),
                ("c".to_string(), 5),
            ])
        );
    }
}
