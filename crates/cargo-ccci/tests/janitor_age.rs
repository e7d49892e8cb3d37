//! The janitor's fallback by age, on the real Swarm: a stack ccci labelled as a run's, that no
//! registered run holds and whose owner is gone, is removed once older than the limit; a
//! younger one, a canonical, and a live process's are not, and nothing unlabelled is touched.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Deploys a one-service stack `name` with `labels` on its service (docker's own CLI, as an
/// older ccci or a hand-made run would have left it).
fn stack(dir: &Path, name: &str, labels: &[(&str, &str)]) {
    let mut yaml = String::from(
        "version: \"3.8\"\nservices:\n  app:\n    image: local/busybox:1.35\n    command: [\"sleep\", \"3600\"]\n    deploy:\n      endpoint_mode: dnsrr\n      labels:\n",
    );
    for (k, v) in labels {
        yaml.push_str(&format!("        {k}: \"{v}\"\n"));
    }
    let file = dir.join(format!("{name}.yml"));
    std::fs::write(&file, yaml).unwrap();
    ccci_testkit::docker(&["stack", "deploy", "-c", file.to_str().unwrap(), name]);
}

struct Remove(Vec<String>);

impl Drop for Remove {
    fn drop(&mut self) {
        for s in &self.0 {
            let _ = Command::new("docker").args(["stack", "rm", s]).output();
        }
    }
}

#[test]
fn an_unregistered_labelled_stack_older_than_the_limit_is_reaped_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let id = std::process::id();
    let names: Vec<String> = ["old", "young", "canon", "alive", "theirs"]
        .iter()
        .map(|n| format!("ccci-orphan-{n}-{id}"))
        .collect();
    let _remove = Remove(names.clone());
    let host = ccci::core::host::host_name().unwrap();
    let dead = format!("{host}/999999999/1");
    let alive = ccci::core::host::owner();
    stack(
        tmp.path(),
        &names[0],
        &[("ccci.run", "gone-1"), ("ccci.owner", &dead)],
    );
    stack(
        tmp.path(),
        &names[2],
        &[
            ("ccci.run", "gone-2"),
            ("ccci.owner", &dead),
            ("ccci.canonical", "custom-html"),
        ],
    );
    stack(
        tmp.path(),
        &names[3],
        &[("ccci.run", "live-1"), ("ccci.owner", &alive)],
    );
    stack(tmp.path(), &names[4], &[("app.owner", "someone")]);
    std::thread::sleep(Duration::from_secs(5));
    stack(
        tmp.path(),
        &names[1],
        &[("ccci.run", "gone-3"), ("ccci.owner", &dead)],
    );

    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "janitor", "--older-than", "4s"])
        .env("CCCI_REGISTRY_DIR", tmp.path().join("registry"))
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "removed stack {} of run gone-1 (no registered run holds it",
            names[0]
        )),
        "{said}"
    );
    assert_eq!(
        common::objects_of(&names[0]),
        Vec::<String>::new(),
        "the old orphan is gone"
    );
    for (kept, why) in [
        (&names[1], "younger than the limit"),
        (&names[2], "a canonical"),
        (&names[3], "its owner lives"),
        (&names[4], "not ccci's"),
    ] {
        assert!(
            !common::objects_of(kept).is_empty(),
            "{kept} is kept: {why}\n{said}"
        );
        assert!(!said.contains(kept.as_str()), "{kept} is not named: {said}");
    }
}
