//! One deployment for all the processes of one nextest run.
//!
//! nextest runs every test in a process of its own. Left alone, each step's process would
//! deploy the recipe and replay the lifecycle up to its step: seven deploys for seven steps.
//! Instead the processes of one nextest run (one `NEXTEST_RUN_ID`) of one recipe share a
//! directory under the runs directory:
//!
//! - the first process to create it *leads*: it runs the whole lifecycle once, in order, on
//!   one deployment, exactly as `cargo test` does, and publishes each step's outcome there
//!   as the step ends; then it tears down and writes results.json;
//! - every other process *follows*: it waits for its own step's outcome and reports it.
//!
//! So every step's outcome is the one the full lifecycle gives, and the lifecycle runs once.
//! A follower whose leader dies before publishing its step fails and says so (the janitor
//! removes what the leader deployed, as for any killed run).

use crate::error::{io, HarnessError};
use crate::registry::write_json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often a follower looks for its outcome: a file read, five times a second.
const POLL: Duration = Duration::from_millis(200);

/// How long a follower waits for a leader that created the directory to say who it is.
const LEADER_APPEARS: Duration = Duration::from_secs(30);

/// Shared directories older than this are removed by the next leader.
const STALE: Duration = Duration::from_secs(24 * 3600);

/// How one step ended in the leading process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The step passed.
    Passed,
    /// The step failed (or could not run) with this message, as libtest shows it.
    Failed(String),
    /// The recipe declared the step's rung not applicable.
    Skipped(String),
}

/// Who leads: the process, and the test it was started for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Leader {
    pid: u32,
    pid_start: Option<u64>,
    test: String,
}

/// This process's part in a nextest run.
pub(crate) enum Role {
    /// Runs the lifecycle and publishes every outcome.
    Leads(Share),
    /// Waits for its step's outcome.
    Follows(Share),
}

/// The directory the processes of one nextest run share.
#[derive(Clone)]
pub(crate) struct Share {
    dir: PathBuf,
}

/// This process's role when nextest started it (`NEXTEST_RUN_ID` is set); `None` otherwise.
/// `test` is the test nextest asked for, for a follower's messages.
pub(crate) fn join(
    runs_dir: &Path,
    recipe: &str,
    test: &str,
) -> Option<Result<Role, HarnessError>> {
    let run_id = std::env::var("NEXTEST_RUN_ID")
        .ok()
        .filter(|v| !v.is_empty())?;
    Some(join_as(runs_dir, recipe, &run_id, test))
}

fn join_as(runs_dir: &Path, recipe: &str, run_id: &str, test: &str) -> Result<Role, HarnessError> {
    let parent = runs_dir.join(".nextest");
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    // The run id is nextest's UUID; keep only what is safe in a file name all the same.
    let safe: String = run_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let share = Share {
        dir: parent.join(format!("{recipe}-{safe}")),
    };
    // Creating a directory is atomic: exactly one process of the run succeeds.
    match std::fs::create_dir(&share.dir) {
        Ok(()) => {
            remove_stale(&parent, &share.dir);
            let (pid, pid_start) = crate::registry::this_process();
            let leader = Leader {
                pid,
                pid_start,
                test: test.to_string(),
            };
            write_json(&share.dir.join("leader.json"), &leader)?;
            Ok(Role::Leads(share))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Role::Follows(share)),
        Err(e) => Err(io(&share.dir)(e)),
    }
}

/// Removes the shared directories of nextest runs long over (they hold only outcomes).
fn remove_stale(parent: &Path, except: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE);
        if old && e.path() != except {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

impl Share {
    fn outcomes_path(&self) -> PathBuf {
        self.dir.join("outcomes.json")
    }

    fn done_path(&self) -> PathBuf {
        self.dir.join("done")
    }

    /// The leader publishes every outcome so far.
    pub(crate) fn publish(&self, outcomes: &BTreeMap<String, Outcome>) {
        if let Err(e) = write_json(&self.outcomes_path(), outcomes) {
            eprintln!("ccci: cannot share the outcomes with nextest's other processes: {e}");
        }
    }

    /// The leader says it has published everything it will.
    pub(crate) fn done(&self) {
        let path = self.done_path();
        if let Err(e) = std::fs::write(&path, b"") {
            eprintln!("ccci: cannot write {}: {e}", path.display());
        }
    }

    /// A follower waits for `step`'s outcome, while the leader lives, until `budget` (the
    /// most the whole lifecycle may take) has passed.
    pub(crate) fn wait_for(&self, step: &str, budget: Duration) -> Outcome {
        let deadline = ccci_swarm::Deadline::after(budget);
        let appears = ccci_swarm::Deadline::after(LEADER_APPEARS);
        loop {
            if let Some(outcome) = read_json::<BTreeMap<String, Outcome>>(&self.outcomes_path())
                .and_then(|mut o| o.remove(step))
            {
                return outcome;
            }
            // Done, and no outcome of this step: the leader stopped before it.
            if self.done_path().exists() {
                return Outcome::Failed(format!(
                    "not run: the process that ran this nextest run's lifecycle ended before {step}; its own test's log says why{}",
                    self.leader().map(|l| format!(" ({})", l.test)).unwrap_or_default()
                ));
            }
            match self.leader() {
                Some(l) if !crate::registry::process_alive(l.pid, l.pid_start) => {
                    return Outcome::Failed(format!(
                        "the process that ran this nextest run's lifecycle (pid {}, test {}) died before {step}; its output is in that test's log, and `cargo ccci janitor` removes what it deployed",
                        l.pid, l.test
                    ));
                }
                None if appears.passed() => {
                    return Outcome::Failed(format!(
                        "no process leads this nextest run's lifecycle: {} has no leader.json after {}s",
                        self.dir.display(),
                        LEADER_APPEARS.as_secs()
                    ));
                }
                _ => {}
            }
            if deadline.passed() {
                return Outcome::Failed(format!(
                    "gave up waiting for {step}'s outcome from the process running this nextest run's lifecycle after {}s (deadline)",
                    budget.as_secs()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn leader(&self) -> Option<Leader> {
        read_json(&self.dir.join("leader.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_process_leads_and_a_follower_gets_each_outcome_as_published() {
        let runs = std::env::temp_dir().join(crate::names::unique("ccci-nextest"));
        let Role::Leads(leader) = join_as(&runs, "r", "run-1", "install::x").unwrap() else {
            panic!("the first process leads");
        };
        let Role::Follows(follower) = join_as(&runs, "r", "run-1", "upgrade::y").unwrap() else {
            panic!("the second follows");
        };
        // Another nextest run of the same recipe has its own leader.
        assert!(matches!(
            join_as(&runs, "r", "run-2", "install::x").unwrap(),
            Role::Leads(_)
        ));
        let mut outcomes = BTreeMap::new();
        outcomes.insert("install::x".to_string(), Outcome::Passed);
        outcomes.insert("upgrade::y".to_string(), Outcome::Failed("broke".into()));
        leader.publish(&outcomes);
        let budget = Duration::from_secs(5);
        assert_eq!(follower.wait_for("install::x", budget), Outcome::Passed);
        assert_eq!(
            follower.wait_for("upgrade::y", budget),
            Outcome::Failed("broke".into())
        );
        leader.done();
        match follower.wait_for("functional::z", budget) {
            Outcome::Failed(m) => assert!(m.contains("ended before functional::z"), "{m}"),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(runs);
    }

    #[test]
    fn a_follower_of_a_dead_leader_fails_at_once() {
        let runs = std::env::temp_dir().join(crate::names::unique("ccci-nextest"));
        let share = Share {
            dir: runs.join(".nextest/r-dead"),
        };
        std::fs::create_dir_all(&share.dir).unwrap();
        let gone = Leader {
            pid: std::process::id(),
            // This pid, started at another time: another process, so not alive.
            pid_start: crate::registry::this_process().1.map(|s| s + 1),
            test: "install::x".into(),
        };
        write_json(&share.dir.join("leader.json"), &gone).unwrap();
        match share.wait_for("upgrade::y", Duration::from_secs(30)) {
            Outcome::Failed(m) => assert!(m.contains("died before upgrade::y"), "{m}"),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(runs);
    }
}
