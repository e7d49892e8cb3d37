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
//! | a push to a pull request (`pull_request`, `synchronized`) | 200: the runs of its older heads superseded, what was |
//! | `!testme` by a commenter the forge says may not start runs | 200, said so; the intake replies on the pull request |
//! | `!testme` on a pull request, by a writer (or a forge that did not answer within 3 s) | 202: accepted, acted on by the intake |
//!
//! The body reaches the webhook only through the [`Signed`] extractor (size, headers,
//! signature: [`signed`]); [`decide`] is every later row but the replay, from the delivery and
//! the configuration alone. Both are pure functions, tested row by row; the replay is the
//! store's to know. Every refusal is a [`Refusal`], answered with its status in one place.

use super::asked::{Intake, Push};
use super::{now, Service};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ccci_forge::{Delivery, HookError, IssueComment, Testme};
use std::sync::Arc;

/// The largest delivery taken: Gitea's comment payloads are a few kilobytes.
pub const MAX_BODY: usize = 1 << 20;

/// The webhook's route.
pub fn router(svc: Arc<Service>) -> Router {
    Router::new()
        .route("/hooks/forge", post(delivered))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(svc)
}

/// Why a delivery is refused. Each is answered with its status ([`Refusal::status`]), here
/// and nowhere else; nothing is queued for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Over [`MAX_BODY`], announced or read.
    #[error("a delivery is at most {MAX_BODY} bytes")]
    TooBig,
    /// Its headers lack a signature, id or event, or its signature is not the body's.
    #[error(transparent)]
    Headers(#[from] HookError),
    /// A signed body that is not the event it names.
    #[error("not an issue_comment payload as Gitea sends it: {0}")]
    NotThePayload(String),
    /// A repository the configuration does not name.
    #[error("repository {repo} is not one this service runs (its configuration names {known})")]
    UnknownRepository {
        /// The delivery's repository.
        repo: String,
        /// The configured ones, comma-separated.
        known: String,
    },
    /// A `clone_url` ccci does not fetch.
    #[error("the repository's clone_url `{0}` is not an http(s), git or ssh URL ccci fetches")]
    NotFetchable(String),
    /// A comment written too long ago: a replayed body.
    #[error("comment {comment} was written {age} s ago, more than {MAX_COMMENT_AGE} s: an old delivery replayed is not acted on; comment `!testme` again")]
    TooOld {
        /// The comment.
        comment: i64,
        /// How old it was (seconds).
        age: u64,
    },
    /// A delivery id taken already.
    #[error("a delivery of this id was taken already (a replay)")]
    SameDelivery,
    /// Its comment taken in already under another id.
    #[error("this comment was taken in already under another delivery id (a replay)")]
    SameComment,
    /// The store could not take it: the forge should deliver it again.
    #[error("the run store cannot take the delivery now: {0}")]
    StoreAway(String),
}

impl Refusal {
    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::TooBig => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Headers(HookError::Unsigned) => StatusCode::UNAUTHORIZED,
            Refusal::Headers(HookError::BadSignature) | Refusal::UnknownRepository { .. } => {
                StatusCode::FORBIDDEN
            }
            Refusal::Headers(HookError::NoId | HookError::NoEvent)
            | Refusal::NotThePayload(_)
            | Refusal::NotFetchable(_) => StatusCode::BAD_REQUEST,
            Refusal::TooOld { .. } | Refusal::SameDelivery | Refusal::SameComment => {
                StatusCode::CONFLICT
            }
            Refusal::StoreAway(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

/// A delivery whose signature is its body's under the service's webhook secret, at most
/// [`MAX_BODY`] (announced too big, it is refused before a byte is read): the only way the
/// webhook gets a body.
pub struct Signed {
    /// Its headers, read.
    pub delivery: Delivery,
    /// Its body, as signed.
    pub body: axum::body::Bytes,
}

impl FromRequest<Arc<Service>> for Signed {
    type Rejection = Refusal;

    async fn from_request(request: Request, svc: &Arc<Service>) -> Result<Self, Refusal> {
        let (parts, body) = request.into_parts();
        let announced = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if announced.is_some_and(|n| n > MAX_BODY) {
            return Err(Refusal::TooBig);
        }
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| Refusal::TooBig)?;
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let delivery = signed(header, &body, &svc.config.webhook_secret)?;
        Ok(Signed { delivery, body })
    }
}

/// The delivery `header`s describe, when they carry an id, an event and a signature that is
/// `body`'s under `secret`.
pub fn signed<'h>(
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    secret: &[u8],
) -> Result<Delivery, Refusal> {
    let delivery = Delivery::from_headers(header)?;
    delivery.verify(secret, body)?;
    Ok(delivery)
}

async fn delivered(State(svc): State<Arc<Service>>, signed: Result<Signed, Refusal>) -> Response {
    let taken = match signed {
        Ok(s) => take(&svc, &s.delivery, &s.body)
            .await
            .map_err(|r| (Some(s.delivery.id), r)),
        Err(r) => Err((None, r)),
    };
    match taken {
        Ok((status, said, delivery)) => {
            tracing::info!(delivery, status = status.as_u16(), "delivery taken: {said}");
            (status, said).into_response()
        }
        Err((delivery, refusal)) => {
            let delivery = delivery.unwrap_or_else(|| "-".into());
            tracing::warn!(
                delivery,
                status = refusal.status().as_u16(),
                "delivery refused: {refusal}"
            );
            refusal.into_response()
        }
    }
}

/// What a delivery is, decided from its headers, body and the configuration alone (no store,
/// no forge): the table in the module docs, every row but the replay, which the store knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Taken, and nothing to do: why (answered 200).
    Ignored {
        /// Its repository, when it is a comment.
        repo: Option<String>,
        /// Why nothing is done.
        why: String,
    },
    /// A `!testme` for the intake (answered 202).
    Testme(Intake),
    /// A push to a pull request (answered 200): the runs of its older heads are superseded.
    Pushed(Push),
}

/// Decides the signed `delivery` of `body`, for a service configured with `repositories`, at
/// `now` (Unix seconds).
pub fn decide(
    delivery: &Delivery,
    body: &[u8],
    repositories: &std::collections::BTreeMap<String, super::config::Repository>,
    now: i64,
) -> Result<Decision, Refusal> {
    if delivery.event == "pull_request" {
        return pushed(body, repositories);
    }
    if delivery.event != "issue_comment" {
        return Ok(Decision::Ignored {
            repo: None,
            why: format!(
                "event `{}`: ccci acts on comments (issue_comment) only",
                delivery.event
            ),
        });
    }
    let comment: IssueComment =
        serde_json::from_slice(body).map_err(|e| Refusal::NotThePayload(e.to_string()))?;
    let repo = comment.repository.full_name.clone();
    if !repositories.contains_key(&repo) {
        let known = repositories.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(Refusal::UnknownRepository { repo, known });
    }
    let command = Testme::parse(&comment.comment.body);
    let ignored = match (comment.action.as_str(), comment.on_pull_request(), command) {
        ("created", true, Some(_)) => None,
        ("created", true, None) => Some("a comment that is not `!testme`".to_string()),
        ("created", false, _) => Some("a comment on an issue, not a pull request".to_string()),
        (action, _, _) => Some(format!("a comment {action}, not created")),
    };
    if let Some(what) = ignored {
        return Ok(Decision::Ignored {
            repo: Some(repo),
            why: format!("ignored: {what}"),
        });
    }
    if let Some(age) = too_old(comment.comment.created_at.as_deref(), now) {
        return Err(Refusal::TooOld {
            comment: comment.comment.id,
            age,
        });
    }
    let clone_url = &comment.repository.clone_url;
    if !fetchable(clone_url) {
        return Err(Refusal::NotFetchable(clone_url.clone()));
    }
    Ok(Decision::Testme(Intake {
        repo,
        pr: comment.issue.number,
        comment_id: comment.comment.id,
        user: comment.comment.user.login.clone(),
        quick: command.is_some_and(|c| c.quick),
        keep: command.and_then(|c| c.keep).map(|k| k.as_secs()),
        clone_url: comment.repository.clone_url.clone(),
        comment_at: comment
            .comment
            .created_at
            .as_deref()
            .and_then(ccci_core::time::parse_rfc3339),
    }))
}

/// A `pull_request` delivery: a push to a configured repository's pull request supersedes
/// its older heads' runs; any other action is taken and nothing done.
fn pushed(
    body: &[u8],
    repositories: &std::collections::BTreeMap<String, super::config::Repository>,
) -> Result<Decision, Refusal> {
    let event: ccci_forge::PullRequestEvent =
        serde_json::from_slice(body).map_err(|e| Refusal::NotThePayload(e.to_string()))?;
    let repo = event.repository.full_name.clone();
    if !repositories.contains_key(&repo) {
        let known = repositories.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(Refusal::UnknownRepository { repo, known });
    }
    let Some(head) = event.pushed() else {
        return Ok(Decision::Ignored {
            repo: Some(repo),
            why: format!(
                "ignored: a pull request {}; ccci acts on pushes to one (synchronized) and `!testme`",
                event.action
            ),
        });
    };
    let clone_url = event.repository.clone_url.clone();
    if !fetchable(&clone_url) {
        return Err(Refusal::NotFetchable(clone_url));
    }
    Ok(Decision::Pushed(Push {
        repo,
        pr: event.number,
        head: head.to_string(),
        clone_url,
    }))
}

/// Whether `url` is one ccci fetches: http(s), git or ssh.
fn fetchable(url: &str) -> bool {
    ["https://", "http://", "git://", "ssh://"]
        .iter()
        .any(|s| url.starts_with(s))
}

/// Takes a signed delivery: decided, then recorded (a replay refused); the status it is
/// answered with, what is said, and its id.
async fn take(
    svc: &Arc<Service>,
    delivery: &Delivery,
    body: &[u8],
) -> Result<(StatusCode, String, String), Refusal> {
    let id = delivery.id.clone();
    match decide(delivery, body, &svc.config.repositories, now())? {
        Decision::Ignored { repo, why } => {
            accept(svc, &id, repo.as_deref(), None, None).await?;
            Ok((StatusCode::OK, why, id))
        }
        Decision::Pushed(push) => {
            accept(svc, &id, Some(&push.repo), None, None).await?;
            let said = super::supersede::pushed(svc, &push)
                .await
                .map_err(Refusal::StoreAway)?;
            Ok((StatusCode::OK, said, id))
        }
        Decision::Testme(intake) => {
            let request =
                serde_json::to_string(&intake).map_err(|e| Refusal::StoreAway(e.to_string()))?;
            accept(
                svc,
                &id,
                Some(&intake.repo),
                Some(intake.comment_id),
                Some(request),
            )
            .await?;
            svc.intake.notify_one();
            // Asked here too, briefly, so that the forge's delivery log says at once that
            // nothing will run; the intake asks again and replies either way, and a forge
            // slow to answer leaves the delivery accepted for the intake to decide.
            let permission = tokio::time::timeout(
                PERMISSION_WITHIN,
                svc.forge.permission(&intake.repo, &intake.user),
            )
            .await;
            if let Ok(Ok(ccci_forge::Permission::Read)) = permission {
                let said = format!(
                    "refused: {} may not start runs on {} (write access is needed); a reply on #{} says so",
                    intake.user, intake.repo, intake.pr
                );
                return Ok((StatusCode::OK, said, id));
            }
            let said = format!(
                "accepted: !testme on {}#{} by {}",
                intake.repo, intake.pr, intake.user
            );
            Ok((StatusCode::ACCEPTED, said, id))
        }
    }
}

/// How long the webhook waits for the commenter's permission before it answers `202`
/// regardless (the intake asks again, with retries).
const PERMISSION_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

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
/// comment it carries), refusing a replay of either.
async fn accept(
    svc: &Service,
    id: &str,
    repo: Option<&str>,
    comment: Option<i64>,
    request: Option<String>,
) -> Result<(), Refusal> {
    let (id, repo) = (id.to_string(), repo.map(String::from));
    let taken = svc
        .ask(move |s| s.accept_delivery(&id, repo.as_deref(), comment, request.as_deref(), now()))
        .await
        .map_err(Refusal::StoreAway)?;
    match taken {
        ccci_store::Taken::New => Ok(()),
        ccci_store::Taken::SameDelivery => Err(Refusal::SameDelivery),
        ccci_store::Taken::SameComment => Err(Refusal::SameComment),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    const SECRET: &[u8] = b"hook-secret";
    const NOW: i64 = 1_800_000_000;

    fn repositories() -> BTreeMap<String, super::super::config::Repository> {
        BTreeMap::from([(
            "coop-cloud/custom-html".to_string(),
            super::super::config::Repository {
                recipe: "custom-html".into(),
                test_crate: None,
                set: Vec::new(),
                allow: Vec::new(),
                auto_rerun: false,
            },
        )])
    }

    /// A comment delivery's body: `repo`, `action`, on a pull request or not, its text, written
    /// `age` seconds before [`NOW`], cloned from `clone_url`.
    fn comment(
        repo: &str,
        action: &str,
        pull: bool,
        text: &str,
        age: i64,
        clone_url: &str,
    ) -> Vec<u8> {
        let written = ccci_core::time::rfc3339(u64::try_from(NOW - age).unwrap());
        serde_json::to_vec(&json!({
            "action": action,
            "issue": {"number": 7, "pull_request": if pull { json!({"merged": false}) } else { json!(null) }},
            "comment": {"id": 42, "body": text, "user": {"login": "alice"}, "created_at": written},
            "repository": {"full_name": repo, "clone_url": clone_url},
            "is_pull": pull
        }))
        .unwrap()
    }

    /// A `pull_request` delivery's body: `action` on pull request 7 of `repo`.
    fn pull_request(repo: &str, action: &str, clone_url: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "action": action,
            "number": 7,
            "pull_request": {"number": 7, "head": {"sha": "abcdef0123456789"}},
            "repository": {"full_name": repo, "clone_url": clone_url}
        }))
        .unwrap()
    }

    /// The answer `decide` gives `body` as event `event`, signed with `key` (none: unsigned),
    /// with or without a delivery id: its status and what a Testme asked.
    fn answer(event: &str, body: &[u8], key: Option<&[u8]>, id: bool) -> (u16, Option<Intake>) {
        let signature = key.map(|k| ccci_forge::hook::sign(k, body));
        let header = |name: &str| -> Option<&str> {
            match name.to_ascii_lowercase().as_str() {
                "x-gitea-event" => Some(event),
                "x-gitea-delivery" if id => Some("d-1"),
                "x-gitea-signature" => signature.as_deref(),
                _ => None,
            }
        };
        match signed(header, body, SECRET).and_then(|d| decide(&d, body, &repositories(), NOW)) {
            Ok(Decision::Ignored { .. }) => (200, None),
            Ok(Decision::Testme(intake)) => (202, Some(intake)),
            Ok(Decision::Pushed(_)) => (200, None),
            Err(refusal) => (refusal.status().as_u16(), None),
        }
    }

    /// A row: what the delivery is, what `decide` answered, the status the table says.
    type Case = (&'static str, (u16, Option<Intake>), u16);

    /// Every row of the table in docs/serve.md that the delivery alone decides.
    #[test]
    fn every_delivery_is_decided_as_the_table_says() {
        let repo = "coop-cloud/custom-html";
        let url = "https://git.example/coop-cloud/custom-html.git";
        let testme = comment(repo, "created", true, "!testme", 5, url);
        let signed = Some(SECRET);
        let cases: Vec<Case> = vec![
            (
                "no signature",
                answer("issue_comment", &testme, None, true),
                401,
            ),
            (
                "no delivery id",
                answer("issue_comment", &testme, signed, false),
                400,
            ),
            (
                "another secret's signature",
                answer("issue_comment", &testme, Some(b"other"), true),
                403,
            ),
            (
                "a signed body that is not JSON",
                answer("issue_comment", b"{not json", signed, true),
                400,
            ),
            (
                "a repository not configured",
                answer(
                    "issue_comment",
                    &comment("someone/else", "created", true, "!testme", 5, url),
                    signed,
                    true,
                ),
                403,
            ),
            (
                "a clone_url ccci does not fetch",
                answer(
                    "issue_comment",
                    &comment(repo, "created", true, "!testme", 5, "file:///etc"),
                    signed,
                    true,
                ),
                400,
            ),
            (
                "a comment written over an hour ago",
                answer(
                    "issue_comment",
                    &comment(repo, "created", true, "!testme", 7200, url),
                    signed,
                    true,
                ),
                409,
            ),
            ("another event", answer("push", b"{}", signed, true), 200),
            (
                "a push to a pull request",
                answer(
                    "pull_request",
                    &pull_request(repo, "synchronized", url),
                    signed,
                    true,
                ),
                200,
            ),
            (
                "a pull request opened",
                answer(
                    "pull_request",
                    &pull_request(repo, "opened", url),
                    signed,
                    true,
                ),
                200,
            ),
            (
                "a push to another repository's pull request",
                answer(
                    "pull_request",
                    &pull_request("someone/else", "synchronized", url),
                    signed,
                    true,
                ),
                403,
            ),
            (
                "an edited comment",
                answer(
                    "issue_comment",
                    &comment(repo, "edited", true, "!testme", 5, url),
                    signed,
                    true,
                ),
                200,
            ),
            (
                "a comment on an issue",
                answer(
                    "issue_comment",
                    &comment(repo, "created", false, "!testme", 5, url),
                    signed,
                    true,
                ),
                200,
            ),
            (
                "a comment that is not !testme",
                answer(
                    "issue_comment",
                    &comment(repo, "created", true, "looks good", 5, url),
                    signed,
                    true,
                ),
                200,
            ),
            (
                "!testme on a pull request",
                answer("issue_comment", &testme, signed, true),
                202,
            ),
        ];
        for (what, (status, _), expected) in &cases {
            assert_eq!(status, expected, "{what}");
        }
        let (_, asked) = answer("issue_comment", &testme, signed, true);
        assert_eq!(
            asked,
            Some(Intake {
                repo: repo.into(),
                pr: 7,
                comment_id: 42,
                user: "alice".into(),
                quick: false,
                keep: None,
                clone_url: url.into(),
                comment_at: Some(u64::try_from(NOW - 5).unwrap()),
            })
        );
        let push = pull_request(repo, "synchronized", url);
        let decided = super::signed(
            |name: &str| match name {
                "x-gitea-event" => Some("pull_request"),
                "x-gitea-delivery" => Some("d-2"),
                _ => None,
            },
            &push,
            b"unused",
        );
        assert!(decided.is_err(), "unsigned, so refused before anything");
        let header_sig = ccci_forge::hook::sign(SECRET, &push);
        let header = |name: &str| -> Option<&str> {
            match name {
                "x-gitea-event" => Some("pull_request"),
                "x-gitea-delivery" => Some("d-2"),
                "x-gitea-signature" => Some(header_sig.as_str()),
                _ => None,
            }
        };
        let d = super::signed(header, &push, SECRET).unwrap();
        assert_eq!(
            decide(&d, &push, &repositories(), NOW).unwrap(),
            Decision::Pushed(Push {
                repo: repo.into(),
                pr: 7,
                head: "abcdef0123456789".into(),
                clone_url: url.into(),
            })
        );
        let quick = comment(repo, "created", true, "!testme quick", 5, url);
        let (status, asked) = answer("issue_comment", &quick, signed, true);
        assert_eq!((status, asked.map(|i| i.quick)), (202, Some(true)));
    }
}
