//! Real public recipe repositories (../shared/recipes, git bundles written by their own
//! authors) through the generic tiers with no test crate, as `cargo ccci run --recipe-git`
//! runs them. Their upstream images are stand-ins built by scripts/local-swarm under the
//! names the recipes use.

mod common;

use ccci::core::ladder::{Level, Rung, RungOutcome, TestStatus};
use ccci::core::results::RestoreProof;
use ccci::core::Verdict;
use ccci::{run_repository, RepoRun, Report};

/// A run of the real recipe `name`, untrusted as `cargo ccci serve` runs a pull request's
/// head: a real recipe keeps to its own stack.
fn run(name: &str, sets: &[&str]) -> Report {
    let mut settings = ccci::Settings::new(
        &common::runs_dir("real-runs"),
        &common::runs_dir("real-runs"),
    );
    settings.untrusted = Some(Vec::new());
    run_repository(RepoRun {
        url: ccci_testkit::recipe_repository(name),
        sets: sets.iter().map(|s| s.to_string()).collect(),
        settings,
    })
    .expect("the run produces results")
}

/// One line per reason, and no reason repeated.
fn reasons_once(r: &Report) {
    let v = &r.results.verdict_reasons;
    let mut seen = v.clone();
    seen.dedup();
    assert_eq!(&seen, v, "a reason is repeated");
}

/// Through Traefik the app lives under `/fss-cms/`: the recipe's router has a PathPrefix and a
/// strip-prefix middleware, which only a routed deploy exercises.
#[test]
fn foodsharing_cms_with_its_health_path_reaches_l3_red_for_the_undeclared_functional_skip() {
    let r = run("foodsharing-cms", &["health_path=/fss-cms/api/health"]);
    let res = &r.results;
    assert_eq!(
        res.routing,
        Some(ccci::Routing::Traefik),
        "scripts/local-swarm runs a Traefik on proxy"
    );
    for rung in [Rung::Install, Rung::Upgrade, Rung::BackupRestore] {
        common::assert_passed(res, rung);
    }
    assert!(matches!(
        &res.rungs[&Rung::Functional],
        RungOutcome::Skipped {
            intentional: false,
            ..
        }
    ));
    assert_eq!((res.level, res.verdict), (Level(3), Verdict::Red));
    assert_eq!(res.verdict_reasons.len(), 1, "{:?}", res.verdict_reasons);
    // `v1.0.2` is read as the release before the head `v1.0.3`.
    assert_eq!(res.deploys[0].version.as_deref(), Some("1.0.2"));
    assert_eq!(res.upgrade_base.as_ref().unwrap().reference, "v1.0.2");
    assert_eq!(res.deploys[1].commit, res.head.commit);
    assert!(res.deploys.iter().all(|d| d.healthy));
    assert!(
        matches!(&res.restore_proof, Some(RestoreProof::Markers { paths }) if paths[0].starts_with("app:/data/"))
    );
    common::assert_clean(res);
}

#[test]
fn foodsharing_cms_without_settings_fails_install_naming_the_health_path() {
    let r = run("foodsharing-cms", &[]);
    let res = &r.results;
    match &res.rungs[&Rung::Install] {
        RungOutcome::Fail { reason } => assert!(
            reason.contains("health path / answered 404") && reason.contains("health_path"),
            "{reason}"
        ),
        other => panic!("install must fail: {other:?}"),
    }
    let not_run = res
        .tests
        .iter()
        .filter(
            |t| matches!(&t.status, TestStatus::NotRun { reason } if reason == "install failed"),
        )
        .count();
    assert_eq!(not_run, 3, "{:#?}", res.tests);
    assert_eq!((res.level, res.verdict), (Level(0), Verdict::Red));
    reasons_once(&r);
    common::assert_clean(res);
}

#[test]
fn lemp_installs_and_names_the_rungs_that_cannot_run() {
    // nginx answers 403 for the empty site directory (see docs/recipes.md).
    let r = run("lemp", &["health_ok=[200, 403]"]);
    let res = &r.results;
    common::assert_passed(res, Rung::Install);
    match &res.rungs[&Rung::Upgrade] {
        RungOutcome::Skipped {
            reason,
            intentional: false,
        } => {
            assert!(reason.contains("no release before the head"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    match &res.rungs[&Rung::BackupRestore] {
        RungOutcome::Skipped {
            reason,
            intentional: false,
        } => {
            assert!(reason.contains("backupbot.backup=true"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((res.level, res.verdict), (Level(1), Verdict::Red));
    assert_eq!(res.verdict_reasons.len(), 3, "{:?}", res.verdict_reasons);
    reasons_once(&r);
    assert!(
        res.warnings.iter().any(|w| w.contains("`depends_on`")),
        "{:?}",
        res.warnings
    );
    common::assert_clean(res);
}
