//! What CI shows people, made from a run's results.json: JUnit XML for CI systems that render
//! test results, and a Markdown comment for the pull request. Both are written beside
//! results.json after every `cargo ccci run`, and on demand by `cargo ccci report`.

use ccci::core::ladder::{Rung, RungOutcome, TestStatus};
use ccci::core::{Results, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes `junit.xml` and `comment.md` into the run's directory (and the JUnit XML to
/// `junit_copy` too), and names them.
pub fn write_all(
    results: &Results,
    junit_copy: Option<&Path>,
    artifacts: Option<&str>,
) -> Result<(), String> {
    let dir = PathBuf::from(&results.run_dir);
    let xml = junit(results)?;
    let junit_path = dir.join("junit.xml");
    write(&junit_path, &xml)?;
    if let Some(copy) = junit_copy {
        write(copy, &xml)?;
    }
    let comment = dir.join("comment.md");
    write(&comment, &markdown(results, artifacts))?;
    let svg = dir.join("card.svg");
    write(&svg, &card_svg(results))?;
    let png = dir.join("card.png");
    let url = format!("file://{}", svg.display());
    let card_png = ccci::screenshot::capture(&url, &png, (640, 360), None);
    say!("  junit:          {}", junit_path.display());
    if let Some(copy) = junit_copy {
        say!("  junit copy:     {}", copy.display());
    }
    say!("  comment:        {}", comment.display());
    match card_png {
        Ok(()) => say!("  card:           {} (and .svg)", png.display()),
        Err(why) => say!("  card:           {} (no PNG: {why})", svg.display()),
    }
    Ok(())
}

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
    let commit = ccci::core::short_commit(&r.head.commit);
    // What ran, as far as the run knows: a run refused before it resolved its head says so.
    let subtitle = [version, commit, r.routing.map_or("", |x| x.as_str())]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    let subtitle = match commit.is_empty() {
        true => "refused before deploying".to_string(),
        false => subtitle,
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
fn wrap(text: &str, width: usize) -> Vec<String> {
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
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The run as JUnit XML: one test suite per rung, one test case per step; a failure carries
/// its message and where its forensics are, a step that could not run is a failure (it makes
/// the run red), a declared skip or a step not run is skipped with why.
pub fn junit(results: &Results) -> Result<String, String> {
    let mut report = Report::new(format!("ccci {}", results.recipe));
    for rung in Rung::ALL {
        let mut suite = TestSuite::new(rung.as_str());
        for t in results.tests.iter().filter(|t| t.rung == rung) {
            let status = match &t.status {
                TestStatus::Pass => TestCaseStatus::success(),
                TestStatus::Fail { message } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(message.as_str());
                    if let Some(f) = &t.forensics {
                        s.set_description(format!("{message}\ntask history and logs: {f}"));
                    }
                    s
                }
                TestStatus::CannotRun { reason } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!("cannot run: {reason}"));
                    s.set_type("cannot_run");
                    s
                }
                TestStatus::Skipped { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("declared not applicable: {reason}"));
                    s
                }
                TestStatus::NotRun { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("not run: {reason}"));
                    s
                }
                TestStatus::Filtered => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message("not selected by the test filter");
                    s
                }
            };
            let mut case = TestCase::new(t.name.as_str(), status);
            case.set_classname(format!("{}.{}", results.recipe, rung.as_str()));
            case.set_time(Duration::from_millis(t.duration_ms));
            suite.add_test_case(case);
        }
        // A rung with no steps (no functional tests, say) is still a verdict: one case.
        if suite.test_cases.is_empty() {
            if let Some(outcome) = results.rungs.get(&rung) {
                let status = match outcome {
                    RungOutcome::Pass => TestCaseStatus::success(),
                    RungOutcome::Skipped {
                        reason,
                        intentional: true,
                    } => {
                        let mut s = TestCaseStatus::skipped();
                        s.set_message(format!("declared not applicable: {reason}"));
                        s
                    }
                    RungOutcome::Skipped { reason, .. } => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(format!("not declared, so not a pass: {reason}"));
                        s.set_type("undeclared_skip");
                        s
                    }
                    other => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(other.label());
                        s
                    }
                };
                let mut case = TestCase::new(rung.as_str(), status);
                case.set_classname(format!("{}.{}", results.recipe, rung.as_str()));
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .map_err(|e| format!("cannot write JUnit XML: {e}"))
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
    let commit = ccci::core::short_commit(&r.head.commit);
    let _ = writeln!(
        s,
        "### {mark} ccci: {} {version} (`{commit}`) reached **{}**, verdict **{verdict}**\n",
        r.recipe, r.level
    );
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
    if let Some(ccci::core::results::Picture::Taken { path }) = &r.screenshot {
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

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Results {
        let text = include_str!("../tests/fixtures/results.json");
        serde_json::from_str(text).expect("the fixture is a results.json")
    }

    #[test]
    fn junit_has_a_suite_per_rung_and_a_case_per_step() {
        let r = sample();
        let xml = junit(&r).unwrap();
        assert_eq!(xml.matches("<testsuite ").count(), 4, "{xml}");
        let stepless = Rung::ALL
            .iter()
            .filter(|rung| !r.tests.iter().any(|t| t.rung == **rung))
            .count();
        assert_eq!(
            xml.matches("<testcase ").count(),
            r.tests.len() + stepless,
            "a case per step, and one per rung without steps: {xml}"
        );
        assert!(xml.contains("<failure"), "{xml}");
        assert!(xml.contains("<skipped"), "{xml}");
    }

    #[test]
    fn the_comment_has_the_verdict_the_rungs_and_the_reasons() {
        let md = markdown(&sample(), None);
        assert!(md.starts_with("### ❌ ccci: "), "{md}");
        assert!(md.contains("| install | ✅ pass |"), "{md}");
        assert!(md.contains("**Why it is red**"), "{md}");
        assert!(
            !md.contains(&sample().run_dir),
            "no machine path in a comment: {md}"
        );
        assert!(md.contains("results `results.json`"), "{md}");
        let linked = markdown(&sample(), Some("https://ci.example/runs/7/"));
        assert!(
            linked.contains("[junit.xml](https://ci.example/runs/7/junit.xml)"),
            "{linked}"
        );
    }

    #[test]
    fn a_refused_run_says_its_one_error_once_and_no_ladder() {
        let mut r = sample();
        r.facts.bad_input = Some("compose.yml line 3: not valid YAML: fix it".into());
        let md = markdown(&r, None);
        assert!(md.starts_with("### ⛔"), "{md}");
        assert_eq!(md.matches("not valid YAML").count(), 1, "{md}");
        assert!(!md.contains("| rung |"), "{md}");
        assert!(card_svg(&r).contains("BAD INPUT"));
    }
}
