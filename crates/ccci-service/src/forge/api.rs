//! The forge's API: the calls ccci makes of Gitea, under `/api/v1`, answered as Gitea answers
//! them (the shapes its OpenAPI description gives), for the holder of the forge's token only.

use super::{add_comment, book, now, Forge, Received, BOT};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

type Answer = (
    StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    String,
);

pub(super) fn routes() -> Router<Arc<Forge>> {
    Router::new()
        .route("/user", get(me))
        .route(
            "/repos/{o}/{r}/collaborators/{user}/permission",
            get(permission),
        )
        .route("/repos/{o}/{r}/issues/comments/{id}/reactions", post(react))
        .route("/repos/{o}/{r}/issues/comments/{id}", patch(edit_comment))
        .route(
            "/repos/{o}/{r}/issues/{n}/comments",
            post(new_comment).get(comments),
        )
        .route("/repos/{o}/{r}/issues/{n}/timeline", get(timeline))
        .route("/repos/{o}/{r}/statuses/{sha}", post(status).get(statuses))
        .route("/repos/{o}/{r}/pulls", post(open_pull))
        .route("/repos/{o}/{r}/pulls/{n}", get(pull))
}

/// What a handler answers: either way an answer, `Err` when the request was refused (so that
/// `?` refuses it).
type Handled = Result<Answer, Answer>;

fn answer(code: StatusCode, v: Value) -> Handled {
    Ok((code, [(CONTENT_TYPE, "application/json")], v.to_string()))
}

/// An error's answer, as Gitea words one (`{"message": …}`).
fn message(code: StatusCode, message: &str) -> Answer {
    (
        code,
        [(CONTENT_TYPE, "application/json")],
        json!({ "message": message, "url": "" }).to_string(),
    )
}

fn refused(code: StatusCode, why: &str) -> Handled {
    Err(message(code, why))
}

/// An API call, taken: recorded, its token the forge's, the forge not failing, the
/// repository its path names (`{o}/{r}`) one the forge has. Its repository and JSON body
/// (`null` when it has none); a call that is refused is answered as Gitea would.
struct Call {
    repo: String,
    body: Value,
}

impl FromRequest<Arc<Forge>> for Call {
    type Rejection = Answer;

    async fn from_request(req: Request, f: &Arc<Forge>) -> Result<Call, Answer> {
        let (mut parts, body) = req.into_parts();
        let params = RawPathParams::from_request_parts(&mut parts, f).await.ok();
        let param = |name: &str| {
            params.as_ref().and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        let repo = param("o").zip(param("r")).map(|(o, r)| format!("{o}/{r}"));
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|e| message(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()))?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        f.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Received {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                body: body.clone(),
                at: std::time::Instant::now(),
            });
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("token ")
                    .or_else(|| v.strip_prefix("Bearer "))
            });
        if token != Some(f.token.as_str()) {
            return Err(message(
                StatusCode::UNAUTHORIZED,
                "token is required: send `Authorization: token <the forge's token file>`",
            ));
        }
        if f.failing.load(Ordering::SeqCst) {
            return Err(message(
                StatusCode::SERVICE_UNAVAILABLE,
                "the forge is down",
            ));
        }
        if repo.as_deref().is_some_and(|r| f.repo_dir(r).is_none()) {
            return Err(message(StatusCode::NOT_FOUND, "repository does not exist"));
        }
        Ok(Call {
            repo: repo.unwrap_or_default(),
            body,
        })
    }
}

fn user(login: &str) -> Value {
    json!({"id": login.len() as i64 + 1, "login": login, "username": login, "full_name": login})
}

async fn me(_: Call) -> Handled {
    answer(StatusCode::OK, user(BOT))
}

async fn permission(
    State(f): State<Arc<Forge>>,
    Path((_, _, login)): Path<(String, String, String)>,
    _: Call,
) -> Handled {
    let p = f.lock().permission(&login, BOT);
    answer(
        StatusCode::OK,
        json!({"permission": p, "role_name": p, "user": user(&login)}),
    )
}

/// A reaction names a comment by id. One the forge has no record of is kept as well: the
/// deliveries of the service's tests are written outside the forge, naming comments by ids
/// of their own.
async fn react(
    State(f): State<Arc<Forge>>,
    Path((_, _, id)): Path<(String, String, i64)>,
    call: Call,
) -> Handled {
    let body = call.body;
    let content = body["content"].as_str().unwrap_or_default().to_string();
    f.change(|b| {
        b.reactions.push(book::Reaction {
            comment: id,
            content: content.clone(),
            by: BOT.into(),
        })
    });
    answer(
        StatusCode::CREATED,
        json!({"content": content, "user": user(BOT), "created_at": ccci_core::time::rfc3339(now())}),
    )
}

fn comment_json(c: &book::Comment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": user(&c.author),
        "created_at": ccci_core::time::rfc3339(c.written),
        "updated_at": ccci_core::time::rfc3339(c.edited.unwrap_or(c.written)),
    })
}

async fn new_comment(
    State(f): State<Arc<Forge>>,
    Path((_, _, n)): Path<(String, String, i64)>,
    call: Call,
) -> Handled {
    let (repo, body) = (call.repo, call.body);
    let text = body["body"].as_str().unwrap_or_default();
    let id = f.change(|b| add_comment(b, &repo, n, BOT, text));
    let c = f.lock().comments.iter().find(|c| c.id == id).cloned();
    if let Some(c) = &c {
        f.deliver_comment(c, "created");
    }
    answer(
        StatusCode::CREATED,
        c.as_ref().map(comment_json).unwrap_or_default(),
    )
}

async fn comments(
    State(f): State<Arc<Forge>>,
    Path((_, _, n)): Path<(String, String, i64)>,
    call: Call,
) -> Handled {
    let repo = call.repo;
    let list: Vec<Value> = f.lock().comments_of(&repo, n).map(comment_json).collect();
    answer(StatusCode::OK, Value::Array(list))
}

async fn edit_comment(
    State(f): State<Arc<Forge>>,
    Path((_, _, id)): Path<(String, String, i64)>,
    call: Call,
) -> Handled {
    let body = call.body;
    let text = body["body"].as_str().unwrap_or_default().to_string();
    let edited = f.change(|b| {
        let c = b.comments.iter_mut().find(|c| c.id == id)?;
        c.body = text;
        c.edited = Some(now());
        Some(c.clone())
    });
    match edited {
        Some(c) => {
            f.deliver_comment(&c, "edited");
            answer(StatusCode::OK, comment_json(&c))
        }
        None => refused(StatusCode::NOT_FOUND, "comment does not exist"),
    }
}

/// Query parameters of the timeline: `since` (RFC 3339), `page`, `limit`.
#[derive(serde::Deserialize)]
struct Paged {
    since: Option<String>,
    page: Option<usize>,
    limit: Option<usize>,
}

/// A pull request's timeline: its comments and the pushes to it (`pull_push`), oldest first,
/// from `since`, a page at a time.
async fn timeline(
    State(f): State<Arc<Forge>>,
    Path((_, _, n)): Path<(String, String, i64)>,
    Query(q): Query<Paged>,
    call: Call,
) -> Handled {
    let repo = call.repo;
    let since = q
        .since
        .as_deref()
        .and_then(ccci_core::time::parse_rfc3339)
        .unwrap_or(0);
    let book = f.lock();
    let mut events: Vec<(u64, Value)> = book
        .comments_of(&repo, n)
        .map(|c| (c.written, json!({"id": c.id, "type": "comment", "body": c.body, "user": user(&c.author), "created_at": ccci_core::time::rfc3339(c.written)})))
        .collect();
    if let Some(p) = book.pull(&repo, n) {
        events.extend(p.pushes.iter().enumerate().map(|(i, at)| {
            (
                *at,
                json!({
                    "id": 1_000_000 + i as i64,
                    "type": "pull_push",
                    "body": "{\"is_force_push\":false,\"commit_ids\":[]}",
                    "created_at": ccci_core::time::rfc3339(*at),
                    "user": user(&p.head),
                }),
            )
        }));
    }
    events.retain(|(at, _)| *at >= since);
    events.sort_by_key(|(at, _)| *at);
    let limit = q.limit.unwrap_or(30).clamp(1, 50);
    let page = q.page.unwrap_or(1).max(1);
    let list: Vec<Value> = events
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .map(|(_, v)| v)
        .collect();
    answer(StatusCode::OK, Value::Array(list))
}

fn status_json(id: usize, s: &book::Status) -> Value {
    json!({
        "id": id as i64 + 1,
        "status": s.state,
        "context": s.context,
        "description": s.description,
        "target_url": s.target_url,
        "created_at": ccci_core::time::rfc3339(s.at),
        "creator": user(BOT),
    })
}

async fn status(
    State(f): State<Arc<Forge>>,
    Path((_, _, sha)): Path<(String, String, String)>,
    call: Call,
) -> Handled {
    let body = call.body;
    let state = body["state"].as_str().unwrap_or_default();
    if !["pending", "success", "error", "failure", "warning"].contains(&state) {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "state: pending, success, error, failure or warning",
        );
    }
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    let s = book::Status {
        repo: call.repo,
        sha,
        state: state.into(),
        context: text("context"),
        description: text("description"),
        target_url: text("target_url"),
        at: now(),
    };
    let id = f.change(|b| {
        b.statuses.push(s.clone());
        b.statuses.len() - 1
    });
    answer(StatusCode::CREATED, status_json(id, &s))
}

async fn statuses(
    State(f): State<Arc<Forge>>,
    Path((_, _, sha)): Path<(String, String, String)>,
    call: Call,
) -> Handled {
    let repo = call.repo;
    let list: Vec<Value> = f
        .lock()
        .statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| s.repo == repo && s.sha == sha)
        .map(|(i, s)| status_json(i, s))
        .rev()
        .collect();
    answer(StatusCode::OK, Value::Array(list))
}

pub(super) fn pull_json(f: &Forge, p: &book::Pull) -> Value {
    let clone_url = format!("{}/{}.git", f.url, p.repo);
    json!({
        "id": p.number,
        "number": p.number,
        "title": p.title,
        "state": "open",
        "html_url": format!("{}/{}/pulls/{}", f.url, p.repo, p.number),
        "head": {"ref": p.head, "label": p.head, "sha": p.sha, "repo": {"full_name": p.repo, "clone_url": clone_url}},
        "base": {"ref": p.base, "label": p.base, "repo": {"full_name": p.repo, "clone_url": clone_url}},
        "user": user(BOT),
        "created_at": ccci_core::time::rfc3339(p.opened),
    })
}

async fn pull(
    State(f): State<Arc<Forge>>,
    Path((_, _, n)): Path<(String, String, i64)>,
    call: Call,
) -> Handled {
    let p = f.lock().pull(&call.repo, n).cloned();
    match p {
        Some(p) => answer(StatusCode::OK, pull_json(&f, &p)),
        None => refused(StatusCode::NOT_FOUND, "pull request does not exist"),
    }
}

/// Opens a pull request from branch `head` into `base` (default `main`); Gitea's
/// `CreatePullRequestOption`.
async fn open_pull(State(f): State<Arc<Forge>>, call: Call) -> Handled {
    let body = call.body;
    let head = body["head"].as_str().unwrap_or_default();
    let base = body["base"].as_str().unwrap_or("main");
    let title = body["title"].as_str().unwrap_or(head);
    match f.open_pull(&call.repo, head, base, title).await {
        Ok(p) => answer(StatusCode::CREATED, pull_json(&f, &p)),
        Err(e) => refused(StatusCode::UNPROCESSABLE_ENTITY, &e),
    }
}
