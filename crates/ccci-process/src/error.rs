//! What can go wrong with a subprocess, as a type: the caller decides on the variant, and the
//! message names the command.

/// A subprocess that failed, could not start, or outlived its deadline.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The command ran and failed, could not be started, or was lost while it ran.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line, for the message only (it ran as argv).
        command: String,
        /// Exit status, or `not started` / `lost`.
        status: String,
        /// What it printed on stderr, trimmed (or why it did not start).
        stderr: String,
    },
    /// The command was still running when the deadline of the step that started it passed,
    /// and was stopped (or was not started: the deadline had passed already).
    #[error("`{command}` {} the step's deadline ({} s) and was {}: {}", if *started { "was still running at" } else { "was not started: past" }, budget.as_secs(), if *started { "killed" } else { "not run" }, "if it is slow rather than stuck, raise `deploy_timeout` in ccci.yml (a run) or the step's timeout; if it waits on a network, check that the address answers")]
    DeadlinePassed {
        /// The command line, for the message only.
        command: String,
        /// How long the step had.
        budget: std::time::Duration,
        /// Whether it ran at all.
        started: bool,
    },
}

impl ProcessError {
    pub(crate) fn not_started(command: &str, why: String) -> Self {
        ProcessError::Command {
            command: command.to_string(),
            status: "not started".into(),
            stderr: why,
        }
    }

    pub(crate) fn lost(command: &str, why: std::io::Error) -> Self {
        ProcessError::Command {
            command: command.to_string(),
            status: "lost".into(),
            stderr: format!("waiting for it failed: {why}"),
        }
    }

    pub(crate) fn deadline(command: &str, deadline: crate::Deadline, started: bool) -> Self {
        ProcessError::DeadlinePassed {
            command: command.to_string(),
            budget: deadline.budget(),
            started,
        }
    }
}
