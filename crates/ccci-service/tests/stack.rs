//! ccci serve as a stack on the Swarm it tests: deploy/ccci-serve is a Co-op Cloud recipe of
//! the service (its image built on first use from this checkout by images/build), and ccci
//! runs it as it runs any recipe: deployed as abra would from a release tag, reached through
//! Traefik by its domain over TLS (its dashboard's queue page is the health path), its run
//! store backed up and restored with a marker, removed. On the local Swarm.

mod common;

use std::process::Command;

#[test]
fn the_service_deploys_as_a_recipe_and_serves_through_traefik() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("ccci-serve");
    std::fs::create_dir_all(&repo).unwrap();
    let recipe = common::workspace().join("deploy/ccci-serve");
    for e in std::fs::read_dir(&recipe).unwrap().flatten() {
        std::fs::copy(e.path(), repo.join(e.file_name())).unwrap();
    }
    let git = ccci_testkit::git;
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &[
            "commit",
            "--quiet",
            "-m",
            "chore: publish 0.1.0+0.1.0 release",
        ],
    );
    git(
        &repo,
        &[
            "tag",
            "-a",
            "0.1.0+0.1.0",
            "-m",
            "chore: publish 0.1.0+0.1.0 release",
        ],
    );
    let results = tmp.path().join("results.json");
    let out = Command::new(common::cargo_ccci())
        .args(["ccci", "run", "--recipe-git"])
        .arg(&repo)
        .env(ccci_core::vars::RESULTS_FILE, &results)
        .env(ccci_core::vars::JOURNAL_DIR, "off")
        .env(ccci_core::vars::SCREENSHOT, "no")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    let r: ccci_core::Results =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(r.verdict, ccci_core::Verdict::Green, "{said}");
    assert_eq!(
        r.routing,
        Some(ccci_core::results::Routing::Traefik),
        "through Traefik"
    );
    use ccci_core::ladder::{Rung, RungOutcome};
    assert_eq!(r.rungs[&Rung::Install], RungOutcome::Pass);
    assert_eq!(
        r.rungs[&Rung::BackupRestore],
        RungOutcome::Pass,
        "its store backed up and restored"
    );
    assert!(r.teardown.clean, "{:?}", r.teardown);
}
