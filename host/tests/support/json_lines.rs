//! A running `tinyhost` whose stdout is JSON lines (`--output json`), read on a thread so
//! a test can wait for the line it expects with a deadline instead of blocking forever.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The process and the lines it printed so far; killed when dropped.
pub struct JsonLines {
    child: Child,
    lines: mpsc::Receiver<Value>,
    /// When the process was started.
    pub started: Instant,
}

impl JsonLines {
    /// Starts `command` with stdout piped (lines that are not JSON are skipped) and stderr
    /// discarded.
    pub fn start(command: &mut Command) -> JsonLines {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyhost starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && tx.send(value).is_err()
                {
                    break;
                }
            }
        });
        JsonLines {
            child,
            lines,
            started: Instant::now(),
        }
    }

    /// Waits up to `within` for a line matching `pred`; `None` when none came.
    pub fn wait_for(&self, within: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) if pred(&v) => return Some(v),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first line matching `pred` within 20 s; fails the test naming `what` otherwise.
    pub fn expect(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(Duration::from_secs(20), pred)
            .unwrap_or_else(|| panic!("no line with {what}"))
    }
}

impl Drop for JsonLines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
