//! The run's last check, when asked (`rollback: true` in ccci.yml, `CCCI_ROLLBACK=yes`, the
//! sweep): the app deployed back to the release its upgrade started from, as an operator's
//! `abra app rollback` does when an upgrade went wrong, which must come up healthy with its
//! data intact. The predecessor's worst upgrade bugs (a migration the release before cannot
//! read) show only then. A red rollback caps no rung (the head did what the ladder asks) but
//! makes the verdict red, "rollback unsafe: <why>".
//!
//! The data: a fresh ccci marker in every backed-up path before the rollback, each back byte
//! for byte after it (a recipe without backupbot labels is held to its health alone, and its
//! record says no marker proved its data).

use super::{Lent, Run};
use crate::deployment::Deployment;
use crate::shared::Shared;
use ccci_abra::{markers, Release};
use ccci_core::ladder::{Rung, TestStatus};
use ccci_core::results::Rollback;
use ccci_swarm::Deadline;
use std::time::Instant;

impl Run {
    /// Rolls the app back when the run was asked to and its upgrade passed, on the app the
    /// upgrade left; records how it went.
    pub(super) fn roll_back(&self) {
        // A recipe that says `rollback: false` is never rolled back (it says why in its
        // ccci.yml); else the run's asking (the sweep, `--rollback`), else the recipe's `true`.
        let asked = match (self.shared.meta.rollback, self.shared.settings.rollback) {
            (Some(false), _) => false,
            (_, Some(asked)) => asked,
            (recipe, None) => recipe.unwrap_or(false),
        };
        if !asked || self.interrupted() || !self.shared.settings.lane.may_roll_back() {
            return;
        }
        // Only the head the upgrade proved running is rolled back: a failed upgrade already
        // made the run red, and there is nothing of the head's to undo.
        let upgraded = self.shared.record(|r| {
            let upgrade: Vec<_> = r.tests.iter().filter(|t| t.rung == Rung::Upgrade).collect();
            !upgrade.is_empty() && upgrade.iter().all(|t| t.status == TestStatus::Pass)
        });
        if !upgraded {
            return;
        }
        let mut lent = Lent::take(&self.deployment);
        let Some(d) = lent.0.as_mut().filter(|d| d.on_swarm) else {
            return;
        };
        let Some(base) = d.refs.base.clone() else {
            return;
        };
        let started = Instant::now();
        let deadline = self.shared.budgets.op_step();
        let done = self
            .rt
            .block_on(roll_back(&self.shared, d, &base, deadline));
        let (problem, proof) = match done {
            Ok(proof) => (None, proof),
            Err(why) => (Some(why), Vec::new()),
        };
        match &problem {
            None => eprintln!(
                "ccci: rollback: back at {} and healthy, data intact",
                base.version
            ),
            Some(why) => eprintln!("ccci: rollback: UNSAFE: {why}"),
        }
        let record = Rollback {
            to: base.version.to_string(),
            problem,
            proof,
            duration_secs: started.elapsed().as_secs_f64(),
        };
        self.shared.record(|r| r.rollback = Some(record));
    }
}

/// Marks the data, deploys `base` as `abra app rollback` would (its release, not a chaos
/// deploy), waits until the app is healthy and ready, and checks every marker is back; the
/// markers that proved it, or why it is unsafe.
async fn roll_back(
    shared: &Shared,
    d: &mut Deployment,
    base: &Release,
    deadline: Deadline,
) -> Result<Vec<String>, String> {
    let stack = d.app.stack.clone();
    let plans = ccci_abra::backup::plans(&d.swarm, &stack, deadline)
        .await
        .map_err(|e| format!("the backed-up paths to mark could not be read: {e}"))?;
    let token = format!("{}-rollback", shared.run_id);
    let placed = markers::place(&d.swarm, &stack, &plans, &token, deadline)
        .await
        .map_err(|e| format!("the data could not be marked before the rollback: {e}"))?;
    eprintln!(
        "ccci: rollback: {} -> {} (as abra app rollback) in {stack}",
        ccci_core::short_commit(&d.refs.head.commit),
        base.version
    );
    d.deploy_at(shared, "rollback", &base.commit, Some(base), deadline)
        .await
        .map_err(|e| format!("{} did not deploy over the head: {e}", base.version))?;
    d.wait_ready(shared, "rollback", deadline)
        .await
        .map_err(|e| format!("{} is not healthy over the head's data: {e}", base.version))?;
    let lost = markers::not_restored(&d.swarm, &stack, &placed.markers, deadline)
        .await
        .map_err(|e| format!("the data could not be read back after the rollback: {e}"))?;
    if !lost.is_empty() {
        return Err(format!("the data did not survive it: {}", lost.join("; ")));
    }
    // Best effort: teardown removes the volumes anyway.
    let _ = tokio::time::timeout_at(
        deadline.instant().into(),
        markers::clean_up(&d.swarm, &stack, &placed.markers),
    )
    .await;
    Ok(placed.markers.iter().map(|m| m.describe()).collect())
}
