//! The verdicts are truthful: broken recipes on the real local Swarm get the rung and level
//! they deserve, with nothing left behind (issue: "the full ladder").

mod common;

use ccci::core::ladder::{Level, Rung, RungOutcome, TestStatus};
use ccci::core::meta::{Dep, Source};
use ccci::core::{RecipeMeta, Verdict};
use ccci::{run_recipe, Hooks, Report, Snapshot};
use std::path::Path;
use std::time::Duration;

/// The verify function of the truncated-dump fixture: a complete dump ends with this line.
#[ccci::backup_verify]
fn dump_is_complete(snapshot: &Snapshot) -> ccci::Result {
    let dump = snapshot.read("/data/dump.sql")?.unwrap_or_default();
    ccci::ensure!(
        String::from_utf8_lossy(&dump).contains("-- dump complete"),
        "the dump is empty or cut short: it has no `-- dump complete` line"
    );
    Ok(())
}

fn run(fixture: &str, meta: impl FnOnce(&mut RecipeMeta), hooks: Hooks) -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let runs = common::runs_dir("verdict-runs");
    let mut m = RecipeMeta::new(fixture, Source::Releases(fixture.into()));
    m.deploy_timeout = Duration::from_secs(25);
    meta(&mut m);
    run_recipe(common::settings(&dir, &runs), m, hooks).expect("the run produces results")
}

fn status<'a>(r: &'a Report, name: &str) -> &'a TestStatus {
    &r.results
        .tests
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no test {name} in {:#?}", r.results.tests))
        .status
}

/// An upgrade Swarm does not keep is red, naming the service, though the health path answers:
/// a head whose update Swarm rolled back (the release's task answers again), and one whose
/// start-first update paused with the release's task still answering. The proof is what runs,
/// not the label ccci stamped at the deploy.
#[test]
fn an_upgrade_swarm_rolled_back_or_paused_is_red_naming_the_service() {
    // A start-first update keeps the release's task only where no host port is published
    // (a host-mode port makes every update stop-first): the paused head goes through Traefik.
    for (fixture, state, routing) in [
        (
            "rolled-back-head",
            "rollback_completed",
            ccci::Routing::HostPort,
        ),
        ("paused-head", "paused", ccci::Routing::Traefik),
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut settings = common::settings(&dir, &common::runs_dir("verdict-runs"));
        settings.routing = Some(routing);
        let mut m = RecipeMeta::new(fixture, Source::Releases(fixture.into()));
        // Swarm's rollback waits on the release's task becoming healthy again: slower on a
        // host busy with the other verdicts.
        m.deploy_timeout = Duration::from_secs(180);
        m.expected_na
            .extend([(Rung::BackupRestore, "no data".into())]);
        let r = run_recipe(settings, m, Hooks::none()).expect("the run produces results");
        let res = &r.results;
        assert_eq!(
            res.rungs[&Rung::Install],
            RungOutcome::Pass,
            "{fixture}: {res:#?}"
        );
        match &res.rungs[&Rung::Upgrade] {
            RungOutcome::Fail { reason } => assert!(
                reason.contains("does not run what was deployed")
                    && reason.contains("_app")
                    && reason.contains(state)
                    && reason.contains("env differs in RELEASE"),
                "{fixture}: {reason}"
            ),
            other => panic!("{fixture}: the upgrade should fail, got {other:?}"),
        }
        assert_eq!(res.verdict, Verdict::Red, "{fixture}");
        assert_eq!(res.level, Level(1), "{fixture}");
    }
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
    common::assert_clean(res);
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
            s.error.as_deref().unwrap_or_default().contains(
                "backup_verify dump_is_complete rejected it: the dump is empty or cut short"
            ),
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
    common::assert_clean(res);
}

/// Never finishes: the run must cut it off at `test_timeout`.
#[ccci::functional]
async fn hangs_forever(_ctx: &ccci::HookCtx) -> ccci::Result {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[ccci::functional]
async fn panics(_ctx: &ccci::HookCtx) -> ccci::Result {
    panic!("boom from a recipe test")
}

#[ccci::functional]
async fn passes(_ctx: &ccci::HookCtx) -> ccci::Result {
    Ok(())
}

fn functional(names: &[&str]) -> Hooks {
    Hooks {
        functional: Hooks::registered()
            .functional
            .into_iter()
            .filter(|d| names.contains(&d.name))
            .collect(),
        ..Hooks::none()
    }
}

#[test]
fn a_broken_head_with_upgrade_not_applicable_is_red() {
    // Upgrade declared n/a: install must deploy the head itself, which crashes.
    let r = run(
        "crashing-head",
        |m| {
            m.expected_na.extend([
                (Rung::Upgrade, "one release".into()),
                (Rung::BackupRestore, "no data".into()),
                (Rung::Functional, "none".into()),
            ])
        },
        Hooks::none(),
    );
    let res = &r.results;
    assert!(
        matches!(&res.rungs[&Rung::Install], RungOutcome::Fail { .. }),
        "{:?}",
        res.rungs
    );
    assert_eq!(res.deploys.len(), 1, "{:#?}", res.deploys);
    assert_eq!(
        res.deploys[0].commit, res.head.commit,
        "install deployed the head"
    );
    assert!(!res.deploys[0].healthy);
    assert_eq!((res.level, res.verdict), (Level(0), Verdict::Red));
    common::assert_clean(res);
}

#[test]
fn an_unprovided_dependency_is_refused_before_deploying() {
    let r = run(
        "truncated-dump",
        |m| m.deps = vec![Dep::named("mailserver")],
        functional(&["passes"]),
    );
    let res = &r.results;
    assert!(
        res.deploys.is_empty(),
        "nothing may be deployed: {:#?}",
        res.deploys
    );
    assert!(
        matches!(status(&r, "install::deploys_and_becomes_healthy"), TestStatus::Fail { message } if message.contains("dependency `mailserver`")),
        "{:#?}",
        res.tests
    );
    assert!(
        matches!(status(&r, "functional::passes"), TestStatus::NotRun { reason } if reason == "install failed"),
        "a test that needs the dependency never runs: {:#?}",
        res.tests
    );
    assert_eq!(res.verdict, Verdict::Red);
    assert!(
        res.verdict_reasons
            .iter()
            .any(|v| v.contains("`mailserver`")),
        "{:?}",
        res.verdict_reasons
    );
    common::assert_clean(res);
}

#[test]
fn a_hanging_test_fails_at_its_deadline_and_a_panic_fails_only_its_test() {
    let r = run(
        "truncated-dump",
        |m| {
            // Long enough for the panic hook to print a backtrace (RUST_BACKTRACE=1 on a busy
            // machine takes seconds to symbolise it), short enough to wait out the hang.
            m.test_timeout = Duration::from_secs(10);
            m.expected_na.extend([
                (Rung::Upgrade, "one release".into()),
                (Rung::BackupRestore, "covered elsewhere".into()),
            ])
        },
        functional(&["hangs_forever", "panics", "passes"]),
    );
    let res = &r.results;
    let hung = res
        .tests
        .iter()
        .find(|t| t.name == "functional::hangs_forever")
        .unwrap();
    assert!(
        matches!(&hung.status, TestStatus::Fail { message } if message.contains("test_timeout (10s)")),
        "{hung:?}"
    );
    assert!(
        hung.duration_ms < 20_000,
        "cut off at its deadline: {hung:?}"
    );
    assert!(
        matches!(status(&r, "functional::panics"), TestStatus::Fail { message } if message.contains("panicked: boom from a recipe test")),
        "{:#?}",
        res.tests
    );
    assert_eq!(status(&r, "functional::passes"), &TestStatus::Pass);
    assert_eq!(res.verdict, Verdict::Red);
    common::assert_clean(res);
}

#[test]
fn a_recipe_written_like_real_ones_backs_up_every_service_and_proves_the_restore() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chained");
    let runs = common::runs_dir("verdict-runs");
    let meta = ccci::load_meta(&dir).unwrap();
    let r = run_recipe(common::settings(&dir, &runs), meta, Hooks::none()).unwrap();
    let res = &r.results;
    common::assert_passed(res, Rung::Install);
    common::assert_passed(res, Rung::BackupRestore);
    let d = &res.deploys[0];
    assert_eq!(
        d.compose_files,
        ["compose.yml", "compose.db.yml", "compose.ccci.yml"],
        "the COMPOSE_FILE chain, then the CI overlay"
    );
    assert!(
        d.chaos_version
            .as_deref()
            .is_some_and(|c| c.ends_with("+U")),
        "an untracked overlay makes the deploy chaos, +U: {d:?}"
    );
    match &res.restore_proof {
        Some(ccci::core::results::RestoreProof::Markers { paths }) => {
            assert_eq!(
                paths.len(),
                1,
                "only the content volume can hold one: {paths:?}"
            );
            assert!(paths[0].starts_with("app:/data/.ccci-marker-"), "{paths:?}");
        }
        other => panic!("the restore must be proven by ccci's marker: {other:?}"),
    }
    let snapshot = Snapshot::load(Path::new(&res.snapshots[0].dir)).unwrap();
    assert_eq!(snapshot.manifest.services(), ["app", "db"]);
    assert_eq!(
        snapshot.read("/db/dump.sql").unwrap().as_deref(),
        Some(&b"row 1\n"[..]),
        "the db's pre-hook dump is in the snapshot"
    );
    assert!(
        res.warnings.iter().any(|w| w.contains("compose.ccci.yml")),
        "{:?}",
        res.warnings
    );
    assert_eq!(
        (res.level, res.verdict),
        (Level(1), Verdict::Green),
        "{:?}",
        res.verdict_reasons
    );
    common::assert_clean(res);
}

/// A recipe source that accepts the connection and never answers: `git clone` would wait for
/// ever. The install's budget (`deploy_timeout`) kills it, the step fails naming the command
/// and the budget, and the run still tears down and writes results.json.
#[test]
fn a_hung_clone_fails_the_install_at_its_deadline_and_the_run_still_reports() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Every connection is held open, unanswered, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut m = RecipeMeta::new(
        "stalled",
        Source::Git(format!("http://127.0.0.1:{port}/stalled.git")),
    );
    m.deploy_timeout = Duration::from_secs(4);
    let started = std::time::Instant::now();
    let r = run_recipe(
        common::settings(&dir, &common::runs_dir("verdict-runs")),
        m,
        Hooks::none(),
    )
    .unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "the run ended soon after the 4 s budget, not when git gave up: {took:?}"
    );
    assert!(
        matches!(status(&r, "install::deploys_and_becomes_healthy"), TestStatus::Fail { message }
            if message.contains("`git -C") && message.contains("clone") && message.contains("deadline (4 s)") && message.contains("was killed")),
        "{:#?}",
        r.results.tests
    );
    assert!(
        r.path.is_file(),
        "results.json is written: {}",
        r.path.display()
    );
    assert!(r.results.deploys.is_empty());
    assert_eq!(r.results.verdict, Verdict::Red);
    common::assert_clean(&r.results);
}

/// Services are judged by what they are, as real recipes shape them: a web app whose restart
/// policy is `condition: none` (it answers on its domain) is long-running, a sync job that
/// exits 0 and is started again after its delay is a periodic job, a migration that runs once
/// is a one-shot job; the recipe reaches its true level (L3: no functional tests, so the
/// ladder stops there). A head whose migration fails is red at once, the reason naming the
/// service, the kind ccci took it for and its exit.
#[test]
fn services_are_judged_by_their_kind_and_a_failed_job_is_named_with_its_exit() {
    let r = run("service-kinds", |_| {}, Hooks::none());
    let res = &r.results;
    for rung in [Rung::Install, Rung::Upgrade, Rung::BackupRestore] {
        assert_eq!(res.rungs[&rung], RungOutcome::Pass, "{rung}: {res:#?}");
    }
    assert!(res.level >= Level(3), "{res:#?}");
    common::assert_clean(res);

    let r = run(
        "failing-migration",
        |m| m.deploy_timeout = Duration::from_secs(120),
        Hooks::none(),
    );
    let res = &r.results;
    assert_eq!(res.rungs[&Rung::Install], RungOutcome::Pass, "{res:#?}");
    match &res.rungs[&Rung::Upgrade] {
        RungOutcome::Fail { reason } => assert!(
            reason.contains("_migrate")
                && reason.contains("(one-shot job)")
                && reason.contains("exit 3")
                && reason.contains("cannot happen"),
            "a failed job ends the wait at once, naming it: {reason}"
        ),
        other => panic!("the upgrade should fail on the migration, got {other:?}"),
    }
    assert_eq!((res.level, res.verdict), (Level(1), Verdict::Red));
    common::assert_clean(res);
}

/// A head that changes a config's file but not the version in its name: Swarm refuses to
/// change a config in place, and the upgrade says which config and what to bump, not Docker's
/// raw line.
#[test]
fn a_head_that_changes_a_config_but_not_its_version_is_told_what_to_bump() {
    let r = run("config-not-bumped", |_| {}, Hooks::none());
    let res = &r.results;
    assert_eq!(res.rungs[&Rung::Install], RungOutcome::Pass, "{res:#?}");
    match &res.rungs[&Rung::Upgrade] {
        RungOutcome::Fail { reason } => assert!(
            reason.contains("config `")
                && reason.contains("_page_v1` already exists")
                && reason.contains("bump `PAGE_VERSION`"),
            "{reason}"
        ),
        other => panic!("the upgrade should be refused by Swarm, got {other:?}"),
    }
    assert_eq!(res.verdict, Verdict::Red);
    common::assert_clean(res);
}

/// A head whose first start migrates the data one way passes every rung, and the rollback to
/// the release before (as `abra app rollback` does) finds that release cannot start over the
/// head's data: the verdict is red for that alone, naming the rollback, and no rung is capped.
#[test]
fn a_head_whose_migration_the_release_before_cannot_read_is_unsafe_to_roll_back() {
    let r = run(
        "one-way-migration",
        |m| {
            m.rollback = Some(true);
            m.expected_na
                .extend([(Rung::Functional, "the rollback is what is tested".into())]);
        },
        Hooks::none(),
    );
    let res = &r.results;
    common::assert_clean(res);
    for rung in [Rung::Install, Rung::Upgrade, Rung::BackupRestore] {
        assert_eq!(res.rungs[&rung], RungOutcome::Pass, "{rung}: {res:#?}");
    }
    let rollback = res.rollback.as_ref().expect("the run rolled back");
    assert_eq!(rollback.to, "1.0.0+1.35");
    let problem = rollback.problem.as_deref().expect("the rollback is unsafe");
    assert!(
        problem.starts_with("1.0.0+1.35 is not healthy over the head's data"),
        "{problem}"
    );
    assert_eq!(res.verdict, Verdict::Red);
    assert_eq!(res.verdict_reasons.len(), 1, "{:?}", res.verdict_reasons);
    assert!(
        res.verdict_reasons[0].starts_with("rollback unsafe: 1.0.0+1.35 is not healthy"),
        "{:?}",
        res.verdict_reasons
    );
    // The level is what the rungs earned (capped by the declared functional skip alone): the
    // rollback caps no rung.
    assert_eq!(
        (res.level, res.level_cap_rung),
        (Level(3), Some(Rung::Functional))
    );
    assert!(
        res.deploys.iter().any(|d| d.step == "rollback"),
        "{:#?}",
        res.deploys
    );
}
