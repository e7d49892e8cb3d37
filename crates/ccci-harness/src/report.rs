//! The terminal summary of a run: the level, each rung, teardown and where results.json is.
//! Every failure is said once: steps that did not run because of it are counted, not
//! repeated.

use ccci_core::ladder::{RungOutcome, TestStatus};
use ccci_core::results::RestoreProof;
use ccci_core::{Results, Verdict};
use std::fmt::Write as _;
use std::path::Path;

/// The summary printed after a run.
pub fn summary(r: &Results, results_path: &Path) -> String {
    let mut s = String::new();
    let version = r.head.version.as_deref().unwrap_or("unreleased");
    let commit = &r.head.commit[..r.head.commit.len().min(8)];
    let verdict = match r.verdict {
        Verdict::Green => "GREEN",
        Verdict::Red => "RED",
    };
    let _ = writeln!(
        s,
        "ccci: {} {version} ({commit}) on {}: level {}, verdict {verdict}",
        r.recipe, r.domain, r.level
    );
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
        let _ = writeln!(s, "  {:<15} {}{detail}", rung.as_str(), outcome.label());
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
    for d in &r.deploys {
        let what = match (&d.version, &d.chaos_version) {
            (Some(v), None) => v.clone(),
            (Some(v), Some(c)) => format!("{v} (chaos {c})"),
            (None, Some(c)) => format!("chaos {c}"),
            (None, None) => d.commit[..d.commit.len().min(8)].to_string(),
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
    let _ = write!(s, "  results:        {}", results_path.display());
    s
}
