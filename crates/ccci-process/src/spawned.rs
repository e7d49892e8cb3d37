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

/// Starts `cmd` in a process group of its own, stdin closed, and lets it go: it is not
/// registered (neither [`crate::stop_all`] nor the caller's end stops it) and outlives the
/// caller, even one killed with SIGKILL; a thread reaps it when it exits before the caller.
/// For what must happen at a time whatever becomes of the caller (a kept deployment removed
/// when its time is up), and which keeps its own deadlines. Its pid.
///
/// # Errors
/// [`ProcessError::Command`] when it cannot start.
pub fn detach(mut cmd: Command, shown: &str) -> Result<u32, ProcessError> {
    cmd.stdin(Stdio::null()).process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| ProcessError::not_started(shown, e.to_string()))?;
    let pid = child.id();
    tracing::debug!(pid, "started `{shown}`, detached");
    std::thread::spawn(move || child.wait());
    Ok(pid)
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
        self,
        deadline: Deadline,
        grace: Duration,
    ) -> Result<ExitStatus, ProcessError> {
        self.wait_unless(deadline, grace, std::future::pending())
            .await
            .map(|(status, _)| status)
    }

    /// [`Spawned::wait`], and asked to stop the same way as soon as `stop` resolves (the
    /// caller no longer wants it: a newer head superseded the run). Returns how it exited,
    /// and whether `stop` asked it to.
    ///
    /// # Errors
    /// As [`Spawned::wait`]; one that `stop` asked and that outlived `grace` too is
    /// [`ProcessError::DeadlinePassed`].
    pub async fn wait_unless(
        mut self,
        deadline: Deadline,
        grace: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(ExitStatus, bool), ProcessError> {
        let pgid = self.child.id();
        let mut stop = std::pin::pin!(stop);
        let mut asked: Option<(tokio::time::Instant, bool)> = None;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return match asked {
                        None => Ok((status, false)),
                        Some((_, true)) => Ok((status, true)),
                        Some((_, false)) => {
                            Err(ProcessError::deadline(&self.shown, deadline, true))
                        }
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
                    asked = Some((tokio::time::Instant::now(), false));
                }
                Some((at, _)) if at.elapsed() >= grace => {
                    kill_group(pgid);
                    let _ = self.child.wait();
                    return Err(ProcessError::deadline(&self.shown, deadline, true));
                }
                _ => {}
            }
            let pause = tokio::time::sleep(CHECK_AT_MOST_EVERY);
            if asked.is_none() {
                tokio::select! {
                    () = &mut stop => {
                        tracing::debug!("`{}` asked to stop: its caller no longer wants it", self.shown);
                        signal_group(pgid, libc::SIGTERM);
                        asked = Some((tokio::time::Instant::now(), true));
                    }
                    () = pause => {}
                }
            } else {
                pause.await;
            }
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
