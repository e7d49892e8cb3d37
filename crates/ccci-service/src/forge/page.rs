//! The forge's pages (its repositories and pull requests; a pull request's statuses,
//! comments, reactions and the deliveries sent about it, with a form to comment as one of its
//! users) and its own calls under `/-/`, which `cargo ccci forge pr|comment|show` make.

use super::api::pull_json;
use super::git::short;
use super::{add_comment, Forge};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Forge>> {
    Router::new()
        .route("/", get(index))
        .route("/{o}/{r}/pulls/{n}", get(pull_page))
        .route("/{o}/{r}/pulls/{n}/comments", post(comment_form))
        .route("/-/comment", post(comment_call))
        .route("/-/pulls", post(pull_call))
        .route("/-/pulls/{o}/{r}/{n}", get(show_call))
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · ccci's forge" }
                style { "body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}.success{color:#176f2c}.failure,.error{color:#b3261e}.pending{color:#8a5a00}td,th{text-align:left;padding:.2rem .6rem .2rem 0}" }
            }
            body {
                p { a href="/" { "ccci's forge" } " — a small forge for trying ccci, not Gitea" }
                (body)
            }
        }
    }
}

async fn index(State(f): State<Arc<Forge>>) -> Markup {
    let book = f.book();
    page(
        "repositories",
        html! {
            h1 { "Repositories" }
            @for repo in f.repositories() {
                h2 { (repo) }
                p { "git clone " code { (f.url) "/" (repo) ".git" } }
                ul {
                    @for p in book.pulls.iter().filter(|p| p.repo == repo) {
                        li { a href={ "/" (repo) "/pulls/" (p.number) } { "#" (p.number) " " (p.title) } " (" (p.head) " → " (p.base) ")" }
                    }
                }
            }
        },
    )
}

/// The answer for a pull request the forge does not have.
fn no_pull(repo: &str, n: i64) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("{repo} has no pull request #{n}\n"),
    )
        .into_response()
}

async fn pull_page(
    State(f): State<Arc<Forge>>,
    Path((o, r, n)): Path<(String, String, i64)>,
) -> Response {
    let repo = format!("{o}/{r}");
    let book = f.book();
    let Some(p) = book.pull(&repo, n) else {
        return no_pull(&repo, n);
    };
    let users: Vec<&String> = book.users.keys().collect();
    page(
        &format!("{repo}#{n}"),
        html! {
            h1 { (repo) " #" (n) ": " (p.title) }
            p { "From " code { (p.head) } " into " code { (p.base) } ", head " code { (short(&p.sha)) } " (" code { "refs/pull/" (n) "/head" } ")" }
            h2 { "Statuses of the head" }
            table {
                tr { th { "context" } th { "state" } th { "description" } th { "when" } }
                @for s in book.statuses.iter().rev().filter(|s| s.repo == repo && s.sha == p.sha) {
                    tr {
                        td { (s.context) }
                        td class=(s.state) { (s.state) }
                        td {
                            // A link only to a web page: a status's target is the caller's text.
                            @if s.target_url.starts_with("http://") || s.target_url.starts_with("https://") {
                                a href=(s.target_url) { (s.description) }
                            } @else { (s.description) }
                        }
                        td { (ccci_core::time::rfc3339(s.at)) }
                    }
                }
            }
            h2 { "Comments" }
            @for c in book.comments_of(&repo, n) {
                div id={ "comment-" (c.id) } {
                    p {
                        strong { (c.author) } " at " (ccci_core::time::rfc3339(c.written))
                        @if c.edited.is_some() { " (edited)" }
                        @for re in book.reactions.iter().filter(|re| re.comment == c.id) { " · " (re.content) " by " (re.by) }
                    }
                    pre { (c.body) }
                }
            }
            form method="post" action={ "/" (repo) "/pulls/" (n) "/comments" } {
                label { "Comment as " select name="author" { @for u in &users { option { (u) } } } }
                textarea name="body" rows="2" cols="60" { "!testme" }
                button { "Comment" }
            }
            h2 { "Deliveries sent" }
            table {
                tr { th { "when" } th { "event" } th { "answer" } }
                @for d in book.deliveries.iter().rev().filter(|d| d.repo == repo && d.pull == n) {
                    tr {
                        td { (ccci_core::time::rfc3339(d.at)) }
                        td { (d.event) }
                        td { (d.status.map_or("-".to_string(), |s| s.to_string())) " " (d.answer) }
                    }
                }
            }
        },
    )
    .into_response()
}

/// A comment, as the page's form or `forge comment` writes it.
#[derive(Deserialize)]
struct NewComment {
    #[serde(default)]
    repo: String,
    #[serde(default)]
    pull: i64,
    author: String,
    body: String,
}

/// Writes a comment as `author` and sends its delivery, awaited: the delivery, or why not.
async fn write_comment(f: &Forge, c: &NewComment) -> Result<Value, (StatusCode, String)> {
    let known = f.lock().users.contains_key(&c.author);
    if !known {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{} is not a user of this forge: start it with --user {}=write (or read)",
                c.author, c.author
            ),
        ));
    }
    if f.lock().pull(&c.repo, c.pull).is_none() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("{} has no pull request #{}", c.repo, c.pull),
        ));
    }
    let id = f.change(|b| add_comment(b, &c.repo, c.pull, &c.author, &c.body));
    let comment = f.lock().comments.iter().find(|x| x.id == id).cloned();
    let delivery = match comment.and_then(|x| f.comment_delivery(&x, "created")) {
        Some(send) => Some(send.await),
        None => None,
    };
    Ok(json!({"id": id, "delivery": delivery}))
}

async fn comment_form(
    State(f): State<Arc<Forge>>,
    Path((o, r, n)): Path<(String, String, i64)>,
    Form(mut c): Form<NewComment>,
) -> Response {
    c.repo = format!("{o}/{r}");
    c.pull = n;
    match write_comment(&f, &c).await {
        Ok(_) => Redirect::to(&format!("/{o}/{r}/pulls/{n}")).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn comment_call(State(f): State<Arc<Forge>>, Json(c): Json<NewComment>) -> Response {
    match write_comment(&f, &c).await {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A pull request to open, as `forge pr` asks.
#[derive(Deserialize)]
struct NewPull {
    repo: String,
    head: String,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

async fn pull_call(State(f): State<Arc<Forge>>, Json(p): Json<NewPull>) -> Response {
    let base = p.base.as_deref().unwrap_or("main");
    let title = p.title.clone().unwrap_or_else(|| p.head.clone());
    match f.open_pull(&p.repo, &p.head, base, &title).await {
        Ok(pull) => (StatusCode::CREATED, Json(pull_json(&f, &pull))).into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e).into_response(),
    }
}

/// A pull request with its head's statuses, its comments and the deliveries about it.
async fn show_call(
    State(f): State<Arc<Forge>>,
    Path((o, r, n)): Path<(String, String, i64)>,
) -> Response {
    let repo = format!("{o}/{r}");
    let book = f.book();
    let Some(p) = book.pull(&repo, n) else {
        return no_pull(&repo, n);
    };
    Json(json!({
        "pull": pull_json(&f, p),
        "statuses": book.statuses.iter().filter(|s| s.repo == repo && s.sha == p.sha).collect::<Vec<_>>(),
        "comments": book.comments_of(&repo, n).collect::<Vec<_>>(),
        "deliveries": book.deliveries.iter().filter(|d| d.repo == repo && d.pull == n).collect::<Vec<_>>(),
    }))
    .into_response()
}
