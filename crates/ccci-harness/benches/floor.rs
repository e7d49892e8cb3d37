//! The floor: custom-html's full lifecycle through ccci (host-port, its whole test binary as a
//! maintainer runs it) against the same docker operations done by hand in tight shell loops
//! (`../shared/bench/floor-custom-html`, on the stack files that very run rendered), in
//! pairs, one after the other. Reports each pair and the ratio of the medians; the goal is
//! at most 1.05×.
//!
//! ```text
//! scripts/local-swarm && cargo bench -p ccci-harness --bench floor [-- PAIRS]
//! ```
//!
//! `CCCI_FLOOR` names the floor script when it is not at `../shared/bench/floor-custom-html`.

use ccci::core::vars;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const GOAL: f64 = 1.05;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The floor script, or why there is none.
fn floor_script() -> PathBuf {
    let path = std::env::var_os(vars::FLOOR)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/bench/floor-custom-html"));
    assert!(
        path.is_file(),
        "no floor script at {}: set {} to ../shared/bench/floor-custom-html of the shared test data",
        path.display(),
        vars::FLOOR
    );
    path
}

/// custom-html's test binary, built once (its build is not what is measured).
fn test_binary() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "test",
            "-p",
            "recipe-custom-html",
            "--test",
            "recipe",
            "--no-run",
        ])
        .args(["--message-format=json"])
        .output()
        .expect("cargo test --no-run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "recipe")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("the recipe test binary")
}

/// One ccci run (host-port, as the floor publishes its port): its wall time and run dir.
fn ccci_run(binary: &Path, runs: &Path) -> (Duration, PathBuf) {
    let results = runs.join("results.json");
    let started = Instant::now();
    let out = Command::new(binary)
        .current_dir(workspace().join("recipes/custom-html"))
        .env(vars::ROUTING, "host-port")
        .env(vars::RUNS_DIR, runs)
        .env(vars::RESULTS_FILE, &results)
        .env("NO_COLOR", "1")
        .output()
        .expect("the recipe test binary runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "the ccci run is not green:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("results.json"))
            .expect("results.json is JSON");
    let dir = PathBuf::from(results["run_dir"].as_str().expect("run_dir"));
    (took, dir)
}

/// The floor on `run_dir`'s stack files: its wall time and its own breakdown line.
fn floor_run(script: &Path, run_dir: &Path) -> (Duration, String) {
    let started = Instant::now();
    let out = Command::new(script)
        .arg(run_dir)
        .output()
        .expect("the floor script runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "the floor failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        took,
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let pairs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let script = floor_script();
    let binary = test_binary();
    let runs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-floor");
    let _ = std::fs::remove_dir_all(&runs);
    std::fs::create_dir_all(&runs).unwrap();
    println!("pair   ccci      floor     ratio");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 1..=pairs {
        let (took, dir) = ccci_run(&binary, &runs);
        let (floor, line) = floor_run(&script, &dir);
        let (x, y) = (took.as_secs_f64(), floor.as_secs_f64());
        println!("{i:>4}   {x:>6.2} s  {y:>6.2} s  {:>5.3}   ({line})", x / y);
        a.push(x);
        b.push(y);
    }
    let (ma, mb) = (median(a), median(b));
    let ratio = ma / mb;
    println!(
        "median {ma:>6.2} s  {mb:>6.2} s  {ratio:>5.3}   goal at most {GOAL:.2}: {}",
        if ratio <= GOAL { "met" } else { "NOT met" }
    );
    let _ = std::fs::remove_dir_all(&runs);
}
