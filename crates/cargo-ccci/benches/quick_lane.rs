//! The quick lane against a cold run, side by side in one run, on one pull request's head: a
//! commit on top of notebook's releases that changes the app's environment, so that its
//! upgrade restarts the app as a real change does. The cold run (`cargo ccci run notebook
//! --recipe-git <repo>`: install 1.0.0, upgrade to the head, backup, restore, its tests,
//! teardown), then the canonical made (untimed: once, not per pull request), then quick runs
//! of the same head on it (`--quick`: the canonical checked, the head upgraded in place, the
//! tests, back to known-good), each a process's wall time. The goal: a quick run takes at
//! most 0.4 of the cold run's time. Neither includes building the test binary (built first).
//!
//! ```text
//! scripts/local-swarm && cargo bench -p cargo-ccci --bench quick_lane [-- QUICK_RUNS]
//! ```
//!
//! Everything the runs keep (runs, store, canonical) is in a scratch directory of its own;
//! the canonical is taken down at the end.

mod common;

use std::path::Path;
use std::time::Duration;

const GOAL: f64 = 0.4;

/// `cargo ccci <args>` with the scratch `place`, which must exit 0; its wall time.
fn timed(place: &Path, args: &[&str]) -> Duration {
    common::ccci(place, &place.join("runs"), args).took
}

fn main() {
    let quick_runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let place = std::env::temp_dir().join(format!("ccci-bench-quick-{}", std::process::id()));
    std::fs::create_dir_all(&place).unwrap();
    common::build(&["recipe-notebook"]);

    let repo = common::pull_request(
        &place,
        "notebook",
        "      - DB_HOST=db",
        "      - NOTEBOOK_PULL_REQUEST=1",
    );
    let head = ["run", "notebook", "--recipe-git", repo.as_str()];

    // The recipe's lifecycle functions check the ladder from 1.0 (schema 1) up.
    let base = ["--set", "upgrade_base_version=1.0.0+1.0"];
    let cold = timed(&place, &[&head[..], &base[..]].concat());
    println!("cold run:          {:6.1} s", cold.as_secs_f64());
    let up = timed(&place, &["canonical", "up", "notebook"]);
    println!(
        "canonical made:    {:6.1} s (once, not per pull request)",
        up.as_secs_f64()
    );
    let mut quick: Vec<Duration> = (0..quick_runs)
        .map(|_| {
            let q = timed(&place, &[&head[..], &["--quick"]].concat());
            println!("quick run:         {:6.1} s", q.as_secs_f64());
            q
        })
        .collect();
    timed(&place, &["canonical", "down", "notebook"]);
    quick.sort();
    let median = quick[quick.len() / 2];
    let ratio = median.as_secs_f64() / cold.as_secs_f64();
    println!(
        "quick / cold:      {ratio:.2} (median of {quick_runs} quick runs; goal at most {GOAL})"
    );
    let _ = std::fs::remove_dir_all(&place);
    if ratio > GOAL {
        eprintln!("the quick lane misses its goal: {ratio:.2} > {GOAL}");
        std::process::exit(1);
    }
}
