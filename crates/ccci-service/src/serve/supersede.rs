//! A push to a pull request supersedes the runs of its older heads, as operators expect of a
//! CI service: a queued one is cancelled and its head's status says by which commit; a
//! running one is asked to stop (its host's runner stops it: it tears down and writes its
//! results) and says the same when it has. One running and at most one queued job per pull
//! request: the new head runs at once when the repository says `auto_rerun: true`, else at
//! the next `!testme`.

use super::asked::Push;
use super::outbox::Call;
use super::{now, Service};
use ccci_forge::StatusState;
use ccci_store::NewJob;
use std::sync::Arc;

/// What a superseded run's head is told: which commit superseded it, and what happens next.
pub fn told(head: &str, auto_rerun: bool) -> String {
    let short = ccci_core::short_commit(head);
    match auto_rerun {
        true => format!("superseded by {short}, which runs now"),
        false => format!("superseded by {short}: comment `!testme` to run it"),
    }
}

/// Supersedes the older heads' runs of `push`'s pull request, and queues its head when the
/// repository asks for that; what was done, in a line.
pub async fn pushed(svc: &Arc<Service>, push: &Push) -> Result<String, String> {
    let auto_rerun = svc
        .config
        .repositories
        .get(&push.repo)
        .is_some_and(|r| r.auto_rerun);
    let (repo, pr, head) = (push.repo.clone(), push.pr, push.head.clone());
    let superseded = svc
        .ask(move |s| s.supersede(&repo, pr, &head, now()))
        .await?;
    let short = ccci_core::short_commit(&push.head);
    for j in &superseded.queued {
        tracing::info!(job = j.id, by = short, "job superseded before it ran");
        let status = Call::Status {
            repo: j.asked.repo.clone(),
            sha: j.asked.head_sha.clone(),
            state: StatusState::Error,
            description: told(&push.head, auto_rerun),
            target_url: svc.public.job(&j.id),
        };
        if let Err(e) = svc.tell(Some(&j.id), &status).await {
            tracing::error!(job = j.id, "the superseded status cannot be queued: {e}");
        }
    }
    for j in &superseded.running {
        tracing::info!(job = j.id, by = short, "run asked to stop: superseded");
    }
    let mut said = format!(
        "a push to #{}: {} queued and {} running job(s) of older heads superseded by {short}",
        push.pr,
        superseded.queued.len(),
        superseded.running.len()
    );
    if let Some(r) = svc
        .config
        .repositories
        .get(&push.repo)
        .filter(|r| r.auto_rerun)
    {
        let job = NewJob {
            repo: push.repo.clone(),
            pr: push.pr,
            head_sha: push.head.clone(),
            clone_url: push.clone_url.clone(),
            recipe: r.recipe.clone(),
            test_crate: r.test_crate.clone(),
            lane: ccci_core::results::Lane::Cold,
            requested_by: "a push (auto_rerun)".into(),
            trigger_comment: None,
            keep: None,
        };
        let queued = super::intake::enqueue(svc, job, now()).await?;
        said.push_str(&format!("; {queued}"));
    }
    Ok(said)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::double::{new_job as job, service, Double, REPO};

    fn push(head: &str) -> Push {
        Push {
            repo: REPO.into(),
            pr: 1,
            head: head.into(),
            clone_url: "git://127.0.0.1/coop-cloud/custom-html.git".into(),
        }
    }

    /// A push cancels the old head's queued job and tells its head; with `auto_rerun` the
    /// new head is queued at once, with its pending status, and without it nothing is.
    #[tokio::test]
    async fn a_push_cancels_the_old_head_and_runs_the_new_one_when_asked() {
        for auto_rerun in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let svc = service(tmp.path(), Arc::new(Double::default()), auto_rerun);
            svc.store.enqueue(&job("aaaa1111"), 1, 1).unwrap();

            let said = pushed(&svc, &push("bbbb2222")).await.unwrap();
            assert!(said.contains("1 queued and 0 running job(s)"), "{said}");
            let jobs = svc.store.jobs(10).unwrap();
            let old = jobs
                .iter()
                .find(|j| j.asked.head_sha == "aaaa1111")
                .unwrap();
            assert_eq!(old.state, ccci_store::JobState::Cancelled);
            let new: Vec<_> = jobs
                .iter()
                .filter(|j| j.asked.head_sha == "bbbb2222")
                .collect();
            assert_eq!(
                new.len(),
                usize::from(auto_rerun),
                "auto_rerun {auto_rerun}: {jobs:#?}"
            );

            let calls: Vec<Call> = svc
                .store
                .outbox_due(i64::MAX / 2, 100)
                .unwrap()
                .iter()
                .map(|o| serde_json::from_str(&o.call).unwrap())
                .collect();
            let told_old = calls.iter().any(|c| {
                matches!(c,
                Call::Status { sha, state: StatusState::Error, description, .. }
                    if sha == "aaaa1111" && *description == told("bbbb2222", auto_rerun))
            });
            assert!(told_old, "{calls:?}");
            let pending_new = calls.iter().any(|c| {
                matches!(c,
                Call::Status { sha, state: StatusState::Pending, .. } if sha == "bbbb2222")
            });
            assert_eq!(pending_new, auto_rerun, "{calls:?}");
        }
    }
}
