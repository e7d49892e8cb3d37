//! The dashboard's pages, each a plain function from what the store answered to HTML: the
//! handlers only fetch. Every page reads without JavaScript.

pub(crate) mod catalogue;
pub(crate) mod compare;
pub(crate) mod fleet;
pub(crate) mod queue;
pub(crate) mod recipe;
pub(crate) mod run;

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The page around `body`, titled `title`.
pub(crate) fn layout(urls: &crate::Urls, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ccci" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.home href=(urls.catalogue()) { "ccci" }
                    span.tag { "Co-op Cloud recipes, proven on a real Swarm" }
                    a.nav href=(urls.fleet()) { "fleet" }
                    a.nav href=(urls.queue()) { "queue" }
                }
                main { (body) }
                footer { "ccci " (env!("CARGO_PKG_VERSION")) }
            }
        }
    }
}

/// A level and verdict as a coloured badge (`L4 GREEN`); a run without a verdict says where
/// it stands instead.
pub(crate) fn badge(level: Option<u8>, green: Option<bool>, bad_input: bool) -> Markup {
    match (level, green) {
        _ if bad_input => html! { span.badge.red { "BAD INPUT" } },
        (Some(l), Some(true)) => html! { span.badge.green { "L" (l) " GREEN" } },
        (Some(l), Some(false)) => html! { span.badge.red { "L" (l) " RED" } },
        _ => html! { span.badge.grey { "no verdict" } },
    }
}

/// A rung outcome or step status as a small coloured word.
pub(crate) fn outcome(label: &str) -> Markup {
    let class = match label {
        "pass" => "o-pass",
        "fail" | "cannot run" => "o-fail",
        "unverified" => "o-warn",
        _ => "o-grey",
    };
    html! { span class=(class) { (label) } }
}

/// Unix seconds as people read them: `2026-12-03 08:13 UTC`.
pub(crate) fn when(secs: i64) -> String {
    let t = ccci_core::time::rfc3339(secs.max(0) as u64);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

/// A duration as people read it: `35 s`, `4 min 10 s`.
pub(crate) fn took(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        _ => format!("{} min {} s", s / 60, s % 60),
    }
}

/// A commit as people read it.
pub(crate) fn short(commit: Option<&str>) -> &str {
    commit.map_or("", ccci_core::short_commit)
}

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #1f2328; color: #fff; padding: 10px 24px; }
header a.home { color: #fff; font-weight: bold; font-size: 20px; text-decoration: none; margin-right: 16px; }
header .tag { color: #d0d7de; font-size: 14px; }
header a.nav { color: #d0d7de; margin-left: 24px; font-size: 14px; }
main { padding: 16px 24px; max-width: 1200px; }
footer { color: #59636e; font-size: 12px; padding: 16px 24px; }
h1 { font-size: 24px; margin: 8px 0; }
h2 { font-size: 18px; margin: 22px 0 8px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #d0d7de; font-size: 14px; vertical-align: top; }
th { background: #eaeef2; }
td.msg { font-size: 13px; color: #59636e; max-width: 560px; overflow-wrap: anywhere; }
a { color: #0969da; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 10px; color: #fff; font-weight: bold; font-size: 13px; }
.green { background: #1f883d; } .red { background: #cf222e; } .grey { background: #8c959f; }
.o-pass { color: #1f883d; font-weight: bold; } .o-fail { color: #cf222e; font-weight: bold; }
.o-warn { color: #bf8700; font-weight: bold; } .o-grey { color: #59636e; }
.meta { color: #59636e; font-size: 14px; }
.note { background: #fff8c5; border: 1px solid #d4a72c; padding: 8px 12px; }
.changed td { background: #fff1e5; }
.pics img { max-width: 48%; border: 1px solid #d0d7de; margin-right: 1%; vertical-align: top; background: #fff; }
form { margin: 8px 0; } select, input { font-size: 14px; }
ul.files { columns: 2; }
pre#log { background: #fff; border: 1px solid #d0d7de; padding: 8px 12px; font-size: 12px; max-height: 640px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
"#;
