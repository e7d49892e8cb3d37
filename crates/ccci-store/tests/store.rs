//! The run store on both of its databases, SQLite and a real PostgreSQL: every test runs on
//! each. Runs are recorded as a run records them (its journal entry and results.json on disk)
//! and read back as the commands and the dashboard read them.

mod common;

use ccci_core::journal::Entry;
use ccci_core::ladder::Rung;
use ccci_core::results::Lane;
use ccci_store::{HistoryQuery, Location, State, Store, StoreError};
use ccci_testkit::sample_results;
use std::path::Path;

/// A journal entry for a run whose directory is `run_dir`.
fn entry(run_id: &str, recipe: &str, run_dir: &Path, ended: bool) -> Entry {
    Entry {
        run_id: run_id.into(),
        recipe: recipe.into(),
        reference: Some("1.1.0+1.22.1".into()),
        run_dir: run_dir.display().to_string(),
        pid: 4_000_000,
        pid_start: Some(1),
        host: Some("ci-1".into()),
        started: 1_795_305_600,
        ended: ended.then_some(1_795_305_640),
        lane: Lane::Cold,
    }
}

fn write_entry(journal: &Path, e: &Entry) {
    std::fs::create_dir_all(journal).unwrap();
    std::fs::write(
        journal.join(Entry::file_name(&e.run_id)),
        serde_json::to_vec(e).unwrap(),
    )
    .unwrap();
}

#[test]
fn a_finished_run_reads_back_with_its_rungs_steps_and_results() {
    for t in common::both() {
        let store = t.open();
        let r = sample_results("r1", "custom-html", "1.1.0+1.22.1", 1_795_305_600, false);
        store.record_finished(&r).unwrap();
        // Recording it again replaces it: one run, not two.
        store.record_finished(&r).unwrap();
        let runs = store.history(&HistoryQuery::default()).unwrap();
        assert_eq!(runs.len(), 1, "{}", t.kind);
        let row = &runs[0];
        assert_eq!(
            (row.state, row.level, row.green),
            (State::Finished, Some(3), Some(false))
        );
        assert_eq!(row.rungs[&Rung::Functional], "fail", "{}", t.kind);
        assert_eq!(row.rungs[&Rung::Install], "pass");
        assert_eq!(
            row.results_schema.as_deref(),
            Some(ccci_core::results::SCHEMA)
        );
        assert_eq!(
            row.ccci_commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(row.started_at, 1_795_305_600);
        assert_eq!(row.duration_secs, Some(40.0));
        assert_eq!(
            row.reason.as_deref(),
            Some("functional failed: functional::front_page: GET / answered 500")
        );
        let stored = store.run("r1").unwrap().expect("the run");
        assert_eq!(
            stored.results.as_ref(),
            Some(&r),
            "{}: results.json as recorded",
            t.kind
        );
    }
}

#[test]
fn the_journal_makes_runs_finished_running_or_lost_and_keeps_what_still_runs() {
    for t in common::both() {
        let store = t.open();
        let tmp = tempfile::tempdir().unwrap();
        let journal = tmp.path().join("journal");
        // Finished: ended, its results.json written.
        let done = tmp.path().join("runs/custom-html-done");
        std::fs::create_dir_all(&done).unwrap();
        let r = sample_results("done", "custom-html", "1.1.0+1.22.1", 1_795_305_600, true);
        std::fs::write(done.join("results.json"), serde_json::to_vec(&r).unwrap()).unwrap();
        write_entry(&journal, &entry("done", "custom-html", &done, true));
        // Running: its process lives.
        write_entry(
            &journal,
            &entry("live", "custom-html", &tmp.path().join("runs/live"), false),
        );
        // Killed: its process is gone, no results.
        write_entry(
            &journal,
            &entry("killed", "notebook", &tmp.path().join("runs/killed"), false),
        );
        // Not an entry at all: named, and left for a person to look at.
        std::fs::write(journal.join("garbage.json"), b"{").unwrap();
        // Ended, its results written by a newer ccci: not this store's to judge.
        let newer = tmp.path().join("runs/custom-html-newer");
        std::fs::create_dir_all(&newer).unwrap();
        let mut v = serde_json::to_value(sample_results(
            "newer",
            "custom-html",
            "1.1.0+1.22.1",
            1_795_305_600,
            true,
        ))
        .unwrap();
        v["schema"] = "ccci.results/99".into();
        std::fs::write(newer.join("results.json"), v.to_string()).unwrap();
        write_entry(&journal, &entry("newer", "custom-html", &newer, true));

        let alive = |e: &Entry| e.run_id == "live";
        let taken = store.take_in(&journal, &alive).unwrap();
        assert_eq!(taken.finished, ["done"], "{}", t.kind);
        assert_eq!(taken.running, ["live"]);
        assert_eq!(taken.lost, ["killed"]);
        assert_eq!(taken.unreadable.len(), 1, "{:?}", taken.unreadable);
        assert_eq!(
            taken.newer,
            [("newer".to_string(), "ccci.results/99".to_string())]
        );
        assert!(
            store.run("newer").unwrap().is_none(),
            "a newer ccci's run is not recorded lost"
        );
        let left: Vec<String> = std::fs::read_dir(&journal)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left.len(),
            3,
            "the live run's entry, the newer ccci's and the garbage stay: {left:?}"
        );

        let killed = store.run("killed").unwrap().unwrap().row;
        assert_eq!(killed.state, State::Lost);
        assert!(killed.reason.unwrap().contains("it was killed"));
        let live = store.run("live").unwrap().unwrap();
        assert_eq!(
            (live.row.state, live.results.is_none()),
            (State::Running, true)
        );

        // The live run ends: the next take-in records it finished, over its running row.
        let live_dir = tmp.path().join("runs/live");
        std::fs::create_dir_all(&live_dir).unwrap();
        let r = sample_results("live", "custom-html", "1.1.0+1.22.1", 1_795_305_600, true);
        std::fs::write(
            live_dir.join("results.json"),
            serde_json::to_vec(&r).unwrap(),
        )
        .unwrap();
        write_entry(&journal, &entry("live", "custom-html", &live_dir, true));
        let taken = store.take_in(&journal, &alive).unwrap();
        assert_eq!(taken.finished, ["live"]);
        assert_eq!(
            store.run("live").unwrap().unwrap().row.state,
            State::Finished
        );
    }
}

#[test]
fn every_schema_ccci_wrote_imports_with_its_version_and_anything_else_is_named() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ccci-core/tests/fixtures");
    for t in common::both() {
        let store = t.open();
        let tmp = tempfile::tempdir().unwrap();
        for n in 1..=4 {
            let dir = tmp.path().join(format!("runs/old-{n}"));
            std::fs::create_dir_all(&dir).unwrap();
            let text = std::fs::read_to_string(fixtures.join(format!("results-{n}.json"))).unwrap();
            // Each fixture is the same run as each schema wrote it: give each its own id.
            let text = text.replace("custom-html-20261122-160000-1a2b3c", &format!("old-{n}"));
            std::fs::write(dir.join("results.json"), text).unwrap();
        }
        let newer = tmp.path().join("runs/newer");
        std::fs::create_dir_all(&newer).unwrap();
        std::fs::write(
            newer.join("results.json"),
            r#"{"schema": "ccci.results/99"}"#,
        )
        .unwrap();
        let other = tmp.path().join("runs/other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("results.json"), r#"{"tests": []}"#).unwrap();

        let imported = store.import(&tmp.path().join("runs")).unwrap();
        let mut schemas: Vec<String> = imported.recorded.iter().map(|(_, s)| s.clone()).collect();
        schemas.sort();
        assert_eq!(
            schemas,
            [
                "ccci.results/1",
                "ccci.results/2",
                "ccci.results/3",
                "ccci.results/4"
            ],
            "{}",
            t.kind
        );
        assert_eq!(imported.skipped.len(), 2, "{:?}", imported.skipped);
        assert!(imported
            .skipped
            .iter()
            .any(|s| s.contains("ccci.results/99 is not one this ccci reads")));
        assert!(imported
            .skipped
            .iter()
            .any(|s| s.contains("not a ccci results.json")));
        let old = store.run("old-1").unwrap().unwrap();
        assert_eq!(old.row.results_schema.as_deref(), Some("ccci.results/1"));
        assert_eq!(
            old.results.unwrap().schema,
            "ccci.results/1",
            "kept as written"
        );
    }
}

#[test]
fn the_catalogue_gives_each_recipe_its_latest_whole_cold_run() {
    for t in common::both() {
        let store = t.open();
        let base = 1_795_305_600;
        for (i, green) in [true, false, true].into_iter().enumerate() {
            let r = sample_results(
                &format!("c{i}"),
                "custom-html",
                "HEAD",
                base + i as u64 * 100,
                green,
            );
            store.record_finished(&r).unwrap();
        }
        store
            .record_finished(&sample_results("n0", "notebook", "HEAD", base, false))
            .unwrap();
        // A later run cut short by a test filter does not stand for the recipe's level.
        let mut partial =
            serde_json::to_value(sample_results("n1", "notebook", "HEAD", base + 500, true))
                .unwrap();
        partial["tests"][4]["status"] = "filtered".into();
        store.record_results_json(&partial.to_string()).unwrap();
        let catalogue = store.catalogue().unwrap();
        let names: Vec<&str> = catalogue.iter().map(|c| c.recipe.as_str()).collect();
        assert_eq!(names, ["custom-html", "notebook"], "{}", t.kind);
        let html = &catalogue[0];
        assert_eq!(html.latest.as_ref().unwrap().run_id, "c2");
        assert_eq!(
            html.levels,
            [(4, true), (3, false), (4, true)],
            "oldest first"
        );
        assert_eq!((html.runs, html.running), (3, 0));
        let notebook = &catalogue[1];
        assert_eq!(notebook.latest.as_ref().unwrap().run_id, "n0", "{}", t.kind);
        assert_eq!(notebook.runs, 2);
        // The previous finished run of the same ref, for the A/B link.
        let c2 = store.run("c2").unwrap().unwrap().row;
        assert_eq!(store.previous(&c2).unwrap().unwrap().run_id, "c1");
        assert_eq!(store.resolve("c2").unwrap(), "c2");
        assert!(matches!(store.resolve("zz"), Err(StoreError::NoRun(_))));
    }
}

#[test]
fn a_store_written_by_a_newer_ccci_is_refused_naming_both_versions() {
    for t in common::both() {
        let store = t.open();
        let knows = store.schema_version().unwrap();
        assert!(knows >= 1);
        drop(store);
        // What a newer ccci would have left: a migration this one does not have.
        match &t.location {
            Location::Sqlite(path) => add_a_future_migration(path),
            Location::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.execute(
                    "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', 'now', '0')",
                    &[],
                )
                .unwrap();
            }
        }
        let e = Store::open(&t.location).err().expect("refused").to_string();
        assert!(
            e.contains(
                "was written by a newer ccci (its schema is at version 99, this ccci knows up to"
            ),
            "{}: {e}",
            t.kind
        );
    }
}

/// Adds a migration from the future to a SQLite store, with the sqlite3 CLI as a newer ccci
/// would leave it (the store's own connection type is private to it).
fn add_a_future_migration(path: &Path) {
    let out = std::process::Command::new("sqlite3")
        .arg(path)
        .arg("INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', 'now', '0');")
        .output()
        .expect("the sqlite3 CLI (Debian's sqlite3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unreachable_store_is_said_with_where_it_is() {
    let e = Store::open(&"postgres://ccci:hunter2@127.0.0.1:1/runs".parse().unwrap())
        .err()
        .expect("nothing listens on port 1")
        .to_string();
    assert!(
        e.starts_with("the run store postgres://ccci:***@127.0.0.1:1/runs cannot be opened"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "no password in an error: {e}");
    let file = tempfile::NamedTempFile::new().unwrap();
    let under_a_file = Location::Sqlite(file.path().join("runs.db"));
    let e = Store::open(&under_a_file)
        .err()
        .expect("a file is no directory")
        .to_string();
    assert!(e.contains("cannot be opened"), "{e}");
}

#[test]
fn processes_opening_a_new_store_at_once_all_get_it() {
    for t in common::both() {
        let location = t.location.clone();
        let opened: Vec<_> = (0..6)
            .map(|_| {
                let l = location.clone();
                std::thread::spawn(move || Store::open(&l).map(|_| ()))
            })
            .collect();
        for h in opened {
            h.join()
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: {e}", t.kind));
        }
    }
}

/// A PostgreSQL store outlives its connection: the server closing it (a restart, a network
/// cut) costs the next statement a new connection, not an error.
#[test]
fn a_postgres_store_connects_again_when_its_connection_is_closed() {
    let t = common::postgres();
    let store = t.open();
    store
        .record_finished(&sample_results(
            "p1",
            "custom-html",
            "HEAD",
            1_795_305_600,
            true,
        ))
        .unwrap();
    let Location::Postgres(url) = &t.location else {
        unreachable!()
    };
    let db = url.rsplit('/').next().unwrap();
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let killed = admin
        .execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", &[&db])
        .unwrap();
    assert!(killed >= 1, "the store's connection was closed");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let runs = store.history(&HistoryQuery::default()).unwrap();
    assert_eq!(runs.len(), 1, "read again after connecting again");
}
