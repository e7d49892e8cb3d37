//! What the `cargo ccci` tests share: the real recipe bundles and a run started in the
//! background that is caught in the middle of its install.

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

/// A real recipe repository: its bundle in `CCCI_RECIPES`, else its upstream (ccci-testkit).
pub fn bundle(name: &str) -> PathBuf {
    PathBuf::from(ccci_testkit::recipe_repository(name))
}

/// `cargo ccci run --recipe-git lemp` with a health path nginx answers 404 for, so the
/// install waits on a deployed app (30 s before it calls the answer steady); returns once
/// the run said it is deploying, with the rest of its stderr.
#[allow(dead_code)] // each test binary compiles this module; not every one starts a run
pub fn run_caught_deploying(env: &[(&str, &Path)]) -> (Child, Lines<BufReader<ChildStderr>>) {
    run_caught(
        "lemp",
        &["health_path=/ccci-never-there"],
        "install: deploying",
        env,
    )
}

/// `cargo ccci run --recipe-git <recipe>` with `sets`, returned once its stderr said `when`
/// (the run is then in the middle of that), with the rest of its stderr.
#[allow(dead_code)] // each test binary compiles this module; not every one starts a run
pub fn run_caught(
    recipe: &str,
    sets: &[&str],
    when: &str,
    env: &[(&str, &Path)],
) -> (Child, Lines<BufReader<ChildStderr>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
    cmd.args(["ccci", "run", "--recipe-git"])
        .arg(bundle(recipe))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for set in sets {
        cmd.args(["--set", set]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let said = read_until(&mut lines, |l| l.contains(when));
    if said.last().is_some_and(|l| l.contains(when)) {
        return (child, lines);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the run never said `{when}`:\n{}", said.join("\n"));
}

/// The lines of `lines` up to and including the first that `until` accepts (all of them when
/// none does).
#[allow(dead_code)] // each test binary compiles this module; not every one reads a child's lines
pub fn read_until<R: BufRead>(lines: &mut Lines<R>, until: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let reached = until(&line);
        seen.push(line);
        if reached {
            break;
        }
    }
    seen
}

#[allow(unused_imports)] // each test binary compiles this module
pub use ccci_testkit::objects_of;

/// The results of the one run under `runs` (a `CCCI_RUNS_DIR`); `said` is shown if there is
/// none.
#[allow(dead_code)] // each test binary compiles this module; not every one reads results
pub fn only_results(runs: &Path, said: &str) -> ccci::core::Results {
    let dir = std::fs::read_dir(runs)
        .unwrap_or_else(|e| panic!("{}: {e}\n{said}", runs.display()))
        .flatten()
        .next()
        .unwrap_or_else(|| panic!("no run under {}\n{said}", runs.display()))
        .path();
    let text = std::fs::read_to_string(dir.join("results.json"))
        .unwrap_or_else(|e| panic!("{}/results.json: {e}\n{said}", dir.display()));
    serde_json::from_str(&text).unwrap()
}

/// The failure message of the install step in `results`, or a panic saying how it ended.
#[allow(dead_code)]
pub fn install_failure(results: &ccci::core::Results) -> String {
    let install = results
        .tests
        .iter()
        .find(|t| t.name.starts_with("install::"))
        .expect("the install step");
    match &install.status {
        ccci::core::ladder::TestStatus::Fail { message } => message.clone(),
        other => panic!("install did not fail: {other:?}"),
    }
}

/// What a command said, for a failed assertion: its status, stdout and stderr.
#[allow(dead_code)] // each test binary compiles this module; not every one uses it
pub fn said(out: &std::process::Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The run registry at `registry` holds no run: every run it held was reaped and forgotten.
#[allow(dead_code)] // each test binary compiles this module; not every one reaps
pub fn assert_forgotten(registry: &Path) {
    let left = ccci::registry::Registry::at(registry).unwrap().runs();
    assert!(left.is_empty(), "a reaped run is forgotten: {left:#?}");
}

/// `cmd` (cargo-ccci, its environment set) serving the dashboard on a free port: the child and
/// the address it serves at.
#[allow(dead_code)] // each test binary compiles this module; not every one serves the dashboard
pub fn dashboard(mut cmd: Command) -> (Child, String) {
    cmd.args(["ccci", "dashboard", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("the dashboard says where it serves: {line}"))
        .trim_end_matches('/')
        .to_string();
    (child, url)
}

/// GET `url`: its status and body.
#[allow(dead_code)] // each test binary compiles this module; not every one fetches pages
pub fn get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            String::from_utf8_lossy(&r.bytes().await.unwrap()).into_owned(),
        )
    })
}
