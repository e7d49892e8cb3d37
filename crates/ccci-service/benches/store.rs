//! The run store's goals, measured (a benchmark, not a timed test):
//! - every dashboard page under 50 ms at p95 with 10 000 runs in the store (SQLite);
//! - recording a run adds under 20 ms to it: the run's two journal notes, and the
//!   `ccci-service take-in RUN` that `cargo ccci run` runs after it (a process, the store
//!   opened, the journal taken in, the run looked up).
//!
//! `cargo bench -p ccci-service --bench store [-- RUNS]` (default 10 000 runs: 100 recipes of
//! 100 runs each, half green). Prints each measure's p50 and p95 and whether it meets its goal.

use ccci_core::journal::Entry;
use ccci_store::{Location, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGE_GOAL: Duration = Duration::from_millis(50);
const RECORD_GOAL: Duration = Duration::from_millis(20);
const SAMPLES: usize = 60;

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(tmp.path().join("runs.db"));
    let store = Store::open(&location).unwrap();
    let filled = Instant::now();
    let base = 1_790_000_000;
    let recipes = 100.max(runs / 100);
    for i in 0..runs {
        let recipe = format!("recipe-{:03}", i % recipes);
        let id = format!("{:08}-{:06x}", i, i * 7919 % 0xffffff);
        let r =
            ccci_testkit::sample_results(&id, &recipe, "HEAD", base + i as u64 * 60, i % 3 != 0);
        store.record_finished(&r).unwrap();
    }
    println!(
        "store: {runs} runs of {recipes} recipes recorded in {:.1} s",
        filled.elapsed().as_secs_f64()
    );

    let ok_pages = pages(Store::open(&location).unwrap(), runs, recipes);
    let ok_record = recording(&location, tmp.path());
    println!(
        "goals: pages p95 < {} ms: {}; recording < {} ms: {}",
        PAGE_GOAL.as_millis(),
        if ok_pages { "met" } else { "NOT MET" },
        RECORD_GOAL.as_millis(),
        if ok_record { "met" } else { "NOT MET" }
    );
}

/// Each page, fetched over HTTP from the dashboard served on 127.0.0.1.
fn pages(store: Store, runs: usize, recipes: usize) -> bool {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(ccci_web::serve(
        listener,
        ccci_web::Dashboard::new(Arc::new(store)),
        std::future::pending(),
    ));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let last = runs - 1;
    let id = |i: usize| format!("{:08}-{:06x}", i, i * 7919 % 0xffffff);
    let (a, b) = (id(last - recipes), id(last));
    let paths = [
        ("catalogue", "/".to_string()),
        (
            "recipe history",
            format!("/recipes/recipe-{:03}", last % recipes),
        ),
        ("run", format!("/runs/{}", id(last))),
        ("card", format!("/runs/{}/card.svg", id(last))),
        ("A/B", format!("/compare?a={a}&b={b}")),
    ];
    let mut all_met = true;
    for (name, path) in paths {
        let url = format!("http://{addr}{path}");
        let times: Vec<Duration> = (0..SAMPLES)
            .map(|_| {
                let t = Instant::now();
                let status = rt.block_on(async { client.get(&url).send().await.unwrap().status() });
                assert!(status.is_success(), "{url}: {status}");
                t.elapsed()
            })
            .collect();
        all_met &= report(name, times, PAGE_GOAL);
    }
    all_met
}

/// What recording adds to a run: its two journal notes, and `ccci-service take-in RUN`.
fn recording(location: &Location, dir: &Path) -> bool {
    let journal = dir.join("journal");
    std::fs::create_dir_all(&journal).unwrap();
    let db = match location {
        Location::Sqlite(p) => p.display().to_string(),
        Location::Postgres(u) => u.clone(),
    };
    let times: Vec<Duration> = (0..20)
        .map(|i| {
            let run_dir = dir.join(format!("runs/r{i}"));
            std::fs::create_dir_all(&run_dir).unwrap();
            let id = format!("bench-{i}");
            let results =
                ccci_testkit::sample_results(&id, "recipe-000", "HEAD", 1_800_000_000 + i, true);
            std::fs::write(
                run_dir.join("results.json"),
                serde_json::to_vec(&results).unwrap(),
            )
            .unwrap();
            let mut entry = Entry {
                run_id: id.clone(),
                recipe: "recipe-000".into(),
                reference: None,
                run_dir: run_dir.display().to_string(),
                pid: std::process::id(),
                pid_start: None,
                host: None,
                started: 1_800_000_000,
                ended: None,
                lane: Default::default(),
            };
            let t = Instant::now();
            note(&journal, &entry);
            entry.ended = Some(1_800_000_040);
            note(&journal, &entry);
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccci-service"))
                .args(["take-in", &id, "--database", &db, "--journal"])
                .arg(&journal)
                .output()
                .unwrap();
            let took = t.elapsed();
            assert!(
                String::from_utf8_lossy(&out.stdout).starts_with("in the run store"),
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            took
        })
        .collect();
    report("recording a run", times, RECORD_GOAL)
}

/// A journal note as a run writes it: the entry, written whole, then renamed into place.
fn note(journal: &Path, entry: &Entry) {
    let path = journal.join(Entry::file_name(&entry.run_id));
    let partial = path.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(entry).unwrap()).unwrap();
    std::fs::rename(partial, path).unwrap();
}

fn report(name: &str, mut times: Vec<Duration>, goal: Duration) -> bool {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let (p50, p95) = (at(0.5), at(0.95));
    let met = p95 < goal;
    println!(
        "{name:>16}: p50 {:6.1} ms, p95 {:6.1} ms over {} ({})",
        p50.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0,
        times.len(),
        if met {
            "within the goal"
        } else {
            "over the goal"
        }
    );
    met
}
