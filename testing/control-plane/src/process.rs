//! A server process of the control plane: its output goes to a log file (shown when it
//! fails), and it is killed when the handle is dropped. Processes started for a test are
//! also tied to the test's thread, so a test that panics or is killed leaves none behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::ControlPlaneError;

/// Lines of a log shown in an error.
const LOG_TAIL_LINES: usize = 40;

/// A running server.
#[derive(Debug)]
pub struct Server {
    name: String,
    child: std::process::Child,
    log: PathBuf,
}

impl Server {
    /// Starts `program` with `args`, its output in `log`. With `tied`, the kernel kills it
    /// when the thread that started it ends.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        log: &Path,
        tied: bool,
    ) -> Result<Server, ControlPlaneError> {
        let out = File::create(log)
            .map_err(ControlPlaneError::io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(ControlPlaneError::io(format!("opening {}", log.display())))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if tied {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe and touches only the child being made.
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        } else {
            use std::os::unix::process::CommandExt;
            // A server meant to outlive the command that started it gets its own session.
            command.process_group(0);
        }
        let child = command.spawn().map_err(ControlPlaneError::io(format!(
            "starting {}",
            program.display()
        )))?;
        Ok(Server {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The error saying it did not start, with the end of its log.
    pub fn failed(&self, reason: impl Into<String>) -> ControlPlaneError {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        ControlPlaneError::Start {
            what: self.name.clone(),
            reason: reason.into(),
            log_path: self.log.clone(),
            log: tail,
        }
    }

    /// Kills it at once (`kill -9`), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Leaves it running after this handle is gone; its process id.
    pub fn detach(self) -> u32 {
        let pid = self.child.id();
        std::mem::forget(self);
        pid
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
