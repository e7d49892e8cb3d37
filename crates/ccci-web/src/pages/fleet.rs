//! The warm fleet: every canonical deployment the store knows (its version, since when, what
//! proves its data), and the newest sweeps, each recipe against the sweep before with the
//! comparison of the two runs of every one that moved (the drift report).

use super::{badge, layout, when};
use crate::Urls;
use ccci_store::{CanonicalRow, Drift, Sweep};
use maud::{html, Markup};

fn drift(d: Drift) -> Markup {
    match d {
        Drift::Regression => html! { span.badge.red { "REGRESSION" } },
        Drift::Improvement => html! { span.badge.green { "improvement" } },
        Drift::New => html! { span.badge.grey { "first sweep" } },
        Drift::None => html! { span.badge.grey { "same" } },
    }
}

fn sweep(urls: &Urls, s: &Sweep) -> Markup {
    html! {
        h2 { "Sweep " code { (s.sweep_id) } }
        p.meta {
            (when(s.started_at)) " – " (when(s.finished_at)) " on " (s.host)
            @if let Some(d) = &s.deps { " · shared dependencies: " (d) }
        }
        table {
            tr { th { "recipe" } th { "this sweep" } th { "the sweep before" } th { "drift" } th { "" } }
            @for l in &s.lines {
                tr {
                    td { a href=(urls.recipe(&l.recipe)) { (l.recipe) } }
                    td {
                        @match &l.run_id {
                            Some(r) => a href=(urls.run(r)) { (badge(l.level, l.green, false)) },
                            None => "not run",
                        }
                        @if let Some(n) = &l.note { " " small { (n) } }
                    }
                    td {
                        @if let Some(r) = &l.previous_run_id {
                            a href=(urls.run(r)) { (badge(l.previous_level, l.previous_green, false)) }
                        }
                    }
                    td { (drift(l.drift)) }
                    td {
                        @if let (Some(a), Some(b), Drift::Regression | Drift::Improvement) = (&l.previous_run_id, &l.run_id, l.drift) {
                            a href=(urls.compare(a, b)) { "compare the two runs" }
                        }
                    }
                }
            }
        }
    }
}

/// The fleet page.
pub(crate) fn page(urls: &Urls, canonicals: &[CanonicalRow], sweeps: &[Sweep]) -> Markup {
    let body = html! {
        h1 { "Warm fleet" }
        h2 { "Canonical deployments" }
        @if canonicals.is_empty() {
            p { "None: " code { "cargo ccci canonical up RECIPE" } " makes one of a recipe enrolled with " code { "canonical: true" } "." }
        } @else {
            table {
                tr { th { "recipe" } th { "known-good" } th { "since" } th { "host" } th { "domain" } th { "data proven by" } }
                @for c in canonicals {
                    tr {
                        td { a href=(urls.recipe(&c.recipe)) { (c.recipe) } }
                        td {
                            @match &c.proven_by {
                                Some(r) => a href=(urls.run(r)) { (c.version) },
                                None => (c.version),
                            }
                        }
                        td { (when(c.since)) }
                        td { (c.host) }
                        td { code { (c.domain) } }
                        td { small { (c.proof) } }
                    }
                }
            }
        }
        @if sweeps.is_empty() {
            h2 { "Sweeps" }
            p { "No sweep yet: " code { "cargo ccci sweep" } " runs every enrolled recipe cold on its latest release." }
        }
        @for s in sweeps { (sweep(urls, s)) }
    };
    layout(urls, "Warm fleet", body)
}
