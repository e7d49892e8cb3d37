//! Two runs of one recipe side by side: both ccci versions and commits, both recipe commits,
//! which of them changed, and every rung and step, the changed ones marked.

use super::{badge, layout, outcome};
use crate::Urls;
use ccci_report::{Comparison, Row};
use ccci_store::StoredRun;
use maud::{html, Markup};

/// The comparison page.
pub(crate) fn page(urls: &Urls, a: &StoredRun, b: &StoredRun, c: &Comparison) -> Markup {
    let body = html! {
        h1 { a href=(urls.recipe(&a.row.recipe)) { (a.row.recipe) } ": two runs side by side" }
        @if a.row.recipe != b.row.recipe {
            p.note { "These are runs of two recipes, " (a.row.recipe) " and " (b.row.recipe) "." }
        }
        table {
            tr { th {} th { "A" } th { "B" } }
            (side_row("run", |r| html! { a href=(urls.run(&r.row.run_id)) { (r.row.run_id) } }, a, b))
            (side_row("verdict", |r| badge(r.row.level, r.row.green, r.row.bad_input.is_some()), a, b))
            (side_row("ref", |r| html! { (r.row.reference.as_deref().unwrap_or("")) }, a, b))
            (side_row("recipe commit", |r| html! { code { (r.row.commit.as_deref().unwrap_or("")) } }, a, b))
            (side_row("ccci", |r| html! { (r.row.ccci_version.as_deref().unwrap_or("unknown")) " " code { (r.row.ccci_commit.as_deref().unwrap_or("")) } }, a, b))
            (side_row("host", |r| html! { (r.row.host.as_deref().unwrap_or("")) }, a, b))
            (side_row("started", |r| html! { (super::when(r.row.started_at)) }, a, b))
        }
        p.note { (c.cause.says()) }
        @if !c.settings.0.is_empty() || !c.settings.1.is_empty() {
            h2 { "Settings only one of them had" }
            table {
                tr { th { "A" } th { "B" } }
                tr {
                    td.msg { ul { @for m in &c.settings.0 { li { (m) } } } }
                    td.msg { ul { @for m in &c.settings.1 { li { (m) } } } }
                }
            }
        }
        h2 { "Rungs" }
        (rows(&c.rungs))
        h2 { "Steps" }
        (rows(&c.steps))
    };
    layout(urls, &format!("{}: A/B", a.row.recipe), body)
}

fn side_row(
    name: &str,
    show: impl Fn(&StoredRun) -> Markup,
    a: &StoredRun,
    b: &StoredRun,
) -> Markup {
    html! { tr { th { (name) } td { (show(a)) } td { (show(b)) } } }
}

fn rows(rows: &[Row]) -> Markup {
    let side = |s: &Option<ccci_report::Side>| match s {
        Some(s) => {
            html! { (outcome(&s.label)) @if let Some(r) = &s.reason { br; span.meta { (r) } } }
        }
        None => html! { span.o-grey { "—" } },
    };
    html! {
        table {
            tr { th { "" } th { "A" } th { "B" } }
            @for r in rows {
                tr class=[r.changed().then_some("changed")] {
                    td { code { (r.name) } @if r.changed() { " ≠" } }
                    td.msg { (side(&r.a)) }
                    td.msg { (side(&r.b)) }
                }
            }
        }
    }
}
