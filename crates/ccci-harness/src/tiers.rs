//! The generic tiers, run on every recipe before its own tests: install, upgrade, backup,
//! restore. Each is a function of the run's shared state, the deployment it owns while it
//! runs, and the deadline of its step ([`crate::budget`]); each fails with one line naming
//! what went wrong and the fix.

use crate::deployment::{Backup, Deployment};
use crate::error::{HarnessError, NotApplicable, StepError};
use crate::shared::Shared;
use ccci_abra::backup::is_backup_capable;
use ccci_abra::{markers, Deployer};
use ccci_core::ladder::Rung;
use ccci_core::results::{RestoreProof, SnapshotRecord};
use ccci_core::Op;
use ccci_swarm::{wait, Deadline};

/// Backups taken before giving up when a verify function keeps rejecting them: a dump
/// caught mid-write is worth a second try, a recipe that never produces a good one is not.
const BACKUP_ATTEMPTS: u32 = 3;

/// Install: set up the run's recipe tree and app, provide its dependencies (or refuse those
/// ccci cannot provide), deploy, and wait until converged, healthy and ready. The upgrade base is deployed when
/// the upgrade will run; otherwise the head itself, so the head is always deployed and must
/// become healthy.
pub(crate) async fn install(
    shared: &Shared,
    slot: &mut Option<Deployment>,
    deadline: Deadline,
) -> Result<(), StepError> {
    if shared.settings.lane.on_canonical() {
        return crate::fleet::adopt(shared, slot, deadline).await;
    }
    let d = slot.insert(Deployment::prepare(shared, deadline).await?);
    crate::deps::provide(shared, d, deadline).await?;
    let upgrade_runs = !shared.meta.expected_na.contains_key(&Rung::Upgrade);
    let target = match (upgrade_runs, &d.refs.base) {
        (true, Some(base)) => Some(base.clone()),
        _ => d.refs.head_release.clone(),
    };
    let commit = target
        .as_ref()
        .map_or(d.refs.head.commit.clone(), |r| r.commit.clone());
    let what = target
        .as_ref()
        .map_or("unreleased head (chaos)".to_string(), |r| {
            r.version.to_string()
        });
    eprintln!(
        "ccci: install: deploying {} {what} as {} (stack {})",
        shared.meta.recipe, d.app.domain, d.app.stack
    );
    d.deploy_at(shared, "install", &commit, target.as_ref(), deadline)
        .await?;
    d.wait_ready(shared, "install", deadline).await?;
    Ok(())
}

/// Upgrade: redeploy the head in place as a chaos deploy with the recipe's upgrade env, prove
/// the running stack is the head (its chaos-version label names the head commit), then wait
/// until healthy and ready. With `upgrade_from` N, the N − 1 older releases take the same
/// path at the same time, each in a deployment of its own ([`crate::paths`]); the rung
/// passes only when every path does, and a failed path is named by its base release.
pub(crate) async fn upgrade(
    shared: &Shared,
    d: &mut Deployment,
    deadline: Deadline,
) -> Result<(), StepError> {
    let head = d.refs.head.clone();
    let Some(base) = d.refs.base.clone() else {
        return Err(NotApplicable::NoUpgradeBase {
            recipe: shared.meta.recipe.clone(),
            head: head.version.clone().unwrap_or_else(|| head.commit.clone()),
        }
        .into());
    };
    let older = match shared.settings.lane.every_upgrade_path() {
        true => d.refs.older_bases.clone(),
        false => Vec::new(),
    };
    let started = std::time::Instant::now();
    let (own, others) = tokio::join!(
        crate::steps::upgrade_in_place(shared, d, &base, deadline),
        crate::paths::run_all(shared, &older, deadline)
    );
    let stack = d.app.stack.clone();
    shared.record(|r| {
        r.upgrade_paths.push(crate::paths::path_record(
            &base,
            &stack,
            own.as_ref().err().map(ToString::to_string),
            started,
        ));
        r.upgrade_paths.extend(others.iter().cloned());
    });
    own?;
    match others.iter().find(|p| !p.passed) {
        Some(p) => Err(HarnessError::UpgradePathFailed {
            from: p.from.clone(),
            why: p.error.clone().unwrap_or_default(),
            failed: others.iter().filter(|p| !p.passed).count(),
            paths: others.len() + 1,
        }
        .into()),
        None => Ok(()),
    }
}

/// One backup attempt: the snapshot taken, checked for ccci's markers, then by the
/// recipe's own `backup_verify` functions; accepted, it is what the restore will use.
async fn backup_attempt(
    shared: &Shared,
    d: &mut Deployment,
    attempt: u32,
    placed: &markers::Placed,
    deadline: Deadline,
) -> Result<(SnapshotRecord, Option<String>), StepError> {
    let dir = shared.dir.snapshot(attempt);
    let mut record = SnapshotRecord {
        attempt,
        dir: dir.display().to_string(),
        verified: None,
        error: None,
    };
    let mut host_fault = None;
    match d.engine.backup(&d.app, &dir, deadline).await {
        Err(e) => {
            host_fault = e.host_fault();
            record.error = Some(e.to_string());
        }
        Ok(snapshot) => {
            let lost = markers::missing_from(&snapshot, &placed.markers)?;
            let rejected = match lost.is_empty() {
                true => {
                    crate::steps::verify(shared, d, &snapshot, shared.op_state.clone(), deadline)
                        .await
                }
                false => Some(format!(
                    "the snapshot lacks ccci's marker {}",
                    lost.join(", ")
                )),
            };
            record.verified = (!shared.hooks.verify.is_empty()).then_some(rejected.is_none());
            record.error = rejected;
            if record.error.is_none() {
                d.backup = Some(Backup {
                    snapshot,
                    markers: placed.markers.clone(),
                    marker_skips: placed.skipped.clone(),
                });
            }
        }
    }
    Ok((record, host_fault))
}

/// Backup: let the services settle, write ccci's markers into every backed-up directory,
/// take a snapshot by the backupbot labels, and accept it only if it holds every marker and
/// every `#[ccci::backup_verify]` function accepts it; a rejected or failed backup is taken
/// again, up to three attempts, each recorded.
pub(crate) async fn backup(
    shared: &Shared,
    d: &mut Deployment,
    deadline: Deadline,
) -> Result<(), StepError> {
    let stack = d.app.stack.clone();
    let capable = match shared.meta.backup_capable {
        Some(c) => c,
        None => is_backup_capable(&d.swarm.service_labels(&stack).await?),
    };
    if !capable {
        return Err(NotApplicable::NotBackupCapable { stack }.into());
    }
    if let Err(e) =
        wait::wait_converged(&d.swarm, &stack, crate::budget::Budgets::settle(&deadline)).await
    {
        eprintln!(
            "ccci: backup: the stack did not settle ({e}); backing up anyway, the checks decide"
        );
    }
    let plans = ccci_abra::backup::plans(&d.swarm, &stack, deadline).await?;
    let placed = markers::place(&d.swarm, &stack, &plans, &shared.run_id, deadline).await?;
    for m in &placed.markers {
        eprintln!("ccci: backup: wrote marker {}", m.describe());
    }
    let mut failures = Vec::new();
    // What the host lacked in every attempt so far; `None` once one failed otherwise.
    let mut host_faults = Some(Vec::new());
    for attempt in 1..=BACKUP_ATTEMPTS {
        let (record, host) = backup_attempt(shared, d, attempt, &placed, deadline).await?;
        host_faults = host_faults.zip(host).map(|(mut all, h)| {
            all.push(h);
            all
        });
        let said = match &record.error {
            Some(e) => format!("rejected: {e}"),
            None => "accepted".into(),
        };
        eprintln!(
            "ccci: backup: attempt {attempt}: {said} (snapshot kept at {})",
            record.dir
        );
        if let Some(e) = &record.error {
            failures.push(format!("attempt {attempt}: {e}"));
        }
        let accepted = record.error.is_none();
        shared.record(|r| r.snapshots.push(record));
        if accepted {
            return Ok(());
        }
        if deadline.passed() {
            break;
        }
        // What failed the attempt may have taken a task down (a database killed during its
        // dump): the next attempt waits until Swarm has the stack running again.
        if attempt < BACKUP_ATTEMPTS {
            if let Err(e) =
                wait::wait_converged(&d.swarm, &stack, crate::budget::Budgets::settle(&deadline))
                    .await
            {
                eprintln!("ccci: backup: the stack did not settle again ({e}); trying anyway");
            }
        }
    }
    Err(HarnessError::NoUsableBackup {
        attempts: failures.len() as u32,
        failures,
        host_fault: host_faults.and_then(|all| all.into_iter().next()),
    }
    .into())
}

/// Restore: take ccci's markers out of the live app, put the accepted snapshot back, wait
/// until the app is healthy and ready again, and require every marker back byte for byte.
/// Records what proved the data came back. The snapshot is only read: a failed restore can
/// be retried from it.
pub(crate) async fn restore(
    shared: &Shared,
    d: &mut Deployment,
    deadline: Deadline,
) -> Result<(), StepError> {
    let stack = d.app.stack.clone();
    // Checked by the step's prerequisites: the restore runs only after a passed backup.
    let Some(taken) = d.backup.as_ref() else {
        return Err(StepError::NotRun {
            because: "no accepted snapshot".into(),
        });
    };
    let (snapshot, placed, skipped) = (
        taken.snapshot.clone(),
        taken.markers.clone(),
        taken.marker_skips.clone(),
    );
    markers::remove(&d.swarm, &stack, &placed, deadline).await?;
    d.engine
        .restore(&d.app, &snapshot, deadline)
        .await
        .map_err(|source| HarnessError::RestoreFailed {
            source: Box::new(source),
            dir: snapshot.dir.clone(),
        })?;
    eprintln!(
        "ccci: restore: restored the snapshot at {}",
        snapshot.dir.display()
    );
    d.wait_ready(shared, "restore", deadline).await?;
    let lost = markers::not_restored(&d.swarm, &stack, &placed, deadline).await?;
    if !lost.is_empty() {
        return Err(HarnessError::DataLost {
            lost,
            dir: snapshot.dir.clone(),
        }
        .into());
    }
    // Best effort within the step: teardown removes the volumes anyway.
    let _ = tokio::time::timeout_at(
        deadline.instant().into(),
        markers::clean_up(&d.swarm, &stack, &placed),
    )
    .await;
    let hooks: Vec<String> = shared
        .hooks
        .lifecycle
        .iter()
        .filter(|h| h.op == Op::Restore && !h.before)
        .map(|h| h.name.to_string())
        .collect();
    let proof = if !hooks.is_empty() {
        RestoreProof::RecipeHooks { hooks }
    } else if !placed.is_empty() {
        RestoreProof::Markers {
            paths: placed.iter().map(|m| m.describe()).collect(),
        }
    } else {
        RestoreProof::None {
            reason: format!(
                "no backed-up path can hold a marker ({}) and the recipe has no #[ccci::lifecycle(after = restore)] check; add one that finds data seeded before the backup",
                skipped.join("; ")
            ),
        }
    };
    if let RestoreProof::None { reason } = &proof {
        eprintln!("ccci: restore: not proven by data: {reason}");
    }
    shared.record(|r| r.restore_proof = Some(proof));
    Ok(())
}
