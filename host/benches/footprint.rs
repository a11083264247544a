//! What the `tinyhost` binary costs as a process, measured from outside:
//! - resident memory with 1, 1,000 and 10,000 idle nodes (built-in `transform` nodes without
//!   edges), read from `/proc/<pid>/status` once the nodes are applied and memory has
//!   settled, and the bytes each extra node adds; also how long the process takes to apply
//!   them (start → `applied` line);
//! - start-up to ready for the hello flow (`examples/hello`): process start → the `applied`
//!   line, with the built-ins precompiled on disk (warm cache, median of several runs) and
//!   with an empty cache directory each run (cold: the built-ins are compiled).
//!
//! `cargo bench -p tinyhost --bench footprint` measures; `cargo test --benches` or
//! `-- --test` is a smoke run (1 and 50 nodes, one start-up each) that only checks the paths
//! work. Linux only (reads `/proc`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_tinyhost");

/// A running `tinyhost run`, killed when dropped (on every path, panics included).
struct Running {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<(Instant, String)>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `tinyhost run PATH --no-watch` with its own cache and state directories.
    fn start(flow: &Path, cache_dir: &Path, state_dir: &Path) -> Running {
        let started = Instant::now();
        let mut child = Command::new(BINARY)
            .arg("run")
            .arg(flow)
            .arg("--no-watch")
            .arg("--cache-dir")
            .arg(cache_dir)
            .arg("--state-dir")
            .arg(state_dir)
            .env_remove("TINYHOST_CACHE_DIR")
            .env_remove("TINYHOST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tinyhost");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        // Both pipes are drained all along, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let stderr = Some(std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        }));
        Running {
            child,
            started,
            lines,
            stderr,
        }
    }

    /// Time from process start to the `applied: N added` line.
    fn wait_applied(&mut self, nodes: usize, timeout: Duration) -> Duration {
        let expected = format!("applied: {nodes} added");
        let give_up = Instant::now() + timeout;
        loop {
            let left = give_up.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(&expected) => return at - self.started,
                Ok((_, line)) if line.contains("applied:") => {
                    self.fail(&format!("expected `{expected}`, got `{line}`"))
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.fail(&format!("no `{expected}` within {timeout:?}"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("exited before `{expected}`"))
                }
            }
        }
    }

    fn fail(&mut self, message: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        panic!("tinyhost run: {message}\nstderr:\n{stderr}");
    }

    /// `(VmRSS, VmHWM)` in bytes.
    fn memory(&mut self) -> (u64, u64) {
        let path = format!("/proc/{}/status", self.child.id());
        let status = match std::fs::read_to_string(&path) {
            Ok(status) => status,
            Err(e) => self.fail(&format!("cannot read {path}: {e}")),
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb * 1024)
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Resident memory once it stops changing: sampled every 100 ms (the status lines
    /// printed meanwhile are drained) until two samples a second apart differ by less than
    /// 1 %, for at most `limit`.
    fn settled_memory(&mut self, limit: Duration) -> (u64, u64) {
        let give_up = Instant::now() + limit;
        let mut history: Vec<u64> = Vec::new();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            while self.lines.try_recv().is_ok() {}
            let (rss, hwm) = self.memory();
            history.push(rss);
            let stable = history.len() > 10 && {
                let before = history[history.len() - 11] as f64;
                (rss as f64 - before).abs() / before.max(1.0) < 0.01
            };
            if stable || Instant::now() >= give_up {
                return (rss, hwm);
            }
        }
    }
}

/// A folder with one manifest of `count` idle `transform` nodes (no edges, no mappings).
fn idle_nodes(dir: &Path, count: usize) -> PathBuf {
    let folder = dir.join(format!("idle-{count}"));
    std::fs::create_dir_all(&folder).expect("folder");
    let mut text = String::new();
    for i in 1..=count {
        if i > 1 {
            text.push_str("---\n");
        }
        text.push_str(&format!(
            "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinyNode\nmetadata:\n  \
             name: {i:08x}.bench.transform-idle{i}\nspec:\n  module: bench\n  component: transform\n"
        ));
    }
    std::fs::write(folder.join("nodes.yaml"), text).expect("manifest");
    folder
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`, `-- --test`) is a
    // smoke run that only checks the paths work.
    let smoke =
        !std::env::args().any(|a| a == "--bench") || std::env::args().any(|a| a == "--test");
    let (sizes, warm_runs, cold_runs): (&[usize], usize, usize) = if smoke {
        (&[1, 50], 1, 1)
    } else {
        (&[1, 1_000, 10_000], 7, 3)
    };
    let apply_timeout = Duration::from_secs(600);
    let temp = tempfile::tempdir().expect("temp dir");
    let state = |name: &str| temp.path().join("state").join(name);
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello");
    let hello_nodes = std::fs::read_to_string(hello.join("flow.yaml"))
        .expect("hello flow")
        .matches("kind: TinyNode")
        .count();

    println!("tinyhost process footprint (`tinyhost run`)");
    if smoke {
        println!("(smoke run: small sizes, one run each; numbers mean little)");
    }

    // Start-up to ready, warm: the first run fills the cache directory.
    let warm_cache = temp.path().join("cache-warm");
    let prime = Running::start(&hello, &warm_cache, &state("prime")).wait_applied_once(hello_nodes);
    let warm: Vec<Duration> = (0..warm_runs)
        .map(|i| {
            Running::start(&hello, &warm_cache, &state(&format!("warm-{i}")))
                .wait_applied_once(hello_nodes)
        })
        .collect();
    // Cold: a fresh, empty cache directory each run.
    let cold: Vec<Duration> = (0..cold_runs)
        .map(|i| {
            let cache = temp.path().join(format!("cache-cold-{i}"));
            Running::start(&hello, &cache, &state(&format!("cold-{i}")))
                .wait_applied_once(hello_nodes)
        })
        .collect();
    println!();
    println!("start-up to ready, hello flow ({hello_nodes} nodes): process start → `applied`");
    println!(
        "  warm cache (built-ins precompiled on disk): median {:>9.1?} of {warm_runs} (all: {warm:.1?}; priming run {prime:.1?})",
        median(warm.clone())
    );
    println!(
        "  cold cache (empty cache directory):         median {:>9.1?} of {cold_runs} (all: {cold:.1?})",
        median(cold.clone())
    );

    // Resident memory per idle node (warm cache: nothing is compiled).
    let mut rows = Vec::new();
    for &count in sizes {
        let folder = idle_nodes(temp.path(), count);
        let mut running = Running::start(&folder, &warm_cache, &state(&format!("idle-{count}")));
        let ready = running.wait_applied(count, apply_timeout);
        let (rss, hwm) = running.settled_memory(Duration::from_secs(if smoke { 2 } else { 15 }));
        drop(running);
        rows.push((count, ready, rss, hwm));
    }
    println!();
    println!("idle transform nodes (no edges), warm cache; memory once settled after `applied`");
    println!(
        "  {:>7}  {:>15}  {:>11}  {:>11}",
        "nodes", "start → applied", "VmRSS", "VmHWM (peak)"
    );
    for (count, ready, rss, hwm) in &rows {
        println!(
            "  {count:>7}  {:>15}  {:>11}  {:>11}",
            format!("{ready:.1?}"),
            mib(*rss),
            mib(*hwm)
        );
    }
    let (one, one_ready, one_rss, one_hwm) = rows[0];
    for &(count, ready, rss, hwm) in &rows[1..] {
        let extra = (count - one) as f64;
        println!(
            "  per node, ({count} − {one}) / {}: {:>8.0} bytes resident, {:>8.0} bytes peak, {:>7.1?} to apply",
            count - one,
            (rss as f64 - one_rss as f64) / extra,
            (hwm as f64 - one_hwm as f64) / extra,
            ready.saturating_sub(one_ready).div_f64(extra),
        );
    }
    if let Some(&(count, ready, _, _)) = rows.last() {
        println!(
            "  a fresh process is ready with {count} nodes after {ready:.1?} ({:.1?} more than with {one})",
            ready.saturating_sub(one_ready)
        );
    }
}

impl Running {
    /// Waits for `applied` and stops the process.
    fn wait_applied_once(mut self, nodes: usize) -> Duration {
        self.wait_applied(nodes, Duration::from_secs(600))
    }
}
