//! The git CLI, as argv, with a fixed identity and no prompts, its stderr kept for errors,
//! under the deadline of the step that runs it.

use crate::error::AbraError;
use ccci_swarm::Deadline;
use std::path::Path;

/// Runs `git -C dir args…` and returns its trimmed stdout.
pub(crate) fn git(dir: &Path, args: &[&str], deadline: Deadline) -> Result<String, AbraError> {
    git_env(dir, args, &[], deadline)
}

/// Like [`git`], with extra environment (e.g. fixed commit dates).
pub(crate) fn git_env(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    deadline: Deadline,
) -> Result<String, AbraError> {
    let mut cmd = ccci_process::command("git");
    cmd.arg("-C").arg(dir);
    for c in [
        "user.name=ccci",
        "user.email=ccci@localhost",
        "init.defaultBranch=main",
        "commit.gpgSign=false",
        "tag.gpgSign=false",
        "advice.detachedHead=false",
        "advice.defaultBranchName=false",
    ] {
        cmd.args(["-c", c]);
    }
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        // Every advice hint off (git 2.46 on; older gits ignore it and the keys above do).
        .env("GIT_ADVICE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let shown = format!("git -C {} {}", dir.display(), args.join(" "));
    Ok(ccci_process::run(
        cmd,
        shown,
        deadline,
        ": is git installed?",
    )?)
}
