//! `cargo ccci lint` on recipes that are right: every recipe test crate of this workspace and
//! the real recipes in `CCCI_RECIPES` pass it with exit 0 and one line that names the ref,
//! its commit and the upgrade base; with no Swarm reachable, and leaving nothing behind.
//! (What it refuses, and how, is the bad-input corpus's: `--test bad_input lint_`.)

use std::path::Path;
use std::process::Command;

/// Runs `cargo ccci lint ARGS` from the workspace root, with no Swarm to reach.
fn lint(args: &[&str]) -> (Option<i32>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .current_dir(&root)
        .arg("lint")
        .args(args)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

#[test]
fn every_recipe_crate_of_the_workspace_is_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("ccci.yml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "recipes/ has {names:?}");
    for name in names {
        let (code, said) = lint(&[&name]);
        assert_eq!(code, Some(0), "{name}: {said}");
        let want = format!("cargo ccci lint: {name} at HEAD (");
        assert!(
            said.starts_with(&want) && said.contains(": clean: compose.yml"),
            "{name}: {said}"
        );
    }
}

#[test]
fn the_real_recipes_are_clean_at_their_head_and_at_a_release() {
    for (name, _) in ccci_testkit::UPSTREAM {
        let repo = ccci_testkit::recipe_repository(name);
        let (code, said) = lint(&["--recipe-git", &repo]);
        assert_eq!(code, Some(0), "{name}: {said}");
        assert!(
            said.starts_with(&format!("cargo ccci lint: {name} at HEAD (")),
            "{name}: {said}"
        );
    }
    // foodsharing-cms at its second release upgrades from its first.
    let repo = ccci_testkit::recipe_repository("foodsharing-cms");
    let (code, said) = lint(&["--recipe-git", &repo, "--ref", "v1.0.1"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("at v1.0.1 (") && said.contains("upgrade from v1.0.0"),
        "{said}"
    );
}

#[test]
fn a_bad_setting_in_the_environment_is_refused_by_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args(["lint", "custom-html"])
        .env("CCCI_ROUTING", "ipvs")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("routing `ipvs`") && said.contains("CCCI_ROUTING"),
        "{said}"
    );
}

/// A recipe repository of the `config-not-bumped` fixture's releases: 1.0.0+1.35 tagged, then
/// the head, whose page changed; `bumped` also bumps PAGE_VERSION in the head's abra.sh.
fn unbumped_repository(dir: &Path, bumped: bool) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ccci-harness/tests/fixtures/config-not-bumped");
    let git = |args: &[&str]| ccci_testkit::git(dir, args);
    std::fs::create_dir_all(dir).unwrap();
    git(&["init", "--quiet"]);
    for (release, tag) in [("1.0.0+1.35", Some("1.0.0+1.35")), ("HEAD", None)] {
        for e in std::fs::read_dir(fixture.join(release)).unwrap().flatten() {
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
        if bumped && tag.is_none() {
            std::fs::write(dir.join("abra.sh"), "export PAGE_VERSION=v2\n").unwrap();
        }
        git(&["add", "-A"]);
        git(&["commit", "--quiet", "-m", release]);
        if let Some(tag) = tag {
            git(&["tag", "-a", tag, "-m", tag]);
        }
    }
    dir.display().to_string()
}

#[test]
fn a_config_changed_since_the_base_release_under_the_same_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = unbumped_repository(&tmp.path().join("unbumped"), false);
    let (code, said) = lint(&["--recipe-git", &repo]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains(
            "since release 1.0.0+1.35: config `page` (index.html) changed, but its name `"
        ) && said.contains("_page_v1` did not")
            && said.contains("`PAGE_VERSION`"),
        "{said}"
    );
    let repo = unbumped_repository(&tmp.path().join("bumped"), true);
    let (code, said) = lint(&["--recipe-git", &repo]);
    assert_eq!(code, Some(0), "bumped, it is clean: {said}");
}

/// custom-html's releases, then a head whose compose file `edit` changes, committed: a
/// repository to lint the head of against its release before.
fn edited_head(dir: &Path, edit: impl Fn(&str) -> String) -> String {
    ccci_testkit::release_repository("custom-html", dir);
    let compose = dir.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(&compose, edit(&text)).unwrap();
    ccci_testkit::git(dir, &["commit", "--quiet", "-am", "the head's change"]);
    dir.display().to_string()
}

/// A head that renames the volume every deployed app's data is in is refused before anything
/// is deployed (C005, an error), said with the rule's id, file and fix, as text and as JSON;
/// the same head with the volume kept is clean, its warnings listed with their ids.
#[test]
fn a_rule_error_refuses_the_head_and_json_says_every_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let renamed = edited_head(&tmp.path().join("renamed"), |t| {
        t.replace(
            "      - content:/usr/share/nginx/html",
            "      - html:/usr/share/nginx/html",
        )
        .replace("volumes:\n  content:", "volumes:\n  html:")
    });
    let (code, said) = lint(&["--recipe-git", &renamed]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("C005 error: compose.yml: volume `content` of 1.1.0+1.22.1 is gone from the head: keep its name"),
        "{said}"
    );
    let (code, json) = lint(&["--recipe-git", &renamed, "--format", "json"]);
    assert_eq!(code, Some(2), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["refused"].as_str().unwrap().contains("C005 error"), "{v}");

    let kept = edited_head(&tmp.path().join("kept"), |t| {
        t.replace("nginx:1.22", "nginx:1.22@sha256:0123")
    });
    let (code, json) = lint(&["--recipe-git", &kept, "--format", "json"]);
    assert_eq!(code, Some(0), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["refused"], serde_json::Value::Null);
    let c003 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "C003")
        .unwrap_or_else(|| panic!("a digest pin is said: {v}"));
    assert_eq!(c003["level"], "warning");
    assert_eq!(c003["file"], "compose.yml");
    assert!(
        c003["line"].as_u64().is_some() && c003["fix"].as_str().is_some(),
        "{c003}"
    );
}
