//! An untrusted head (a stranger's pull request) gets what its recipe declares and nothing
//! of the host or of anyone else's: each way out of its own stack is refused, naming the
//! service, key and value, before anything is deployed; what the operator allowed goes
//! through, listed in the manifest. On the real Swarm, with a real git repository whose head
//! commits a symlink to a host file.

mod common;

use ccci::core::ladder::{Rung, RungOutcome};
use ccci::policy::Allowance;
use ccci::{run_repository, RepoRun, Report};
use std::path::Path;

const RELEASE: &str = r#"version: "3.8"
services:
  app:
    image: local/busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    init: true
    networks: [proxy]
    deploy:
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=8080"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)"
        - "traefik.http.routers.${STACK_NAME}.entrypoints=web-secure"
        - "traefik.http.routers.${STACK_NAME}.tls=true"
        - "coop-cloud.${STACK_NAME}.version=1.0.0+1.35"
networks:
  proxy:
    external: true
"#;

/// A recipe repository at `dir`: release 1.0.0+1.35 (the stack above), then a head whose
/// compose file is `head` (with `extra` files committed beside it, symlinks as symlinks).
fn repository(dir: &Path, head: &str, symlinks: &[(&str, &str)]) -> String {
    let git = |args: &[&str]| ccci_testkit::git(dir, args);
    std::fs::create_dir_all(dir).unwrap();
    git(&["init", "--quiet"]);
    std::fs::write(
        dir.join(".env.sample"),
        "TYPE=sneaky\nDOMAIN=x.example.com\n",
    )
    .unwrap();
    std::fs::write(dir.join("compose.yml"), RELEASE).unwrap();
    git(&["add", "-A"]);
    git(&[
        "commit",
        "--quiet",
        "-m",
        "chore: publish 1.0.0+1.35 release",
    ]);
    git(&["tag", "-a", "1.0.0+1.35", "-m", "1.0.0+1.35"]);
    std::fs::write(dir.join("compose.yml"), head).unwrap();
    for (link, to) in symlinks {
        std::os::unix::fs::symlink(to, dir.join(link)).unwrap();
    }
    git(&["add", "-A"]);
    git(&["commit", "--quiet", "-m", "a pull request"]);
    dir.display().to_string()
}

fn run_untrusted(url: String, allow: Vec<Allowance>) -> Report {
    untrusted_run(
        url,
        allow,
        None,
        "expected_na={backup_restore: no data, functional: none}",
    )
}

/// An untrusted run of `url` with `allow`, its backups capped at `backup_cap`, `set` on top.
fn untrusted_run(url: String, allow: Vec<Allowance>, backup_cap: Option<u64>, set: &str) -> Report {
    let runs = common::runs_dir("untrusted-runs");
    let mut settings = ccci::Settings::new(&runs, &runs);
    settings.untrusted = Some(allow);
    settings.backup_cap = backup_cap;
    run_repository(RepoRun {
        url,
        sets: vec![set.into()],
        settings,
    })
    .expect("the run produces results")
}

#[test]
fn a_head_reaching_beyond_its_stack_is_refused_before_anything_is_deployed() {
    let work = tempfile::tempdir().unwrap();
    let head = r#"version: "3.8"
services:
  app:
    image: local/busybox:1.35
    command: ["sh", "-c", "exec httpd -f -p 8080 -h /"]
    networks:
      proxy:
        aliases: [ccci-traefik]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
    secrets: [token, theirs, passwd]
    deploy:
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=8080"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`) || Host(`ccci-oidc.ccci.test`)"
        - "coop-cloud.${STACK_NAME}.version=1.0.0+1.35"
networks:
  proxy:
    external: true
secrets:
  token:
    file: ./token.txt
  theirs:
    external: true
    name: canonical-notebook_ccci_test_db_password_v1
  passwd:
    file: /etc/passwd
"#;
    let url = repository(
        &work.path().join("sneaky"),
        head,
        &[("token.txt", "/etc/hostname")],
    );
    let r = run_untrusted(url, Vec::new());
    let res = &r.results;
    let refused = res
        .bad_input
        .as_deref()
        .unwrap_or_else(|| panic!("the head must be refused as bad input: {res:#?}"));
    for (what, value) in [
        ("the Docker socket", "`/var/run/docker.sock`"),
        ("a symlink to a host file", "`/etc/hostname`"),
        ("a host file", "`/etc/passwd`"),
        (
            "another stack's secret",
            "`canonical-notebook_ccci_test_db_password_v1`",
        ),
        ("the OIDC provider's domain", "`ccci-oidc.ccci.test`"),
        ("ccci's Traefik's name", "`ccci-traefik`"),
    ] {
        assert!(refused.contains(value), "{what} is not named: {refused}");
    }
    assert!(refused.contains("service app:"), "{refused}");
    assert!(
        res.deploys.is_empty(),
        "nothing is deployed: {:?}",
        res.deploys
    );
    assert_ne!(res.rungs[&Rung::Install], RungOutcome::Pass, "{res:#?}");
    assert_eq!(res.verdict, ccci::core::Verdict::Red);
    common::assert_clean(res);
}

#[test]
fn what_the_operator_allows_goes_through_and_is_in_the_manifest() {
    let work = tempfile::tempdir().unwrap();
    let head = RELEASE.replace(
        "    networks: [proxy]\n",
        "    networks: [proxy]\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n",
    );
    let url = repository(&work.path().join("needs-socket"), &head, &[]);
    let allow: Allowance = "bind_mount:/var/run/docker.sock".parse().unwrap();
    let r = run_untrusted(url, vec![allow]);
    let res = &r.results;
    assert_eq!(res.bad_input, None, "{res:#?}");
    for rung in [Rung::Install, Rung::Upgrade] {
        common::assert_passed(res, rung);
    }
    assert!(
        res.manifest
            .iter()
            .any(|m| m.contains("allowed by its operator")
                && m.contains("bind_mount:/var/run/docker.sock")),
        "{:?}",
        res.manifest
    );
    common::assert_clean(res);
}

/// The real recipes keep to their own stacks; the traefik recipe mounts the Docker socket,
/// which its operator must allow. Checked as `cargo ccci lint --untrusted` checks, no Swarm.
#[test]
fn the_real_recipes_lint_clean_untrusted_and_traefik_with_its_allowance() {
    let runs = common::runs_dir("untrusted-lint");
    let lint = |name: &str, allow: Vec<Allowance>| {
        let mut settings = ccci::Settings::new(&runs, &runs);
        settings.untrusted = Some(allow);
        ccci::lint_repository(RepoRun {
            url: ccci_testkit::recipe_repository(name),
            sets: Vec::new(),
            settings,
        })
    };
    for name in ["foodsharing-cms", "lemp"] {
        lint(name, Vec::new()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let refused = lint("traefik", Vec::new()).unwrap_err().to_string();
    assert!(
        refused.contains("service app: volumes `/var/run/docker.sock`")
            && refused.contains("allows `bind_mount:/var/run/docker.sock`"),
        "{refused}"
    );
    lint(
        "traefik",
        vec!["bind_mount:/var/run/docker.sock".parse().unwrap()],
    )
    .expect("traefik with its allowance");
}

/// A head whose app keeps 3 MiB of data, backed up; its pre-backup hook fails unless the app
/// runs under the default memory limit ccci gives an untrusted head's services (2 GiB), read
/// from the container's own cgroup.
const BOUNDED: &str = r#"version: "3.8"
services:
  app:
    image: local/busybox:1.35
    command: ["sh", "-c", "mkdir -p /www /data && echo ok > /www/index.html && dd if=/dev/urandom of=/data/big bs=1M count=3 2>/dev/null; exec httpd -f -p 8080 -h /www"]
    init: true
    networks: [proxy]
    volumes: [data:/data]
    deploy:
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=8080"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)"
        - "traefik.http.routers.${STACK_NAME}.entrypoints=web-secure"
        - "traefik.http.routers.${STACK_NAME}.tls=true"
        - "coop-cloud.${STACK_NAME}.version=1.0.0+1.35"
        - "backupbot.backup=true"
        - "backupbot.backup.pre-hook=sh -c 'limit=$$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes); test \"$$limit\" = 2147483648'"
volumes:
  data:
networks:
  proxy:
    external: true
"#;

fn run_bounded(url: String, backup_cap: Option<u64>) -> Report {
    untrusted_run(
        url,
        Vec::new(),
        backup_cap,
        "expected_na={functional: none}",
    )
}

#[test]
fn an_untrusted_heads_services_are_limited_and_its_backup_capped_and_streamed() {
    let work = tempfile::tempdir().unwrap();
    let url = repository(&work.path().join("bounded"), BOUNDED, &[]);

    // Under the cap: the limit was there (the hook passed), the snapshot taken and restored
    // from disk, and the limits given are listed.
    let r = run_bounded(url.clone(), None);
    let res = &r.results;
    for rung in [Rung::Install, Rung::Upgrade, Rung::BackupRestore] {
        common::assert_passed(res, rung);
    }
    assert!(
        res.changes
            .iter()
            .any(|c| c.contains("service app: memory limited to 2G")),
        "{:?}",
        res.changes
    );
    common::assert_clean(res);

    // Past the cap: refused, naming the path and the cap, and nothing more read.
    let r = run_bounded(url, Some(1 << 20));
    let res = &r.results;
    let backup = res
        .tests
        .iter()
        .find(|t| t.name == "backup::takes_a_verified_snapshot")
        .expect("the backup ran");
    let said = format!("{:?}", backup.status);
    assert!(
        said.contains("/data")
            && said.contains("more than 1 MiB")
            && said.contains("CCCI_BACKUP_CAP"),
        "{said}"
    );
    assert_ne!(res.rungs[&Rung::BackupRestore], RungOutcome::Pass);
    common::assert_clean(res);
}
