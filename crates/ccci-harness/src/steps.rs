//! What the tiers, the upgrade paths and the fleet all do to a deployment, below all three:
//! the upgrade in place to the head, and the recipe's verification of a snapshot.

use crate::deployment::Deployment;
use crate::error::HarnessError;
use crate::shared::Shared;
use ccci_core::Op;
use ccci_swarm::Deadline;

/// The upgrade of `d` from `base` to the head, in place: the upgrade env set, the head
/// deployed as chaos, proven running, healthy and ready.
pub(crate) async fn upgrade_in_place(
    shared: &Shared,
    d: &mut Deployment,
    base: &ccci_abra::Release,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    let head = d.refs.head.clone();
    let short = ccci_core::short_commit(&head.commit);
    let values = crate::deps::template_values(shared, d);
    for (k, v) in &shared.meta.upgrade_extra_env {
        d.app
            .env
            .set(k, &crate::deps::expand(v, &values, "upgrade_extra_env")?);
    }
    d.app.save()?;
    eprintln!(
        "ccci: upgrade: {} {} -> head {short} (chaos) in {}",
        shared.meta.recipe, base.version, d.app.stack
    );
    d.deploy_at(shared, "upgrade", &head.commit, None, deadline)
        .await?;
    let stack = d.app.stack.clone();
    let service = &shared.meta.service;
    let label = ccci_abra::stamp::Field::ChaosVersion.key(&stack);
    let labels = d.swarm.service_labels(&stack).await?;
    let stamp = labels
        .iter()
        .find(|(n, _)| n == service)
        .map(|(_, l)| ccci_abra::Stamp::read(&stack, l))
        .filter(|s| s.chaos_version.is_some())
        .ok_or_else(|| HarnessError::NotChaos {
            stack: stack.clone(),
            service: service.clone(),
            label,
        })?;
    if !stamp
        .chaos_commit()
        .is_some_and(|r| r.is_commit(&head.commit))
    {
        return Err(HarnessError::UpgradeDidNotTake {
            running: stamp.chaos_version.unwrap_or_default(),
            head: short.to_string(),
        });
    }
    d.wait_ready(shared, "upgrade", deadline).await?;
    Ok(())
}

/// Runs every verify function on `snapshot`; `None` when all accept it, else the first
/// rejection with where the function is.
pub(crate) async fn verify(
    shared: &Shared,
    d: &Deployment,
    snapshot: &ccci_abra::Snapshot,
    state: std::sync::Arc<ccci_core::OpState>,
    deadline: Deadline,
) -> Option<String> {
    let mut fx = d.fixtures(shared, Some(Op::Backup));
    fx.snapshot = Some(snapshot.clone());
    fx.op_state = state;
    let fx = std::sync::Arc::new(fx);
    for def in &shared.hooks.verify {
        let budget = deadline.capped(shared.budgets.recipe_fn);
        if let Err(e) = crate::recipe_fn::call(def.run, fx.clone(), budget).await {
            return Some(format!(
                "backup_verify {} rejected it: {e} ({}:{})",
                def.name, def.file, def.line
            ));
        }
    }
    None
}
