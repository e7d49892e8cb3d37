//! Every subprocess ccci starts (git, the docker CLI, cargo) goes through this module: argv,
//! never a shell string; stdin closed so nothing can wait for a prompt; and the deadline of
//! the step that started it. [`run`] kills the whole process group at the deadline (a
//! `git clone` over HTTP runs its transport as a child of its own, which would otherwise live
//! on); [`supervise`] first asks a run of ccci to stop, so it can tear down. Either way the
//! error names the command and how long it had.

use crate::error::AbraError;
use ccci_swarm::Deadline;
use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How often a running command is checked on: often enough that a quick `git rev-parse`
/// costs a few milliseconds, rarely enough that a long deploy costs no CPU.
const CHECK_EVERY: Duration = Duration::from_millis(5);
const CHECK_AT_MOST_EVERY: Duration = Duration::from_millis(100);

/// Runs `cmd` until it exits or `deadline` passes; returns its trimmed stdout. `shown` is the
/// command line for messages only (the command runs as argv). A failure carries stderr; an
/// absent program carries `hint`.
pub fn run(
    cmd: Command,
    shown: String,
    deadline: Deadline,
    hint: &str,
) -> Result<String, AbraError> {
    run_with(cmd, shown, deadline, hint, Stderr::Kept)
}

/// Like [`run`], with the command's stderr shown as it runs (a build's progress) instead of
/// kept for the error.
pub fn run_showing_stderr(
    cmd: Command,
    shown: String,
    deadline: Deadline,
) -> Result<String, AbraError> {
    run_with(cmd, shown, deadline, "", Stderr::Shown)
}

/// Reads `pipe` to its end on a thread of its own; the bytes arrive on the channel.
fn drain(pipe: Option<Box<dyn Read + Send>>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// Waits for `child` to exit, looking more and more rarely; at `deadline` its whole process
/// group is killed.
fn wait_until(
    child: &mut std::process::Child,
    shown: &str,
    deadline: Deadline,
) -> Result<std::process::ExitStatus, AbraError> {
    let mut pause = CHECK_EVERY;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if deadline.passed() => {
                kill_group(child.id());
                let _ = child.wait();
                return Err(AbraError::DeadlinePassed {
                    command: shown.to_string(),
                    budget: deadline.budget(),
                    started: true,
                });
            }
            Ok(None) => {
                std::thread::sleep(pause.min(deadline.remaining()));
                pause = (pause * 2).min(CHECK_AT_MOST_EVERY);
            }
            Err(e) => {
                kill_group(child.id());
                let _ = child.wait();
                return Err(AbraError::Command {
                    command: shown.to_string(),
                    status: "lost".into(),
                    stderr: format!("waiting for it failed: {e}"),
                });
            }
        }
    }
}

/// What happens to a command's stderr.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stderr {
    Kept,
    Shown,
}

fn run_with(
    mut cmd: Command,
    shown: String,
    deadline: Deadline,
    hint: &str,
    stderr_to: Stderr,
) -> Result<String, AbraError> {
    if deadline.passed() {
        return Err(AbraError::DeadlinePassed {
            command: shown,
            budget: deadline.budget(),
            started: false,
        });
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(match stderr_to {
            Stderr::Kept => Stdio::piped(),
            Stderr::Shown => Stdio::inherit(),
        })
        // Its own process group, so that killing it at the deadline reaches its children.
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| AbraError::Command {
        command: shown.clone(),
        status: "not started".into(),
        stderr: format!("{e}{hint}"),
    })?;
    let _running = Running::register(child.id());
    // Pipes are drained while the command runs: a command that fills a pipe buffer would
    // otherwise block forever on a write nobody reads.
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_until(&mut child, &shown, deadline)?;
    // A child the command left running keeps the pipes open; it has until the deadline.
    let (Ok(out), Ok(err)) = (
        stdout.recv_timeout(deadline.remaining()),
        stderr.recv_timeout(deadline.remaining()),
    ) else {
        kill_group(child.id());
        return Err(AbraError::DeadlinePassed {
            command: shown,
            budget: deadline.budget(),
            started: true,
        });
    };
    if !status.success() {
        return Err(AbraError::Command {
            command: shown,
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&err).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// Runs `cmd` with the terminal's stdout and stderr until it exits or `deadline` passes. At
/// the deadline it is asked to stop (SIGTERM: a ccci run ends its step, tears down and writes
/// its results) and killed if it has not exited `grace` later; the error then names the
/// command and the budget. It stays in the caller's process group, so Ctrl-C at a terminal
/// reaches it as it reaches the caller.
pub fn supervise(
    mut cmd: Command,
    shown: String,
    deadline: Deadline,
    grace: Duration,
) -> Result<std::process::ExitStatus, AbraError> {
    cmd.stdin(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| AbraError::Command {
        command: shown.clone(),
        status: "not started".into(),
        stderr: e.to_string(),
    })?;
    let lost = |e: std::io::Error| AbraError::Command {
        command: shown.clone(),
        status: "lost".into(),
        stderr: format!("waiting for it failed: {e}"),
    };
    let mut killed_at: Option<std::time::Instant> = None;
    loop {
        if let Some(status) = child.try_wait().map_err(lost)? {
            return match killed_at {
                None => Ok(status),
                Some(_) => Err(AbraError::DeadlinePassed {
                    command: shown,
                    budget: deadline.budget(),
                    started: true,
                }),
            };
        }
        match killed_at {
            None if deadline.passed() => {
                signal(child.id(), libc::SIGTERM);
                killed_at = Some(std::time::Instant::now());
            }
            Some(at) if at.elapsed() >= grace => {
                signal(child.id(), libc::SIGKILL);
                let _ = child.wait();
                return Err(AbraError::DeadlinePassed {
                    command: shown,
                    budget: deadline.budget(),
                    started: true,
                });
            }
            _ => {}
        }
        std::thread::sleep(CHECK_AT_MOST_EVERY);
    }
}

/// A command left running while its caller talks to it (a browser a test drives): in a
/// process group of its own, reached by [`stop_all`], and killed with everything it started
/// when dropped. Its caller bounds each exchange with it by a deadline of its own.
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
}

impl Drop for Held {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// A pipe, both ends closed on exec (hand one to a command with [`hold`]): `(read, write)`.
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
pub fn hold(
    mut cmd: Command,
    shown: String,
    hand: Vec<(std::os::fd::OwnedFd, std::os::fd::RawFd)>,
    hint: &str,
) -> Result<Held, AbraError> {
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    let not_started = |why: String| AbraError::Command {
        command: shown.clone(),
        status: "not started".into(),
        stderr: why,
    };
    // Each source is first raised to 64 or above: a source that happens to be descriptor 4
    // would otherwise be closed by the dup2 that gives another source as 4 before its turn.
    let mut raised: Vec<(OwnedFd, std::os::fd::RawFd)> = Vec::with_capacity(hand.len());
    for (fd, at) in hand {
        if !(0..64).contains(&at) {
            return Err(not_started(format!("descriptor {at} is not below 64")));
        }
        // SAFETY: fcntl(2) F_DUPFD_CLOEXEC on a descriptor we own returns a new one or -1.
        let high = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 64) };
        if high < 0 {
            return Err(not_started(format!(
                "no descriptor to hand over: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: `high` was just made by fcntl and nothing else owns it.
        raised.push((unsafe { OwnedFd::from_raw_fd(high) }, at));
    }
    let pairs: Vec<(std::os::fd::RawFd, std::os::fd::RawFd)> = raised
        .iter()
        .map(|(fd, at)| (fd.as_raw_fd(), *at))
        .collect();
    // SAFETY: the closure runs in the child between fork and exec; it only calls dup2(2),
    // which is async-signal-safe, and reads a vector that was allocated before the fork.
    // dup2 clears close-on-exec on the new descriptor, so exactly these pass to the command.
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
    cmd.stdin(Stdio::null()).process_group(0);
    let child = cmd.spawn().map_err(|e| not_started(format!("{e}{hint}")))?;
    drop(raised);
    let entry = Running::register(child.id());
    Ok(Held {
        child,
        shown,
        _entry: entry,
    })
}

/// Runs [`run`] on a blocking thread, for async callers.
pub(crate) async fn run_async(
    cmd: Command,
    shown: String,
    deadline: Deadline,
    hint: &'static str,
) -> Result<String, AbraError> {
    let label = shown.clone();
    tokio::task::spawn_blocking(move || run(cmd, shown, deadline, hint))
        .await
        .map_err(|e| AbraError::Command {
            command: label,
            status: "lost".into(),
            stderr: format!("the thread running it failed: {e}"),
        })?
}

/// The process groups of the commands running now, so that [`stop_all`] can reach the ones
/// whose callers have stopped waiting for them.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// A running command's entry in [`RUNNING`], removed when it ends whatever way.
struct Running(u32);

impl Running {
    fn register(pgid: u32) -> Running {
        running().push(pgid);
        Running(pgid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        running().retain(|p| *p != self.0);
    }
}

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    // The list is only pushed to and filtered: a panic cannot leave it half-changed.
    RUNNING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills every command [`run`] started that is still running, with its children: for a run
/// that was interrupted, whose steps no longer wait for them (a dropped future does not stop
/// a thread blocked on a command, and a command outlives the process that started it).
pub fn stop_all() {
    for pgid in running().iter() {
        kill_group(*pgid);
    }
}

/// SIGKILL to the process group `pgid` (the command and everything it started). A group
/// that is already gone is not an error.
fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // A negative pid addresses the group the command was started in (`process_group(0)`).
        send(-pgid, libc::SIGKILL);
    }
}

/// `sig` to the process `pid` (not yet waited for, so the pid is still its own).
fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        send(pid, sig);
    }
}

fn send(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn output_and_failures_are_returned() {
        let mut ok = Command::new("git");
        ok.arg("--version");
        let out = run(
            ok,
            "git --version".into(),
            Deadline::after(Duration::from_secs(30)),
            "",
        )
        .unwrap();
        assert!(out.starts_with("git version"), "{out}");
        let mut bad = Command::new("git");
        bad.args(["rev-parse", "--no-such-flag-at-all"])
            .current_dir("/");
        let e = run(
            bad,
            "git rev-parse".into(),
            Deadline::after(Duration::from_secs(30)),
            "",
        )
        .unwrap_err();
        assert!(matches!(e, AbraError::Command { .. }), "{e}");
        let missing = Command::new("/nonexistent/ccci-no-such-program");
        let e = run(
            missing,
            "x".into(),
            Deadline::after(Duration::from_secs(30)),
            ": install it",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("not started") && e.to_string().contains(": install it"),
            "{e}"
        );
    }

    /// A git clone from a server that accepts the connection and never answers hangs for
    /// ever on its own: the deadline kills it and its transport child, on time.
    #[test]
    fn a_hung_git_clone_is_killed_at_the_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let dest = std::env::temp_dir().join(format!("ccci-hung-clone-{}", std::process::id()));
        let mut cmd = Command::new("git");
        cmd.args([
            "clone",
            "--quiet",
            &format!("http://127.0.0.1:{port}/recipe.git"),
        ])
        .arg(&dest)
        .env("GIT_TERMINAL_PROMPT", "0");
        let started = Instant::now();
        let e = run(
            cmd,
            "git clone".into(),
            Deadline::after(Duration::from_secs(2)),
            "",
        )
        .unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(e, AbraError::DeadlinePassed { started: true, .. }),
            "{e}"
        );
        assert!(
            e.to_string().contains("`git clone`") && e.to_string().contains("2 s"),
            "{e}"
        );
        assert!(took < Duration::from_secs(10), "killed after {took:?}");
        let _ = held.join();
        let _ = std::fs::remove_dir_all(dest);
    }

    /// A command that outlives its deadline is asked to stop first: one that stops on
    /// SIGTERM ends then, not at the grace period's end.
    #[test]
    fn supervise_asks_first_and_kills_after_the_grace() {
        let mut polite = Command::new("sleep");
        polite.arg("60");
        let started = Instant::now();
        let e = supervise(
            polite,
            "sleep 60".into(),
            Deadline::after(Duration::from_millis(300)),
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert!(matches!(e, AbraError::DeadlinePassed { .. }), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGTERM ended it: {:?}",
            started.elapsed()
        );
        // `trap '' TERM` makes the shell ignore SIGTERM: only the kill after the grace ends it.
        let mut stubborn = Command::new("sh");
        stubborn.args(["-c", "trap '' TERM; while :; do sleep 0.1; done"]);
        let started = Instant::now();
        let e = supervise(
            stubborn,
            "stubborn".into(),
            Deadline::after(Duration::from_millis(300)),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(e, AbraError::DeadlinePassed { .. }), "{e}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(10),
            "{took:?}"
        );
        let mut quick = Command::new("true");
        quick.current_dir("/");
        assert!(supervise(
            quick,
            "true".into(),
            Deadline::after(Duration::from_secs(30)),
            Duration::from_secs(1)
        )
        .unwrap()
        .success());
    }

    #[test]
    fn a_passed_deadline_starts_nothing() {
        let cmd = Command::new("git");
        let e = run(cmd, "git".into(), Deadline::after(Duration::ZERO), "").unwrap_err();
        assert!(
            matches!(e, AbraError::DeadlinePassed { started: false, .. }),
            "{e}"
        );
    }
}
