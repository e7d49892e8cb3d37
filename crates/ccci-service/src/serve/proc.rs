//! Subprocesses of the service (git, cargo-ccci), each with a deadline: argv, never a shell
//! string; its own process group, so the whole of it is stopped at the deadline.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Runs `program args` in `dir` until it exits or `deadline` passes (then its group is
/// killed); returns its stdout. The error names the command, and what it said or how long it
/// was given.
pub async fn run(
    program: &str,
    args: &[&str],
    dir: Option<&Path>,
    deadline: Duration,
) -> Result<String, String> {
    run_with(program, args, dir, &[], deadline).await
}

/// [`run`] with the variables `env` set.
pub async fn run_with(
    program: &str,
    args: &[&str],
    dir: Option<&Path>,
    env: &[(&str, &str)],
    deadline: Duration,
) -> Result<String, String> {
    let shown = format!("{program} {}", args.join(" "));
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // git asks nothing of a terminal that is not there, and says no hints.
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ADVICE", "0")
        .envs(env.iter().copied());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("{shown}: cannot start: {e}"))?;
    let pid = child.id();
    match tokio::time::timeout(deadline, child.wait_with_output()).await {
        Ok(Ok(out)) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(Ok(out)) => Err(format!(
            "{shown} exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(Err(e)) => Err(format!("{shown}: {e}")),
        Err(_) => {
            if let Some(pid) = pid {
                signal_group(pid, libc::SIGKILL);
            }
            Err(format!(
                "{shown} did not end within {} s",
                deadline.as_secs()
            ))
        }
    }
}

/// Sends `signal` to process group `pgid` (the group a child was started in).
pub fn signal_group(pgid: u32, signal: i32) {
    // SAFETY: kill(2) on a process group this service started; no memory is shared.
    unsafe {
        libc::kill(-(pgid as i32), signal);
    }
}

/// Whether any process of group `pgid` is left.
pub fn group_alive(pgid: u32) -> bool {
    // SAFETY: signal 0 only asks whether the group exists.
    unsafe { libc::kill(-(pgid as i32), 0) == 0 }
}

/// Stops group `pgid`: SIGTERM (a ccci run ends its step, tears down and writes its results),
/// then SIGKILL if anything of it is left after `grace`. Returns whether it ended before that.
pub async fn stop_group(pgid: u32, grace: Duration) -> bool {
    signal_group(pgid, libc::SIGTERM);
    let until = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < until {
        if !group_alive(pgid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    signal_group(pgid, libc::SIGKILL);
    false
}
