//! The catalogue: every recipe, its latest whole cold run's level and verdict, when, and its
//! levels over time.

use super::{badge, layout, when};
use crate::Urls;
use ccci_store::RecipeSummary;
use maud::{html, Markup, PreEscaped};

/// The catalogue page.
pub(crate) fn page(urls: &Urls, recipes: &[RecipeSummary]) -> Markup {
    let body = html! {
        h1 { "Recipes" }
        @if recipes.is_empty() {
            p { "No run is recorded yet: run " code { "cargo ccci run <recipe>" } ", or import run directories with " code { "cargo ccci import" } "." }
        } @else {
            table {
                tr { th { "recipe" } th { "level" } th { "latest cold run" } th { "levels over time" } th { "runs" } }
                @for r in recipes {
                    tr {
                        td { a href=(urls.recipe(&r.recipe)) { (r.recipe) } }
                        @match &r.latest {
                            Some(run) => {
                                td { (badge(run.level, run.green, run.bad_input.is_some())) }
                                td { a href=(urls.run(&run.run_id)) { (when(run.started_at)) } " · " (run.reference.as_deref().unwrap_or("")) }
                            }
                            None => {
                                td { span.badge.grey { "none yet" } }
                                td { "no finished cold run" }
                            }
                        }
                        td { (PreEscaped(sparkline(&r.levels))) }
                        td { (r.runs) @if r.running > 0 { " (" (r.running) " running)" } }
                    }
                }
            }
        }
    };
    layout(urls, "Recipes", body)
}

/// A recipe's levels over time as a small SVG line, oldest left; each run a dot, green or red.
pub(crate) fn sparkline(levels: &[(u8, bool)]) -> String {
    const W: usize = 150;
    const H: usize = 28;
    if levels.is_empty() {
        return String::new();
    }
    let step = if levels.len() > 1 {
        (W - 8) as f64 / (levels.len() - 1) as f64
    } else {
        0.0
    };
    let point = |i: usize, level: u8| {
        (
            4.0 + i as f64 * step,
            (H - 4) as f64 - f64::from(level) * 5.0,
        )
    };
    let line: Vec<String> = levels
        .iter()
        .enumerate()
        .map(|(i, (l, _))| {
            let (x, y) = point(i, *l);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="levels of the last {} cold runs"><polyline fill="none" stroke="#8c959f" stroke-width="1.5" points="{}"/>"##,
        levels.len(),
        line.join(" ")
    );
    for (i, (level, green)) in levels.iter().enumerate() {
        let (x, y) = point(i, *level);
        let colour = if *green { "#1f883d" } else { "#cf222e" };
        svg.push_str(&format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{colour}"><title>L{level}</title></circle>"#
        ));
    }
    svg.push_str("</svg>");
    svg
}
