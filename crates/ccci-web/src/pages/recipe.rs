//! A recipe's history: every run, newest first, filterable by lane and ref, and a form to put
//! two of them side by side.

use super::{badge, layout, outcome, short, took, when};
use crate::Urls;
use ccci_core::ladder::Rung;
use ccci_store::{RunRow, State};
use maud::{html, Markup};

/// What the history is filtered by.
pub(crate) struct Filter<'a> {
    pub lane: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// The recipe page.
pub(crate) fn page(urls: &Urls, recipe: &str, runs: &[RunRow], f: &Filter<'_>) -> Markup {
    let body = html! {
        h1 { (recipe) }
        form method="get" action=(urls.recipe(recipe)) {
            label { "lane " select name="lane" {
                option value="" selected[f.lane.is_none()] { "any" }
                @for lane in ["cold", "quick"] {
                    option value=(lane) selected[f.lane == Some(lane)] { (lane) }
                }
            } }
            " "
            label { "ref " input name="ref" value=(f.reference.unwrap_or("")) placeholder="any"; }
            " "
            button type="submit" { "filter" }
        }
        @if runs.is_empty() {
            p { "No run of " (recipe) " matches." }
        } @else {
            table {
                tr {
                    th { "started" } th { "ref" } th { "commit" } th { "level" }
                    @for rung in Rung::ALL { th { (rung.as_str()) } }
                    th { "lane" } th { "host" } th { "ccci" } th { "took" }
                }
                @for r in runs { (row(urls, r)) }
            }
            @if runs.len() > 1 {
                h2 { "Compare two runs" }
                form method="get" action=(urls.compare_form()) {
                    label { "A " (choice("a", runs, 1)) } " "
                    label { "B " (choice("b", runs, 0)) } " "
                    button type="submit" { "compare" }
                }
            }
        }
    };
    layout(urls, recipe, body)
}

fn row(urls: &Urls, r: &RunRow) -> Markup {
    html! {
        tr {
            td { a href=(urls.run(&r.run_id)) { (when(r.started_at)) } }
            td { (r.reference.as_deref().unwrap_or("")) }
            td { code { (short(r.commit.as_deref())) } }
            td {
                @match r.state {
                    State::Finished => (badge(r.level, r.green, r.bad_input.is_some())),
                    State::Running => span.badge.grey { "running" },
                    State::Lost => span.badge.red { "lost" },
                }
                @if r.partial { " (filtered)" }
            }
            @for rung in Rung::ALL {
                td { @if let Some(o) = r.rungs.get(&rung) { (outcome(o)) } }
            }
            td { (r.lane.as_str()) }
            td { (r.host.as_deref().unwrap_or("")) }
            td { (r.ccci_version.as_deref().unwrap_or("?")) " " code { (short(r.ccci_commit.as_deref())) } }
            td { @if let Some(d) = r.duration_secs { (took(d)) } }
        }
    }
}

/// A select of the listed runs, the `selected`-th chosen.
fn choice(name: &str, runs: &[RunRow], selected: usize) -> Markup {
    html! {
        select name=(name) {
            @for (i, r) in runs.iter().enumerate() {
                option value=(r.run_id) selected[i == selected] {
                    (when(r.started_at)) " · " (r.reference.as_deref().unwrap_or("")) " · "
                    @match (r.level, r.green) {
                        (Some(l), Some(true)) => { "L" (l) " green" },
                        (Some(l), Some(false)) => { "L" (l) " red" },
                        _ => { (r.state.as_str()) },
                    }
                }
            }
        }
    }
}
