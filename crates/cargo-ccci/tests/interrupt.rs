//! Ctrl-C in the middle of a run: the running step ends, the app is torn down, results.json
//! is written with the steps left recorded as interrupted, and `cargo ccci` exits 130. Run on
//! a real recipe repository (../shared/recipes/lemp.bundle) on the local Swarm.

mod common;

use ccci::core::ladder::TestStatus;
use ccci::core::Results;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn ctrl_c_ends_the_step_tears_down_and_reports() {
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interrupt-{}", std::process::id()));
    let results_file = scratch.join("results.json");
    let (mut child, lines) = common::run_caught_deploying(&[
        ("CCCI_RUNS_DIR", &scratch.join("runs")),
        ("CCCI_RESULTS_FILE", &results_file),
    ]);
    std::thread::sleep(Duration::from_secs(2));
    let interrupted_at = Instant::now();
    // SAFETY: kill(2) with the pid of our own child, not yet waited for.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    let took = interrupted_at.elapsed();
    assert_eq!(status.code(), Some(130), "{}", rest.join("\n"));
    assert!(
        took < Duration::from_secs(120),
        "teardown, not the install's deadline, ended it: {took:?}"
    );
    let results: Results =
        serde_json::from_str(&std::fs::read_to_string(&results_file).unwrap()).unwrap();
    let interrupted = TestStatus::NotRun {
        reason: "the run was interrupted".into(),
    };
    assert!(
        results.tests.iter().all(|t| t.status == interrupted),
        "every step, the install among them, was cut short: {:#?}",
        results.tests
    );
    assert!(!results.deploys.is_empty(), "the app had been deployed");
    assert!(
        results.teardown.clean,
        "teardown left {:?}",
        results.teardown.leftovers
    );
    let _ = std::fs::remove_dir_all(scratch);
}
