//! The warm fleet's side of the store, for `cargo ccci canonical` and `cargo ccci sweep`: the
//! version a canonical is made at, this host's canonicals recorded, and a sweep recorded with
//! its drift report.

use crate::commands::{open_store, StoreArgs};
use ccci_core::canonical::Canonical;
use ccci_core::wire::SweepRecord;
use ccci_store::{Drift, Sweep};
use std::path::Path;
use std::process::ExitCode;

/// `known-good RECIPE`: the latest green cold run of a release, as one line of JSON (`null`
/// when there is none).
pub fn known_good(args: &StoreArgs, recipe: &str) -> Result<ExitCode, String> {
    let store = open_store(args)?;
    let k = store.known_good(recipe).map_err(|e| e.to_string())?;
    say!("{}", serde_json::to_string(&k).map_err(|e| e.to_string())?);
    Ok(ExitCode::SUCCESS)
}

/// `set-canonicals --host HOST FILE`: the canonicals `HOST` keeps (a JSON array of its
/// records) become the store's for that host.
pub fn set_canonicals(args: &StoreArgs, host: &str, file: &Path) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let records: Vec<Canonical> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let store = open_store(args)?;
    store
        .set_canonicals(host, &records)
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// `record-sweep FILE`: records the sweep and prints its drift report.
pub fn record_sweep(args: &StoreArgs, file: &Path) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let s: SweepRecord =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let store = open_store(args)?;
    let sweep = store.record_sweep(&s).map_err(|e| e.to_string())?;
    crate::print_out(&report(&sweep));
    Ok(ExitCode::SUCCESS)
}

/// `L4 green`, or `not run`.
fn outcome(level: Option<u8>, green: Option<bool>) -> String {
    match (level, green) {
        (Some(l), Some(g)) => format!("L{l} {}", if g { "green" } else { "red" }),
        _ => "not run".into(),
    }
}

/// The drift report of `sweep`, as text: every recipe with its run against the sweep before,
/// and how to compare the two runs of each that moved.
pub fn report(sweep: &Sweep) -> String {
    let mut out = format!(
        "sweep {}: {} enrolled recipe(s){}\n",
        sweep.sweep_id,
        sweep.lines.len(),
        sweep
            .deps
            .as_deref()
            .map(|d| format!("; shared dependencies: {d}"))
            .unwrap_or_default()
    );
    let width = sweep
        .lines
        .iter()
        .map(|l| l.recipe.len())
        .max()
        .unwrap_or(0);
    for l in &sweep.lines {
        let was = match l.drift {
            Drift::New => "first sweep".to_string(),
            _ => format!("was {}", outcome(l.previous_level, l.previous_green)),
        };
        let mark = match l.drift {
            Drift::Regression => "  REGRESSION",
            Drift::Improvement => "  improvement",
            _ => "",
        };
        out.push_str(&format!(
            "  {:width$}  {:9}  ({was}){mark}",
            l.recipe,
            outcome(l.level, l.green)
        ));
        if let (Some(a), Some(b), true) = (
            &l.previous_run_id,
            &l.run_id,
            matches!(l.drift, Drift::Regression | Drift::Improvement),
        ) {
            out.push_str(&format!("  cargo ccci compare {a} {b}"));
        }
        if let Some(n) = &l.note {
            out.push_str(&format!("  [{n}]"));
        }
        out.push('\n');
    }
    let (down, up) = sweep.drifted().fold((0, 0), |(d, u), l| match l.drift {
        Drift::Regression => (d + 1, u),
        _ => (d, u + 1),
    });
    out.push_str(&format!(
        "drift since the sweep before: {down} regression(s), {up} improvement(s)"
    ));
    out
}
