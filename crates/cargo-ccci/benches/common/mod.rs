//! What the benchmarks of whole runs share: `cargo ccci` in the workspace, its state in a
//! scratch place of its own, timed, with the peak memory of the recipe's test binary (the
//! harness) watched while it runs.

#![allow(dead_code)] // each benchmark uses what it needs

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What one `cargo ccci` took.
pub struct Ran {
    /// Its wall time.
    pub took: Duration,
    /// The highest peak resident set (VmHWM, KiB) of a recipe test binary it ran, as last
    /// seen before that process ended (looked at every 100 ms).
    pub peak_rss_kib: u64,
}

/// `cargo ccci <args>` in the workspace, its store, journal and canonicals in `place` and
/// its runs under `runs`; it must exit 0.
pub fn ccci(place: &Path, runs: &Path, args: &[&str]) -> Ran {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .arg("ccci")
        .args(args)
        .current_dir(workspace())
        .env("CCCI_CANONICAL_DIR", place.join("canonical"))
        .env("CCCI_DATABASE", place.join("runs.db"))
        .env("CCCI_JOURNAL_DIR", place.join("journal"))
        .env("CCCI_RUNS_DIR", runs)
        .env("CCCI_SCREENSHOT", "no")
        .env_remove("CCCI_SET")
        .env_remove("CCCI_ROUTING")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo ccci starts");
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let mut peaks = std::collections::BTreeMap::new();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for cargo ccci") {
            break status;
        }
        // The highest seen: a process that has exited and is not yet reaped shows no VmHWM.
        for (pid, hwm) in test_binaries_under(child.id()) {
            let peak = peaks.entry(pid).or_insert(0);
            *peak = (*peak).max(hwm);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = started.elapsed();
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.success(),
        "cargo ccci {args:?}: {status}\n{out}\n{err}"
    );
    Ran {
        took,
        peak_rss_kib: peaks.values().copied().max().unwrap_or(0),
    }
}

fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

/// The recipe test binaries (`recipe-…`) among `root`'s descendants, with their VmHWM.
fn test_binaries_under(root: u32) -> Vec<(u32, u64)> {
    let mut parent_of = std::collections::HashMap::new();
    let mut named = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        if let Some(ppid) = field("PPid:").and_then(|p| p.parse::<u32>().ok()) {
            parent_of.insert(pid, ppid);
        }
        if field("Name:").is_some_and(|n| n.starts_with("recipe")) {
            let hwm = field("VmHWM:")
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0);
            named.push((pid, hwm));
        }
    }
    named
        .into_iter()
        .filter(|(pid, _)| {
            let mut p = *pid;
            for _ in 0..16 {
                match parent_of.get(&p) {
                    Some(&pp) if pp == root => return true,
                    Some(&pp) if pp > 1 => p = pp,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// The results.json of the one run under `runs`.
pub fn results(runs: &Path) -> serde_json::Value {
    let dir = std::fs::read_dir(runs)
        .expect("the runs directory")
        .flatten()
        .find(|e| e.path().join("results.json").is_file())
        .unwrap_or_else(|| panic!("no run with results.json under {}", runs.display()));
    serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap())
        .expect("results.json is JSON")
}

/// Seconds spent per rung of a run (the sum of its steps' times), in the ladder's order.
pub fn per_rung(results: &serde_json::Value) -> Vec<(String, f64)> {
    let mut rungs: Vec<(String, f64)> = Vec::new();
    for t in results["tests"].as_array().into_iter().flatten() {
        let rung = t["rung"].as_str().unwrap_or("?").to_string();
        let secs = t["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0;
        match rungs.iter_mut().find(|(r, _)| *r == rung) {
            Some((_, s)) => *s += secs,
            None => rungs.push((rung, secs)),
        }
    }
    rungs
}

/// Builds the test binaries of `crates` first, so that no timed run compiles.
pub fn build(crates: &[&str]) {
    let mut args = vec!["test", "--quiet"];
    for c in crates {
        args.extend(["-p", c]);
    }
    args.extend(["--test", "recipe", "--no-run"]);
    let built = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args(&args)
        .status()
        .expect("cargo test --no-run");
    assert!(built.success());
}

/// A pull request on `recipe`'s releases, at `place/<recipe>`: the release repository
/// (`ccci_testkit::release_repository`) with one more commit that adds `line` after the
/// compose file's line `after` (a change of the app's environment restarts it, as a real
/// change does). Returns the repository's path.
pub fn pull_request(place: &Path, recipe: &str, after: &str, line: &str) -> String {
    let repo = place.join(recipe);
    ccci_testkit::release_repository(recipe, &repo);
    let compose = repo.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    let changed = text.replacen(&format!("{after}\n"), &format!("{after}\n{line}\n"), 1);
    assert_ne!(text, changed, "the pull request changes the app");
    std::fs::write(&compose, changed).unwrap();
    ccci_testkit::git(
        &repo,
        &[
            "commit",
            "--quiet",
            "-am",
            "a pull request that restarts the app",
        ],
    );
    repo.display().to_string()
}
