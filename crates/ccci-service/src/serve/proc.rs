//! The service's short commands (git, the janitor), as argv handed to [`ccci_process`], which
//! runs every subprocess ccci starts: a process group of its own, killed at the deadline.

use std::path::Path;
use std::time::Duration;

/// Runs `program args` in `dir` with the variables `env` set, until it exits or `deadline`
/// passes; returns its stdout. The error names the command, and what it said or how long it
/// was given.
pub async fn run(
    program: &str,
    args: &[&str],
    dir: Option<&Path>,
    env: &[(&str, &str)],
    deadline: Duration,
) -> Result<String, String> {
    let mut cmd = ccci_process::command(program);
    cmd.args(args)
        // git asks nothing of a terminal that is not there, and says no hints.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ADVICE", "0")
        .envs(env.iter().copied());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let shown = format!("{program} {}", args.join(" "));
    ccci_process::run_async(cmd, shown, ccci_process::Deadline::after(deadline), "")
        .await
        .map_err(|e| e.to_string())
}
