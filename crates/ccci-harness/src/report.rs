//! The terminal summary of a run: the level, each rung, teardown and where results.json is.

use ccci_core::ladder::RungOutcome;
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
        };
        let _ = writeln!(s, "  {:<15} {}{detail}", rung.as_str(), outcome.label());
    }
    let teardown = if r.teardown.clean {
        "clean".to_string()
    } else {
        format!("LEFT {}", r.teardown.leftovers.join(", "))
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
    for reason in &r.verdict_reasons {
        let _ = writeln!(s, "  red because:    {reason}");
    }
    let _ = write!(s, "  results:        {}", results_path.display());
    s
}
