//! A run killed with SIGKILL cannot tear down: what it deployed stays on the Swarm until the
//! janitor, which finds the run in the run registry with its process gone, removes it. Run on
//! real recipe repositories (../shared/recipes) on the local Swarm: killed mid-install, and
//! killed mid-backup (volumes, a marker in them, a snapshot half taken). The run store, taking
//! in the run's journal entry, records the killed run as lost, not as running for ever.

mod common;

use common::objects_of;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_janitor_removes_what_a_run_killed_mid_install_left() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("killed-install-{}", std::process::id()));
    let registry = scratch.join("registry");
    let (journal, database) = (scratch.join("journal"), scratch.join("runs.db"));
    let (child, _rest) = common::run_caught_deploying(&[
        ("CCCI_RUNS_DIR", &scratch.join("runs")),
        ("CCCI_REGISTRY_DIR", &registry),
        ("CCCI_JOURNAL_DIR", &journal),
    ]);
    // Killed once something of the stack exists: what the janitor must remove.
    let started = std::time::Instant::now();
    loop {
        let runs = ccci::registry::Registry::at(&registry).unwrap().runs();
        if runs
            .first()
            .is_some_and(|r| !objects_of(&r.stack).is_empty())
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run deployed nothing within 2 min"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    kill_then_reap(child, &registry);
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "history", "--json"])
        .env("CCCI_JOURNAL_DIR", &journal)
        .env("CCCI_DATABASE", &database)
        .output()
        .unwrap();
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["state"], "lost", "{runs:#?}");
    assert!(
        runs[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("it was killed"),
        "{runs:#?}"
    );
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn the_janitor_removes_what_a_run_killed_mid_backup_left() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("killed-backup-{}", std::process::id()));
    let registry = scratch.join("registry");
    // foodsharing-cms backs up its /data volume; the marker is written just before the copy.
    let (child, _rest) = common::run_caught(
        "foodsharing-cms",
        &["health_path=/fss-cms/api/health"],
        "backup: wrote marker",
        &[
            ("CCCI_RUNS_DIR", &scratch.join("runs")),
            ("CCCI_REGISTRY_DIR", &registry),
        ],
    );
    kill_then_reap(child, &registry);
    let _ = std::fs::remove_dir_all(scratch);
}

/// SIGKILLs the run, checks it left its stack, then that a dry run removes nothing and the
/// janitor everything.
fn kill_then_reap(mut child: std::process::Child, registry: &Path) {
    let cargo_ccci = env!("CARGO_BIN_EXE_cargo-ccci");
    child.kill().unwrap();
    child.wait().unwrap();
    let registered = ccci::registry::Registry::at(registry).unwrap().runs();
    assert_eq!(registered.len(), 1, "the run registered itself");
    let stack = registered[0].stack.clone();
    assert!(
        !objects_of(&stack).is_empty(),
        "the killed run left its stack {stack} (else this test proves nothing)"
    );

    let out = Command::new(cargo_ccci)
        .args(["ccci", "janitor", "--dry-run"])
        .env("CCCI_REGISTRY_DIR", registry)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("would remove run {}", registered[0].run_id)),
        "{said}"
    );
    assert!(!objects_of(&stack).is_empty(), "a dry run removes nothing");

    let out = Command::new(cargo_ccci)
        .args(["ccci", "janitor"])
        .env("CCCI_REGISTRY_DIR", registry)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("removed run {}", registered[0].run_id)),
        "{said}"
    );
    assert_eq!(
        objects_of(&stack),
        Vec::<String>::new(),
        "nothing of the killed run is left"
    );
    common::assert_forgotten(registry);
}
