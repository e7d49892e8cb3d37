//! Bad input, measured: every case under `tests/bad_input/` is a recipe (or command line) with
//! one thing wrong, run through `cargo ccci run`. Each must end with exit status 2, one line
//! that names the file, key or service and the fix (checked against its insta snapshot, so a
//! changed message is reviewed), no panic, and nothing on the Swarm. `cargo ccci lint`, with
//! no Swarm, must refuse each with the very line the run gave.
//!
//! A case is a directory:
//! - `about`: one line saying what is wrong (for docs/bad-input-and-faults.md);
//! - `commits/<NN>-<tag>/`: the recipe's commits in order, each a whole tree, tagged `<tag>`
//!   (annotated) unless it is `head`; no `commits/` and a `plain/` tree is used as it is;
//! - `empty`: the recipe is a git repository with no commits;
//! - `args` (optional): more arguments for `cargo ccci run`, one per line; `{repo}` is the
//!   recipe's path.
//!
//! The table in docs/bad-input-and-faults.md is written from these cases and the fault
//! tests' snapshots by `cargo test -p cargo-ccci --test bad_input docs_table`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input")
}

fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(cases_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn git(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args);
    cmd.env("GIT_AUTHOR_NAME", "ccci")
        .env("GIT_AUTHOR_EMAIL", "ccci@example.invalid")
        .env("GIT_COMMITTER_NAME", "ccci")
        .env("GIT_COMMITTER_EMAIL", "ccci@example.invalid");
    let deadline = ccci::Deadline::after(Duration::from_secs(30));
    ccci_process::run(cmd, format!("git {}", args.join(" ")), deadline, "")
        .unwrap_or_else(|e| panic!("{e}"));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The recipe of `case`, built in `scratch`: a git repository of its commits, or its plain
/// tree.
fn build(case: &Path, scratch: &Path) -> PathBuf {
    let repo = scratch.join("recipe");
    if case.join("empty").exists() {
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        return repo;
    }
    let commits = case.join("commits");
    if !commits.is_dir() {
        if case.join("plain").is_dir() {
            copy_tree(&case.join("plain"), &repo);
        }
        return repo;
    }
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let mut trees: Vec<PathBuf> = std::fs::read_dir(&commits)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    trees.sort();
    for tree in trees {
        for e in std::fs::read_dir(&repo).unwrap().flatten() {
            if e.file_name() != ".git" {
                let p = e.path();
                let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
            }
        }
        copy_tree(&tree, &repo);
        git(&repo, &["add", "-A"]);
        let name = tree.file_name().unwrap().to_string_lossy().into_owned();
        git(&repo, &["commit", "-q", "--allow-empty", "-m", &name]);
        let tag = name.split_once('-').map_or("head", |(_, t)| t);
        if tag != "head" {
            git(&repo, &["tag", "-a", tag, "-m", &format!("release {tag}")]);
        }
    }
    repo
}

/// What `cargo ccci run` said for a case.
struct Said {
    /// Its exit status.
    code: Option<i32>,
    /// Its last `cargo ccci: ` line on stderr, with the scratch paths made stable.
    line: String,
    /// All it printed.
    all: String,
}

/// Runs `case` through `cargo ccci <verb>` (`run` or `lint`).
fn run_case(name: &str, verb: &str) -> Said {
    let case = cases_dir().join(name);
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bad-input")
        .join(format!("{name}-{verb}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let repo = build(&case, &scratch);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
    cmd.args(["ccci", verb, "--recipe-git"]).arg(&repo);
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    for a in args.lines().filter(|l| !l.is_empty()) {
        cmd.arg(a.replace("{repo}", &repo.display().to_string()));
    }
    // A domain of the corpus's own, so that anything deployed would be seen below.
    if !args.lines().any(|a| a == "--domain") {
        let label = name[..name.len().min(20)].trim_end_matches('-');
        cmd.args(["--domain", &format!("bad-{label}.ccci.test")]);
    }
    let registry = scratch.join("registry");
    if verb == "lint" {
        cmd.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    }
    cmd.env("CCCI_RUNS_DIR", scratch.join("runs"))
        .env("CCCI_REGISTRY_DIR", &registry)
        .env("NO_COLOR", "1");
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("cargo ccci: "))
        .unwrap_or("")
        .replace(&repo.display().to_string(), "<recipe>")
        .replace(&scratch.display().to_string(), "<scratch>");
    // A run that got as far as results.json deployed nothing.
    for run in std::fs::read_dir(scratch.join("runs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(text) = std::fs::read_to_string(run.path().join("results.json")) {
            let results: ccci::core::Results = serde_json::from_str(&text).unwrap();
            assert!(
                results.deploys.is_empty(),
                "{name}: deployed {:?}",
                results.deploys
            );
            assert!(
                results.bad_input.is_some(),
                "{name}: not recorded as bad input"
            );
        }
    }
    if verb == "lint" {
        assert!(
            !scratch.join("runs").exists(),
            "{name}: lint wrote a run directory"
        );
    }
    // Nothing of the run may be on the Swarm, nor left registered.
    let registered = ccci::registry::Registry::at(&registry).unwrap().runs();
    assert!(
        registered.is_empty(),
        "{name}: still registered: {registered:?}"
    );
    let _ = std::fs::remove_dir_all(&scratch);
    Said {
        code: out.status.code(),
        line,
        all: format!("{stdout}{stderr}"),
    }
}

#[test]
fn every_bad_input_is_refused_with_one_clear_line_and_nothing_deployed() {
    let names = cases();
    assert!(names.len() >= 30, "the corpus has {} cases", names.len());
    let before = deployed();
    // Two at a time: each is a few git commands and one cargo-ccci process.
    let results: Vec<(String, Said)> = names
        .chunks(2)
        .flat_map(|pair| {
            let handles: Vec<_> = pair
                .iter()
                .map(|n| {
                    let n = n.clone();
                    std::thread::spawn(move || (n.clone(), run_case(&n, "run")))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut failures = Vec::new();
    for (name, said) in &results {
        if said.code != Some(2) || said.line.is_empty() || said.all.contains("panicked") {
            failures.push(format!(
                "{name}: exit {:?}, line `{}`\n{}",
                said.code, said.line, said.all
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n-----\n"));
    for (name, said) in &results {
        insta::assert_snapshot!(name.as_str(), said.line);
    }
    assert_eq!(deployed(), before, "a bad input deployed something");
}

/// `cargo ccci lint` makes the checks a run makes before it deploys, and says what the run
/// says: each case's line is the one its run's snapshot holds, exit 2, and lint needs no
/// Swarm (it runs with `DOCKER_HOST` pointing nowhere) and writes no run directory.
#[test]
fn lint_refuses_every_bad_input_with_the_line_a_run_gives() {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut failures = Vec::new();
    for name in cases() {
        let said = run_case(&name, "lint");
        let want = snapshot_text(&snapshots.join(format!("bad_input__{name}.snap")));
        if said.code != Some(2) || said.line != want.trim_end() || said.all.contains("panicked") {
            failures.push(format!(
                "{name}: exit {:?}\n  lint said `{}`\n  run said  `{}`\n{}",
                said.code,
                said.line,
                want.trim_end(),
                said.all
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n-----\n"));
}

/// The Swarm objects whose names say they are this corpus's (`bad-…` domains).
fn deployed() -> Vec<String> {
    let mut found = Vec::new();
    for kind in ["service", "volume", "secret", "config", "network"] {
        let out = ccci_testkit::docker(&[kind, "ls", "--format", "{{.Name}}"]);
        found.extend(
            out.lines()
                .filter(|s| s.starts_with("bad-"))
                .map(|s| format!("{kind} {s}")),
        );
    }
    found
}

/// The fault tests whose snapshots the table shows: snapshot file (from the workspace root),
/// the fault, and the command that proves it.
const FAULTS: &[(&str, &str, &str)] = &[
    (
        "crates/cargo-ccci/tests/snapshots/dockerd_restart__fault_dockerd_restarted_during_deploy_wait.snap",
        "dockerd restarted while the install waits on its deploy",
        "cargo test -p cargo-ccci --test dockerd_restart",
    ),
    (
        "crates/ccci-harness/tests/snapshots/faults__fault_database_killed_during_dump.snap",
        "the database container killed during the backup's dump hook",
        "cargo test -p ccci-harness --test faults a_database",
    ),
    (
        "crates/ccci-harness/tests/snapshots/faults__fault_app_killed_during_functional_test.snap",
        "the app's only task killed during a functional test",
        "cargo test -p ccci-harness --test faults the_app",
    ),
    (
        "crates/ccci-harness/tests/snapshots/faults__fault_registry_down.snap",
        "the registry of an image is down (and, beside it, an image a running registry lacks)",
        "cargo test -p ccci-harness --test faults an_image",
    ),
    (
        "crates/ccci-harness/tests/snapshots/faults__fault_disk_full.snap",
        "the disk of the run directories fills up before the backup",
        "cargo test -p ccci-harness --test faults a_disk",
    ),
    (
        "crates/cargo-ccci/tests/snapshots/deps__fault_provider_down_at_start.snap",
        "the OIDC provider a recipe depends on is down when the run starts",
        "cargo test -p cargo-ccci --test deps a_provider_down",
    ),
    (
        "crates/cargo-ccci/tests/snapshots/deps__fault_realm_lost_mid_run.snap",
        "the glewlwyd of a run's OIDC realm stopped while the run uses it",
        "cargo test -p cargo-ccci --test deps a_realm_lost",
    ),
    (
        "crates/cargo-ccci/tests/snapshots/faults__fault_run_dir_unwritable.snap",
        "the run directory cannot be written",
        "cargo test -p cargo-ccci --test faults unwritable",
    ),
    (
        "crates/cargo-ccci/tests/snapshots/faults__fault_stdout_closed.snap",
        "standard output closed early (`| head`)",
        "cargo test -p cargo-ccci --test faults closed_stdout",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_unsigned.snap",
        "`cargo ccci serve`: a delivery without a signature",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_bad_signature.snap",
        "`cargo ccci serve`: a delivery signed with another secret",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_replay.snap",
        "`cargo ccci serve`: a delivery replayed (its id seen before)",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_unknown_repository.snap",
        "`cargo ccci serve`: a delivery for a repository the configuration does not name",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_malformed_json.snap",
        "`cargo ccci serve`: a signed delivery that is not JSON",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_10_mib_body.snap",
        "`cargo ccci serve`: a 10 MiB delivery",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_commenter_without_permission.snap",
        "`cargo ccci serve`: `!testme` by a commenter with read access only",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_100_deliveries_in_a_second.snap",
        "`cargo ccci serve`: 100 `!testme` deliveries for one head in one second",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_forge_down_during_a_run.snap",
        "`cargo ccci serve`: the forge answering 503 while a run goes on",
        "cargo test -p ccci-service --test serve a_testme",
    ),
    (
        "crates/ccci-service/tests/snapshots/serve__serve_kill_9_mid_run.snap",
        "`cargo ccci serve` killed (SIGKILL) in the middle of a run, then started again",
        "cargo test -p ccci-service --test serve a_kill_9",
    ),
];

/// A snapshot's content: what follows its `---` header.
fn snapshot_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = text.splitn(3, "---\n").nth(2).unwrap_or_default();
    body.trim().to_string()
}

/// `text` fit for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// docs/bad-input-and-faults.md, written from the corpus and the snapshots the tests check,
/// so its rows are what the tests measured. When it is out of date this test rewrites it and
/// fails: commit the new file.
#[test]
fn the_docs_table_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut doc = String::from(
        "# Bad input and faults, measured\n\n\
         Generated by `cargo test -p cargo-ccci --test bad_input the_docs_table_is_current` from\n\
         the bad-input corpus (`crates/cargo-ccci/tests/bad_input/`) and the snapshots its tests\n\
         and the fault tests check: every row is what a test measured. Do not edit by hand.\n\n",
    );
    let names = cases();
    doc.push_str(&format!(
        "## Bad input ({} cases)\n\n\
         Each case is run through `cargo ccci run --recipe-git`: every one exits 2 with this one\n\
         line on stderr, deploys nothing and leaves nothing registered\n\
         (`cargo test -p cargo-ccci --test bad_input`). `cargo ccci lint --recipe-git`, with no\n\
         Swarm, exits 2 with the very same line for every case\n\
         (`cargo test -p cargo-ccci --test bad_input lint_`).\n\n\
         | case | what is wrong | what `cargo ccci` says |\n|---|---|---|\n",
        names.len()
    ));
    for name in &names {
        let about = std::fs::read_to_string(cases_dir().join(name).join("about")).unwrap();
        let said = snapshot_text(&snapshots.join(format!("bad_input__{name}.snap")));
        doc.push_str(&format!(
            "| `{name}` | {} | {} |\n",
            cell(about.trim()),
            cell(said.trim_start_matches("cargo ccci: "))
        ));
    }
    doc.push_str(&format!(
        "\n## Faults ({} cases, on the real Swarm)\n\n\
         | fault | outcome | proof |\n|---|---|---|\n",
        FAULTS.len()
    ));
    for (snapshot, fault, command) in FAULTS {
        doc.push_str(&format!(
            "| {} | {} | `{command}` |\n",
            cell(fault),
            cell(&snapshot_text(&root.join(snapshot)))
        ));
    }
    let path = root.join("docs/bad-input-and-faults.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != doc {
        std::fs::write(&path, &doc).unwrap();
        panic!(
            "{} was out of date and is rewritten: review and commit it",
            path.display()
        );
    }
}
