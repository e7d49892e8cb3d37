//! The forge's CI: the queue (every job, where it stands, which host took it) and one job's
//! page (what asked for it, its run once it has one, what its pull request was told, and its
//! log, followed live while it runs).

use super::{layout, short, when};
use crate::Urls;
use ccci_store::{Job, JobState, OutboxState, Told};
use maud::{html, Markup, PreEscaped};

fn state(s: JobState) -> Markup {
    let class = match s {
        JobState::Queued | JobState::Running | JobState::Cancelled => "grey",
        JobState::Done => "green",
        JobState::Error => "red",
    };
    html! { span.badge.(class) { (s.as_str()) } }
}

/// The queue page.
pub(crate) fn page(urls: &Urls, jobs: &[Job]) -> Markup {
    let body = html! {
        h1 { "Queue" }
        @if jobs.is_empty() {
            p { "No run was asked for yet: comment " code { "!testme" } " on a pull request of a repository the service runs." }
        } @else {
            table {
                tr { th { "asked" } th { "repository" } th { "head" } th { "recipe" } th { "state" } th { "host" } th { "run" } }
                @for j in jobs {
                    tr {
                        td { a href=(urls.job(&j.id)) { (when(j.created_at)) } }
                        td { (j.asked.repo) "#" (j.asked.pr) }
                        td { code { (short(Some(&j.asked.head_sha))) } }
                        td { (j.asked.recipe) }
                        td { (state(j.state)) @if j.attempts > 1 { " (try " (j.attempts) ")" } }
                        td { (j.host.as_deref().unwrap_or("")) }
                        td { @if let Some(r) = &j.run_id { a href=(urls.run(r)) { (r) } } }
                    }
                }
            }
        }
    };
    layout(urls, "Queue", body)
}

/// A job's page.
pub(crate) fn job(urls: &Urls, j: &Job, told: &[Told], log: Option<&crate::Piece>) -> Markup {
    let a = &j.asked;
    let body = html! {
        h1 { (a.repo) "#" (a.pr) " " (state(j.state)) }
        p.meta {
            "job " code { (j.id) } " · head " code { (a.head_sha) } " · recipe "
            a href=(urls.recipe(&a.recipe)) { (a.recipe) }
            " · " (a.test_crate.as_deref().map_or("the generic tiers".to_string(), |c| format!("test crate {c}")))
            " · asked by " (a.requested_by) " at " (when(j.created_at))
            @if let Some(h) = &j.host { " · taken by " (h) }
            @if j.attempts > 1 { " · try " (j.attempts) }
        }
        p {
            @match j.state {
                JobState::Queued => { "Queued: it runs when a host is free and no other run of " (a.recipe) " is going." }
                JobState::Running => { "Running on " (j.host.as_deref().unwrap_or("?")) @if let Some(t) = j.started_at { " since " (when(t)) } "." }
                _ => { (j.note.as_deref().unwrap_or("")) }
            }
        }
        @if let Some(r) = &j.run_id { p { "Its run: " a href=(urls.run(r)) { (r) } } }
        h2 { "What the pull request was told" }
        @if told.is_empty() {
            p { "Nothing yet." }
        } @else {
            table {
                tr { th { "call" } th { "what" } th { "outcome" } }
                @for t in told {
                    tr {
                        td { (t.kind) }
                        td { (t.summary) }
                        td { (told_outcome(t)) }
                    }
                }
            }
        }
        h2 { "Its log" }
        @match log {
            None => p { "This host keeps no log of it: the host that runs it serves it." },
            Some(l) => {
                @if j.state == JobState::Running {
                    p.meta { "Live: new lines appear as the run writes them." }
                }
                pre #log data-next=(l.next) data-url=(urls.job_log(&j.id)) { (l.text) }
                @if j.state == JobState::Running { script { (PreEscaped(FOLLOW)) } }
            }
        }
        p { a href=(urls.queue()) { "the queue" } }
    };
    layout(urls, &format!("job {}", j.id), body)
}

/// Follows a running job's log: asks for what was written since every 2 s, and reloads the
/// page once the run ended (its verdict, its link). No framework: the page reads without it.
const FOLLOW: &str = r#"(function () {
  var log = document.getElementById("log"), next = +log.dataset.next;
  function poll() {
    fetch(log.dataset.url + "?from=" + next).then(function (r) {
      var running = r.headers.get("x-ccci-running") === "true";
      next = +(r.headers.get("x-ccci-next") || next);
      return r.text().then(function (t) {
        if (t) { log.textContent += t; log.scrollTop = log.scrollHeight; }
        if (running) { setTimeout(poll, 2000); } else { location.reload(); }
      });
    }).catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();"#;

/// Where a call stands, in words: made, to be made again and why, or refused.
fn told_outcome(t: &Told) -> String {
    let tries = match t.attempts {
        0 | 1 => String::new(),
        n => format!(" after {n} tries"),
    };
    let said = t
        .last_error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    match t.state {
        OutboxState::Sent => format!("taken by the forge{tries}"),
        OutboxState::Pending | OutboxState::Taken if t.attempts == 0 => "to be made".into(),
        OutboxState::Pending | OutboxState::Taken => {
            format!("not taken yet, tried {} time(s){said}", t.attempts)
        }
        OutboxState::Failed => format!("refused by the forge{said}"),
    }
}
