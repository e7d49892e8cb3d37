//! The report card: a picture of a run for a pull request and the dashboard.

use crate::one_line;
use ccci_core::ladder::{Rung, RungOutcome};
use ccci_core::{Results, Verdict};

/// The report card: a 640×360 picture of the run for a pull request. The recipe, its version
/// and commit, the level as a ladder of four rungs, each rung's outcome, why it is red, and
/// when. SVG, drawn here; its PNG is rendered by Chromium.
pub fn card_svg(r: &Results) -> String {
    const W: u32 = 640;
    let green = r.verdict == Verdict::Green;
    let accent = if green { "#1f883d" } else { "#cf222e" };
    let verdict = match (green, &r.bad_input) {
        (true, _) => "GREEN",
        (false, Some(_)) => "BAD INPUT",
        (false, None) => "RED",
    };
    let version = r.head.version.as_deref().unwrap_or("unreleased");
    let commit = ccci_core::short_commit(&r.head.commit);
    // What ran, as far as the run knows: a run refused before it resolved its head says so.
    let subtitle = [version, commit, r.routing.map_or("", |x| x.as_str())]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    let subtitle = match (commit.is_empty(), r.lane.on_canonical()) {
        (true, _) => "refused before deploying".to_string(),
        (false, true) => format!("{subtitle} · QUICK LANE, not a cold level"),
        (false, false) => subtitle,
    };
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="360" viewBox="0 0 {W} 360" font-family="DejaVu Sans, Verdana, sans-serif">
<rect width="{W}" height="360" rx="14" fill="#ffffff"/>
<rect width="{W}" height="360" rx="14" fill="none" stroke="#d0d7de" stroke-width="2"/>
<rect x="0" y="0" width="12" height="360" rx="6" fill="{accent}"/>
<text x="36" y="52" font-size="28" font-weight="bold" fill="#1f2328">{}</text>
<text x="36" y="80" font-size="16" fill="#59636e">{}</text>
<circle cx="548" cy="92" r="58" fill="{accent}"/>
<text x="548" y="104" font-size="40" font-weight="bold" fill="#ffffff" text-anchor="middle">{}</text>
<text x="548" y="178" font-size="18" font-weight="bold" fill="{accent}" text-anchor="middle">{verdict}</text>
"##,
        esc(&r.recipe),
        esc(&subtitle),
        r.level,
    );
    // The ladder, climbed from the bottom: install lowest.
    for (i, rung) in Rung::ALL.iter().enumerate() {
        let y = 270 - i as u32 * 46;
        let outcome = r.rungs.get(rung);
        let (fill, label) = match outcome {
            Some(RungOutcome::Pass) => ("#1f883d", "pass"),
            Some(RungOutcome::Fail { .. }) => ("#cf222e", "fail"),
            Some(RungOutcome::Skipped {
                intentional: true, ..
            }) => ("#8c959f", "skip (declared)"),
            Some(RungOutcome::Skipped { .. }) => ("#bf8700", "skip (not declared)"),
            Some(RungOutcome::Unverified { .. }) => ("#bf8700", "unverified"),
            Some(RungOutcome::NotRun { .. }) | None => ("#d0d7de", "not run"),
        };
        s.push_str(&format!(
            r##"<rect x="36" y="{y}" width="250" height="36" rx="6" fill="{fill}"/>
<text x="50" y="{}" font-size="17" font-weight="bold" fill="#ffffff">L{} {}</text>
<text x="300" y="{}" font-size="16" fill="#1f2328">{label}</text>
"##,
            y + 24,
            i + 1,
            rung.as_str(),
            y + 24,
        ));
    }
    let reason = r
        .verdict_reasons
        .first()
        .map(|x| one_line(x))
        .unwrap_or_default();
    if !reason.is_empty() {
        for (n, line) in wrap(&reason, 66).iter().take(2).enumerate() {
            s.push_str(&format!(
                r##"<text x="36" y="{}" font-size="13" fill="#cf222e">{}</text>
"##,
                326 + n as u32 * 17,
                esc(line)
            ));
        }
    }
    s.push_str(&format!(
        r##"<text x="548" y="206" font-size="12" fill="#59636e" text-anchor="middle">{}</text>
<text x="548" y="222" font-size="12" fill="#59636e" text-anchor="middle">ccci</text>
</svg>
"##,
        esc(&r.finished_at)
    ));
    s
}

/// `text` in lines of at most about `width` characters, broken at spaces; the last line of
/// what is cut ends in an ellipsis.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    if lines.len() > 2 {
        lines.truncate(2);
        lines[1].push('…');
    }
    lines
}

/// `text` safe inside SVG text.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
