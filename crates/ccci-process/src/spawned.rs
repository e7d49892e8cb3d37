//! A long command an async caller starts, records and waits for: a run the service started.

use crate::group::{kill_group, signal_group, Running};
use crate::run::CHECK_AT_MOST_EVERY;
use crate::{Deadline, ProcessError};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// A command started by [`spawn`], in a process group of its own (its pid is the group's),
/// registered until it has been waited for.
pub struct Spawned {
    child: std::process::Child,
    shown: String,
    _entry: Running,
}

/// Starts `cmd` in a process group of its own, stdin closed, its stdout and stderr as `cmd`
/// sets them (a log file); the caller learns its pid before it waits ([`Spawned::pid`]).
///
/// # Errors
/// [`ProcessError::Command`] when it cannot start.
pub fn spawn(mut cmd: Command, shown: String) -> Result<Spawned, ProcessError> {
    cmd.stdin(Stdio::null()).process_group(0);
    let child = cmd
        .spawn()
        .map_err(|e| ProcessError::not_started(&shown, e.to_string()))?;
    let entry = Running::register(child.id());
    tracing::debug!(pid = child.id(), "started `{shown}`");
    Ok(Spawned {
        child,
        shown,
        _entry: entry,
    })
}

impl Spawned {
    /// Its pid, which is also its process group's.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until it exits or `deadline` passes. At the deadline its group is asked to stop
    /// (SIGTERM: a ccci run ends its step, tears down and writes its results) and killed if
    /// anything of it is left `grace` later.
    ///
    /// # Errors
    /// [`ProcessError::DeadlinePassed`] when it was stopped at the deadline;
    /// [`ProcessError::Command`] when waiting for it failed.
    pub async fn wait(
        mut self,
        deadline: Deadline,
        grace: Duration,
    ) -> Result<ExitStatus, ProcessError> {
        let pgid = self.child.id();
        let mut asked: Option<tokio::time::Instant> = None;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return match asked {
                        None => Ok(status),
                        Some(_) => Err(ProcessError::deadline(&self.shown, deadline, true)),
                    };
                }
                Ok(None) => {}
                Err(e) => {
                    kill_group(pgid);
                    let _ = self.child.wait();
                    return Err(ProcessError::lost(&self.shown, e));
                }
            }
            match asked {
                None if deadline.passed() => {
                    tracing::debug!("`{}` asked to stop at its deadline", self.shown);
                    signal_group(pgid, libc::SIGTERM);
                    asked = Some(tokio::time::Instant::now());
                }
                Some(at) if at.elapsed() >= grace => {
                    kill_group(pgid);
                    let _ = self.child.wait();
                    return Err(ProcessError::deadline(&self.shown, deadline, true));
                }
                _ => {}
            }
            tokio::time::sleep(CHECK_AT_MOST_EVERY).await;
        }
    }
}

/// Sends `cmd`'s stdout and stderr, interleaved as written, to the file `log` (made anew): a
/// long command's log, read while it runs and kept after.
///
/// # Errors
/// The file's, when it cannot be made.
pub fn log_to(cmd: &mut Command, log: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::File::create(log)?;
    cmd.stdout(file.try_clone()?).stderr(file);
    Ok(())
}
