//! Ctrl-C in the middle of a run: the running step ends, the app is torn down, results.json
//! is written with the steps left recorded as interrupted, and `cargo ccci` exits 130. Run on
//! a real recipe repository (../shared/recipes/lemp.bundle) on the local Swarm.

use ccci::core::ladder::TestStatus;
use ccci::core::Results;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bundle(name: &str) -> PathBuf {
    let dir = std::env::var("CCCI_RECIPES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/recipes"));
    let path = dir.join(format!("{name}.bundle"));
    assert!(
        path.is_file(),
        "{} is missing: this test needs the real recipe bundles (set CCCI_RECIPES to their directory)",
        path.display()
    );
    path
}

#[test]
fn ctrl_c_ends_the_step_tears_down_and_reports() {
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interrupt-{}", std::process::id()));
    let results_file = scratch.join("results.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(bundle("lemp"))
        // A path nginx answers 404 for: the install waits for it (30 s before it calls the
        // answer steady), so the interrupt lands in the middle of the install's wait.
        .args(["--set", "health_path=/ccci-never-there"])
        .env("CCCI_RUNS_DIR", scratch.join("runs"))
        .env("CCCI_RESULTS_FILE", &results_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the install is under way: the app is being deployed.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let deploying = line.contains("install: deploying");
        said.push(line);
        if deploying {
            break;
        }
    }
    assert!(
        said.iter().any(|l| l.contains("install: deploying")),
        "the run never started deploying:\n{}",
        said.join("\n")
    );
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
