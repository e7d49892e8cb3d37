//! A run's page: what ran and what it concluded, its card and screenshot, every rung and step
//! with its message, what ccci changed and noticed, and its artefacts.

use super::{badge, layout, outcome, short, took, when};
use crate::Urls;
use ccci_core::ladder::TestStatus;
use ccci_core::results::Results;
use ccci_store::{RunRow, State, StoredRun};
use maud::{html, Markup};

/// What the run page shows besides the run: the run before it of the same ref, and the files
/// of its directory this host has.
pub(crate) struct Around<'a> {
    pub previous: Option<&'a RunRow>,
    pub files: Option<&'a [String]>,
}

/// The run page.
pub(crate) fn page(urls: &Urls, run: &StoredRun, around: &Around<'_>) -> Markup {
    let r = &run.row;
    let title = format!("{} {}", r.recipe, r.run_id);
    let body = html! {
        h1 {
            a href=(urls.recipe(&r.recipe)) { (r.recipe) } " "
            (r.version.as_deref().unwrap_or("")) " "
            @match r.state {
                State::Finished => (badge(r.level, r.green, r.bad_input.is_some())),
                State::Running => span.badge.grey { "running" },
                State::Lost => span.badge.red { "lost" },
            }
        }
        (facts(r))
        (previous(urls, r, around.previous))
        @match &run.results {
            Some(results) => (concluded(urls, r, results, around.files)),
            None => {
                @match r.state {
                    State::Running => p { "Running since " (when(r.started_at)) "; this page shows its results once it ends." },
                    _ => p.note { "Lost: " (r.reason.as_deref().unwrap_or("it ended without results")) },
                }
            }
        }
    };
    layout(urls, &title, body)
}

fn facts(r: &RunRow) -> Markup {
    html! {
        p.meta {
            "run " code { (r.run_id) }
            " · ref " (r.reference.as_deref().unwrap_or("?"))
            " · commit " code { (short(r.commit.as_deref())) }
            " · " (r.lane.as_str()) " lane"
            @if let Some(h) = &r.host { " · host " (h) }
            " · ccci " (r.ccci_version.as_deref().unwrap_or("?")) " " code { (short(r.ccci_commit.as_deref())) }
            " · started " (when(r.started_at))
            @if let Some(d) = r.duration_secs { " · took " (took(d)) }
            @if let Some(s) = &r.results_schema { " · results " (s) }
        }
        @if let Some(url) = &r.app_url {
            p.meta {
                "The app answered at " code { (url) }
                @if let Some(routing) = &r.routing { " (" (routing) ")" }
                "; it was torn down when the run ended."
            }
        }
    }
}

/// The run of the same ref before this one; a red run whose previous run was green says so
/// first, with the comparison a click away.
fn previous(urls: &Urls, r: &RunRow, previous: Option<&RunRow>) -> Markup {
    let Some(p) = previous else {
        return html! {};
    };
    html! {
        @if r.green == Some(false) && p.green == Some(true) {
            p.note {
                "The previous run of " (r.reference.as_deref().unwrap_or("this ref")) ", "
                a href=(urls.run(&p.run_id)) { (p.run_id) } ", was green: "
                a href=(urls.compare(&p.run_id, &r.run_id)) { "compare the two (A/B)" } "."
            }
        } @else {
            p.meta {
                "Previous run of this ref: " a href=(urls.run(&p.run_id)) { (p.run_id) }
                " (" a href=(urls.compare(&p.run_id, &r.run_id)) { "compare" } ")"
            }
        }
    }
}

fn concluded(urls: &Urls, r: &RunRow, res: &Results, files: Option<&[String]>) -> Markup {
    let has = |name: &str| files.is_some_and(|f| f.iter().any(|x| x == name));
    html! {
        div.pics {
            img src=(urls.card(&r.run_id)) alt="report card" width="640" height="360";
            @if has("screenshot.png") {
                img src=(urls.file(&r.run_id, "screenshot.png")) alt="the app's front page before teardown";
            }
        }
        @if let Some(e) = &res.bad_input {
            p.note { "Could not run: its input is wrong, and nothing was deployed. " (e) }
        }
        @if !res.verdict_reasons.is_empty() {
            h2 { "Why it is red" }
            ul { @for reason in &res.verdict_reasons { li { (reason) } } }
            @match &res.cause {
                Some(ccci_core::Cause::Host { lacked }) => p.note title="cause: host" {
                    "Not the recipe's failure: the host failed this run (" (lacked) "). It says nothing of the recipe; `cargo ccci serve` retries such a run on a fresh deployment."
                },
                Some(ccci_core::Cause::Cancelled { why }) => p.note title="cause: cancelled" {
                    "Cancelled before its verdict: " (why) "."
                },
                Some(ccci_core::Cause::Recipe) => p title="cause: recipe" { "Cause: the recipe failed a rung." },
                None => {},
            }
        }
        h2 { "Rungs" }
        table {
            tr { th { "rung" } th { "outcome" } th { "why" } }
            @for (rung, o) in &res.rungs {
                tr { td { (rung.as_str()) } td { (outcome(o.label())) } td.msg { (o.reason().unwrap_or("")) } }
            }
        }
        (steps(urls, r, res, files))
        (lists(res))
        (artefacts(urls, r, files))
    }
}

fn steps(urls: &Urls, r: &RunRow, res: &Results, files: Option<&[String]>) -> Markup {
    let relative = |f: &str| {
        f.strip_prefix(&res.run_dir)
            .map(|p| p.trim_start_matches('/').to_string())
            .filter(|rel| files.is_some_and(|fs| fs.contains(rel)))
    };
    html! {
        h2 { "Steps" }
        table {
            tr { th { "step" } th { "rung" } th { "status" } th { "message" } th { "took" } }
            @for t in &res.tests {
                tr {
                    td { code { (t.name) } }
                    td { (t.rung.as_str()) }
                    td { (outcome(status(&t.status).0)) }
                    td.msg {
                        (status(&t.status).1)
                        @if let Some(rel) = t.forensics.as_deref().and_then(relative) {
                            " " a href=(urls.file(&r.run_id, &rel)) { "task history and logs" }
                        }
                    }
                    td { (took(t.duration_ms as f64 / 1000.0)) }
                }
            }
        }
    }
}

fn status(s: &TestStatus) -> (&'static str, &str) {
    match s {
        TestStatus::Pass => ("pass", ""),
        TestStatus::Fail { message } => ("fail", message),
        TestStatus::NotRun { reason } => ("not run", reason),
        TestStatus::CannotRun { reason } => ("cannot run", reason),
        TestStatus::Filtered => ("filtered", "not selected by the test filter"),
        TestStatus::Skipped { reason } => ("skipped", reason),
    }
}

fn lists(res: &Results) -> Markup {
    html! {
        @if !res.deploys.is_empty() {
            h2 { "Deploys" }
            ul { @for d in &res.deploys {
                li {
                    (d.step) " "
                    @match d.version.as_deref() {
                        Some(v) => { (v) }
                        // The head is no release: deployed from its commit as `abra app deploy
                        // --chaos` deploys one, its version label marked `+U`.
                        None => { abbr title="a chaos deploy: the head's commit, not a release, deployed as `abra app deploy --chaos` does (its version label ends in +U)" { "chaos" } " (the unreleased head)" }
                    }
                    " "
                    code { (ccci_core::short_commit(&d.commit)) } " (" (d.compose_files.join(" + ")) "): "
                    @if d.healthy { "healthy" } @else { "never healthy" }
                }
            } }
        }
        @if !res.snapshots.is_empty() {
            h2 { "Backups" }
            ul { @for s in &res.snapshots {
                li {
                    "attempt " (s.attempt) ": "
                    @match (s.verified, &s.error) {
                        (_, Some(e)) => { "rejected: " (e) },
                        (Some(true), None) => "verified",
                        _ => "taken",
                    }
                }
            } }
        }
        @for (title, items) in [("Warnings", &res.warnings), ("What ccci changed in the stack", &res.changes), ("How the run was customised", &res.manifest)] {
            @if !items.is_empty() {
                h2 { (title) }
                ul { @for i in items { li { (i) } } }
            }
        }
    }
}

fn artefacts(urls: &Urls, r: &RunRow, files: Option<&[String]>) -> Markup {
    html! {
        h2 { "Artefacts" }
        @match files {
            Some(files) if !files.is_empty() => {
                ul.files { @for f in files { li { a href=(urls.file(&r.run_id, f)) { (f) } } } }
            }
            _ => {
                p.meta {
                    "Its run directory " code { (r.run_dir.as_deref().unwrap_or("?")) }
                    " is not on this host"
                    @if let Some(h) = &r.host { " (it ran on " (h) ")" }
                    "; its results are above, and its card is drawn from them."
                }
            }
        }
    }
}
