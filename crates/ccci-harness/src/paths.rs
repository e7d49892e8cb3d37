//! The upgrade matrix (`upgrade_from` N): besides the run's own upgrade from the release
//! before the head, each of the N − 1 releases before that takes the same path at the same
//! time, in a deployment of its own: the release installed and healthy, the head deployed
//! over it as chaos, proven running, healthy and ready, then removed. A path is generic: the
//! recipe's lifecycle functions belong to the run's own deployment.
//!
//! Each path's deployment is registered in the run registry under its own name, so a run
//! killed half-way leaves nothing the janitor cannot find.

use crate::deployment::{Deployment, Placement};
use crate::error::HarnessError;
use crate::shared::Shared;
use ccci_abra::{Deployer, Release};
use ccci_core::canonical::UpgradePath;
use ccci_swarm::Deadline;
use futures_util::StreamExt;
use std::time::Instant;

/// How many extra paths deploy at once: each is a whole stack on a Swarm that other runs
/// share.
const AT_ONCE: usize = 3;

/// The record of one path.
pub(crate) fn path_record(
    base: &Release,
    stack: &str,
    error: Option<String>,
    started: Instant,
) -> UpgradePath {
    UpgradePath {
        from: base.version.to_string(),
        stack: stack.into(),
        passed: error.is_none(),
        error,
        forensics: None,
        duration_secs: started.elapsed().as_secs_f64(),
    }
}

/// Every path from `bases`, at most [`AT_ONCE`] at a time, in the order of `bases`.
pub(crate) async fn run_all(
    shared: &Shared,
    bases: &[Release],
    deadline: Deadline,
) -> Vec<UpgradePath> {
    futures_util::stream::iter(bases.iter().enumerate())
        .map(|(i, base)| one(shared, i + 2, base, deadline))
        .buffered(AT_ONCE)
        .collect()
        .await
}

/// Path `n` (the run's own is 1) from `base`, removed at its end whatever happened.
async fn one(shared: &Shared, n: usize, base: &Release, deadline: Deadline) -> UpgradePath {
    let started = Instant::now();
    let dir = shared.dir.path().join("paths").join(n.to_string());
    let id = format!("{}-path{n}", shared.run_id);
    let placement = Placement {
        domain: Some(crate::names::default_domain(&shared.meta.recipe)),
        checkout: dir.join("recipe"),
        servers: dir.join("servers"),
        registered_as: Some(id.clone()),
        labels: Vec::new(),
        records: false,
        records_deploys: false,
    };
    let mut stack = String::new();
    let mut kept = None;
    let result = match Deployment::prepare_as(shared, placement, deadline).await {
        Err(e) => Err(e),
        Ok(mut d) => {
            stack = d.app.stack.clone();
            let went = climb(shared, &mut d, base, deadline).await;
            if let (Err(e), true) = (&went, d.on_swarm) {
                kept = keep_forensics(shared, &d, base, &e.to_string()).await;
            }
            if d.on_swarm {
                let left = d
                    .engine
                    .remove(&d.app, crate::budget::Budgets::teardown(d.stop_grace))
                    .await;
                match left {
                    Ok(left) if left.is_empty() => forget(shared, &id),
                    Ok(left) => eprintln!(
                        "ccci: upgrade path from {}: left {}",
                        base.version,
                        left.join(", ")
                    ),
                    Err(e) => {
                        eprintln!("ccci: upgrade path from {}: removing it: {e}", base.version)
                    }
                }
            } else {
                forget(shared, &id);
            }
            went
        }
    };
    let error = result.err().map(|e| e.to_string());
    eprintln!(
        "ccci: upgrade path from {} {}",
        base.version,
        error
            .as_deref()
            .map_or("passed".to_string(), |e| format!("failed: {e}"))
    );
    UpgradePath {
        forensics: kept,
        ..path_record(base, &stack, error, started)
    }
}

/// The failed path's task history and log tails, in the run's forensics directory.
async fn keep_forensics(
    shared: &Shared,
    d: &Deployment,
    base: &Release,
    error: &str,
) -> Option<String> {
    let services = ccci_swarm::forensics::collect(&d.swarm, &d.app.stack, 50)
        .await
        .ok()?;
    let dir = shared.dir.forensics();
    let path = dir.join(format!("upgrade-from-{}.txt", base.version));
    let text = format!(
        "upgrade path from {}\nfailed: {error}\n\n{}",
        base.version,
        ccci_swarm::forensics::render(&services)
    );
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&path, text))
        .ok()?;
    Some(path.display().to_string())
}

fn forget(shared: &Shared, id: &str) {
    if let Some(r) = &shared.registry {
        r.forget(id);
    }
}

/// `base` installed and healthy, then the upgrade to the head.
async fn climb(
    shared: &Shared,
    d: &mut Deployment,
    base: &Release,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    eprintln!(
        "ccci: upgrade path: deploying {} {} as {}",
        shared.meta.recipe, base.version, d.app.domain
    );
    d.deploy_at(shared, "install", &base.commit, Some(base), deadline)
        .await?;
    d.wait_ready(shared, "install", deadline).await?;
    crate::steps::upgrade_in_place(shared, d, base, deadline).await
}
