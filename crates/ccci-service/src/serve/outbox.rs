//! The forge calls the service makes, from the store's outbox: each job's in the order they
//! were asked for (a late `pending` never overwrites a final status), each retried with
//! backoff while the forge is away or failing, so a run's verdict reaches its pull request
//! however long the forge was down. A call the forge refuses for good (a 4xx) is marked
//! failed with the forge's words, and the next goes on.

use super::{backoff, now, Service, CONTEXT};
use ccci_forge::StatusState;
use ccci_store::OutboxState;
use std::sync::Arc;
use std::time::Duration;

/// A forge call, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    /// A reaction to a comment.
    React {
        /// `owner/name`.
        repo: String,
        /// The comment.
        comment_id: i64,
        /// `eyes`.
        content: String,
    },
    /// A commit status (context [`CONTEXT`]).
    Status {
        /// `owner/name`.
        repo: String,
        /// The commit.
        sha: String,
        /// Its state.
        state: StatusState,
        /// What it says.
        description: String,
        /// Where it links.
        target_url: String,
    },
    /// ccci's report on a pull request: its earlier comment edited, else a new one.
    Report {
        /// `owner/name`.
        repo: String,
        /// The pull request.
        pr: i64,
        /// The report (Markdown).
        body: String,
    },
    /// A new comment on a pull request.
    Reply {
        /// `owner/name`.
        repo: String,
        /// The pull request.
        pr: i64,
        /// What it says.
        body: String,
    },
}

impl Call {
    /// What it is, for the log: its kind and what it is made on.
    pub fn describe(&self) -> String {
        match self {
            Call::React {
                repo,
                comment_id,
                content,
            } => format!("react {content} to comment {comment_id} of {repo}"),
            Call::Status {
                repo, sha, state, ..
            } => format!(
                "status {} on {repo}@{}",
                state.as_str(),
                ccci_core::short_commit(sha)
            ),
            Call::Report { repo, pr, .. } => format!("report on {repo}#{pr}"),
            Call::Reply { repo, pr, .. } => format!("reply on {repo}#{pr}"),
        }
    }

    /// What it tells the pull request, in a line for people (the job's page shows it).
    pub fn summary(&self) -> String {
        match self {
            Call::React { content, .. } => format!("a reaction ({content}) to the comment"),
            Call::Status {
                state, description, ..
            } => format!("status {}: {description}", state.as_str()),
            Call::Report { .. } => "the report comment (edited in place by later runs)".into(),
            Call::Reply { body, .. } => {
                let line = body.lines().next().unwrap_or_default();
                let mut said: String = line.chars().take(200).collect();
                if said.len() < line.len() {
                    said.push('…');
                }
                format!("a reply: {said}")
            }
        }
    }

    /// Its kind, as the outbox lists it.
    pub fn kind(&self) -> &'static str {
        match self {
            Call::React { .. } => "react",
            Call::Status { .. } => "status",
            Call::Report { .. } => "report",
            Call::Reply { .. } => "reply",
        }
    }
}

/// Makes the forge calls as they come, and those waiting for a retry when due.
pub async fn work(svc: Arc<Service>) {
    loop {
        match svc.ask(|s| s.outbox_due(now(), 32)).await {
            Ok(due) if !due.is_empty() => {
                for item in due {
                    send(&svc, &item.id, &item.call, item.attempts).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!("outbox: the store: {e}"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), svc.outbox.notified()).await;
    }
}

async fn send(svc: &Arc<Service>, id: &str, call: &str, attempts: u32) {
    let taken = {
        let id = id.to_string();
        svc.ask(move |s| s.take_outgoing(&id, now())).await
    };
    match taken {
        Ok(true) => {}
        // Another host of the store makes it.
        Ok(false) => return,
        Err(e) => return tracing::error!("outbox: the store: {e}"),
    }
    let (outcome, what) = match serde_json::from_str::<Call>(call) {
        Ok(call) => (make(svc, &call).await, call.describe()),
        Err(e) => (
            Err((false, format!("not a call this service wrote: {e}"))),
            "a call".into(),
        ),
    };
    let id = id.to_string();
    let (state, next_at, error) = match outcome {
        Ok(()) => {
            tracing::info!(call = id, attempts, "forge: {what}: done");
            (OutboxState::Sent, now(), None)
        }
        Err((true, why)) => {
            let again = backoff(attempts);
            tracing::warn!(
                call = id,
                attempts,
                again_in_s = again,
                "forge: {what}: to be tried again: {why}"
            );
            (OutboxState::Pending, now() + again, Some(why))
        }
        Err((false, why)) => {
            tracing::error!(
                call = id,
                attempts,
                "forge: {what}: refused for good: {why}"
            );
            (OutboxState::Failed, now(), Some(why))
        }
    };
    if let Err(e) = svc
        .ask(move |s| s.outbox_mark(&id, state, next_at, error.as_deref()))
        .await
    {
        tracing::error!("outbox: the store: {e}");
    }
}

/// Makes `call`; the error says whether a retry may help.
async fn make(svc: &Arc<Service>, call: &Call) -> Result<(), (bool, String)> {
    let failed = |e: ccci_forge::ForgeError| (e.retryable(), e.to_string());
    let f = &svc.forge;
    match call {
        Call::React {
            repo,
            comment_id,
            content,
        } => f.react(repo, *comment_id, content).await.map_err(failed),
        Call::Status {
            repo,
            sha,
            state,
            description,
            target_url,
        } => {
            let status = ccci_forge::CommitStatus {
                repo,
                sha,
                state: *state,
                context: CONTEXT,
                description,
                target_url,
            };
            f.status(&status).await.map_err(failed)
        }
        Call::Reply { repo, pr, body } => {
            f.comment(repo, *pr, body).await.map(drop).map_err(failed)
        }
        Call::Report { repo, pr, body } => report(svc, repo, *pr, body).await,
    }
}

/// Edits ccci's earlier report on the pull request (the store remembers it; else it is found
/// by its marker), or comments anew and remembers that.
async fn report(svc: &Arc<Service>, repo: &str, pr: i64, body: &str) -> Result<(), (bool, String)> {
    let failed = |e: ccci_forge::ForgeError| (e.retryable(), e.to_string());
    let (r, known) = (
        repo.to_string(),
        svc.ask({
            let repo = repo.to_string();
            move |s| s.pr_comment(&repo, pr)
        })
        .await
        .map_err(|e| (true, e))?,
    );
    let id = crate::tell::upsert_report(svc.forge.as_ref(), repo, pr, body, known)
        .await
        .map_err(failed)?;
    svc.ask(move |s| s.set_pr_comment(&r, pr, id))
        .await
        .map_err(|e| (true, e))
}
