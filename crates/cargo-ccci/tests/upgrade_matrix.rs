//! Upgrades from every supported release (`--upgrade-from N`), on the real local Swarm: a
//! recipe whose head refuses the data format of two releases back. Upgrading from the release
//! before the head alone, it is green; from the two releases before it, the older path fails
//! and the verdict is red, naming that release. Each path ran in a deployment of its own, and
//! none is left.

mod common;

use ccci::core::{Results, Verdict};
use common::said;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The app's start: `script`, then nginx.
fn compose(version: &str, script: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  app:
    image: local/nginx:1.22
    command: ["sh", "-c", "{script} exec nginx -g 'daemon off;'"]
    networks:
      - proxy
    volumes:
      - data:/data
    deploy:
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${{STACK_NAME}}.loadbalancer.server.port=80"
        - "traefik.http.routers.${{STACK_NAME}}.rule=Host(`${{DOMAIN}}`)"
        - "traefik.http.routers.${{STACK_NAME}}.entrypoints=web-secure"
        - "traefik.http.routers.${{STACK_NAME}}.tls.certresolver=${{LETS_ENCRYPT_ENV}}"
        - "coop-cloud.${{STACK_NAME}}.version={version}"
networks:
  proxy:
    external: true
volumes:
  data:
"#
    )
}

/// A recipe of three releases, each tagged: 1.0.0 writes its data in format v1, 1.1.0
/// migrates v1 to v2, and 1.2.0 (the head) refuses to start on v1 data.
fn recipe(work: &Path) -> PathBuf {
    let repo = work.join("matrix");
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).unwrap();
    ccci_testkit::git(&repo, &["init", "--quiet"]);
    std::fs::write(
        repo.join(".env.sample"),
        "TYPE=matrix\nDOMAIN=matrix.example.com\nLETS_ENCRYPT_ENV=production\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("ccci.yml"),
        "health_path: /\ndeploy_timeout: 40s\nexpected_na:\n  backup_restore: the fixture keeps nothing worth a backup\n  functional: the fixture has no tests of its own\n",
    )
    .unwrap();
    let releases = [
        ("1.0.0+1", "[ -f /data/format ] || echo v1 > /data/format;"),
        (
            "1.1.0+1",
            "[ -f /data/format ] || echo v2 > /data/format; [ $$(cat /data/format) = v1 ] && echo v2 > /data/format;",
        ),
        (
            "1.2.0+1",
            "[ -f /data/format ] || echo v2 > /data/format; [ $$(cat /data/format) = v2 ] || { echo data format v1 needs the migration of 1.1.0 first >&2; exit 1; };",
        ),
    ];
    for (version, script) in releases {
        std::fs::write(repo.join("compose.yml"), compose(version, script)).unwrap();
        ccci_testkit::git(&repo, &["add", "-A"]);
        ccci_testkit::git(
            &repo,
            &["commit", "--quiet", "-m", &format!("publish {version}")],
        );
        ccci_testkit::git(&repo, &["tag", "-a", version, "-m", version]);
    }
    repo
}

/// `cargo ccci run --recipe-git <repo> <args>`, its runs and registry under `work`.
fn run(work: &Path, repo: &Path, args: &[&str]) -> (Output, Results) {
    let results = work.join("results.json");
    let _ = std::fs::remove_file(&results);
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(repo)
        .args(args)
        .env("CCCI_RUNS_DIR", work.join("runs"))
        .env("CCCI_REGISTRY_DIR", work.join("registry"))
        .env("CCCI_RESULTS_FILE", &results)
        .env("CCCI_SCREENSHOT", "no")
        .env_remove("CCCI_SET")
        .env_remove("CCCI_UPGRADE_FROM")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&results)
        .unwrap_or_else(|e| panic!("no results ({e}): {}", said(&out)));
    (out, serde_json::from_str(&text).unwrap())
}

#[test]
fn an_upgrade_from_two_releases_back_that_breaks_is_red_naming_its_release() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("upgrade-matrix");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let repo = recipe(&work);

    // From the release before the head alone, as every ladder did: green.
    let (out, one) = run(&work, &repo, &[]);
    assert_eq!(
        one.verdict,
        Verdict::Green,
        "{:#?}\n{}",
        one.verdict_reasons,
        said(&out)
    );
    assert_eq!(one.upgrade_paths.len(), 1);
    assert_eq!(one.upgrade_paths[0].from, "1.1.0+1");

    let (out, two) = run(&work, &repo, &["--upgrade-from", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert_eq!(two.verdict, Verdict::Red);
    let paths: Vec<(&str, bool)> = two
        .upgrade_paths
        .iter()
        .map(|p| (p.from.as_str(), p.passed))
        .collect();
    assert_eq!(
        paths,
        [("1.1.0+1", true), ("1.0.0+1", false)],
        "{:#?}",
        two.upgrade_paths
    );
    let reason = two
        .verdict_reasons
        .iter()
        .find(|r| r.starts_with("upgrade failed"))
        .unwrap_or_else(|| panic!("{:#?}", two.verdict_reasons));
    assert!(
        reason.contains("the upgrade from 1.0.0+1 to the head failed (1 of 2 paths failed)"),
        "{reason}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("upgrade from:   1.0.0+1"), "{stdout}");
    // The failed path kept its task history and logs: the head's own words say why.
    let older = &two.upgrade_paths[1];
    let kept = std::fs::read_to_string(older.forensics.as_deref().expect("forensics")).unwrap();
    assert!(
        kept.contains("data format v1 needs the migration of 1.1.0 first"),
        "{kept}"
    );
    // Each path had a deployment of its own, and every one is gone.
    assert_ne!(older.stack, two.stack);
    for p in &two.upgrade_paths {
        assert!(common::objects_of(&p.stack).is_empty(), "{} left", p.stack);
    }
    common::assert_forgotten(&work.join("registry"));
}
