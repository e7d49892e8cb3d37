//! The heavy apps measured, side by side in one run of this benchmark (issue 27):
//!
//! - each heavy recipe's cold run alone (`cargo ccci run ghost`, `… matrix-synapse`), with the
//!   time each rung took;
//! - both cold runs at once against the longer of the two alone (goal at most 1.5× on two
//!   cores);
//! - the quick lane on ghost's canonical against ghost's cold run (goal at most 0.4): the
//!   canonical is made once (untimed), then quick runs of the same head;
//! - the harness's peak memory (VmHWM of the recipe's test binary) over all these runs (goal
//!   at most 64 MiB).
//!
//! Ghost's head is a pull request on its releases that changes the app's environment, so that
//! the upgrade (cold) and the quick run restart Ghost as a real change does. Nothing is built
//! while timed: the test binaries are built first.
//!
//! ```text
//! scripts/local-swarm all && cargo bench -p cargo-ccci --bench heavy [-- QUICK_RUNS]
//! ```
//!
//! Every run's state (runs, store, journal, canonical) is in a scratch directory; the
//! canonical is taken down at the end. Exits 1 when a goal is missed, after printing all.

mod common;

use common::{ccci, per_rung, results, Ran};
use std::path::Path;
use std::time::Duration;

const QUICK_GOAL: f64 = 0.4;
const AT_ONCE_GOAL: f64 = 1.5;
const RSS_GOAL_MIB: f64 = 64.0;

/// A cold run of `args` with runs of its own under `place/<name>`; prints its rungs.
fn cold(place: &Path, name: &str, args: &[&str]) -> Ran {
    let runs = place.join(name);
    let ran = ccci(place, &runs, args);
    let res = results(&runs);
    assert_eq!(
        res["verdict"], "green",
        "{name}: {}",
        res["verdict_reasons"]
    );
    let rungs: Vec<String> = per_rung(&res)
        .into_iter()
        .map(|(r, s)| format!("{r} {s:.1} s"))
        .collect();
    println!(
        "{name:<24} {:6.1} s  ({}; harness peak {:.1} MiB)",
        ran.took.as_secs_f64(),
        rungs.join(", "),
        mib(ran.peak_rss_kib)
    );
    ran
}

/// Takes ghost's canonical down when dropped.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
            .args(["ccci", "canonical", "down", "ghost"])
            .current_dir(common::workspace())
            .env("CCCI_CANONICAL_DIR", self.0.join("canonical"))
            .env("CCCI_DATABASE", self.0.join("runs.db"))
            .env("CCCI_JOURNAL_DIR", self.0.join("journal"))
            .status();
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let quick_runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let place = std::env::temp_dir().join(format!("ccci-bench-heavy-{}", std::process::id()));
    std::fs::create_dir_all(&place).unwrap();
    common::build(&["recipe-ghost", "recipe-matrix-synapse"]);

    let repo = common::pull_request(
        &place,
        "ghost",
        "      - database__client=mysql",
        "      - logging__level=info",
    );
    // The ladder from 5.130.0, as the recipe's lifecycle functions check it (the head sits on
    // 1.1.0, which would otherwise be the base).
    let ghost = [
        "run",
        "ghost",
        "--recipe-git",
        repo.as_str(),
        "--set",
        "upgrade_base_version=1.0.0+5.130.0",
    ];
    let synapse = ["run", "matrix-synapse"];

    let mut peak = 0;
    let g = cold(&place, "ghost (cold)", &ghost);
    let s = cold(&place, "matrix-synapse (cold)", &synapse);
    peak = peak.max(g.peak_rss_kib).max(s.peak_rss_kib);

    let both = std::thread::scope(|scope| {
        let started = std::time::Instant::now();
        let a = scope.spawn(|| ccci(&place, &place.join("at-once-ghost"), &ghost));
        let b = scope.spawn(|| ccci(&place, &place.join("at-once-synapse"), &synapse));
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        peak = peak.max(a.peak_rss_kib).max(b.peak_rss_kib);
        started.elapsed()
    });
    for runs in ["at-once-ghost", "at-once-synapse"] {
        let res = results(&place.join(runs));
        assert_eq!(
            res["verdict"], "green",
            "{runs}: {}",
            res["verdict_reasons"]
        );
    }
    let alone = g.took.max(s.took);
    let at_once = both.as_secs_f64() / alone.as_secs_f64();
    println!(
        "both at once             {:6.1} s  ({at_once:.2} of the longer alone; goal at most {AT_ONCE_GOAL})",
        both.as_secs_f64()
    );

    let scratch = place.join("canonical-runs");
    // Taken down however the benchmark ends, so that the next one starts from nothing.
    let down = Down(&place);
    let up = ccci(&place, &scratch, &["canonical", "up", "ghost"]);
    println!(
        "ghost canonical made     {:6.1} s  (once, not per pull request)",
        up.took.as_secs_f64()
    );
    let mut quick: Vec<Duration> = (0..quick_runs)
        .map(|n| {
            let q = ccci(
                &place,
                &place.join(format!("quick-{n}")),
                &[&ghost[..4], &["--quick"]].concat(),
            );
            peak = peak.max(q.peak_rss_kib);
            println!("ghost quick run          {:6.1} s", q.took.as_secs_f64());
            q.took
        })
        .collect();
    drop(down);
    quick.sort();
    let median = quick[quick.len() / 2];
    let ratio = median.as_secs_f64() / g.took.as_secs_f64();
    println!(
        "quick / cold (ghost)     {ratio:.2} (median of {quick_runs}; goal at most {QUICK_GOAL})"
    );
    println!(
        "harness peak memory      {:.1} MiB (goal at most {RSS_GOAL_MIB})",
        mib(peak)
    );
    let _ = std::fs::remove_dir_all(&place);
    let missed: Vec<String> = [
        (ratio > QUICK_GOAL).then(|| format!("quick lane {ratio:.2} > {QUICK_GOAL}")),
        (at_once > AT_ONCE_GOAL).then(|| format!("both at once {at_once:.2} > {AT_ONCE_GOAL}")),
        (mib(peak) > RSS_GOAL_MIB)
            .then(|| format!("peak memory {:.1} MiB > {RSS_GOAL_MIB}", mib(peak))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missed.is_empty() {
        eprintln!("goals missed: {}", missed.join("; "));
        std::process::exit(1);
    }
}
