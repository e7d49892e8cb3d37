//! The run store through `cargo ccci`, with real runs on the local Swarm: a run of
//! custom-html is recorded when it ends and is in `history` and on the dashboard with its card
//! and artefacts; runs made by a bare `cargo test` reach the store through the run journal;
//! an A/B of a green and a red run of one recipe shows the rung that broke; this
//! repository's own run directories import. Each test has a store and a journal of its own.

mod common;

use common::{get, said};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A store, a journal and a runs directory for one test.
struct Place {
    dir: PathBuf,
}

impl Place {
    fn new(name: &str) -> Place {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("memory-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Place { dir }
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("CCCI_DATABASE", self.dir.join("runs.db"))
            .env("CCCI_JOURNAL_DIR", self.dir.join("journal"))
            .env("CCCI_RUNS_DIR", self.dir.join("runs"))
            .env("CCCI_ROUTING", "host-port")
            .env("NO_COLOR", "1")
            .env_remove("CCCI_SET")
            .env_remove("NEXTEST_RUN_ID")
            .current_dir(workspace())
            .stdin(Stdio::null());
    }

    /// `cargo ccci <args>`.
    fn ccci(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
        cmd.arg("ccci").args(args);
        self.env(&mut cmd);
        cmd.output().unwrap()
    }

    /// `cargo ccci history <args> --json`.
    fn history(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let out = self.ccci(&[&["history", "--json"], args].concat());
        assert!(out.status.success(), "{}", said(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)))
    }

    /// `cargo ccci dashboard` on a free port: the child and its address.
    fn dashboard(&self) -> (Child, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
        self.env(&mut cmd);
        common::dashboard(cmd)
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The `href` and `src` values of a page.
fn links(html: &str) -> Vec<String> {
    ["href=\"", "src=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1).filter_map(|s| s.split('"').next()))
        .map(|l| l.replace("&amp;", "&"))
        .collect()
}

#[test]
fn a_run_of_custom_html_is_in_history_and_on_the_dashboard_with_its_card_and_artefacts() {
    let place = Place::new("custom-html");
    // The first store command builds ccci-service; from then on a run is recorded as it ends.
    let first = place.ccci(&["history"]);
    assert!(first.status.success(), "{}", said(&first));
    assert!(String::from_utf8_lossy(&first.stdout).contains("no runs in the run store"));

    let out = place.ccci(&["run", "custom-html"]);
    assert!(out.status.success(), "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("recorded:       in the run store"),
        "{}",
        said(&out)
    );
    let runs = place.history(&["custom-html"]);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = &runs[0];
    assert_eq!(
        (run["level"].as_u64(), run["verdict"].as_str()),
        (Some(4), Some("green"))
    );
    assert_eq!(
        (run["lane"].as_str(), run["state"].as_str()),
        (Some("cold"), Some("finished"))
    );
    assert!(
        run["ccci_version"].is_string() && run["commit"].is_string(),
        "{run:#?}"
    );
    let id = run["run_id"].as_str().unwrap();

    let (mut dashboard, base) = place.dashboard();
    let (status, page) = get(&format!("{base}/runs/{id}"));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("L4 GREEN"), "{page}");
    let files: Vec<String> = links(&page)
        .into_iter()
        .filter(|l| l.starts_with(&format!("/runs/{id}/")))
        .collect();
    for expected in [
        "card.svg",
        "files/junit.xml",
        "files/results.json",
        "files/comment.md",
        "files/card.png",
        "files/screenshot.png",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(expected)),
            "the run page links its {expected}: {files:?}"
        );
    }
    for f in &files {
        let (status, _) = get(&format!("{base}{f}"));
        assert_eq!(status, 200, "{f} answers");
    }
    let (status, catalogue) = get(&format!("{base}/"));
    assert!(status == 200 && catalogue.contains("custom-html") && catalogue.contains("L4 GREEN"));
    dashboard.kill().unwrap();
    dashboard.wait().unwrap();

    // This repository's own run directories import into a store: this run's, and whatever the
    // workspace's runs directory holds from earlier runs, of any schema.
    let other = Place::new("import");
    let mut dirs = vec![place.dir.join("runs")];
    let workspace_runs = workspace().join("target/ccci/runs");
    if workspace_runs.is_dir() {
        dirs.push(workspace_runs);
    }
    let args: Vec<String> = ["import".to_string()]
        .into_iter()
        .chain(dirs.iter().map(|d| d.display().to_string()))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = other.ccci(&args);
    assert!(out.status.success(), "{}", said(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("skipped"),
        "every run directory of ccci's imports: {text}"
    );
    let imported = other.history(&["--limit", "10000"]);
    assert!(imported.iter().any(|r| r["run_id"] == id), "{text}");
}

#[test]
fn runs_of_a_bare_cargo_test_reach_the_store_and_an_ab_shows_the_rung_that_broke() {
    let place = Place::new("ab");
    let cargo_test = |set: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["test", "--locked", "-p", "ccci-verdict-fixture"]);
        place.env(&mut cmd);
        if let Some(set) = set {
            cmd.env("CCCI_SET", set);
        }
        cmd.output().unwrap()
    };
    let green = cargo_test(None);
    assert!(green.status.success(), "{}", said(&green));
    // Only the functional rung declared: the restore of a single file proves nothing.
    let red = cargo_test(Some(
        "expected_na={upgrade: one release, functional: no tests}",
    ));
    assert!(!red.status.success(), "{}", said(&red));

    let runs = place.history(&["verdict-fixture"]);
    assert_eq!(
        runs.len(),
        2,
        "both runs came through the journal: {runs:#?}"
    );
    let (red_id, green_id) = (
        runs[0]["run_id"].as_str().unwrap(),
        runs[1]["run_id"].as_str().unwrap(),
    );
    assert_eq!(
        (runs[0]["verdict"].as_str(), runs[1]["verdict"].as_str()),
        (Some("red"), Some("green"))
    );

    let out = place.ccci(&["compare", green_id, red_id]);
    assert!(out.status.success(), "{}", said(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let broken = text
        .lines()
        .find(|l| l.trim_start().starts_with("≠ backup_restore "))
        .unwrap_or_else(|| panic!("the rung that broke is marked: {text}"));
    assert!(broken.contains("unverified"), "{text}");
    assert!(
        text.contains("same ccci and recipe commit under other settings"),
        "{text}"
    );
    assert!(text.contains("only B: setting expected_na"), "{text}");

    let (mut dashboard, base) = place.dashboard();
    let (status, ab) = get(&format!("{base}/compare?a={green_id}&b={red_id}"));
    assert_eq!(status, 200, "{ab}");
    let row = ab
        .split("<tr")
        .find(|r| r.contains("<code>backup_restore</code>"))
        .unwrap_or_else(|| panic!("{ab}"));
    assert!(
        row.starts_with(" class=\"changed\"") && row.contains("unverified"),
        "{row}"
    );
    let (_, red_page) = get(&format!("{base}/runs/{red_id}"));
    assert!(
        red_page.contains("was green:"),
        "the red run links its green predecessor: {red_page}"
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("memory-shots");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, path) in [
        ("catalogue", "/".to_string()),
        ("run-red", format!("/runs/{red_id}")),
        ("ab", format!("/compare?a={green_id}&b={red_id}")),
    ] {
        let out = shots.join(format!("{name}.png"));
        ccci::screenshot::capture(&format!("{base}{path}"), &out, (1280, 900), None).unwrap();
    }
    dashboard.kill().unwrap();
    dashboard.wait().unwrap();
}
