//! The warm fleet on this host: a recipe's canonical deployment, kept known-good on the Swarm
//! under a stable domain, so that a pull request is tried on it without a first boot, and
//! returned to known-good whatever the pull request did (docs/fleet.md) [R26].
//!
//! - [`establish`] deploys a release, proves it healthy, seeds its data (ccci's markers in
//!   every backed-up directory, and the recipe's own `before = backup` functions), and takes
//!   the known-good snapshot: a record, saved by the caller only once all of it held.
//! - [`check_known_good`] is what "known-good" means, asked before a quick run trusts a
//!   canonical and after it returns one: the release's own labels (not a chaos deploy),
//!   healthy, every marker byte for byte, every `after = restore` check of the recipe.
//! - [`return_to`] puts a canonical back after a quick run: the known-good release with its
//!   own env, the snapshot restored when the head failed or the data is not proven, proven.
//! - [`adopt`] is the quick lane's first step, [`make_or_promote`] what `canonical up` and a
//!   green cold run of the latest release do.

mod records;

pub use records::Records;

use crate::__private::LifecycleDef;
use crate::deployment::{Deployment, Placement};
use crate::error::{HarnessError, StepError};
use crate::shared::Shared;
use ccci_abra::markers::Marker;
use ccci_abra::{Deployer, Release};
use ccci_core::canonical::{Canonical, CanonicalAction, CanonicalOutcome, DataMarker};
use ccci_core::{Op, OpState};
use ccci_swarm::Deadline;
use std::sync::Arc;
use std::time::Duration;

pub use crate::registry::CANONICAL_LABEL;

/// How long a canonical found on the Swarm may take to answer before it is not trusted.
const TRUST_WAIT: Duration = Duration::from_secs(90);

/// The stable domain of `recipe`'s canonical when nothing else says: `canonical-<recipe>`
/// beside the runs' own domains.
pub fn canonical_domain(recipe: &str) -> String {
    format!("canonical-{recipe}.ccci.test")
}

/// Where `recipe`'s canonical is deployed from: `domain`, a checkout of its own in the run
/// directory, labelled, never registered (the janitor removes runs' stacks, never a canonical).
pub(crate) fn placement(shared: &Shared, domain: &str, own_checkout: bool) -> Placement {
    let mut p = Placement::run(shared);
    if own_checkout {
        let dir = shared.dir.path().join("canonical");
        p.checkout = dir.join("recipe");
        p.servers = dir.join("servers");
        p.records = false;
    }
    p.domain = Some(domain.into());
    p.registered_as = None;
    p.labels = vec![(CANONICAL_LABEL.into(), shared.meta.recipe.clone())];
    p
}

/// The recipe's functions of `op` on the `before` side.
fn hooks_of(shared: &Shared, op: Op, before: bool) -> Vec<&'static LifecycleDef> {
    shared
        .hooks
        .lifecycle
        .iter()
        .filter(|h| h.op == op && h.before == before)
        .copied()
        .collect()
}

/// Runs `defs` on `d` with `state` as their `OpState`; the first failure, named.
async fn call_hooks(
    shared: &Shared,
    d: &Deployment,
    defs: &[&'static LifecycleDef],
    op: Op,
    state: Arc<OpState>,
    deadline: Deadline,
) -> Result<(), String> {
    let mut fx = d.fixtures(shared, Some(op));
    fx.op_state = state;
    let fx = Arc::new(fx);
    for def in defs {
        let budget = deadline.capped(shared.budgets.recipe_fn);
        crate::recipe_fn::call(def.run, fx.clone(), budget)
            .await
            .map_err(|e| format!("{} failed: {e} ({}:{})", def.name, def.file, def.line))?;
    }
    Ok(())
}

/// Deploys `release` in `d` (fresh, or in place over what runs), waits until it is healthy
/// and ready, seeds its data and takes its snapshot: the record of a known-good canonical,
/// which the caller saves.
pub(crate) async fn establish(
    shared: &Shared,
    d: &mut Deployment,
    release: &Release,
    proven_by: Option<String>,
    deadline: Deadline,
) -> Result<Canonical, HarnessError> {
    let stack = d.app.stack.clone();
    let failed = |why: String| HarnessError::CanonicalFailed {
        stack: stack.clone(),
        version: release.version.to_string(),
        why,
    };
    eprintln!(
        "ccci: canonical: deploying {} {} as {}",
        shared.meta.recipe, release.version, d.app.domain
    );
    d.deploy_at(
        shared,
        "canonical",
        &release.commit,
        Some(release),
        deadline,
    )
    .await?;
    d.wait_ready(shared, "canonical", deadline).await?;
    let seeded = seed(shared, d, &failed, deadline).await?;
    let snapshot = take_snapshot(shared, d, &seeded, &failed, deadline).await?;
    let c = Canonical {
        recipe: shared.meta.recipe.clone(),
        version: release.version.to_string(),
        tag: release.tag.clone(),
        commit: release.commit.clone(),
        domain: d.app.domain.clone(),
        stack: stack.clone(),
        docker_host: d.swarm.host().to_string(),
        since: crate::registry::unix_now(),
        proven_by,
        markers: seeded.placed.markers.iter().map(data_marker).collect(),
        seeded: seeded.state.values(),
        checks: hooks_of(shared, Op::Restore, false)
            .iter()
            .map(|h| h.name.to_string())
            .collect(),
        snapshot,
        env: d.app.env.render(),
        web: d.base_url.is_some(),
    };
    check_known_good(shared, d, &c, deadline)
        .await
        .map_err(failed)?;
    eprintln!(
        "ccci: canonical: {} is known-good at {} (data: {})",
        c.stack,
        c.version,
        c.proof()
    );
    Ok(c)
}

/// What a canonical was seeded with: whether it backs anything up, ccci's markers, and what
/// the recipe's seeding functions remembered.
struct Seeded {
    capable: bool,
    placed: ccci_abra::markers::Placed,
    state: Arc<OpState>,
}

/// ccci's markers in every backed-up directory, then the recipe's `before = backup`
/// functions, as the backup tier seeds.
async fn seed(
    shared: &Shared,
    d: &Deployment,
    failed: &dyn Fn(String) -> HarnessError,
    deadline: Deadline,
) -> Result<Seeded, HarnessError> {
    let stack = &d.app.stack;
    let capable = match shared.meta.backup_capable {
        Some(c) => c,
        None => ccci_abra::backup::is_backup_capable(&d.swarm.service_labels(stack).await?),
    };
    let plans = match capable {
        true => ccci_abra::backup::plans(&d.swarm, stack, deadline).await?,
        false => Vec::new(),
    };
    let token = format!("canonical-{}", shared.run_id);
    let placed = ccci_abra::markers::place(&d.swarm, stack, &plans, &token, deadline).await?;
    let state = Arc::new(OpState::default());
    let seeders = hooks_of(shared, Op::Backup, true);
    call_hooks(shared, d, &seeders, Op::Backup, state.clone(), deadline)
        .await
        .map_err(failed)?;
    Ok(Seeded {
        capable,
        placed,
        state,
    })
}

/// The known-good snapshot, when the app backs anything up: it must hold every marker and
/// pass the recipe's `backup_verify` functions.
async fn take_snapshot(
    shared: &Shared,
    d: &Deployment,
    seeded: &Seeded,
    failed: &dyn Fn(String) -> HarnessError,
    deadline: Deadline,
) -> Result<Option<String>, HarnessError> {
    if !seeded.capable {
        return Ok(None);
    }
    let records = Records::at(&shared.settings.canonical_dir);
    let dir = records.new_snapshot_dir(&shared.meta.recipe)?;
    let snap = d.engine.backup(&d.app, &dir, deadline).await?;
    let lost = ccci_abra::markers::missing_from(&snap, &seeded.placed.markers)?;
    if !lost.is_empty() {
        return Err(failed(format!(
            "its snapshot lacks ccci's marker {}",
            lost.join(", ")
        )));
    }
    if let Some(rejected) =
        crate::steps::verify(shared, d, &snap, seeded.state.clone(), deadline).await
    {
        return Err(failed(format!("its snapshot was rejected: {rejected}")));
    }
    Ok(Some(dir.display().to_string()))
}

fn data_marker(m: &Marker) -> DataMarker {
    DataMarker {
        service: m.service.clone(),
        path: m.path.clone(),
        content: String::from_utf8_lossy(&m.content).into_owned(),
    }
}

fn marker(m: &DataMarker) -> Marker {
    Marker {
        service: m.service.clone(),
        path: m.path.clone(),
        content: m.content.clone().into_bytes(),
    }
}

/// Whether the canonical in `d` is what `c` says: its main service carries the release's
/// own labels (a chaos deploy left behind is not known-good, whatever its version label
/// says), it answers healthy, every marker is there byte for byte and every check of the
/// recipe finds its seeded data. `Err` says the first thing that is not so.
pub(crate) async fn check_known_good(
    shared: &Shared,
    d: &Deployment,
    c: &Canonical,
    deadline: Deadline,
) -> Result<(), String> {
    let services = d
        .swarm
        .service_labels(&c.stack)
        .await
        .map_err(|e| e.to_string())?;
    let here = release_in(d, c).ok().map(|r| r.commit);
    runs_release(&services, c, here.as_deref())?;
    let wait = Deadline::after(TRUST_WAIT.min(deadline.remaining()));
    d.wait_ready(shared, "canonical", wait)
        .await
        .map_err(|e| format!("it is not healthy: {e}"))?;
    let markers: Vec<Marker> = c.markers.iter().map(marker).collect();
    let lost = ccci_abra::markers::not_restored(&d.swarm, &c.stack, &markers, deadline)
        .await
        .map_err(|e| e.to_string())?;
    if !lost.is_empty() {
        return Err(format!("its data marker is gone: {}", lost.join(", ")));
    }
    let state = Arc::new(OpState::default());
    state.extend(&c.seeded);
    let checks = hooks_of(shared, Op::Restore, false);
    call_hooks(shared, d, &checks, Op::Restore, state, deadline)
        .await
        .map_err(|e| format!("its seeded data is not there: {e}"))
}

/// Puts the canonical in `d` back to `c`: the known-good release redeployed with its own
/// env, the known-good snapshot restored when `restore` (the head failed) or when the data
/// is not proven after the redeploy, and proven. Never fails: the outcome says how it ended.
///
/// A failed head may have broken the data the known-good release needs to become healthy
/// (an emptied volume fails its healthcheck, and Swarm pauses the update). So, as backupbot
/// restores into a running app, the snapshot first goes into what runs now, and the
/// known-good release then starts on its own data; only when nothing of the head runs to
/// take it is it restored after the redeploy.
pub(crate) async fn return_to(
    shared: &Shared,
    d: &mut Deployment,
    c: &Canonical,
    restore: bool,
    deadline: Deadline,
) -> CanonicalOutcome {
    let mut outcome = CanonicalOutcome {
        action: CanonicalAction::Quick,
        domain: c.domain.clone(),
        stack: c.stack.clone(),
        version: c.version.clone(),
        untrusted: None,
        restored: false,
        known_good: false,
        proof: c.proof(),
        problem: None,
    };
    let mut restored_first = false;
    if restore {
        eprintln!(
            "ccci: canonical: restoring the known-good snapshot of {} into what runs now (the head failed)",
            c.stack
        );
        outcome.restored = true;
        let soon = Deadline::after(TRUST_WAIT.min(deadline.remaining()));
        restored_first = match put_snapshot_back(d, c, soon).await {
            Ok(()) => true,
            Err(e) => {
                eprintln!("ccci: canonical: not restored yet ({e}); after the redeploy, then");
                false
            }
        };
    }
    let mut why = match redeploy(shared, d, c, deadline).await {
        Ok(()) if restore && !restored_first => Some("the head failed".to_string()),
        Ok(()) => check_known_good(shared, d, c, deadline).await.err(),
        Err(e) => Some(e.to_string()),
    };
    if let Some(reason) = why.take() {
        eprintln!(
            "ccci: canonical: restoring the known-good snapshot of {} ({reason})",
            c.stack
        );
        outcome.restored = true;
        why = restore_snapshot(shared, d, c, deadline).await.err();
        if why.is_none() {
            why = check_known_good(shared, d, c, deadline).await.err();
        }
    }
    outcome.known_good = why.is_none();
    outcome.problem = why;
    eprintln!(
        "ccci: canonical: {} {} known-good {}{}",
        c.stack,
        if outcome.known_good {
            "is back at"
        } else {
            "could not be returned to"
        },
        c.version,
        outcome
            .problem
            .as_deref()
            .map(|p| format!(": {p}"))
            .unwrap_or_default()
    );
    outcome
}

/// The known-good release deployed again with the env it was proven with.
async fn redeploy(
    shared: &Shared,
    d: &mut Deployment,
    c: &Canonical,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    d.app.env = ccci_abra::env::EnvFile::parse(&c.env).map_err(|e| HarnessError::Io {
        path: d.app.env_path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    d.app.save()?;
    let release = release_in(d, c)?;
    d.deploy_at(
        shared,
        "canonical",
        &release.commit,
        Some(&release),
        deadline,
    )
    .await?;
    d.wait_ready(shared, "canonical", deadline).await
}

/// The known-good snapshot put into whatever of the app runs now.
async fn put_snapshot_back(
    d: &Deployment,
    c: &Canonical,
    deadline: Deadline,
) -> Result<(), String> {
    let Some(dir) = &c.snapshot else {
        return Err("it has no snapshot to restore (nothing of it is backed up)".into());
    };
    let snapshot =
        ccci_abra::Snapshot::load(std::path::Path::new(dir)).map_err(|e| e.to_string())?;
    d.engine
        .restore(&d.app, &snapshot, deadline)
        .await
        .map_err(|e| format!("its snapshot {dir} did not restore: {e}"))
}

/// The known-good snapshot put back into the known-good release, and the app healthy again.
async fn restore_snapshot(
    shared: &Shared,
    d: &mut Deployment,
    c: &Canonical,
    deadline: Deadline,
) -> Result<(), String> {
    if !check_release_running(d, c).await {
        redeploy(shared, d, c, deadline)
            .await
            .map_err(|e| format!("the known-good release did not deploy again: {e}"))?;
    }
    put_snapshot_back(d, c, deadline).await?;
    d.wait_ready(shared, "canonical", deadline)
        .await
        .map_err(|e| format!("it is not healthy after the restore: {e}"))
}

/// Whether the canonical in `d` runs its known-good release (not a chaos deploy).
async fn check_release_running(d: &Deployment, c: &Canonical) -> bool {
    d.swarm
        .service_labels(&c.stack)
        .await
        .is_ok_and(|services| {
            let here = release_in(d, c).ok().map(|r| r.commit);
            runs_release(&services, c, here.as_deref()).is_ok()
        })
}

/// Whether `services` (a stack's, with their labels) run `c`'s known-good release: the
/// service abra's labels are stamped on carries the release's version and is no chaos
/// deploy (a chaos deploy keeps the last release's version label, as abra does), or one only
/// of the release's own commit (`c`'s, or `also`, the release's in this run's clone) with
/// the CI overlay beside it. `Err` says what runs instead.
fn runs_release(
    services: &[(String, std::collections::HashMap<String, String>)],
    c: &Canonical,
    also: Option<&str>,
) -> Result<(), String> {
    let Some((_, stamp)) = ccci_abra::Stamp::find(&c.stack, services) else {
        return Err(match services.is_empty() {
            true => format!("its stack {} is not on the Swarm", c.stack),
            false => "no service carries its version label".into(),
        });
    };
    // The release deployed with the CI overlay beside its checkout is a chaos deploy of the
    // release's own commit with an untracked file (`<commit>+U`), as abra stamps it; a head
    // left behind carries another commit. The release may be tagged on another commit in
    // this run's clone than in the one that made the canonical.
    let own_chaos = [Some(c.commit.as_str()), also]
        .into_iter()
        .flatten()
        .any(|commit| {
            stamp.chaos_version.as_deref()
                == Some(&ccci_core::ChaosVersion::new(commit, true).to_string())
        });
    match (stamp.version.as_deref() == Some(&c.version), stamp.chaos) {
        (true, Some(false)) => Ok(()),
        (true, Some(true)) if own_chaos => Ok(()),
        _ => Err(format!(
            "it runs {} (chaos: {}), not the known-good release {}",
            stamp.version.as_deref().unwrap_or("no version"),
            stamp.chaos.map_or("?".to_string(), |c| c.to_string()),
            c.version
        )),
    }
}

/// The release `c` records, as the recipe clone in `d` tags it (by version: a clone made
/// elsewhere, the pull request's, names the same release by another commit only if it was
/// rewritten, and then its own commit is the one to deploy).
fn release_in(d: &Deployment, c: &Canonical) -> Result<Release, HarnessError> {
    d.refs
        .releases
        .iter()
        .find(|r| r.version.to_string() == c.version)
        .cloned()
        .ok_or_else(|| HarnessError::CanonicalFailed {
            stack: c.stack.clone(),
            version: c.version.clone(),
            why: format!(
                "the recipe repository under test has no release {} (its tags: {}): the canonical's known-good release must be tagged in it",
                c.version,
                d.refs
                    .releases
                    .iter()
                    .map(|r| r.tag.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// The quick lane's first step: the recipe's canonical, as its record says, found on the
/// Swarm and proven known-good; one that is not (its data gone behind ccci's back, not
/// healthy, left at another version) is rebuilt cold at its known-good release first, never
/// trusted. The deployment is the canonical's, upgraded next by the upgrade step; the run's
/// `OpState` starts from what the canonical's seeding remembered.
pub(crate) async fn adopt(
    shared: &Shared,
    slot: &mut Option<Deployment>,
    deadline: Deadline,
) -> Result<(), StepError> {
    let recipe = shared.meta.recipe.clone();
    if !shared.meta.canonical {
        return Err(HarnessError::NotEnrolled { recipe }.into());
    }
    let records = Records::at(&shared.settings.canonical_dir);
    let c = records
        .load(&recipe)?
        .ok_or_else(|| HarnessError::NoCanonical {
            recipe: recipe.clone(),
            dir: records.of(&recipe),
        })?;
    let d = slot.insert(
        Deployment::prepare_as(shared, placement(shared, &c.domain, false), deadline).await?,
    );
    d.on_swarm = true;
    d.refs.base = Some(release_in(d, &c)?);
    shared.record(|r| r.base = d.refs.base_ref());
    if c.web {
        d.assume_deployed()?;
    }
    let untrusted = check_known_good(shared, d, &c, deadline).await.err();
    let c = match untrusted.clone() {
        None => c,
        Some(why) => {
            eprintln!(
                "ccci: quick: the canonical {} is not known-good ({why}): rebuilding it cold at {}",
                c.stack, c.version
            );
            d.engine.remove(&d.app, deadline).await?;
            let release = release_in(d, &c)?;
            let fresh = establish(shared, d, &release, c.proven_by.clone(), deadline).await?;
            records.save(&fresh)?;
            fresh
        }
    };
    eprintln!(
        "ccci: quick: the canonical {} is known-good at {}; the head goes on it",
        c.stack, c.version
    );
    // The head's tests start from what the canonical's seeding remembered (an account it
    // made, say), as a cold run's functional tests start from what its ladder stored.
    shared.op_state.extend(&c.seeded);
    d.untrusted = untrusted;
    d.canonical = Some(c);
    Ok(())
}

/// What `canonical up` and a green cold run of the latest release do: the recipe's
/// canonical made at the run's release where there is none, or promoted to it: upgraded in
/// place, seeded and snapshotted again, and its record replaced only once the new one is
/// proven; a promotion that fails puts the old canonical back. `None` when the canonical is
/// already known-good at that release.
pub(crate) async fn make_or_promote(
    shared: &Shared,
    proven_by: Option<String>,
    deadline: Deadline,
) -> Result<Option<CanonicalOutcome>, HarnessError> {
    let recipe = shared.meta.recipe.clone();
    let records = Records::at(&shared.settings.canonical_dir);
    let old = records.load(&recipe)?;
    let domain = old
        .as_ref()
        .map_or_else(|| canonical_domain(&recipe), |c| c.domain.clone());
    let mut d = Deployment::prepare_as(shared, placement(shared, &domain, true), deadline).await?;
    let Some(release) = d.refs.head_release.clone() else {
        return Err(HarnessError::CanonicalNotRelease {
            reference: d.refs.head.reference.clone(),
        });
    };
    if let Some(old) = &old {
        if old.web {
            d.assume_deployed()?;
        }
        if old.version == release.version.to_string()
            && check_known_good(shared, &d, old, deadline).await.is_ok()
        {
            eprintln!(
                "ccci: canonical: {} is known-good at {} already",
                old.stack, old.version
            );
            return Ok(None);
        }
    }
    if old.is_none() {
        refuse_unrecorded(shared, &d, &release).await?;
    }
    d.on_swarm = true;
    let made = establish(shared, &mut d, &release, proven_by, deadline).await;
    let mut outcome = CanonicalOutcome {
        action: match &old {
            Some(o) => CanonicalAction::Promoted {
                from: o.version.clone(),
            },
            None => CanonicalAction::Made,
        },
        domain: d.app.domain.clone(),
        stack: d.app.stack.clone(),
        version: release.version.to_string(),
        untrusted: None,
        restored: false,
        known_good: true,
        proof: String::new(),
        problem: None,
    };
    match (made, &old) {
        (Ok(c), _) => {
            records.save(&c)?;
            outcome.proof = c.proof();
        }
        (Err(e), Some(old)) => {
            eprintln!(
                "ccci: canonical: the promotion failed ({e}); putting {} back",
                old.version
            );
            let back = return_to(shared, &mut d, old, true, deadline).await;
            records.remove_snapshots_but(&recipe, old.snapshot.as_deref());
            outcome = CanonicalOutcome {
                action: outcome.action,
                problem: Some(format!("the promotion failed: {e}")),
                ..back
            };
        }
        (Err(e), None) => {
            records.remove_snapshots_but(&recipe, None);
            let _ = d.engine.remove(&d.app, deadline).await;
            return Err(e);
        }
    }
    Ok(Some(outcome))
}

/// Refuses to make a canonical where a stack of its name is on the Swarm with no record
/// here: it holds data nobody vouched for (another state directory's canonical, or one a
/// crash left), and is never deployed over.
async fn refuse_unrecorded(
    shared: &Shared,
    d: &Deployment,
    release: &Release,
) -> Result<(), HarnessError> {
    let found = d.swarm.service_labels(&d.app.stack).await?;
    if found.is_empty() {
        return Ok(());
    }
    Err(HarnessError::CanonicalFailed {
        stack: d.app.stack.clone(),
        version: release.version.to_string(),
        why: format!(
            "the stack is on the Swarm with no record in {}: point {} at the directory that keeps its record, or remove it (`docker stack rm {}`, then its volumes) if it is a leftover",
            shared.settings.canonical_dir.display(),
            ccci_core::vars::CANONICAL_DIR,
            d.app.stack
        ),
    })
}

/// What `cargo ccci canonical status` sees of a canonical on the Swarm, without the recipe's
/// code (its own checks run before every quick run).
#[derive(Debug, Clone)]
pub struct Seen {
    /// Whether it runs its known-good release (not a chaos deploy), or what runs instead.
    pub release: Result<(), String>,
    /// Whether every marker is there byte for byte, or which are not.
    pub markers: Result<(), String>,
}

/// Looks at `c` on the Swarm `DOCKER_HOST` names.
pub async fn look(c: &Canonical, deadline: Deadline) -> Seen {
    let swarm = match ccci_swarm::Swarm::connect().await {
        Ok(s) => s,
        Err(e) => {
            return Seen {
                release: Err(e.to_string()),
                markers: Err("not looked at".into()),
            }
        }
    };
    let release = match swarm.service_labels(&c.stack).await {
        Err(e) => Err(e.to_string()),
        Ok(services) => runs_release(&services, c, None),
    };
    let markers: Vec<Marker> = c.markers.iter().map(marker).collect();
    let markers = match ccci_abra::markers::not_restored(&swarm, &c.stack, &markers, deadline).await
    {
        Ok(lost) if lost.is_empty() => Ok(()),
        Ok(lost) => Err(format!("gone: {}", lost.join(", "))),
        Err(e) => Err(e.to_string()),
    };
    Seen { release, markers }
}

/// Removes `recipe`'s canonical from the Swarm and forgets it on this host: `cargo ccci
/// canonical down`. What the removal left, by name (empty when nothing).
///
/// # Errors
/// The Swarm cannot be reached or the record cannot be removed.
pub async fn down(
    records: &Records,
    recipe: &str,
    deadline: Deadline,
) -> Result<Option<(Canonical, Vec<String>)>, HarnessError> {
    let Some(c) = records.load(recipe)? else {
        return Ok(None);
    };
    let swarm = ccci_swarm::Swarm::connect().await?;
    let left = ccci_abra::remove_stack(&swarm, &c.stack, deadline).await?;
    if left.is_empty() {
        records.forget(recipe)?;
    }
    Ok(Some((c, left)))
}
