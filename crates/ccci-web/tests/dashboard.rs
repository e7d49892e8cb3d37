//! The dashboard as a browser sees it: a real store of three runs of two recipes (with run
//! directories holding reports, evidence and a secret in the places a run keeps secrets),
//! served on a real port, crawled link by link, and drawn by headless Chromium.

mod common;

use ccci_store::{Location, Store};
use ccci_testkit::sample_results;
use std::path::Path;

/// A value the run directories hold where secrets live (the app's env, a stack file's
/// environment, op_state.json, a snapshot): no page or file served may show it.
const SECRET: &str = "s3cr3t-7f1c9e2ad4b84a06b5e3c9d2f0a17b6e";

/// Writes a run's directory as a run leaves it, and records its results.json as the journal
/// would.
fn run_dir(store: &Store, root: &Path, id: &str, recipe: &str, started: u64, green: bool) {
    let dir = root.join(format!("{recipe}-{id}"));
    let mut r =
        serde_json::to_value(sample_results(id, recipe, "1.1.0+1.22.1", started, green)).unwrap();
    r["run_dir"] = dir.display().to_string().into();
    if !green {
        r["tests"][4]["forensics"] = dir
            .join("forensics/05-functional__front_page.txt")
            .display()
            .to_string()
            .into();
    }
    let results: ccci_core::Results = serde_json::from_value(r).unwrap();
    for sub in ["forensics", "stacks", "abra/servers/local", "snapshots/1"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let files: [(&str, String); 8] = [
        ("results.json", serde_json::to_string_pretty(&results).unwrap()),
        ("junit.xml", ccci_report::junit(&results).unwrap()),
        ("comment.md", ccci_report::markdown(&results, None)),
        ("card.svg", ccci_report::card_svg(&results)),
        ("forensics/05-functional__front_page.txt", "== app (desired 1)\n   task abc slot 1 running\n".into()),
        ("stacks/01-cust_ccci_test.yml", format!("services:\n  app:\n    environment:\n      DB_PASSWORD: {SECRET}\n      DOMAIN: cust.ccci.test\n")),
        ("abra/servers/local/cust.ccci.test.env", format!("SECRET_KEY={SECRET}\n")),
        ("op_state.json", format!("{{\"token\": \"{SECRET}\"}}")),
    ];
    for (rel, text) in files {
        std::fs::write(dir.join(rel), text).unwrap();
    }
    std::fs::write(dir.join("snapshots/1/app.tar"), SECRET).unwrap();
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    store.record_results_json(&text).unwrap();
}

#[test]
fn every_page_and_file_answers_shows_no_secret_and_the_broken_rung_stands_out() {
    let tmp = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(tmp.path().join("runs.db"));
    let store = Store::open(&location).unwrap();
    let runs = tmp.path().join("runs");
    run_dir(&store, &runs, "green-1", "custom-html", 1_795_305_600, true);
    run_dir(&store, &runs, "red-2", "custom-html", 1_795_306_600, false);
    // A run of another host: its directory is not here, its results are.
    let elsewhere = sample_results("nb-1", "notebook", "2.0.0+16", 1_795_305_000, false);
    store.record_finished(&elsewhere).unwrap();
    // A job of the forge's CI, for the queue and its page, with what its pull request was
    // told: a status the forge took, and a verdict it has not taken yet.
    let enqueued = store
        .enqueue(
            &ccci_store::NewJob {
                repo: "coop-cloud/custom-html".into(),
                pr: 7,
                head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
                clone_url: "https://git.example/coop-cloud/custom-html.git".into(),
                recipe: "custom-html".into(),
                test_crate: None,
                lane: ccci_core::results::Lane::Cold,
                requested_by: "alice".into(),
                trigger_comment: Some(42),
                keep: None,
            },
            1_795_306_700,
            1_795_306_700,
        )
        .unwrap();
    let ccci_store::Enqueued::New(job_id) = enqueued else {
        panic!("a new job")
    };
    let pending = store
        .outbox_push(
            Some(&job_id),
            "status",
            "status pending: queued: custom-html at 01234567",
            "{}",
            1_795_306_700,
        )
        .unwrap();
    store
        .outbox_mark(&pending, ccci_store::OutboxState::Sent, 0, None)
        .unwrap();
    let verdict = store
        .outbox_push(
            Some(&job_id),
            "status",
            "status failure: L3 RED: front page",
            "{}",
            1_795_306_800,
        )
        .unwrap();
    store
        .outbox_mark(
            &verdict,
            ccci_store::OutboxState::Pending,
            1_795_306_900,
            Some("the forge answered 503"),
        )
        .unwrap();
    let base = common::serve(Store::open(&location).unwrap());

    let fetched = common::crawl(&base);
    let broken: Vec<String> = fetched
        .iter()
        .filter(|f| f.status != 200)
        .map(|f| format!("{} {}", f.status, f.url))
        .collect();
    assert!(broken.is_empty(), "every link answers: {broken:?}");
    let urls: Vec<&str> = fetched.iter().map(|f| f.url.as_str()).collect();
    for expected in [
        "/recipes/custom-html",
        "/runs/red-2",
        "/runs/red-2/card.svg",
        "/runs/red-2/files/junit.xml",
        "/runs/red-2/files/forensics/05-functional__front_page.txt",
        "/runs/red-2/files/stacks/01-cust_ccci_test.yml",
        "/compare?a=green-1&b=red-2",
        "/runs/nb-1",
        "/queue",
    ] {
        assert!(
            urls.iter().any(|u| u.ends_with(expected)),
            "the crawl reached {expected}: {urls:#?}"
        );
    }
    for f in &fetched {
        let body = String::from_utf8_lossy(&f.body);
        assert!(!body.contains(SECRET), "{} shows the secret", f.url);
        if f.kind.starts_with("text/html") {
            assert!(body.starts_with("<!DOCTYPE html>"), "{}", f.url);
            assert_eq!(
                common::attribute_given_twice(&body),
                None,
                "{} gives an element an attribute twice",
                f.url
            );
            assert!(
                body.contains("<title>") && body.contains("lang=\"en\""),
                "{}",
                f.url
            );
        }
    }
    // The scanner finds what it looks for: the redacted stack file names the key it hid.
    let stack = fetched.iter().find(|f| f.url.ends_with(".yml")).unwrap();
    assert!(String::from_utf8_lossy(&stack.body).contains("DB_PASSWORD: <redacted>"));

    // What a run keeps that is not a report is never served, however it is asked for.
    let get = common::getter();
    for path in [
        "/runs/red-2/files/abra/servers/local/cust.ccci.test.env",
        "/runs/red-2/files/op_state.json",
        "/runs/red-2/files/snapshots/1/app.tar",
        "/runs/red-2/files/forensics/..%2F..%2Fop_state.json",
        "/runs/red-2/files/forensics/../op_state.json",
        "/runs/no-such-run",
    ] {
        let (status, _, body) = get(&format!("{base}{path}"));
        assert_eq!(status, 404, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains(SECRET), "{path}");
    }

    // A red run whose previous run of its ref was green links to the two side by side.
    let red = page(&fetched, "/runs/red-2");
    assert!(
        red.contains(
            "was green: <a href=\"/compare?a=green-1&amp;b=red-2\">compare the two (A/B)</a>"
        ),
        "{red}"
    );
    // A deploy of the unreleased head says what "chaos" means.
    assert!(
        red.contains("(the unreleased head)") && red.contains("abra app deploy --chaos"),
        "{red}"
    );
    let ab = page(&fetched, "/compare?a=green-1&b=red-2");
    let functional_row = ab
        .split("<tr")
        .find(|row| row.contains("<code>functional</code>"))
        .expect("a functional rung row");
    assert!(
        functional_row.starts_with(" class=\"changed\""),
        "the broken rung stands out: {functional_row}"
    );
    assert!(ab.contains("same ccci on another recipe commit"), "{ab}");
    let job = page(&fetched, &format!("/jobs/{job_id}"));
    let told = job
        .split("What the pull request was told")
        .nth(1)
        .expect("the job page says what the pull request was told");
    assert!(
        told.contains("status pending: queued: custom-html at 01234567")
            && told.contains("taken by the forge")
            && told.contains("status failure: L3 RED: front page")
            && told.contains("not taken yet, tried 1 time(s): the forge answered 503"),
        "{told}"
    );
    let catalogue = page(&fetched, "/");
    assert!(
        catalogue.contains("L3 RED") && catalogue.contains("<svg"),
        "{catalogue}"
    );

    // Drawn by a browser, for people to look at.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-shots");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, path) in [
        ("catalogue", "/"),
        ("run-red", "/runs/red-2"),
        ("compare", "/compare?a=green-1&b=red-2"),
    ] {
        let out = shots.join(format!("{name}.png"));
        common::screenshot(&format!("{base}{path}"), &out);
        let size = std::fs::metadata(&out).unwrap().len();
        assert!(
            size > 10_000,
            "{} is a picture ({size} bytes)",
            out.display()
        );
    }
}

/// The body of the crawled page at `path`.
fn page(fetched: &[common::Fetched], path: &str) -> String {
    let f = fetched
        .iter()
        .find(|f| f.url.ends_with(path))
        .unwrap_or_else(|| panic!("{path} was crawled"));
    String::from_utf8_lossy(&f.body).into_owned()
}
