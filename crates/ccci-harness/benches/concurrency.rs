//! What running at once costs, in one run of this benchmark, each as a ratio (the goal for
//! both is at most 1.5× on two cores):
//!
//! - **concurrency**: the wall time of 4 runs of one recipe (custom-html's generic tiers) at
//!   once, each under its own domain and stack, against the longest of them run alone;
//! - **nextest**: `cargo nextest run -p recipe-custom-html` (every step a process of its own,
//!   sharing one deployment) against `cargo test -p recipe-custom-html` (one process), both
//!   on built binaries.
//!
//! ```text
//! scripts/local-swarm && cargo bench -p ccci-harness --bench concurrency
//! ```

use ccci::{run_recipe, Hooks, Settings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PARALLEL: usize = 4;

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/custom-html")
}

/// One run of custom-html's generic tiers; panics unless it is green and clean.
fn one_run(runs: &Path) -> Duration {
    let mut meta = ccci::load_meta(&crate_dir()).expect("recipes/custom-html/ccci.yml");
    // The recipe's own functions are linked into its test binary, not this one.
    meta.expected_na.insert(
        ccci::core::Rung::Functional,
        "the functional tests run in recipes/custom-html".into(),
    );
    let started = Instant::now();
    let report = run_recipe(Settings::new(&crate_dir(), runs), meta, Hooks::none())
        .expect("the run produces results");
    let took = started.elapsed();
    let r = &report.results;
    assert!(
        r.verdict == ccci::core::Verdict::Green && r.teardown.clean,
        "{}: {:?}",
        r.stack,
        r.verdict_reasons
    );
    took
}

/// Runs `cargo <args>` in the workspace and returns its wall time; panics unless it passes.
fn cargo(args: &[&str]) -> Duration {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let out = Command::new(cargo)
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

fn main() {
    let runs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-concurrency");

    let alone: Vec<Duration> = (0..2).map(|_| one_run(&runs)).collect();
    let longest_alone = alone.iter().max().copied().unwrap_or_default();
    let started = Instant::now();
    let handles: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let runs = runs.clone();
            std::thread::spawn(move || one_run(&runs))
        })
        .collect();
    for h in handles {
        h.join().expect("a run panicked");
    }
    let together = started.elapsed();

    cargo(&["test", "-p", "recipe-custom-html", "--no-run"]);
    cargo(&["nextest", "run", "-p", "recipe-custom-html", "--no-run"]);
    let cargo_test = cargo(&["test", "-p", "recipe-custom-html"]);
    let nextest = cargo(&["nextest", "run", "-p", "recipe-custom-html"]);

    println!("what                                   alone/cargo test   together/nextest   ratio (goal ≤ 1.5)");
    println!(
        "{PARALLEL} runs of custom-html at once         {:>12.1} s {:>16.1} s {:>12.2}×",
        longest_alone.as_secs_f64(),
        together.as_secs_f64(),
        together.as_secs_f64() / longest_alone.as_secs_f64()
    );
    println!(
        "nextest vs cargo test (recipe crate)  {:>12.1} s {:>16.1} s {:>12.2}×",
        cargo_test.as_secs_f64(),
        nextest.as_secs_f64(),
        nextest.as_secs_f64() / cargo_test.as_secs_f64()
    );
}
