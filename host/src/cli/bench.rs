//! `tinyhost bench`: a flow from a folder, driven with N messages by C concurrent callers;
//! prints throughput, latency percentiles and peak memory, as a table or as JSON, so a
//! flow's cost can be measured the same way on any machine (and compared with other
//! engines running the same flow).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::EngineArgs;
use crate::runtime::RuntimeConfig;

#[derive(clap::Args, Debug)]
pub(super) struct BenchArgs {
    /// Folder or file of manifests.
    path: PathBuf,
    /// Where each message enters, `node:port`.
    to: String,
    /// The message as JSON.
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
    /// Extra component files or folders of `.wasm` components.
    #[arg(long = "components")]
    components: Vec<PathBuf>,
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
        })
    }

    fn table(&self) -> String {
        let rss = self
            .peak_rss_bytes
            .map(|b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)))
            .unwrap_or_else(|| "unknown".into());
        format!(
            "messages      {}\nconcurrency   {}\nthroughput    {:.0} msgs/s\nlatency p50   {:.1?}\nlatency p90   {:.1?}\nlatency p99   {:.1?}\nlatency max   {:.1?}\nerrors        {}\npeak RSS      {rss}\n",
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
    let data: Value = serde_json::from_str(&args.data).context("--data is not JSON")?;
    let (messages, warmup) = if args.quick {
        (args.messages.min(200), args.warmup.min(20))
    } else {
        (args.messages, args.warmup)
    };
    if messages == 0 || args.concurrency == 0 {
        bail!("--messages and --concurrency must be at least 1");
    }
    let runtime = super::start_runtime(RuntimeConfig {
        engine: args.engine.config(),
        component_paths: args.components.clone(),
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
    // One message first: a flow that cannot take it is an error, not a benchmark.
    runtime
        .send(&args.to, &data)
        .await
        .map_err(|e| anyhow!("the flow rejects the message: {e}"))?;
    for _ in 0..warmup {
        let _ = runtime.send(&args.to, &data).await;
    }

    let data = Arc::new(data);
    let to: Arc<str> = Arc::from(args.to.as_str());
    let started = Instant::now();
    let callers: Vec<_> = (0..args.concurrency)
        .map(|caller| {
            // Spread the messages over the callers; the first ones take the remainder.
            let share =
                messages / args.concurrency + u64::from(caller < messages % args.concurrency);
            let (runtime, data, to) = (runtime.clone(), data.clone(), to.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(share as usize);
                let mut errors = 0u64;
                let mut first_error = None;
                for _ in 0..share {
                    let sent = Instant::now();
                    let result = runtime.send(&to, &data).await;
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
        latencies: Vec::with_capacity(messages as usize),
        errors: 0,
        first_error: None,
        peak_rss_bytes: None,
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
        };
        assert_eq!(measured.percentile(0.5), Duration::from_micros(51));
        assert_eq!(measured.percentile(0.99), Duration::from_micros(99));
        assert_eq!(measured.percentile(1.0), Duration::from_micros(100));
        assert!((measured.throughput() - 100.0).abs() < 1e-9);
        let json = measured.json();
        assert_eq!(json["latency_us"]["p50"], 51.0);
        assert!(measured.table().contains("1.0 MiB"));
    }
}
