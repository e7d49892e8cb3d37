//! The verdicts are truthful: broken recipes on the real local Swarm get the rung and level
//! they deserve, with nothing left behind (issue: "the full ladder").

use ccci::core::ladder::{Level, Rung, RungOutcome, TestStatus};
use ccci::core::meta::Source;
use ccci::core::{RecipeMeta, Verdict};
use ccci::{run_recipe, Hooks, Report, Settings, Snapshot};
use std::path::Path;
use std::time::Duration;

/// BACKUP_VERIFY of the truncated-dump fixture: a complete dump ends with this line.
#[ccci::backup_verify]
fn dump_is_complete(snapshot: &Snapshot) -> ccci::Result<bool> {
    let dump = snapshot.read("/data/dump.sql")?.unwrap_or_default();
    Ok(!dump.is_empty() && String::from_utf8_lossy(&dump).contains("-- dump complete"))
}

fn run(fixture: &str, meta: impl FnOnce(&mut RecipeMeta), hooks: Hooks) -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let runs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verdict-runs");
    let mut m = RecipeMeta::new(fixture, Source::Releases(fixture.into()));
    m.deploy_timeout = Duration::from_secs(25);
    meta(&mut m);
    run_recipe(Settings::new(&dir, &runs), m, hooks).expect("the run produces results")
}

fn status<'a>(r: &'a Report, name: &str) -> &'a TestStatus {
    &r.results
        .tests
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no test {name} in {:#?}", r.results.tests))
        .status
}

#[test]
fn a_head_that_crashes_fails_the_upgrade_and_caps_the_level_at_l1() {
    let r = run(
        "crashing-head",
        |m| {
            m.expected_na
                .extend([(Rung::BackupRestore, "no data".into())])
        },
        Hooks::none(),
    );
    let res = &r.results;
    assert_eq!(res.rungs[&Rung::Install], RungOutcome::Pass, "{res:#?}");
    match &res.rungs[&Rung::Upgrade] {
        RungOutcome::Fail { reason } => assert!(
            reason.contains("gave up waiting") && reason.contains("answer"),
            "{reason}"
        ),
        other => panic!("upgrade should fail, got {other:?}"),
    }
    assert_eq!(res.level, Level(1));
    assert_eq!(res.level_cap_rung, Some(Rung::Upgrade));
    // The failed tier kept the evidence: the crashing tasks and their own last words.
    let upgrade = res
        .tests
        .iter()
        .find(|t| t.name == "upgrade::upgrades_in_place_to_head")
        .unwrap();
    let path = upgrade
        .forensics
        .as_deref()
        .expect("a failed tier keeps forensics");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("the new release crashes at start"),
        "the app's log line is missing:\n{text}"
    );
    assert!(
        text.contains("exit 1") && text.contains("failed"),
        "the crashed tasks are missing:\n{text}"
    );
    assert!(std::path::Path::new(path).with_extension("json").is_file());
    assert_eq!(res.verdict, Verdict::Red);
    assert!(
        res.teardown.clean,
        "teardown left {:?}",
        res.teardown.leftovers
    );
}

#[test]
fn a_truncated_dump_is_retried_three_times_then_fails_the_rung() {
    let hooks = Hooks {
        verify: Hooks::registered().verify,
        ..Hooks::none()
    };
    let r = run(
        "truncated-dump",
        |m| {
            m.expected_na
                .extend([(Rung::Upgrade, "one release".into())])
        },
        hooks,
    );
    let res = &r.results;
    assert_eq!(
        res.snapshots.len(),
        3,
        "three attempts: {:#?}",
        res.snapshots
    );
    for s in &res.snapshots {
        assert_eq!(s.verified, Some(false), "{s:?}");
        assert!(
            s.error
                .as_deref()
                .unwrap_or_default()
                .contains("BACKUP_VERIFY dump_is_complete rejected the snapshot"),
            "{s:?}"
        );
        assert!(
            Path::new(&s.dir).join("manifest.json").is_file(),
            "every rejected snapshot is kept: {}",
            s.dir
        );
    }
    assert!(
        matches!(status(&r, "backup::takes_a_verified_snapshot"), TestStatus::Fail { message } if message.contains("no usable backup in 3 attempts"))
    );
    assert!(
        matches!(status(&r, "restore::restores_the_snapshot"), TestStatus::NotRun { reason } if reason.contains("backup failed"))
    );
    assert!(
        matches!(&res.rungs[&Rung::BackupRestore], RungOutcome::Fail { .. }),
        "{:?}",
        res.rungs
    );
    assert_eq!(res.verdict, Verdict::Red);
    assert!(
        res.teardown.clean,
        "teardown left {:?}",
        res.teardown.leftovers
    );
}
