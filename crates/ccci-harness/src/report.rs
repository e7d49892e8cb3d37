//! The terminal summary of a run: the level, each rung, teardown and where results.json is.
//! Every failure is said once: steps that did not run because of it are counted, not
//! repeated.

use ccci_core::ladder::{RungOutcome, TestStatus};
use ccci_core::results::RestoreProof;
use ccci_core::{Results, Verdict};
use std::fmt::Write as _;
use std::path::Path;

/// Whether output to standard output may be coloured: it is a terminal, `NO_COLOR` is not
/// set (<https://no-color.org>) and `TERM` is not `dumb`. Files, pipes and CI logs get plain
/// text.
pub fn colour_stdout() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// ANSI colours, or none.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    const GREEN: &str = "32";
    const RED: &str = "31";
    const YELLOW: &str = "33";
    const BOLD: &str = "1";

    fn on(self, code: &str, text: &str) -> String {
        match self.0 {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        }
    }
}

/// `GREEN` or `RED`, bold and in its colour when `colour` (see [`colour_stdout`]).
pub fn verdict_styled(verdict: Verdict, colour: bool) -> String {
    let paint = Paint(colour);
    match verdict {
        Verdict::Green => paint.on(Paint::GREEN, &paint.on(Paint::BOLD, "GREEN")),
        Verdict::Red => paint.on(Paint::RED, &paint.on(Paint::BOLD, "RED")),
    }
}

/// The summary printed after a run, as plain text (for files and logs).
pub fn summary(r: &Results, results_path: &Path) -> String {
    summary_styled(r, results_path, false)
}

/// The summary, with the verdict and each rung's outcome coloured when `colour` (see
/// [`colour_stdout`]).
pub fn summary_styled(r: &Results, results_path: &Path, colour: bool) -> String {
    let paint = Paint(colour);
    let mut s = String::new();
    let version = r.head.version.as_deref().unwrap_or("unreleased");
    let commit = ccci_core::short_commit(&r.head.commit);
    let verdict = verdict_styled(r.verdict, colour);
    // Only what is known: a run refused before its clone has no commit or domain.
    let mut what = format!("{} {version}", r.recipe);
    if !commit.is_empty() {
        let _ = write!(what, " ({commit})");
    }
    if !r.domain.is_empty() {
        let _ = write!(what, " on {}", r.domain);
    }
    let _ = writeln!(s, "ccci: {what}: level {}, verdict {verdict}", r.level);
    if let Some(e) = &r.bad_input {
        return bad_input_summary(r, e, results_path, paint);
    }
    if let Some(note) = r.lane.note() {
        let _ = writeln!(s, "  lane:           {note}");
    }
    rung_lines(&mut s, r, paint);
    fleet_lines(&mut s, r);
    fact_lines(&mut s, r);
    ending_lines(&mut s, r);
    let _ = write!(s, "  results:        {}", results_path.display());
    s
}

/// The upgrade paths (when more than the run's own) and what the run did with the canonical.
fn fleet_lines(s: &mut String, r: &Results) {
    if r.upgrade_paths.len() > 1 {
        for p in &r.upgrade_paths {
            let how = match &p.error {
                None => "passed".to_string(),
                Some(e) => format!("FAILED: {e}"),
            };
            let _ = writeln!(s, "  upgrade from:   {} ({}): {how}", p.from, p.stack);
        }
    }
    let Some(c) = &r.canonical else {
        return;
    };
    use ccci_core::canonical::CanonicalAction;
    let did = match &c.action {
        CanonicalAction::Quick if c.known_good && c.restored => format!(
            "{} back at known-good {}, its snapshot restored",
            c.stack, c.version
        ),
        CanonicalAction::Quick if c.known_good => {
            format!("{} back at known-good {}", c.stack, c.version)
        }
        CanonicalAction::Quick => format!("{} NOT back at known-good {}", c.stack, c.version),
        CanonicalAction::Made => format!("{} made at {}", c.stack, c.version),
        CanonicalAction::Promoted { from } if c.problem.is_none() => {
            format!("{} promoted from {from} to {}", c.stack, c.version)
        }
        CanonicalAction::Promoted { from } => {
            format!(
                "{} NOT promoted from {from}; it is at {}",
                c.stack, c.version
            )
        }
    };
    let _ = writeln!(s, "  canonical:      {did}");
    if let Some(why) = &c.untrusted {
        let _ = writeln!(
            s,
            "  canonical:      was not trusted ({why}), so it was rebuilt cold first"
        );
    }
    if let Some(p) = &c.problem {
        let _ = writeln!(s, "  canonical:      {p}");
    }
    let _ = writeln!(s, "  canonical data: {}", c.proof);
}

/// A run refused for bad input: nothing ran, so no version, domain or level to speak of.
fn bad_input_summary(r: &Results, e: &str, results_path: &Path, paint: Paint) -> String {
    let mut s = format!(
        "ccci: {} could not run: {}\n",
        r.recipe,
        paint.on(Paint::RED, &paint.on(Paint::BOLD, "BAD INPUT"))
    );
    let _ = writeln!(s, "  {:<15} {e}", paint.on(Paint::RED, "bad input:"));
    let _ = writeln!(
        s,
        "  {:<15} nothing was deployed; fix the input and run again",
        ""
    );
    let _ = write!(s, "  results:        {}", results_path.display());
    s
}

/// A line per rung with its outcome, then the steps that did not run, by why.
fn rung_lines(s: &mut String, r: &Results, paint: Paint) {
    for (rung, outcome) in &r.rungs {
        let detail = match outcome {
            RungOutcome::Pass => String::new(),
            RungOutcome::Fail { reason } => format!(": {reason}"),
            RungOutcome::Skipped {
                reason,
                intentional: true,
            } => format!(" (intentional): {reason}"),
            RungOutcome::Skipped {
                reason,
                intentional: false,
            } => format!(" (UNINTENTIONAL): {reason}"),
            RungOutcome::Unverified { reason } => format!(": {reason}"),
            RungOutcome::NotRun { because } => format!(" ({because})"),
        };
        let label = match outcome {
            RungOutcome::Pass => paint.on(Paint::GREEN, outcome.label()),
            RungOutcome::Skipped {
                intentional: true, ..
            } => paint.on(Paint::YELLOW, outcome.label()),
            _ => paint.on(Paint::RED, outcome.label()),
        };
        let _ = writeln!(s, "  {:<15} {label}{detail}", rung.as_str());
    }
    let mut not_run: Vec<(&str, usize)> = Vec::new();
    for t in &r.tests {
        if let TestStatus::NotRun { reason } = &t.status {
            match not_run.iter_mut().find(|(why, _)| why == reason) {
                Some((_, n)) => *n += 1,
                None => not_run.push((reason, 1)),
            }
        }
    }
    for (why, n) in not_run {
        let steps = if n == 1 { "step" } else { "steps" };
        let _ = writeln!(s, "  {:<15} {n} {steps} not run ({why})", "");
    }
}

/// What the run did: its deploys, routing, manifest, changes, restore proof, warnings and
/// screenshot.
fn fact_lines(s: &mut String, r: &Results) {
    for d in &r.deploys {
        let what = match (&d.version, &d.chaos_version) {
            (Some(v), None) => v.clone(),
            (Some(v), Some(c)) => format!("{v} (chaos {c})"),
            (None, Some(c)) => format!("chaos {c}"),
            (None, None) => ccci_core::short_commit(&d.commit).to_string(),
        };
        let health = if d.healthy { "healthy" } else { "NOT healthy" };
        let _ = writeln!(s, "  deployed:       {} {what}: {health}", d.step);
    }
    if let Some(routing) = r.routing {
        let how = match routing {
            ccci_core::results::Routing::Traefik => {
                "through Traefik, over HTTPS by the app's domain"
            }
            ccci_core::results::Routing::HostPort => "on a host port, without Traefik",
        };
        let _ = writeln!(s, "  routing:        {} ({how})", routing.as_str());
    }
    for m in &r.manifest {
        let _ = writeln!(s, "  manifest:       {m}");
    }
    for c in &r.changes {
        let _ = writeln!(s, "  changed:        {c}");
    }
    match &r.restore_proof {
        Some(RestoreProof::RecipeHooks { hooks }) => {
            let _ = writeln!(
                s,
                "  restore proof:  the recipe's checks {}",
                hooks.join(", ")
            );
        }
        Some(RestoreProof::Markers { paths }) => {
            let _ = writeln!(
                s,
                "  restore proof:  ccci's markers came back ({})",
                paths.join(", ")
            );
        }
        Some(RestoreProof::None { reason }) => {
            let _ = writeln!(
                s,
                "  restore proof:  NONE: the restore was not proven by data: {reason}"
            );
        }
        None => {}
    }
    for w in &r.warnings {
        let _ = writeln!(s, "  warning:        {w}");
    }
    match &r.screenshot {
        Some(ccci_core::results::Picture::Taken { path }) => {
            let _ = writeln!(s, "  screenshot:     {path}");
        }
        Some(ccci_core::results::Picture::Failed { reason }) => {
            let _ = writeln!(s, "  screenshot:     none ({reason})");
        }
        None => {}
    }
}

/// How it ended: teardown, snapshots, what capped the level, and why it is red.
fn ending_lines(s: &mut String, r: &Results) {
    let teardown = match (&r.teardown.kept, r.teardown.clean) {
        (Some(k), _) => format!(
            "KEPT stack {} until {} (remove now: {})",
            k.stack, k.until, k.remove
        ),
        (None, true) => "clean".to_string(),
        (None, false) => format!("LEFT {}", r.teardown.leftovers.join(", ")),
    };
    let _ = writeln!(s, "  {:<15} {teardown}", "teardown");
    for snap in &r.snapshots {
        let state = match (&snap.error, snap.verified) {
            (Some(e), _) => format!("rejected: {e}"),
            (None, Some(true)) => "verified".into(),
            (None, _) => "taken".into(),
        };
        let _ = writeln!(s, "  snapshot {}:     {} ({state})", snap.attempt, snap.dir);
    }
    if let Some(cap) = r.level_cap_rung {
        let _ = writeln!(s, "  capped by:      {cap}");
    }
    if let Some(rb) = &r.rollback {
        let how = match &rb.problem {
            None if rb.proof.is_empty() => "healthy (no backed-up path held a marker)".to_string(),
            None => format!("healthy, data intact ({})", rb.proof.join(", ")),
            Some(why) => format!("UNSAFE: {why}"),
        };
        let _ = writeln!(s, "  rollback:       to {}: {how}", rb.to);
    }
    // Whose fault the red is: a host's is no word on the recipe.
    match &r.cause {
        Some(c @ ccci_core::Cause::Host { .. }) => {
            let _ = writeln!(s, "  cause:          {c} (not the recipe's failure)");
        }
        Some(c) => {
            let _ = writeln!(s, "  cause:          {c}");
        }
        None => {}
    }
    // The rung lines above already say why each rung is not a pass; only the reasons that
    // come from elsewhere (a dependency, the head's deploy, teardown) are added here.
    let mut ladder = ccci_core::Ladder::default();
    for (rung, outcome) in &r.rungs {
        ladder.set(*rung, outcome.clone());
    }
    let from_rungs = ladder.red_reasons();
    for reason in r.verdict_reasons.iter().filter(|v| !from_rungs.contains(v)) {
        let _ = writeln!(s, "  red because:    {reason}");
    }
}
