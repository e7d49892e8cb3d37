//! The run as a pull-request comment (Markdown): what the forge shows a maintainer.

use crate::one_line;
use ccci_core::ladder::{RungOutcome, TestStatus};
use ccci_core::{Cause, Results, Verdict};
use std::fmt::Write as _;
use std::path::Path;

/// What a quick run is and what the run did with the canonical; every upgrade path when
/// there was more than one.
fn fleet_lines(s: &mut String, r: &Results) {
    if r.lane.on_canonical() {
        let _ = writeln!(
            s,
            "The head ran on the recipe's warm canonical deployment (upgraded in place, its functional tests), not from nothing: this is not a cold run's level. Comment `!testme` for a cold run.\n"
        );
    }
    if let Some(c) = &r.canonical {
        let _ = writeln!(s, "{}\n", crate::canonical_line(c));
    }
    if r.upgrade_paths.len() > 1 {
        for p in &r.upgrade_paths {
            let how = match &p.error {
                None => "✅ passed".to_string(),
                Some(e) => format!("❌ failed: {}", one_line(e)),
            };
            let _ = writeln!(s, "- upgrade from **{}**: {how}", p.from);
        }
        let _ = writeln!(s);
    }
}

/// The run as a pull-request comment: the verdict and level, a rung table, why it is red,
/// where the evidence is.
pub fn markdown(r: &Results, artifacts: Option<&str>) -> String {
    // A comment is read on the forge, never on the CI machine: files are named relative to
    // the run directory, or linked under where they are served.
    let file = |name: &str| match artifacts {
        Some(base) => format!("[{name}]({}/{name})", base.trim_end_matches('/')),
        None => format!("`{name}`"),
    };
    let mut s = String::new();
    let (mark, verdict) = match r.verdict {
        Verdict::Green => ("✅", "GREEN"),
        Verdict::Red => ("❌", "RED"),
    };
    if let Some(e) = &r.bad_input {
        // Refused before anything ran: the one thing to fix, said once.
        let _ = writeln!(
            s,
            "### ⛔ ccci: {} could not run: **bad input**\n\n{}\n\nNothing was deployed. Fix it and push again.\n\nrun `{}` · results {}",
            r.recipe,
            one_line(e),
            r.run_id,
            file("results.json")
        );
        return s;
    }
    let version = r.head.version.as_deref().unwrap_or("unreleased");
    let commit = ccci_core::short_commit(&r.head.commit);
    let quick = r.lane.on_canonical();
    let lane = if quick { " in the **quick lane**" } else { "" };
    let _ = writeln!(
        s,
        "### {mark} ccci: {} {version} (`{commit}`){lane} reached **{}**, verdict **{verdict}**\n",
        r.recipe, r.level
    );
    fleet_lines(&mut s, r);
    let _ = writeln!(s, "| rung | outcome | |\n|---|---|---|");
    for (rung, outcome) in &r.rungs {
        let (icon, detail) = match outcome {
            RungOutcome::Pass => ("✅", String::new()),
            RungOutcome::Fail { reason } => ("❌", reason.clone()),
            RungOutcome::Skipped {
                reason,
                intentional: true,
            } => ("⏭️", format!("declared: {reason}")),
            RungOutcome::Skipped {
                reason,
                intentional: false,
            } => ("⚠️", format!("not declared: {reason}")),
            RungOutcome::Unverified { reason } => ("⚠️", reason.clone()),
            RungOutcome::NotRun { because } => ("➖", because.clone()),
        };
        let _ = writeln!(
            s,
            "| {} | {icon} {} | {} |",
            rung.as_str(),
            outcome.label(),
            cell(&detail)
        );
    }
    if !r.verdict_reasons.is_empty() {
        let _ = writeln!(s, "\n**Why it is red**\n");
        for reason in &r.verdict_reasons {
            let _ = writeln!(s, "- {}", one_line(reason));
        }
    }
    if let Some(rb) = &r.rollback {
        let _ = match &rb.problem {
            None => writeln!(
                s,
                "\n**Rollback** to {}: ✅ healthy, data intact (as `abra app rollback` would leave it).",
                rb.to
            ),
            Some(why) => writeln!(
                s,
                "\n**Rollback** to {}: ❌ unsafe: {}",
                rb.to,
                one_line(why)
            ),
        };
    }
    match &r.cause {
        Some(Cause::Host { lacked }) => {
            let _ = writeln!(
                s,
                "\n**Not the recipe's failure:** the host failed this run ({}). It says nothing of the recipe: run it again once the host is fixed (`cargo ccci serve` retries it on a fresh deployment).",
                one_line(lacked)
            );
        }
        Some(Cause::Cancelled { why }) => {
            let _ = writeln!(s, "\n**Cancelled** before its verdict: {}.", one_line(why));
        }
        Some(Cause::Recipe) | None => {}
    }
    let failed: Vec<_> = r
        .tests
        .iter()
        .filter(|t| matches!(t.status, TestStatus::Fail { .. }))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "\n**Failed steps**\n");
        for t in failed {
            if let TestStatus::Fail { message } = &t.status {
                let _ = writeln!(s, "- `{}`: {}", t.name, one_line(message));
                if let Some(f) = &t.forensics {
                    let relative = Path::new(f)
                        .strip_prefix(&r.run_dir)
                        .map_or(f.clone(), |p| p.display().to_string());
                    let _ = writeln!(s, "  - task history and logs: {}", file(&relative));
                }
            }
        }
    }
    if !r.manifest.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>How this run was customised</summary>\n"
        );
        for m in &r.manifest {
            let _ = writeln!(s, "- {}", one_line(m));
        }
        let _ = writeln!(s, "\n</details>");
    }
    if !r.changes.is_empty() || !r.warnings.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>What ccci changed and noticed</summary>\n"
        );
        for c in &r.changes {
            let _ = writeln!(s, "- changed: {}", one_line(c));
        }
        for w in &r.warnings {
            let _ = writeln!(s, "- {}", one_line(w));
        }
        let _ = writeln!(s, "\n</details>");
    }
    if let Some(ccci_core::results::Picture::Taken { path }) = &r.screenshot {
        let name = Path::new(path)
            .file_name()
            .map_or("screenshot.png".into(), |n| n.to_string_lossy().to_string());
        let _ = writeln!(
            s,
            "\nScreenshot of the app before teardown: {}",
            file(&name)
        );
    }
    let routing = r.routing.map_or("unknown", |x| x.as_str());
    let _ = writeln!(
        s,
        "\nrouting {routing} · teardown {} · {:.0} s · run `{}` · results {}, JUnit {}, card {}",
        match (&r.teardown.kept, r.teardown.clean) {
            (Some(_), _) => "kept for debugging",
            (None, true) => "clean",
            (None, false) => "LEFT OBJECTS",
        },
        r.duration_secs,
        r.run_id,
        file("results.json"),
        file("junit.xml"),
        file("card.png")
    );
    s
}

/// `text` fit for one table cell: no line breaks, no column separators.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}
