//! `cargo ccci run --keep`: a red run leaves its stack up for debugging, says how to reach
//! and remove it, and stays registered; the janitor leaves it alone until `--keep-for` has
//! passed and removes it after. Run on a real recipe repository (lemp) on the local Swarm.

mod common;

use common::objects_of;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const KEEP_FOR: Duration = Duration::from_secs(20);

fn janitor(registry: &Path) -> String {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "janitor"])
        .env("CCCI_REGISTRY_DIR", registry)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

#[test]
fn a_red_run_kept_for_debugging_is_left_up_until_its_time_then_reaped() {
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kept-{}", std::process::id()));
    let registry = scratch.join("registry");
    // A health path nginx answers 404 for: the install deploys, then fails. Red.
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(common::bundle("lemp"))
        .args([
            "--set",
            "health_path=/ccci-never-there",
            "--keep",
            "--keep-for",
        ])
        .arg(format!("{}s", KEEP_FOR.as_secs()))
        .env("CCCI_RUNS_DIR", scratch.join("runs"))
        .env("CCCI_REGISTRY_DIR", &registry)
        .output()
        .unwrap();
    let ended = Instant::now();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "red: {stdout}{stderr}");

    let registered = ccci::registry::Registry::at(&registry).unwrap().runs();
    assert_eq!(registered.len(), 1, "the kept run stays registered");
    let run = &registered[0];
    assert!(run.kept_now(), "{run:?}");
    let stack = run.stack.clone();
    assert!(
        !objects_of(&stack).is_empty(),
        "the red run's stack {stack} is still up"
    );
    // It said where the app is and how to remove it, and results.json records the keep.
    assert!(
        stderr.contains(&format!("stack {stack} is kept for debugging until")),
        "{stderr}"
    );
    assert!(stderr.contains("docker stack ps"), "{stderr}");
    assert!(stderr.contains("cargo ccci janitor --kept"), "{stderr}");
    assert!(stdout.contains("KEPT stack"), "{stdout}");
    let results_path = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("results:"))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("no results line in {stdout}"));
    let results: ccci::core::Results =
        serde_json::from_str(&std::fs::read_to_string(&results_path).unwrap()).unwrap();
    let kept = results
        .teardown
        .kept
        .as_ref()
        .expect("results.json says kept");
    assert_eq!(kept.stack, stack);
    assert!(
        results
            .verdict_reasons
            .iter()
            .any(|r| r.contains("kept for debugging")),
        "{:?}",
        results.verdict_reasons
    );

    // Before its time the janitor leaves it, and says so.
    let said = janitor(&registry);
    assert!(said.contains("kept for debugging: stack"), "{said}");
    assert!(!objects_of(&stack).is_empty(), "kept until its time");

    // After it, the janitor removes it all.
    if let Some(left) = KEEP_FOR.checked_sub(ended.elapsed()) {
        std::thread::sleep(left + Duration::from_secs(2));
    }
    let said = janitor(&registry);
    assert!(
        said.contains(&format!("removed run {}", run.run_id)),
        "{said}"
    );
    assert_eq!(objects_of(&stack), Vec::<String>::new(), "nothing is left");
    common::assert_forgotten(&registry);
    let _ = std::fs::remove_dir_all(scratch);
}
