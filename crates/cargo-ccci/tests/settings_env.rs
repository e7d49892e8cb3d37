//! `cargo ccci run --recipe-git` reads the `CCCI_*` environment as a test crate does (one
//! place reads them all: `ccci::Settings::from_env`), and a value ccci does not know is
//! refused by name before anything runs. Against the real local Swarm, with the lemp bundle;
//! the run stops at the CA file it was told to trust, which does not exist, so nothing is
//! deployed.

mod common;

use std::process::Command;

#[test]
fn a_recipe_git_run_reads_every_variable_a_test_crate_reads() {
    let scratch = tempfile::tempdir().unwrap();
    let runs = scratch.path().join("runs");
    let ca = scratch.path().join("no-such-ca.pem");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(common::bundle("lemp"))
        .env("CCCI_RUNS_DIR", &runs)
        .env("CCCI_REGISTRY_DIR", scratch.path().join("registry"))
        .env("CCCI_DOMAIN", "envread.ccci.test")
        .env("CCCI_ROUTING", "traefik")
        .env("CCCI_PULL", "never")
        .env("CCCI_IPVS", "no")
        .env("CCCI_CA_CERT", &ca)
        .env("CCCI_SCREENSHOT", "no")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let results = common::only_results(&runs, &stderr);
    assert_eq!(results.domain, "envread.ccci.test", "CCCI_DOMAIN");
    for line in [
        "routing forced (CCCI_ROUTING) = traefik",
        "pull (CCCI_PULL) = never",
        "IPVS said to be absent (CCCI_IPVS)",
    ] {
        assert!(
            results.manifest.iter().any(|m| m == line),
            "{line}: {:?}",
            results.manifest
        );
    }
    let failure = common::install_failure(&results);
    assert!(
        failure.contains(&ca.display().to_string()),
        "CCCI_CA_CERT is read: {failure}\n{stderr}"
    );
    assert!(results.deploys.is_empty(), "{:?}", results.deploys);
    assert!(common::objects_of("envread_ccci_test").is_empty());
}

#[test]
fn a_value_ccci_does_not_know_is_refused_by_its_name() {
    for (key, value) in [
        ("CCCI_IPVS", "maybe"),
        ("CCCI_ROUTING", "ipvs"),
        ("CCCI_KEEP", "forever"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
            .args(["ccci", "run", "--recipe-git"])
            .arg(common::bundle("lemp"))
            .env(key, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{key}: one line: {stderr}");
        assert!(
            lines[0].contains(key) && lines[0].contains(value),
            "{key}: {stderr}"
        );
    }
}
