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

/// `from` replaced by `to` in `file` of the work tree `dir` (which must hold it).
fn replace(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// custom-html's releases, then a release 1.2.0+1.22.1 that `base` makes of the last one
/// (its version label bumped), then a head that `head` makes of that: a real repository whose
/// head `cargo ccci lint` holds to 1.2.0+1.22.1.
fn base_and_head(dir: &Path, base: &dyn Fn(&Path), head: &dyn Fn(&Path)) -> String {
    let git = |args: &[&str]| ccci_testkit::git(dir, args);
    ccci_testkit::release_repository("custom-html", dir);
    base(dir);
    replace(
        dir,
        "compose.yml",
        "version=1.1.0+1.22.1",
        "version=1.2.0+1.22.1",
    );
    git(&[
        "commit",
        "--quiet",
        "-am",
        "chore: publish 1.2.0+1.22.1 release",
    ]);
    git(&[
        "tag",
        "-a",
        "1.2.0+1.22.1",
        "-m",
        "chore: publish 1.2.0+1.22.1 release",
    ]);
    head(dir);
    git(&[
        "commit",
        "--quiet",
        "--allow-empty",
        "-am",
        "the head's change",
    ]);
    dir.display().to_string()
}

/// What `cargo ccci lint --format json` says of a repository: the ids it found (refused or
/// listed), and whether it refused.
fn found_ids(repo: &str) -> (Vec<String>, bool) {
    let (code, json) = lint(&["--recipe-git", repo, "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let refused = v["refused"].as_str().unwrap_or_default().to_string();
    assert_eq!(code, Some(if refused.is_empty() { 0 } else { 2 }), "{json}");
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str().map(String::from))
        .collect();
    ids.extend(refused.split("; ").filter_map(|r| {
        r.split_whitespace()
            .find(|w| w.starts_with('C'))
            .map(String::from)
    }));
    (ids, !refused.is_empty())
}

/// An edit of the work tree, for [`base_and_head`].
type Edit = Box<dyn Fn(&Path)>;

fn none() -> Edit {
    Box::new(|_| {})
}

fn edit(file: &'static str, from: &'static str, to: &'static str) -> Edit {
    Box::new(move |dir| replace(dir, file, from, to))
}

/// Each of ccci's rules between two releases, on real repositories of custom-html's releases
/// through the real command: the mistake is found at its level (an error refuses the head),
/// and the fix is clean of it. (C001 is the unbumped config's test above; C007 below.)
#[test]
fn each_rule_between_releases_finds_its_mistake_and_passes_its_fix() {
    let network = "networks:\n  proxy:\n    external: true\n";
    let backend = "  backend:\n    driver: overlay\n";
    let cases: Vec<(&str, bool, Edit, Edit, Edit)> = vec![
        ("C002", true, none(), edit("compose.yml", "- content:/usr/share/nginx/html", "- content:${HTML_ROOT}"), edit("compose.yml", "- content:/usr/share/nginx/html", "- content:${HTML_ROOT:-/usr/share/nginx/html}")),
        ("C003", false, none(), edit("compose.yml", "image: local/nginx:1.22", "image: local/nginx:1.22@sha256:0123"), none()),
        ("C004", false, none(), edit("compose.yml", "image: local/nginx:1.22", "image: local/nginx:1.21"), edit("compose.yml", "image: local/nginx:1.22", "image: local/nginx:1.23")),
        ("C005", true, none(), Box::new(|d| { replace(d, "compose.yml", "- content:/usr", "- html:/usr"); replace(d, "compose.yml", "volumes:\n  content:", "volumes:\n  html:") }), none()),
        ("C006", false, Box::new(|d| { let p = d.join(".env.sample"); let t = std::fs::read_to_string(&p).unwrap(); std::fs::write(p, format!("{t}SECRET_TOKEN_VERSION=v1 # length=32\n")).unwrap() }), edit(".env.sample", "length=32", "length=16"), edit(".env.sample", "length=32", "length=64")),
        ("C008", false, Box::new(move |d| replace(d, "compose.yml", network, &format!("{network}{backend}"))), edit("compose.yml", "  backend:\n    driver: overlay\n", "  backend:\n    driver: overlay\n    internal: true\n"), edit("compose.yml", "  backend:\n    driver: overlay\n", "  backend:\n    driver: overlay\n  backend_internal:\n    driver: overlay\n    internal: true\n")),
        ("C009", true, none(), edit("compose.yml", "    deploy:\n      restart_policy:", "    deploy:\n      mode: global\n      restart_policy:"), edit("compose.yml", "    deploy:\n      restart_policy:", "    deploy:\n      mode: replicated\n      restart_policy:")),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (id, error, base, mistake, fix) in &cases {
        let wrong = base_and_head(&tmp.path().join(format!("{id}-mistake")), base, mistake);
        let (ids, refused) = found_ids(&wrong);
        assert!(
            ids.iter().any(|i| i == id),
            "{id}: the mistake is found: {ids:?}"
        );
        assert_eq!(
            refused, *error,
            "{id}: an error refuses, a warning is listed: {ids:?}"
        );
        let right = base_and_head(&tmp.path().join(format!("{id}-fix")), base, fix);
        let (ids, refused) = found_ids(&right);
        assert!(
            !ids.iter().any(|i| i == id) && !refused,
            "{id}: the fix is clean of it: {ids:?}"
        );
    }
}

/// C007 on a head that is a release: its version label must be its tag.
#[test]
fn a_release_whose_label_is_not_its_tag_is_found_and_the_bumped_label_passes() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bump) in [("unbumped", false), ("bumped", true)] {
        let dir = tmp.path().join(name);
        let repo = base_and_head(&dir, &|_| {}, &move |d| {
            if bump {
                replace(
                    d,
                    "compose.yml",
                    "version=1.2.0+1.22.1",
                    "version=1.3.0+1.22.1",
                );
            }
        });
        ccci_testkit::git(
            &dir,
            &[
                "tag",
                "-a",
                "1.3.0+1.22.1",
                "-m",
                "chore: publish 1.3.0+1.22.1 release",
            ],
        );
        let (ids, refused) = found_ids(&repo);
        assert!(!refused, "{name}: {ids:?}");
        assert_eq!(ids.iter().any(|i| i == "C007"), !bump, "{name}: {ids:?}");
    }
}
