//! Running a compiler: a clean environment, a timeout that kills the whole process group, and
//! bounded capture of its output.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::error::CompileError;

/// Bytes kept of each of a compiler's stdout and stderr; the rest is read and dropped.
pub(crate) const OUTPUT_LIMIT: usize = 64 * 1024;

/// One program run.
#[derive(Debug)]
pub(crate) struct Invocation<'a> {
    pub program: &'a Path,
    pub args: Vec<OsString>,
    pub cwd: &'a Path,
    /// The complete environment of the child; nothing is inherited.
    pub env: Vec<(OsString, OsString)>,
    pub timeout: Duration,
}

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Stderr then stdout, trimmed, for error messages and diagnostics.
    pub fn combined_output(&self) -> String {
        let mut out = self.stderr.trim().to_owned();
        let stdout = self.stdout.trim();
        if !stdout.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(stdout);
        }
        out
    }
}

/// Why a run did not finish.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The program could not be started.
    Spawn(io::Error),
    /// It ran past its timeout and was killed.
    Timeout(Duration),
    /// Reading its output or waiting for it failed.
    Io(io::Error),
}

impl RunError {
    /// Maps to the public error; a program that cannot be started becomes `CompilerMissing`.
    pub fn into_compile_error(self, compiler: &str, hint: &str) -> CompileError {
        match self {
            RunError::Spawn(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
                ) =>
            {
                CompileError::CompilerMissing {
                    compiler: compiler.to_owned(),
                    hint: format!("{hint} (starting it failed: {err})"),
                }
            }
            RunError::Spawn(err) | RunError::Io(err) => CompileError::Io(err.to_string()),
            RunError::Timeout(timeout) => CompileError::Timeout {
                seconds: timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0),
            },
        }
    }
}

/// Runs the program to completion or until its timeout, whichever comes first.
///
/// The child gets its own process group, so that on timeout (or when this future is dropped)
/// every process it started is killed too.
pub(crate) async fn run(invocation: Invocation<'_>) -> Result<Finished, RunError> {
    let mut command = Command::new(invocation.program);
    command
        .args(&invocation.args)
        .current_dir(invocation.cwd)
        .env_clear()
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);

    tracing::debug!(program = %invocation.program.display(), args = ?invocation.args, "running compiler");
    let mut child = command.spawn().map_err(RunError::Spawn)?;
    let mut group = GroupKiller::new(child.id());
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        tokio::join!(
            read_bounded(stdout, OUTPUT_LIMIT),
            read_bounded(stderr, OUTPUT_LIMIT),
            child.wait()
        )
    };
    match tokio::time::timeout(invocation.timeout, work).await {
        Ok((stdout, stderr, status)) => {
            let status = status.map_err(RunError::Io)?;
            group.disarm();
            Ok(Finished {
                success: status.success(),
                status: status.to_string(),
                stdout: stdout.map_err(RunError::Io)?,
                stderr: stderr.map_err(RunError::Io)?,
            })
        }
        Err(_) => {
            group.kill();
            // Reap the direct child (it is already dead unless it escaped the group kill).
            let _ = child.kill().await;
            Err(RunError::Timeout(invocation.timeout))
        }
    }
}

/// Reads a stream to its end, keeping at most `limit` bytes (as lossy UTF-8).
async fn read_bounded<R: AsyncRead + Unpin>(reader: Option<R>, limit: usize) -> io::Result<String> {
    let Some(mut reader) = reader else {
        return Ok(String::new());
    };
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&buf[..room]);
        dropped += n - room;
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[... {dropped} more bytes of output dropped]"));
    }
    Ok(text)
}

/// Kills a child's process group when dropped, unless disarmed after a normal exit.
struct GroupKiller {
    pgid: Option<i32>,
}

impl GroupKiller {
    fn new(pid: Option<u32>) -> Self {
        GroupKiller {
            pgid: pid
                .and_then(|pid| i32::try_from(pid).ok())
                .filter(|&pid| pid > 0),
        }
    }

    fn disarm(&mut self) {
        self.pgid = None;
    }

    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            kill_group(pgid);
        }
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(unix)]
fn kill_group(pgid: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; `-pgid` addresses the process group
    // this module created for its own child (`process_group(0)` makes the child its leader).
    let _ = unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

#[cfg(not(unix))]
fn kill_group(_pgid: i32) {
    // Without process groups, `kill_on_drop` on the direct child is all there is.
}

/// Builds a child environment: `PATH` (with `path_front` first), `HOME`, `TMPDIR`, then `vars`.
pub(crate) fn clean_env(
    path_front: &[PathBuf],
    home: &Path,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in path_front
        .iter()
        .cloned()
        .chain(std::env::split_paths(&inherited))
    {
        if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    let path = std::env::join_paths(dirs).unwrap_or(inherited);
    let mut env = vec![
        (OsString::from("PATH"), path),
        (OsString::from("HOME"), home.as_os_str().to_owned()),
        (OsString::from("TMPDIR"), home.join("tmp").into_os_string()),
    ];
    env.extend(vars);
    env
}

/// Shorthand for one environment variable.
pub(crate) fn var(name: &str, value: impl AsRef<OsStr>) -> (OsString, OsString) {
    (OsString::from(name), value.as_ref().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Invocation<'static> {
        Invocation {
            program: Path::new("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            cwd: Path::new("/"),
            env: clean_env(&[], Path::new("/tmp"), []),
            timeout,
        }
    }

    #[tokio::test]
    async fn captures_output_and_status() {
        let out = run(sh(
            "echo out; echo err >&2; exit 3",
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
        assert!(!out.success);
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.combined_output(), "err\nout");
    }

    #[tokio::test]
    async fn bounds_output() {
        let out = run(sh(
            "head -c 200000 /dev/zero | tr '\\0' a",
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
        assert!(out.success);
        assert!(out.stdout.starts_with(&"a".repeat(OUTPUT_LIMIT)));
        assert!(
            out.stdout
                .ends_with("[... 134464 more bytes of output dropped]")
        );
    }

    #[tokio::test]
    async fn environment_is_clean() {
        let out = run(sh("env", Duration::from_secs(10))).await.unwrap();
        let mut names: Vec<&str> = out
            .stdout
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .filter(|k| *k != "PWD" && *k != "SHLVL" && *k != "_")
            .collect();
        names.sort();
        assert_eq!(names, ["HOME", "PATH", "TMPDIR"]);
    }

    #[tokio::test]
    async fn timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let started = std::time::Instant::now();
        let err = run(sh(&script, Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::Timeout(_)));
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!marker.exists(), "grandchild survived the timeout");
    }

    #[test]
    fn timeout_rounds_up_to_seconds() {
        let err = RunError::Timeout(Duration::from_millis(1)).into_compile_error("go", "h");
        assert_eq!(err, CompileError::Timeout { seconds: 1 });
        let err = RunError::Timeout(Duration::from_secs(120)).into_compile_error("go", "h");
        assert_eq!(err, CompileError::Timeout { seconds: 120 });
    }
}
