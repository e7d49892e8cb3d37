//! The ccci dashboard: server-rendered pages of the run store, readable without JavaScript.
//!
//! | place ([`Urls`]) | what it shows |
//! |---|---|
//! | `/` | every recipe: its latest whole cold run's level and verdict, when, its levels over time |
//! | `/recipes/{recipe}` | a recipe's runs, newest first (`?lane=`, `?ref=`), and a form to compare two |
//! | `/runs/{id}` | one run: card, screenshot, rungs, steps with messages, warnings, manifest, changes, artefacts; a red run whose previous run of its ref was green links to the comparison |
//! | `/runs/{id}/card.svg` | its report card, drawn from its results |
//! | `/runs/{id}/files/{path}` | a report or piece of evidence of its run directory ([`files`](crate::files): never the app's env, data or secrets) |
//! | `/compare?a=…&b=…` | two runs side by side: rung by rung, step by step, both ccci builds and recipe commits |
//! | `/fleet` | the warm fleet: every canonical deployment, and the newest sweeps with each recipe's drift since the sweep before |
//! | `/queue`, `/jobs/{id}` | the forge's CI: every run asked for, where it stands, which host took it, and (served by the host that runs it) its log, live while it runs |
//! | `/jobs/{id}/log?from=N` | a job's log from byte `N`: whole lines, redacted ([`JobLogs`]); `x-ccci-next` says where the next piece starts, `x-ccci-running` whether more will come |
//!
//! [`router`] is an axum `Router` the forge service mounts as it is; `cargo ccci dashboard`
//! serves it alone. Handlers only fetch from the store (on a blocking thread, under the
//! store's deadline) and hand what it answered to a page function.

mod files;
mod logs;
mod pages;
mod urls;

pub use logs::{JobLogs, Piece};
pub use urls::Urls;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ccci_store::{HistoryQuery, Store, StoreError};
use maud::{html, Markup};
use std::sync::Arc;

/// What the dashboard serves from: the store, and where its links point.
#[derive(Clone)]
pub struct Dashboard {
    store: Arc<Store>,
    urls: Urls,
    logs: Option<JobLogs>,
}

impl Dashboard {
    /// A dashboard of `store`, linking within itself.
    pub fn new(store: Arc<Store>) -> Dashboard {
        Dashboard {
            store,
            urls: Urls::default(),
            logs: None,
        }
    }

    /// The same, serving the logs of the jobs this host runs ([`JobLogs`]) on their pages.
    pub fn with_job_logs(mut self, logs: JobLogs) -> Dashboard {
        self.logs = Some(logs);
        self
    }

    /// Runs `ask` on the store on a blocking thread, within the store's deadline and a
    /// little more ([`ccci_store::on_thread`]).
    async fn ask<T: Send + 'static>(
        &self,
        ask: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Failure> {
        ccci_store::on_thread(&self.store, ask)
            .await
            .map_err(|e| match e {
                StoreError::NoRun(_) | StoreError::Ambiguous { .. } => {
                    Failure::not_found(e.to_string())
                }
                e => Failure::unavailable(e.to_string()),
            })
    }
}

/// Every page of the dashboard.
pub fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/", get(catalogue))
        .route("/recipes/{recipe}", get(recipe))
        .route("/runs/{id}", get(run))
        .route("/runs/{id}/card.svg", get(card))
        .route("/runs/{id}/files/{*path}", get(file))
        .route("/compare", get(compare))
        .route("/fleet", get(fleet))
        .route("/queue", get(queue))
        .route("/jobs/{id}", get(job))
        .route("/jobs/{id}/log", get(job_log))
        .fallback(|| async { Failure::not_found("no such page".into()) })
        .with_state(dashboard)
}

async fn catalogue(State(d): State<Dashboard>) -> Result<Markup, Failure> {
    let recipes = d.ask(|s| s.catalogue()).await?;
    Ok(pages::catalogue::page(&d.urls, &recipes))
}

/// `?lane=&ref=` of a recipe page; empty means any.
#[derive(serde::Deserialize)]
struct RecipeFilter {
    lane: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

async fn recipe(
    State(d): State<Dashboard>,
    Path(recipe): Path<String>,
    Query(f): Query<RecipeFilter>,
) -> Result<Markup, Failure> {
    let lane = f.lane.filter(|l| !l.is_empty());
    let reference = f.reference.filter(|r| !r.is_empty());
    let q = HistoryQuery {
        recipe: Some(recipe.clone()),
        lane: match &lane {
            Some(l) => Some(l.parse().map_err(Failure::bad_request)?),
            None => None,
        },
        reference: reference.clone(),
        limit: Some(200),
    };
    let runs = d.ask(move |s| s.history(&q)).await?;
    let filter = pages::recipe::Filter {
        lane: lane.as_deref(),
        reference: reference.as_deref(),
    };
    Ok(pages::recipe::page(&d.urls, &recipe, &runs, &filter))
}

async fn run(State(d): State<Dashboard>, Path(id): Path<String>) -> Result<Markup, Failure> {
    let (run, previous, files) = d
        .ask(move |s| {
            let run = s.run(&id)?.ok_or(StoreError::NoRun(id))?;
            let previous = s.previous(&run.row)?;
            let files = run
                .row
                .run_dir
                .as_deref()
                .map(std::path::Path::new)
                .filter(|dir| dir.is_dir())
                .map(files::listing);
            Ok((run, previous, files))
        })
        .await?;
    let around = pages::run::Around {
        previous: previous.as_ref(),
        files: files.as_deref(),
    };
    Ok(pages::run::page(&d.urls, &run, &around))
}

async fn card(State(d): State<Dashboard>, Path(id): Path<String>) -> Result<Response, Failure> {
    let run = d
        .ask(move |s| s.run(&id)?.ok_or(StoreError::NoRun(id)))
        .await?;
    let results = run
        .results
        .ok_or_else(|| Failure::not_found("the run has no results yet".into()))?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        ccci_report::card_svg(&results),
    )
        .into_response())
}

async fn file(
    State(d): State<Dashboard>,
    Path((id, rel)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let found = d
        .ask(move |s| {
            let run = s.run(&id)?.ok_or(StoreError::NoRun(id))?;
            Ok(run
                .row
                .run_dir
                .and_then(|dir| files::read(std::path::Path::new(&dir), &rel)))
        })
        .await?;
    let (bytes, kind) = found.ok_or_else(|| {
        Failure::not_found(
            "no such file of this run on this host (only its reports and evidence are served)"
                .into(),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}

async fn fleet(State(d): State<Dashboard>) -> Result<Markup, Failure> {
    let (canonicals, sweeps) = d.ask(|s| Ok((s.canonicals()?, s.sweeps(10)?))).await?;
    Ok(pages::fleet::page(&d.urls, &canonicals, &sweeps))
}

async fn queue(State(d): State<Dashboard>) -> Result<Markup, Failure> {
    let jobs = d.ask(|s| s.jobs(200)).await?;
    Ok(pages::queue::page(&d.urls, &jobs))
}

async fn job(State(d): State<Dashboard>, Path(id): Path<String>) -> Result<Markup, Failure> {
    let asked = id.clone();
    let (job, told) = d
        .ask(move |s| Ok((s.job(&asked)?, s.told(&asked)?)))
        .await?;
    let job = job.ok_or_else(|| {
        Failure::not_found(format!(
            "no job `{id}` in the run store (the queue lists them)"
        ))
    })?;
    let log = d.logs.as_ref().and_then(|l| l.tail(&id));
    Ok(pages::queue::job(&d.urls, &job, &told, log.as_ref()))
}

/// `?from=N`: where in the log to start.
#[derive(serde::Deserialize)]
struct From {
    #[serde(default)]
    from: u64,
}

async fn job_log(
    State(d): State<Dashboard>,
    Path(id): Path<String>,
    Query(f): Query<From>,
) -> Result<Response, Failure> {
    let no_log = || {
        Failure::not_found(format!(
            "this host keeps no log of job `{id}` (the host that runs it serves it)"
        ))
    };
    let logs = d.logs.clone().ok_or_else(no_log)?;
    let asked = id.clone();
    let job = d.ask(move |s| s.job(&asked)).await?;
    let running = job.is_some_and(|j| j.state == ccci_store::JobState::Running);
    let piece = logs.read(&id, f.from).ok_or_else(no_log)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::HeaderName::from_static("x-ccci-next"),
                piece.next.to_string(),
            ),
            (
                header::HeaderName::from_static("x-ccci-running"),
                running.to_string(),
            ),
        ],
        piece.text,
    )
        .into_response())
}

/// `?a=&b=`: the two runs to compare.
#[derive(serde::Deserialize)]
struct Pair {
    a: String,
    b: String,
}

async fn compare(State(d): State<Dashboard>, Query(p): Query<Pair>) -> Result<Markup, Failure> {
    let (a, b) = d
        .ask(move |s| {
            let get = |id: &str| -> Result<ccci_store::StoredRun, StoreError> {
                let id = s.resolve(id)?;
                s.run(&id)?.ok_or(StoreError::NoRun(id))
            };
            Ok((get(&p.a)?, get(&p.b)?))
        })
        .await?;
    let (Some(ra), Some(rb)) = (&a.results, &b.results) else {
        return Err(Failure::not_found(
            "both runs must have finished to be compared".into(),
        ));
    };
    let c = ccci_report::compare(ra, rb);
    Ok(pages::compare::page(&d.urls, &a, &b, &c))
}

/// Serves `dashboard` on `listener` until `shutdown` completes.
///
/// # Errors
/// The server failed to accept connections.
pub async fn serve(
    listener: tokio::net::TcpListener,
    dashboard: Dashboard,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(dashboard))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A page that could not be made: its status and why, as a page.
struct Failure {
    status: StatusCode,
    why: String,
}

impl Failure {
    fn not_found(why: String) -> Failure {
        Failure {
            status: StatusCode::NOT_FOUND,
            why,
        }
    }

    fn unavailable(why: String) -> Failure {
        Failure {
            status: StatusCode::SERVICE_UNAVAILABLE,
            why,
        }
    }

    fn bad_request(why: String) -> Failure {
        Failure {
            status: StatusCode::BAD_REQUEST,
            why,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("error");
        let body = html! { h1 { (title) } p { (self.why) } };
        (self.status, pages::layout(&Urls::default(), title, body)).into_response()
    }
}
