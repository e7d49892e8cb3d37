//! Faults in the middle of a run on the real Swarm, each with the verdict it must give and
//! nothing left behind (snapshotted, for docs/bad-input-and-faults.md):
//! - the database container killed while its backup pre-hook dumps: the backup retries on the
//!   restarted database or fails, and is never accepted with a dump cut short;
//! - the app's only task killed during a functional test: that test fails, the run ends.
//!
//! The faults are injected by the recipe functions below, run by the tests that need them.

mod common;

use ccci::core::ladder::{Rung, RungOutcome, TestStatus};
use ccci::core::meta::Source;
use ccci::core::{RecipeMeta, Verdict};
use ccci::{run_recipe, Hooks, Http, Report, Stack};
use std::path::Path;
use std::time::Duration;

/// `docker kill` of `container`, as an operator's mistake or the OOM killer would.
fn kill(container: &str) {
    let mut cmd = std::process::Command::new("docker");
    cmd.args(["kill", container]);
    let deadline = ccci::Deadline::after(Duration::from_secs(30));
    ccci::process::run(cmd, format!("docker kill {container}"), deadline, "")
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Kills the database two seconds into the backup, while its pre-hook (five seconds of
/// sleep, then pg_dump) runs.
#[ccci::lifecycle(before = backup)]
async fn kill_the_database_during_its_dump(stack: &Stack) -> ccci::Result {
    let db = stack.container("db").await?;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        kill(&db);
    });
    Ok(())
}

/// Kills the app's only task, then asks for its front page.
#[ccci::functional]
async fn answers_while_its_task_is_killed(stack: &Stack, http: &Http) -> ccci::Result {
    let app = stack.container("app").await?;
    kill(&app);
    for _ in 0..10 {
        let page = http.get("/").await?;
        ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// A functional test that has nothing to do with the fault.
#[ccci::functional]
async fn serves_its_front_page(http: &Http) -> ccci::Result {
    ccci::ensure!(http.get("/").await?.status == 200, "GET / failed");
    Ok(())
}

fn hooks(lifecycle: &[&str], functional: &[&str]) -> Hooks {
    let all = Hooks::registered();
    Hooks {
        lifecycle: all
            .lifecycle
            .into_iter()
            .filter(|d| lifecycle.contains(&d.name))
            .collect(),
        functional: all
            .functional
            .into_iter()
            .filter(|d| functional.contains(&d.name))
            .collect(),
        verify: vec![],
    }
}

fn run(hooks: Hooks, meta: impl FnOnce(&mut RecipeMeta)) -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut m = RecipeMeta::new("faulty", Source::Releases("faulty".into()));
    m.expected_na.insert(
        Rung::Upgrade,
        "one release: the faults are elsewhere".into(),
    );
    m.deploy_timeout = Duration::from_secs(180);
    meta(&mut m);
    run_recipe(
        common::settings(&dir, &common::runs_dir("fault-runs")),
        m,
        hooks,
    )
    .expect("the run produces results")
}

#[test]
fn a_database_killed_during_its_dump_is_never_a_green_with_a_cut_dump() {
    let r = run(hooks(&["kill_the_database_during_its_dump"], &[]), |m| {
        m.expected_na
            .insert(Rung::Functional, "this test is about the backup".into());
    });
    let res = &r.results;
    common::assert_clean(res);
    let first = res.snapshots.first().expect("a backup was attempted");
    assert!(
        first.error.is_some(),
        "the kill hit the first attempt: {:#?}",
        res.snapshots
    );
    // Whatever the rung concludes, an accepted snapshot holds a whole dump.
    let accepted = res.snapshots.iter().find(|s| s.error.is_none());
    if let Some(accepted) = accepted {
        let dump = std::fs::read_dir(&accepted.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "tar"))
            .map(|tar| std::fs::read(tar).unwrap())
            .expect("the snapshot holds an archive");
        assert!(
            String::from_utf8_lossy(&dump).contains("PostgreSQL database dump complete"),
            "an accepted dump is complete"
        );
    }
    let rung = &res.rungs[&Rung::BackupRestore];
    assert!(
        !(accepted.is_none() && *rung == RungOutcome::Pass),
        "no accepted snapshot, yet the rung passed"
    );
    assert_eq!(res.verdict == Verdict::Green, *rung == RungOutcome::Pass);
    insta::assert_snapshot!(
        "fault_database_killed_during_dump",
        format!(
            "attempt 1 rejected ({}); {}; backup_restore {}, verdict {}",
            if first
                .error
                .as_deref()
                .unwrap_or_default()
                .contains("exited 137")
            {
                "the hook was killed: exit 137"
            } else {
                "the hook failed"
            },
            match accepted {
                Some(_) =>
                    "a later attempt, on the restarted database, was accepted with a complete dump",
                None => "no attempt was accepted",
            },
            rung.label(),
            if res.verdict == Verdict::Green {
                "green"
            } else {
                "red"
            },
        )
    );
}

#[test]
fn the_app_killed_during_a_functional_test_fails_that_test_and_the_run_ends() {
    let r = run(
        hooks(
            &[],
            &["answers_while_its_task_is_killed", "serves_its_front_page"],
        ),
        |m| {
            m.expected_na
                .insert(Rung::BackupRestore, "this test is about the app".into());
        },
    );
    let res = &r.results;
    common::assert_clean(res);
    let status = |name: &str| {
        &res.tests
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no {name}: {:#?}", res.tests))
            .status
    };
    let TestStatus::Fail { message } = status("functional::answers_while_its_task_is_killed")
    else {
        panic!("the test must fail: {:#?}", res.tests);
    };
    assert_eq!(res.rungs[&Rung::Install], RungOutcome::Pass);
    assert!(matches!(
        res.rungs[&Rung::Functional],
        RungOutcome::Fail { .. }
    ));
    assert_eq!(res.verdict, Verdict::Red);
    insta::assert_snapshot!(
        "fault_app_killed_during_functional_test",
        format!(
            "install pass; the test fails ({}); functional fail; verdict red; the run ended and tore down",
            if message.contains("error sending request") {
                "GET / could not be sent"
            } else {
                message.as_str()
            },
        )
    );
}
