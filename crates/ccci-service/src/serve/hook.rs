//! The webhook: a delivery is checked before anything is done with it, in this order, and
//! refused with the status that says why (nothing is queued for a refused one):
//!
//! | what | answer |
//! |---|---|
//! | a body over [`MAX_BODY`] (announced, or read) | 413, before it is read (announced) |
//! | no signature, id or event header | 401 (no signature), 400 |
//! | a signature that is not the body's under the service's secret | 403 |
//! | a signed body that is not JSON of the event it names | 400 |
//! | a repository the configuration does not name | 403 |
//! | a `clone_url` that is not an http(s), git or ssh URL (ccci fetches it) | 400 |
//! | a `!testme` comment written more than [`MAX_COMMENT_AGE`] ago (a replayed body) | 409 |
//! | a delivery id already seen, or its comment taken in under another id (a replay) | 409 |
//! | an event, action or comment ccci does not act on | 200, and what it is |
//! | `!testme` on a pull request, by anyone | 202: accepted, acted on by the intake |

use super::{now, Service};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use ccci_forge::{Delivery, HookError, IssueComment, Testme};
use std::sync::Arc;

/// The largest delivery taken: Gitea's comment payloads are a few kilobytes.
pub const MAX_BODY: usize = 1 << 20;

/// What the intake is asked to do: a `!testme` comment, as the delivery said it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Intake {
    /// `owner/name`.
    pub repo: String,
    /// The pull request.
    pub pr: i64,
    /// The comment that asked.
    pub comment_id: i64,
    /// Who asked.
    pub user: String,
    /// `!testme quick`.
    pub quick: bool,
    /// Where the repository is cloned from.
    pub clone_url: String,
    /// When the comment was written (Unix seconds, the forge's clock), when the delivery
    /// says: the head must not have moved since.
    #[serde(default)]
    pub comment_at: Option<u64>,
}

/// The webhook's route.
pub fn router(svc: Arc<Service>) -> Router {
    Router::new()
        .route("/hooks/forge", post(delivered))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(svc)
}

async fn delivered(State(svc): State<Arc<Service>>, request: Request) -> (StatusCode, String) {
    let (parts, body) = request.into_parts();
    let too_big = (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("a delivery is at most {MAX_BODY} bytes"),
    );
    // Announced too big: refused before a byte of it is read.
    let announced = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|n| n > MAX_BODY) {
        return too_big;
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_big;
    };
    match take(&svc, &parts.headers, &body).await {
        Ok((status, said)) => (status, said),
        Err((status, said)) => {
            eprintln!(
                "cargo ccci serve: refused a delivery ({}): {said}",
                status.as_u16()
            );
            (status, said)
        }
    }
}

type Answer = (StatusCode, String);

async fn take(svc: &Service, headers: &HeaderMap, body: &[u8]) -> Result<Answer, Answer> {
    let delivery = Delivery::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .map_err(|e| {
        let status = match e {
            HookError::Unsigned => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, e.to_string())
    })?;
    delivery
        .verify(&svc.config.webhook_secret, body)
        .map_err(|e| (StatusCode::FORBIDDEN, e.to_string()))?;
    if delivery.event != "issue_comment" {
        return accept(
            svc,
            &delivery.id,
            None,
            None,
            None,
            format!(
                "event `{}`: ccci acts on comments (issue_comment) only",
                delivery.event
            ),
        )
        .await;
    }
    let comment: IssueComment = serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("not an issue_comment payload as Gitea sends it: {e}"),
        )
    })?;
    let repo = comment.repository.full_name.clone();
    if !svc.config.repositories.contains_key(&repo) {
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "repository {repo} is not one this service runs (its configuration names {})",
                svc.config
                    .repositories
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let command = Testme::parse(&comment.comment.body);
    let ignored = match (comment.action.as_str(), comment.on_pull_request(), command) {
        ("created", true, Some(_)) => None,
        ("created", true, None) => Some("a comment that is not `!testme`".to_string()),
        ("created", false, _) => Some("a comment on an issue, not a pull request".to_string()),
        (action, _, _) => Some(format!("a comment {action}, not created")),
    };
    if let Some(what) = ignored {
        return accept(
            svc,
            &delivery.id,
            Some(&repo),
            None,
            None,
            format!("ignored: {what}"),
        )
        .await;
    }
    if let Some(age) = too_old(comment.comment.created_at.as_deref(), now()) {
        let answer = (
            StatusCode::CONFLICT,
            format!(
                "comment {} was written {age} s ago, more than {MAX_COMMENT_AGE} s: an old delivery replayed is not acted on; comment `!testme` again",
                comment.comment.id
            ),
        );
        return Err(answer);
    }
    let clone_url = &comment.repository.clone_url;
    let fetchable = ["https://", "http://", "git://", "ssh://"]
        .iter()
        .any(|s| clone_url.starts_with(s));
    if !fetchable {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("the repository's clone_url `{clone_url}` is not an http(s), git or ssh URL ccci fetches"),
        ));
    }
    let intake = Intake {
        repo: repo.clone(),
        pr: comment.issue.number,
        comment_id: comment.comment.id,
        user: comment.comment.user.login.clone(),
        quick: command == Some(Testme::Quick),
        clone_url: comment.repository.clone_url.clone(),
        comment_at: comment
            .comment
            .created_at
            .as_deref()
            .and_then(ccci_core::time::parse_rfc3339),
    };
    let request = serde_json::to_string(&intake)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let answer = accept(
        svc,
        &delivery.id,
        Some(&repo),
        Some(intake.comment_id),
        Some(request),
        format!(
            "accepted: !testme on {repo}#{} by {}",
            intake.pr, intake.user
        ),
    )
    .await?;
    svc.intake.notify_one();
    Ok((StatusCode::ACCEPTED, answer.1))
}

/// How old a `!testme` comment may be when its delivery arrives (seconds): the forge
/// delivers at once and retries a failed delivery within minutes; a body older than this is
/// a replay of a signed delivery, not a maintainer asking now.
pub const MAX_COMMENT_AGE: u64 = 3600;

/// How many seconds before `now` a comment written at `created_at` was, when that is more
/// than [`MAX_COMMENT_AGE`]. A forge that does not say when is taken at its word.
fn too_old(created_at: Option<&str>, now: i64) -> Option<u64> {
    let at = ccci_core::time::parse_rfc3339(created_at?)?;
    let age = u64::try_from(now).ok()?.saturating_sub(at);
    (age > MAX_COMMENT_AGE).then_some(age)
}

/// Records the delivery (`request`: what it asks of the intake; `comment`: the `!testme`
/// comment it carries), answering 409 for a replay of either.
async fn accept(
    svc: &Service,
    id: &str,
    repo: Option<&str>,
    comment: Option<i64>,
    request: Option<String>,
    said: String,
) -> Result<Answer, Answer> {
    let (id, repo) = (id.to_string(), repo.map(String::from));
    let taken = svc
        .ask(move |s| s.accept_delivery(&id, repo.as_deref(), comment, request.as_deref(), now()))
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    match taken {
        ccci_store::Taken::New => Ok((StatusCode::OK, said)),
        ccci_store::Taken::SameDelivery => Err((
            StatusCode::CONFLICT,
            "a delivery of this id was taken already (a replay)".into(),
        )),
        ccci_store::Taken::SameComment => Err((
            StatusCode::CONFLICT,
            "this comment was taken in already under another delivery id (a replay)".into(),
        )),
    }
}
