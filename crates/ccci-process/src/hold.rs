//! A command left running while its caller talks to it.

use crate::group::{kill_group, Running};
use crate::ProcessError;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

/// A command left running while its caller talks to it (a browser a test drives, an ssh
/// tunnel): in a process group of its own, reached by [`crate::stop_all`], and killed with
/// everything it started when dropped. Its caller bounds each exchange with it by a deadline
/// of its own.
pub struct Held {
    child: std::process::Child,
    shown: String,
    _entry: Running,
}

impl Held {
    /// The command line, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// How it exited, or `None` while it runs.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// What it wrote on stderr, read to the end: for a command that has exited, when its
    /// stderr was piped.
    pub fn stderr(&mut self) -> String {
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        err
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// A pipe, both ends closed on exec (hand one to a command with [`hold`]): `(read, write)`.
///
/// # Errors
/// The system's, when it has no descriptors left.
pub fn pipe() -> std::io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::FromRawFd as _;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2(2) writes two descriptors into the array it is given, or fails.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just made by pipe2 and nothing else owns them.
    Ok(unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    })
}

/// Starts `cmd` and leaves it running (see [`Held`]), stdin closed; its stdout and stderr
/// are as `cmd` sets them. Each `(fd, at)` of `hand` becomes the command's descriptor `at`
/// (below 64; Chromium's DevTools pipe is 3 and 4), and is closed here once handed over.
///
/// # Errors
/// [`ProcessError::Command`] when it cannot start.
pub fn hold(
    mut cmd: Command,
    shown: String,
    hand: Vec<(std::os::fd::OwnedFd, std::os::fd::RawFd)>,
    hint: &str,
) -> Result<Held, ProcessError> {
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    // Each source is first raised to 64 or above: a source that happens to be descriptor 4
    // would otherwise be closed by the dup2 that gives another source as 4 before its turn.
    let mut raised: Vec<(OwnedFd, std::os::fd::RawFd)> = Vec::with_capacity(hand.len());
    for (fd, at) in hand {
        if !(0..64).contains(&at) {
            return Err(ProcessError::not_started(
                &shown,
                format!("descriptor {at} is not below 64"),
            ));
        }
        // SAFETY: fcntl(2) F_DUPFD_CLOEXEC on a descriptor we own returns a new one or -1.
        let high = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 64) };
        if high < 0 {
            return Err(ProcessError::not_started(
                &shown,
                format!(
                    "no descriptor to hand over: {}",
                    std::io::Error::last_os_error()
                ),
            ));
        }
        // SAFETY: `high` was just made by fcntl and nothing else owns it.
        raised.push((unsafe { OwnedFd::from_raw_fd(high) }, at));
    }
    let pairs: Vec<(std::os::fd::RawFd, std::os::fd::RawFd)> = raised
        .iter()
        .map(|(fd, at)| (fd.as_raw_fd(), *at))
        .collect();
    if !pairs.is_empty() {
        // SAFETY: the closure runs in the child between fork and exec; it only calls
        // dup2(2), which is async-signal-safe, and reads a vector allocated before the fork.
        // dup2 clears close-on-exec on the new descriptor, so exactly these pass on.
        unsafe {
            cmd.pre_exec(move || {
                for &(from, to) in &pairs {
                    if libc::dup2(from, to) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
    cmd.stdin(Stdio::null()).process_group(0);
    let child = cmd
        .spawn()
        .map_err(|e| ProcessError::not_started(&shown, format!("{e}{hint}")))?;
    drop(raised);
    let entry = Running::register(child.id());
    tracing::debug!(pid = child.id(), "started `{shown}`, held");
    Ok(Held {
        child,
        shown,
        _entry: entry,
    })
}
