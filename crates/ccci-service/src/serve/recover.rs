//! At start: the jobs this host was running when it stopped without ending them (a `kill -9`,
//! a crash, the machine down). A run still going is stopped (it tears down); the janitor removes
//! what a dead run left on the Swarm; the job is queued once more, and a second loss is an
//! error. The pull request is told either way.

use super::outbox::Call;
use super::runner::STOP_GRACE;
use super::{now, proc, Service};
use ccci_forge::StatusState;
use ccci_store::{Job, JobState};
use std::sync::Arc;
use std::time::Duration;

/// How long the janitor may take.
const JANITOR: Duration = Duration::from_secs(10 * 60);

/// Recovers this host's lost jobs, before it takes new ones: each run still going stopped,
/// the janitor run once, then each job queued again or, lost a second time, given up.
pub async fn lost_runs(svc: &Arc<Service>) {
    let host = svc.config.host.clone();
    let lost = match svc.ask(move |s| s.running_on(&host)).await {
        Ok(l) => l,
        Err(e) => return tracing::error!("recovery: this host's runs cannot be listed: {e}"),
    };
    if lost.is_empty() {
        return;
    }
    for job in &lost {
        if let Some((pid, start)) = job.pid {
            if ccci_core::host::process_alive(pid, start) {
                tracing::warn!(
                    job = job.id,
                    pid,
                    "recovery: the run outlived the service that started it: stopping it"
                );
                ccci_process::stop_group(pid, STOP_GRACE).await;
            }
        }
    }
    janitor(svc).await;
    for job in lost {
        again_or_given_up(svc, &job).await;
    }
    svc.runners.notify_waiters();
}

/// `cargo ccci janitor`: what the dead runs left on the Swarm, removed.
async fn janitor(svc: &Arc<Service>) {
    let cargo_ccci = super::runner::cargo_ccci(svc);
    let program = cargo_ccci.to_string_lossy();
    match proc::run(
        &program,
        &["ccci", "janitor"],
        Some(&svc.config.workspace),
        &svc.config.tested_swarm_env(),
        JANITOR,
    )
    .await
    {
        Ok(out) => tracing::info!("recovery: the janitor: {out}"),
        Err(e) => tracing::error!("recovery: the janitor: {e}"),
    }
}

/// A lost job queued again, or given up when it was lost before; its pull request told.
async fn again_or_given_up(svc: &Arc<Service>, job: &Job) {
    let a = &job.asked;
    let short = ccci_core::short_commit(&a.head_sha);
    let why = format!(
        "the service on {} stopped while this run was going",
        svc.config.host
    );
    let (id, w) = (job.id.clone(), why.clone());
    let (calls, result) = if job.attempts < 2 {
        let body = format!("ccci: {why}; running `{short}` again.");
        let reply = Call::Reply {
            repo: a.repo.clone(),
            pr: a.pr,
            body,
        };
        (vec![reply], svc.ask(move |s| s.requeue(&id, &w)).await)
    } else {
        let body = format!(
            "ccci: {why}, a second time; giving up on `{short}`: comment `!testme` to try again."
        );
        let status = Call::Status {
            repo: a.repo.clone(),
            sha: a.head_sha.clone(),
            state: StatusState::Error,
            description: format!("lost twice: {why}"),
            target_url: svc.public.job(&job.id),
        };
        let reply = Call::Reply {
            repo: a.repo.clone(),
            pr: a.pr,
            body,
        };
        let finished = svc
            .ask(move |s| s.finish_job(&id, JobState::Error, None, &w, now()))
            .await;
        (vec![status, reply], finished)
    };
    if let Err(e) = result {
        tracing::error!(job = job.id, "recovery: {e}");
    }
    for call in &calls {
        if let Err(e) = svc.tell(Some(&job.id), call).await {
            tracing::error!(job = job.id, "recovery: {e}");
        }
    }
}
