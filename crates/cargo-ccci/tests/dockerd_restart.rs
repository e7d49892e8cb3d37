//! A fault of the host: dockerd restarted while a run waits on its deploy. The run must fail
//! with a clear error or recover, and what it deployed must be gone once the daemon is back
//! (by its own teardown, or by the janitor). The outcome is snapshotted for
//! docs/bad-input-and-faults.md.
//!
//! A binary of its own: restarting the daemon stops every container on it, so no other test
//! may run beside this one (cargo runs test binaries one after another).

mod common;

use common::objects_of;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn run(program: &str, args: &[&str], budget: Duration) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let shown = format!("{program} {}", args.join(" "));
    ccci_process::run(cmd, shown, ccci::Deadline::after(budget), "")
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Stops dockerd (SIGTERM, as an operator's `systemctl restart docker` does) and starts it
/// again with scripts/local-swarm, which also checks the swarm, Traefik and the rest.
fn restart_dockerd() {
    let pid = run("pidof", &["dockerd"], Duration::from_secs(10));
    let pid = pid.trim().to_string();
    assert!(!pid.is_empty(), "dockerd runs (scripts/local-swarm)");
    run("kill", &["-TERM", &pid], Duration::from_secs(10));
    let gone = ccci::Deadline::after(Duration::from_secs(90));
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(!gone.passed(), "dockerd {pid} did not stop within 90 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/local-swarm");
    run(
        "bash",
        &[&script.display().to_string()],
        Duration::from_secs(600),
    );
}

#[test]
fn dockerd_restarted_during_a_deploy_wait_leaves_nothing_once_it_is_back() {
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dockerd-{}", std::process::id()));
    let registry = scratch.join("registry");
    // The run's health path is never there, so its install is still waiting whenever the
    // daemon goes away: on a fast host a healthy lemp would pass install before the restart
    // and the fault would miss the wait it is about.
    let (mut child, rest) = common::run_caught_deploying(&[
        ("CCCI_RUNS_DIR", &scratch.join("runs")),
        ("CCCI_REGISTRY_DIR", &registry),
    ]);
    let said = std::thread::spawn(move || rest.map_while(Result::ok).collect::<Vec<String>>());
    std::thread::sleep(Duration::from_secs(2));
    restart_dockerd();

    let ended = ccci::Deadline::after(Duration::from_secs(900));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            !ended.passed(),
            "the run did not end within 15 min of the restart"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let said = said.join().unwrap();
    let text = said.join("\n");
    assert!(!text.contains("panicked"), "{text}");
    let registered = ccci::registry::Registry::at(&registry).unwrap().runs();
    let results = scratch.join("runs");
    let results: Option<ccci::core::Results> = std::fs::read_dir(&results)
        .into_iter()
        .flatten()
        .flatten()
        .find_map(|e| std::fs::read_to_string(e.path().join("results.json")).ok())
        .map(|t| serde_json::from_str(&t).unwrap());
    let results = results.unwrap_or_else(|| panic!("the run wrote results.json:\n{text}"));
    let stack = results.stack.clone();

    // What the run could not remove, the janitor removes now that the daemon is back.
    let janitor = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "janitor"])
        .env("CCCI_REGISTRY_DIR", &registry)
        .output()
        .unwrap();
    assert!(janitor.status.success());
    assert_eq!(objects_of(&stack), Vec::<String>::new(), "nothing is left");

    let install = results
        .tests
        .iter()
        .find(|t| t.name == "install::deploys_and_becomes_healthy")
        .map(|t| match &t.status {
            ccci::core::ladder::TestStatus::Pass => "install recovered and passed".to_string(),
            ccci::core::ladder::TestStatus::Fail { message } => {
                // What happened, without the run's own stack name after it.
                let first = message.split(" while").next().unwrap_or_default();
                format!("install failed ({first})")
            }
            other => format!("install {other:?}"),
        })
        .unwrap_or_default();
    // A red run here is the host's, never the recipe's: the daemon went away.
    if results.verdict == ccci::core::Verdict::Red {
        assert!(
            results.cause.as_ref().is_some_and(|c| c.is_host()),
            "{:?}",
            results.cause
        );
    }
    let outcome = format!(
        "{install}; {}; exit {}; teardown {}; {} left after the janitor",
        match &results.cause {
            Some(c) => format!("cause {}", c.as_str()),
            None => "green".into(),
        },
        status.code().unwrap_or(-1),
        match (results.teardown.clean, registered.is_empty()) {
            (true, _) => "clean",
            (false, false) => "left objects, registered for the janitor",
            (false, true) => "left objects, NOT registered",
        },
        "nothing"
    );
    eprintln!("{outcome}\n{text}");
    let _ = std::fs::remove_dir_all(scratch);
    insta::assert_snapshot!("fault_dockerd_restarted_during_deploy_wait", outcome);
}
