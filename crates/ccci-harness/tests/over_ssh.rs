//! A Swarm that is not here: the whole ladder of custom-html with `DOCKER_HOST=ssh://…`, the
//! Engine API through an ssh tunnel and the docker CLI over its own ssh, against the real sshd
//! scripts/local-swarm runs on 127.0.0.1:2222. The test makes its own key and ssh config
//! entry and takes both away again. A binary of its own: it sets DOCKER_HOST for its process.

mod common;

use ccci::core::Verdict;
use ccci::{run_recipe, Hooks, Settings};
use std::path::{Path, PathBuf};

/// What the test added to `~/.ssh`, taken away when it ends, however it ends.
struct SshAccess {
    config: PathBuf,
    authorized: PathBuf,
    public_key: String,
    dir: tempfile::TempDir,
}

const HOST_ALIAS: &str = "ccci-over-ssh-test";

impl SshAccess {
    fn grant() -> SshAccess {
        let home = PathBuf::from(std::env::var("HOME").expect("HOME"));
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_ed25519");
        let mut keygen = std::process::Command::new("ssh-keygen");
        keygen
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "ccci-over-ssh-test",
                "-f",
            ])
            .arg(&key);
        let deadline = ccci::Deadline::after(std::time::Duration::from_secs(30));
        ccci::process::run(
            keygen,
            "ssh-keygen".into(),
            deadline,
            ": install openssh-client",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let public_key = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let authorized = ssh.join("authorized_keys");
        let mut keys = std::fs::read_to_string(&authorized).unwrap_or_default();
        keys.push_str(&public_key);
        std::fs::write(&authorized, keys).unwrap();
        let config = ssh.join("config");
        let mut text = std::fs::read_to_string(&config).unwrap_or_default();
        text.push_str(&format!(
            "\n# {HOST_ALIAS} begin\nHost {HOST_ALIAS}\n  HostName 127.0.0.1\n  Port 2222\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n# {HOST_ALIAS} end\n",
            key.display()
        ));
        std::fs::write(&config, text).unwrap();
        SshAccess {
            config,
            authorized,
            public_key,
            dir,
        }
    }
}

impl Drop for SshAccess {
    fn drop(&mut self) {
        if let Ok(keys) = std::fs::read_to_string(&self.authorized) {
            let _ = std::fs::write(&self.authorized, keys.replace(&self.public_key, ""));
        }
        if let Ok(text) = std::fs::read_to_string(&self.config) {
            let begin = format!("\n# {HOST_ALIAS} begin\n");
            let end = format!("# {HOST_ALIAS} end\n");
            if let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) {
                let kept = format!("{}{}", &text[..b], &text[e + end.len()..]);
                let _ = std::fs::write(&self.config, kept);
            }
        }
        let _ = self.dir.path();
    }
}

#[test]
fn a_recipe_climbs_the_ladder_on_a_swarm_reached_over_ssh() {
    let _access = SshAccess::grant();
    std::env::set_var("DOCKER_HOST", format!("ssh://{HOST_ALIAS}"));
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/custom-html");
    let meta = ccci::load_meta(&crate_dir).unwrap();
    let mut settings = Settings::new(&crate_dir, &common::runs_dir("ssh-runs"));
    // The far side is this machine, which has no IPVS; ccci cannot ask a remote kernel.
    settings.ipvs = Some(false);
    let report = run_recipe(settings, meta, Hooks::none()).unwrap();
    let res = &report.results;
    // custom-html says `rollback: true`: its rollback is deployed over ssh too.
    let steps: Vec<&str> = res.deploys.iter().map(|d| d.step.as_str()).collect();
    assert!(
        res.deploys.iter().all(|d| d.healthy) && steps == ["install", "upgrade", "rollback"],
        "install, upgrade and rollback deployed over ssh: {:#?}",
        res.deploys
    );
    assert!(
        res.rollback.as_ref().is_some_and(|r| r.problem.is_none()),
        "{:#?}",
        res.rollback
    );
    assert_eq!(
        res.verdict,
        Verdict::Red,
        "no functional tests here: an undeclared skip"
    );
    assert_eq!(res.level, ccci::core::Level(3), "{:#?}", res.tests);
    assert!(
        res.changes
            .iter()
            .any(|c| c.contains("endpoint_mode dnsrr")),
        "{:?}",
        res.changes
    );
    common::assert_clean(res);
}
