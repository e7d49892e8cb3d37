//! Commands run to their end: their output returned, or the terminal's.

use crate::group::{kill_group, signal, Running};
use crate::{Deadline, ProcessError};
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How often a running command is checked on: often enough that a quick `git rev-parse`
/// costs a few milliseconds, rarely enough that a long deploy costs no CPU.
const CHECK_EVERY: Duration = Duration::from_millis(5);
pub(crate) const CHECK_AT_MOST_EVERY: Duration = Duration::from_millis(100);

/// A command for `program`, stdin closed: give it its arguments, then run it by one of this
/// crate's functions.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `cmd` until it exits or `deadline` passes; returns its trimmed stdout. `shown` is the
/// command line for messages only (the command runs as argv). A failure carries stderr; an
/// absent program carries `hint`.
///
/// # Errors
/// [`ProcessError::Command`] when it fails or cannot start; [`ProcessError::DeadlinePassed`]
/// when it was killed at the deadline.
pub fn run(
    cmd: Command,
    shown: String,
    deadline: Deadline,
    hint: &str,
) -> Result<String, ProcessError> {
    run_with(cmd, shown, deadline, hint, Stderr::Kept)
}

/// Like [`run`], with the command's stderr shown as it runs (a build's progress) instead of
/// kept for the error.
///
/// # Errors
/// As [`run`].
pub fn run_showing_stderr(
    cmd: Command,
    shown: String,
    deadline: Deadline,
) -> Result<String, ProcessError> {
    run_with(cmd, shown, deadline, "", Stderr::Shown)
}

/// Runs [`run`] on a blocking thread, for async callers.
///
/// # Errors
/// As [`run`].
pub async fn run_async(
    cmd: Command,
    shown: String,
    deadline: Deadline,
    hint: &'static str,
) -> Result<String, ProcessError> {
    let label = shown.clone();
    tokio::task::spawn_blocking(move || run(cmd, shown, deadline, hint))
        .await
        .map_err(|e| ProcessError::Command {
            command: label,
            status: "lost".into(),
            stderr: format!("the thread running it failed: {e}"),
        })?
}

/// Runs `cmd` with `input` on its stdin until it exits or `deadline` passes; returns its
/// stdout as bytes, untouched (a git pack, a CGI answer). Otherwise as [`run`]: its own
/// process group, killed at the deadline, a failure carrying stderr.
///
/// # Errors
/// As [`run`].
pub fn run_with_input(
    cmd: Command,
    input: Vec<u8>,
    shown: String,
    deadline: Deadline,
) -> Result<Vec<u8>, ProcessError> {
    run_bytes(cmd, Some(input), shown, deadline, "", Stderr::Kept)
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
) -> Result<std::process::ExitStatus, ProcessError> {
    let mut pause = CHECK_EVERY;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if deadline.passed() => {
                tracing::debug!("`{shown}` killed at its deadline");
                kill_group(child.id());
                let _ = child.wait();
                return Err(ProcessError::deadline(shown, deadline, true));
            }
            Ok(None) => {
                std::thread::sleep(pause.min(deadline.remaining()));
                pause = (pause * 2).min(CHECK_AT_MOST_EVERY);
            }
            Err(e) => {
                kill_group(child.id());
                let _ = child.wait();
                return Err(ProcessError::lost(shown, e));
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
    cmd: Command,
    shown: String,
    deadline: Deadline,
    hint: &str,
    stderr_to: Stderr,
) -> Result<String, ProcessError> {
    let out = run_bytes(cmd, None, shown, deadline, hint, stderr_to)?;
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// Runs `cmd` (with `input` on its stdin, else none) until it exits or `deadline` passes;
/// its stdout.
fn run_bytes(
    mut cmd: Command,
    input: Option<Vec<u8>>,
    shown: String,
    deadline: Deadline,
    hint: &str,
    stderr_to: Stderr,
) -> Result<Vec<u8>, ProcessError> {
    use std::io::Write as _;
    if deadline.passed() {
        return Err(ProcessError::deadline(&shown, deadline, false));
    }
    cmd.stdin(match input {
        Some(_) => Stdio::piped(),
        None => Stdio::null(),
    })
    .stdout(Stdio::piped())
    .stderr(match stderr_to {
        Stderr::Kept => Stdio::piped(),
        Stderr::Shown => Stdio::inherit(),
    })
    // Its own process group, so that killing it at the deadline reaches its children.
    .process_group(0);
    let started = std::time::Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| ProcessError::not_started(&shown, format!("{e}{hint}")))?;
    let _running = Running::register(child.id());
    tracing::debug!(
        pid = child.id(),
        "started `{shown}` (deadline in {} s)",
        deadline.remaining().as_secs()
    );
    // Written on a thread of its own: a command that answers before it has read all of its
    // input would otherwise block the write while nobody reads its output.
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
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
        return Err(ProcessError::deadline(&shown, deadline, true));
    };
    tracing::debug!(
        took_ms = started.elapsed().as_millis(),
        "`{shown}` ended ({status})"
    );
    if !status.success() {
        return Err(ProcessError::Command {
            command: shown,
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&err).trim().to_string(),
        });
    }
    Ok(out)
}

/// Runs `cmd` with the terminal's stdout and stderr until it exits or `deadline` passes. At
/// the deadline it is asked to stop (SIGTERM: a ccci run ends its step, tears down and writes
/// its results) and killed if it has not exited `grace` later; the error then names the
/// command and the budget. It stays in the caller's process group, so Ctrl-C at a terminal
/// reaches it as it reaches the caller.
///
/// # Errors
/// As [`run`].
pub fn supervise(
    mut cmd: Command,
    shown: String,
    deadline: Deadline,
    grace: Duration,
) -> Result<std::process::ExitStatus, ProcessError> {
    cmd.stdin(Stdio::null());
    let mut child = cmd
        .spawn()
        .map_err(|e| ProcessError::not_started(&shown, e.to_string()))?;
    let mut killed_at: Option<std::time::Instant> = None;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| ProcessError::lost(&shown, e))?
        {
            return match killed_at {
                None => Ok(status),
                Some(_) => Err(ProcessError::deadline(&shown, deadline, true)),
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
                return Err(ProcessError::deadline(&shown, deadline, true));
            }
            _ => {}
        }
        std::thread::sleep(CHECK_AT_MOST_EVERY);
    }
}

/// Replaces this process with `cmd` (a command line that only hands over to another binary),
/// which gets this process's stdin, stdout and stderr; returns only when that could not be
/// done.
pub fn exec(mut cmd: Command, shown: &str) -> ProcessError {
    let e = cmd.stdin(Stdio::inherit()).exec();
    ProcessError::not_started(shown, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn output_and_failures_are_returned() {
        let mut ok = command("git");
        ok.arg("--version");
        let out = run(
            ok,
            "git --version".into(),
            Deadline::after(Duration::from_secs(30)),
            "",
        )
        .unwrap();
        assert!(out.starts_with("git version"), "{out}");
        let mut bad = command("git");
        bad.args(["rev-parse", "--no-such-flag-at-all"])
            .current_dir("/");
        let e = run(
            bad,
            "git rev-parse".into(),
            Deadline::after(Duration::from_secs(30)),
            "",
        )
        .unwrap_err();
        assert!(matches!(e, ProcessError::Command { .. }), "{e}");
        let missing = command("/nonexistent/ccci-no-such-program");
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
        let mut cmd = command("git");
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
            matches!(e, ProcessError::DeadlinePassed { started: true, .. }),
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
        let mut polite = command("sleep");
        polite.arg("60");
        let started = Instant::now();
        let e = supervise(
            polite,
            "sleep 60".into(),
            Deadline::after(Duration::from_millis(300)),
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert!(matches!(e, ProcessError::DeadlinePassed { .. }), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGTERM ended it: {:?}",
            started.elapsed()
        );
        // `trap '' TERM` makes the shell ignore SIGTERM: only the kill after the grace ends it.
        let mut stubborn = command("sh");
        stubborn.args(["-c", "trap '' TERM; while :; do sleep 0.1; done"]);
        let started = Instant::now();
        let e = supervise(
            stubborn,
            "stubborn".into(),
            Deadline::after(Duration::from_millis(300)),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(e, ProcessError::DeadlinePassed { .. }), "{e}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(10),
            "{took:?}"
        );
        let mut quick = command("true");
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
        let cmd = command("git");
        let e = run(cmd, "git".into(), Deadline::after(Duration::ZERO), "").unwrap_err();
        assert!(
            matches!(e, ProcessError::DeadlinePassed { started: false, .. }),
            "{e}"
        );
    }
}
