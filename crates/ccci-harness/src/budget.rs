//! How long each step of a run may take, in one table. A step's deadline starts when the
//! step starts and is handed down to everything it does: each wait, each Engine API wait,
//! each `git` and `docker` command (killed at it) and each recipe hook inside it. Nothing
//! inside a step starts a clock of its own.
//!
//! | step | budget | covers |
//! |---|---|---|
//! | reading a recipe's own `ccci.yml` (before the run) | 2 min ([`PROBE`]) | the clone it needs |
//! | the janitor, before the first step | 2 min ([`JANITOR`]) | removing what killed runs left on this daemon |
//! | install | `deploy_timeout` | fetching the recipe, deploying, converged, healthy, ready |
//! | upgrade | `deploy_timeout` | checkout, redeploy, proof of the head, healthy, ready |
//! | backup | `deploy_timeout` | settling (at most a third of it), markers, every attempt, verify functions |
//! | restore | `deploy_timeout` | markers out, restore, healthy, ready, markers back |
//! | each recipe function | `test_timeout` | the function |
//! | teardown | 2 min + the longest `stop_grace_period` | `docker stack rm`, everything gone, volumes and secrets removed |

use ccci_core::RecipeMeta;
use ccci_swarm::Deadline;
use std::time::Duration;

/// Reading a recipe's own `ccci.yml` before the run's settings exist.
pub const PROBE: Duration = Duration::from_secs(120);

/// The janitor: removing the stacks of killed runs, before a run's first step or on its own.
pub const JANITOR: Duration = Duration::from_secs(120);

/// Teardown, before the stack's `stop_grace_period`: `docker stack rm` needs about 16 s
/// here, and a PID 1 that ignores SIGTERM costs its grace period more.
pub(crate) const TEARDOWN: Duration = Duration::from_secs(120);

/// The budgets of one run, from its settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budgets {
    /// Each op step (install, upgrade, backup, restore).
    pub op: Duration,
    /// Each recipe function.
    pub recipe_fn: Duration,
}

impl Budgets {
    pub(crate) fn of(meta: &RecipeMeta) -> Budgets {
        Budgets {
            op: meta.deploy_timeout,
            recipe_fn: meta.test_timeout,
        }
    }

    /// A deadline for an op step starting now.
    pub(crate) fn op_step(&self) -> Deadline {
        Deadline::after(self.op)
    }

    /// Teardown's deadline: Swarm gives every task its stop grace period before it kills
    /// it, so nothing is a leftover until the longest one has passed.
    pub(crate) fn teardown(stop_grace: Duration) -> Deadline {
        Deadline::after(TEARDOWN + stop_grace)
    }

    /// How long the backup waits for the stack to settle before taking it anyway: a third
    /// of the step, so the attempts keep most of it.
    pub(crate) fn settle(step: &Deadline) -> Deadline {
        step.capped(step.budget() / 3)
    }
}
