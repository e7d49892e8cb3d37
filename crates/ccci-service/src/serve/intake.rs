//! What an accepted `!testme` becomes. The commenter's permission is asked of the forge
//! (write, admin or owner may start runs; anyone else gets a reply saying so); the comment
//! gets a reaction; the pull request's head is pinned from git itself (`refs/pull/N/head`, the
//! commit that will run) and refused, with a reply, when the forge's timeline shows a push
//! after the comment (the commenter did not see that commit); the run is queued (a second `!testme` for a head already queued or
//! running is that run) and the head's status set to `pending`. A forge or git that cannot be
//! reached is asked again later: the delivery waits in the store until it is acted on.

use super::asked::Intake;
use super::outbox::Call;
use super::{backoff, now, proc, Service};
use ccci_forge::{ForgeError, Permission, StatusState};
use ccci_store::{Enqueued, NewJob};
use std::sync::Arc;
use std::time::Duration;

/// How long pinning a head may take (`git ls-remote`).
const PIN: Duration = Duration::from_secs(60);

/// A delivery retried this many times is given up, and the pull request told.
const GIVE_UP_AFTER: u32 = 12;

/// How many deliveries are acted on at once: each waits mostly on the forge and git.
const AT_ONCE: usize = 8;

/// Acts on accepted deliveries as they come, and on those waiting for a retry when due,
/// [`AT_ONCE`] at a time (each is taken by one actor only).
pub async fn work(svc: Arc<Service>) {
    loop {
        let due = svc.ask(|s| s.due_deliveries(now(), 32)).await;
        match due {
            Ok(due) if !due.is_empty() => {
                let mut acting = tokio::task::JoinSet::new();
                for d in due {
                    if acting.len() >= AT_ONCE {
                        acting.join_next().await;
                    }
                    let svc = svc.clone();
                    acting.spawn(async move { act(&svc, &d).await });
                }
                while acting.join_next().await.is_some() {}
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!("intake: the store: {e}"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), svc.intake.notified()).await;
    }
}

/// What became of one delivery.
enum Acted {
    /// Done: with what.
    Done(String),
    /// Try again later: why now not.
    Later(String),
}

async fn act(svc: &Arc<Service>, d: &ccci_store::Accepted) {
    let (id, attempts) = (d.id.as_str(), d.attempts);
    let taken = {
        let id = id.to_string();
        svc.ask(move |s| s.take_delivery(&id, now())).await
    };
    match taken {
        Ok(true) => {}
        // Another host of the store acts on it.
        Ok(false) => return,
        Err(e) => return tracing::error!(delivery = id, "intake: the store: {e}"),
    }
    let acted = match serde_json::from_str::<Intake>(&d.request) {
        Ok(intake) => intake_one(svc, &intake, d.received_at).await,
        Err(e) => Acted::Done(format!("not an intake this service wrote: {e}")),
    };
    let (id, now) = (id.to_string(), now());
    let result = match acted {
        Acted::Done(note) => {
            tracing::info!(delivery = id, "delivery acted on: {note}");
            svc.ask(move |s| s.delivery_done(&id, &note)).await
        }
        Acted::Later(why) if attempts >= GIVE_UP_AFTER => {
            tracing::error!(delivery = id, attempts, "delivery given up: {why}");
            svc.ask(move |s| s.delivery_done(&id, &format!("given up: {why}")))
                .await
        }
        Acted::Later(why) => {
            let again = backoff(attempts);
            tracing::warn!(
                delivery = id,
                attempts,
                again_in_s = again,
                "delivery to be tried again: {why}"
            );
            let at = now + again;
            svc.ask(move |s| s.delivery_retry(&id, at, &why)).await
        }
    };
    if let Err(e) = result {
        tracing::error!("intake: the store: {e}");
    }
}

/// One `!testme`, in order: the commenter may start runs, the comment gets its reaction,
/// the head is pinned, the head did not move since the comment, the run is queued. Each step
/// either lets the next go on or is what became of the delivery.
async fn intake_one(svc: &Arc<Service>, i: &Intake, asked: i64) -> Acted {
    let Some(repo) = svc.config.repositories.get(&i.repo) else {
        return Acted::Done(format!("{} is no longer configured", i.repo));
    };
    if let Err(acted) = permitted(svc, i).await {
        return acted;
    }
    let eyes = Call::React {
        repo: i.repo.clone(),
        comment_id: i.comment_id,
        content: "eyes".into(),
    };
    if let Err(e) = svc.tell(None, &eyes).await {
        return Acted::Later(e);
    }
    let head_sha = match pin(svc, i).await {
        Ok(head) => head,
        Err(acted) => return acted,
    };
    if let Err(acted) = not_moved(svc, i, &head_sha, asked).await {
        return acted;
    }
    queue(svc, i, repo, head_sha, asked).await
}

/// Whether the commenter may start runs (write, admin or owner); else what became of it.
async fn permitted(svc: &Arc<Service>, i: &Intake) -> Result<(), Acted> {
    match svc.forge.permission(&i.repo, &i.user).await {
        Ok(Permission::Write) => Ok(()),
        Ok(Permission::Read) => {
            let body = format!(
                "@{}: ccci runs start only for collaborators with write access to {} (or its admins): ask one of them to comment `!testme`.",
                i.user, i.repo
            );
            Err(reply(svc, i, body, "refused: no write access").await)
        }
        Err(e) if e.retryable() => Err(Acted::Later(e.to_string())),
        Err(ForgeError::Status { status: 403, .. }) => {
            let why = format!(
                "the forge does not tell this service's account a collaborator's permission on {}: Gitea answers it only to the repository's administrators (or a site administrator); make the token's account an administrator of {} (its token needs `read:repository`)",
                i.repo, i.repo
            );
            tracing::error!(repo = i.repo, "{why}");
            Err(Acted::Done(why))
        }
        Err(e) => Err(Acted::Done(format!(
            "the commenter's permission could not be had: {e}"
        ))),
    }
}

/// The pull request's head, pinned from git itself (`refs/pull/N/head`): the commit that
/// will run.
async fn pin(svc: &Arc<Service>, i: &Intake) -> Result<String, Acted> {
    let pull_ref = format!("refs/pull/{}/head", i.pr);
    let listed = proc::run(
        "git",
        &["ls-remote", &i.clone_url, &pull_ref],
        None,
        &[],
        PIN,
    )
    .await
    .map_err(|e| Acted::Later(format!("the pull request's head could not be read: {e}")))?;
    match listed.split_whitespace().next() {
        Some(head) => Ok(head.to_string()),
        None => {
            let body = format!(
                "ccci found no `{pull_ref}` at {}: is this a pull request of {}?",
                i.clone_url, i.repo
            );
            Err(reply(svc, i, body, "no such head").await)
        }
    }
}

/// Refuses, with a reply, a head pushed to after the comment: the commit that runs must be
/// the one the commenter saw. When the delivery does not say when the comment was written,
/// after it arrived (`asked`). The pin came first, so a push after it is caught here too and
/// refused, never run.
async fn not_moved(
    svc: &Arc<Service>,
    i: &Intake,
    head_sha: &str,
    asked: i64,
) -> Result<(), Acted> {
    let since = i.comment_at.unwrap_or(u64::try_from(asked).unwrap_or(0));
    match svc.forge.pushes_since(&i.repo, i.pr, since).await {
        Ok(pushes) => match pushes.last() {
            None => Ok(()),
            Some(last) => {
                let body = format!(
                    "@{}: the pull request was pushed to after your `!testme` (at {}; its head is now {}), so nothing runs: ccci runs only the commit its commenter saw. Read the new commits and comment `!testme` again.",
                    i.user,
                    ccci_core::time::rfc3339(*last),
                    ccci_core::short_commit(head_sha)
                );
                Err(reply(svc, i, body, "refused: the head moved after the comment").await)
            }
        },
        Err(e) if e.retryable() => Err(Acted::Later(e.to_string())),
        Err(e) => {
            let body = format!(
                "ccci could not make sure the pull request was not pushed to after the `!testme` of @{} (the forge's timeline: {e}), so nothing runs; the operator must give the service's token `read:issue`.",
                i.user
            );
            let note = "refused: the pushes since the comment could not be read";
            Err(reply(svc, i, body, note).await)
        }
    }
}

/// Queues the run of `head_sha` (a head already queued or running is that job) and sets its
/// status to `pending`.
async fn queue(
    svc: &Arc<Service>,
    i: &Intake,
    repo: &super::config::Repository,
    head_sha: String,
    asked: i64,
) -> Acted {
    let job = NewJob {
        repo: i.repo.clone(),
        pr: i.pr,
        head_sha,
        clone_url: i.clone_url.clone(),
        recipe: repo.recipe.clone(),
        test_crate: repo.test_crate.clone(),
        // `!testme quick`: on the recipe's warm canonical; the run refuses (could not run,
        // said on the pull request) when this host keeps none.
        lane: ccci_core::results::Lane::of(i.quick),
        requested_by: i.user.clone(),
        trigger_comment: Some(i.comment_id),
        // `!testme keep=30m`: a red run's deployment is kept that long, within the
        // operator's `max_keep`.
        keep: i.keep,
    };
    match enqueue(svc, job, asked).await {
        Ok(note) => Acted::Done(note),
        Err(e) => Acted::Later(e),
    }
}

/// Queues `job` (a head already queued or running is that job) and sets its status to
/// `pending`; what became of it, in a line.
pub(super) async fn enqueue(svc: &Arc<Service>, job: NewJob, asked: i64) -> Result<String, String> {
    let short = ccci_core::short_commit(&job.head_sha).to_string();
    let (repo, pr, head_sha, recipe, lane) = (
        job.repo.clone(),
        job.pr,
        job.head_sha.clone(),
        job.recipe.clone(),
        job.lane,
    );
    let id = match svc.ask(move |s| s.enqueue(&job, asked, now())).await? {
        Enqueued::New(id) => id,
        Enqueued::Existing(id) => {
            return Ok(format!("the same head is job {id}, queued or running"))
        }
    };
    tracing::info!(
        job = id,
        repo,
        pr,
        head = short,
        lane = lane.as_str(),
        "job queued"
    );
    let pending = Call::Status {
        repo,
        sha: head_sha,
        state: StatusState::Pending,
        description: format!("queued: {recipe} at {short}"),
        target_url: svc.public.job(&id),
    };
    if let Err(e) = svc.tell(Some(&id), &pending).await {
        tracing::error!(job = id, "the pending status cannot be queued: {e}");
    }
    svc.runners.notify_waiters();
    Ok(format!("queued job {id} for {short}"))
}

/// Replies `body` on the intake's pull request and calls the delivery done with `note`, or
/// later if the store is away.
async fn reply(svc: &Arc<Service>, i: &Intake, body: String, note: &str) -> Acted {
    let call = Call::Reply {
        repo: i.repo.clone(),
        pr: i.pr,
        body,
    };
    match svc.tell(None, &call).await {
        Ok(()) => Acted::Done(note.into()),
        Err(e) => Acted::Later(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::double::{pull_request, service, Double, REPO};
    use std::collections::BTreeMap;

    fn intake(user: &str, clone_url: &str, comment_at: u64) -> Intake {
        Intake {
            repo: REPO.into(),
            pr: 1,
            comment_id: 42,
            user: user.into(),
            quick: false,
            keep: None,
            clone_url: clone_url.into(),
            comment_at: Some(comment_at),
        }
    }

    /// The calls the outbox holds, as the service would make them.
    fn outbox(svc: &Service) -> Vec<Call> {
        svc.store
            .outbox_due(i64::MAX / 2, 100)
            .unwrap()
            .iter()
            .map(|o| serde_json::from_str(&o.call).unwrap())
            .collect()
    }

    fn reply_text(calls: &[Call]) -> String {
        calls
            .iter()
            .filter_map(|c| match c {
                Call::Reply { body, .. } => Some(body.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each way an accepted `!testme` ends, decided with the forge a double: a commenter
    /// without write access gets a reply and nothing runs; a head pushed to after the comment
    /// gets a reply and nothing runs; a writer's head is queued, once, with its pending
    /// status and the reaction.
    #[tokio::test]
    async fn a_testme_is_refused_or_queued_as_the_forge_answers() {
        let tmp = tempfile::tempdir().unwrap();
        let (url, head) = pull_request(tmp.path());
        let now = u64::try_from(now()).unwrap();

        let forge = Arc::new(Double {
            writers: vec!["alice".into()],
            pushes: BTreeMap::from([(1, vec![now - 600, now - 3])]),
            ..Double::default()
        });
        let svc = service(tmp.path(), forge.clone(), false);

        let refused = intake_one(&svc, &intake("mallory", &url, now - 10), now as i64).await;
        assert!(matches!(&refused, Acted::Done(n) if n == "refused: no write access"));
        assert!(reply_text(&outbox(&svc))
            .contains("@mallory: ccci runs start only for collaborators with write access"));

        let moved = intake_one(&svc, &intake("alice", &url, now - 10), now as i64).await;
        assert!(
            matches!(&moved, Acted::Done(n) if n == "refused: the head moved after the comment")
        );
        let said = reply_text(&outbox(&svc));
        assert!(
            said.contains(&format!(
                "its head is now {}",
                ccci_core::short_commit(&head)
            )),
            "{said}"
        );
        assert!(svc.store.jobs(10).unwrap().is_empty(), "nothing queued");

        let queued = intake_one(&svc, &intake("alice", &url, now - 1), now as i64).await;
        let Acted::Done(note) = queued else {
            panic!("not done")
        };
        assert!(note.starts_with("queued job "), "{note}");
        let jobs = svc.store.jobs(10).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(
            jobs[0].asked.head_sha, head,
            "the head pinned from refs/pull/1/head"
        );
        let calls = outbox(&svc);
        assert!(calls.iter().any(|c| matches!(c, Call::Status { state: StatusState::Pending, sha, .. } if *sha == head)), "{calls:?}");
        assert!(
            calls
                .iter()
                .any(|c| matches!(c, Call::React { comment_id: 42, .. })),
            "{calls:?}"
        );

        let again = intake_one(&svc, &intake("alice", &url, now - 1), now as i64).await;
        assert!(matches!(&again, Acted::Done(n) if n.starts_with("the same head is job")));
        assert_eq!(svc.store.jobs(10).unwrap().len(), 1, "one job for one head");
        let asked = forge.asked.lock().unwrap().clone();
        assert!(
            asked.contains(&"permission coop-cloud/custom-html mallory".to_string()),
            "{asked:?}"
        );
    }
}
