//! The warm fleet in the run store, on both of its databases: the version a canonical is
//! made at, the canonicals each host keeps, and sweeps with their drift.

mod common;

use ccci_core::canonical::Canonical;
use ccci_core::results::Lane;
use ccci_store::{Drift, SweepEntry, SweepRecord};
use ccci_testkit::sample_results;

fn canonical(recipe: &str) -> Canonical {
    Canonical {
        recipe: recipe.into(),
        version: "1.1.0+1.22.1".into(),
        tag: "1.1.0+1.22.1".into(),
        commit: "c".repeat(40),
        domain: format!("canonical-{recipe}.ccci.test"),
        stack: format!("canonical-{recipe}_ccci_test"),
        docker_host: "unix:///var/run/docker.sock".into(),
        since: 1_795_305_700,
        proven_by: Some("g1".into()),
        markers: Vec::new(),
        seeded: Default::default(),
        checks: vec!["marker_is_back".into()],
        snapshot: Some("/snap".into()),
        env: String::new(),
        web: true,
    }
}

#[test]
fn the_known_good_version_is_the_latest_green_cold_run_of_a_release() {
    for t in common::both() {
        let store = t.open();
        assert_eq!(store.known_good("custom-html").unwrap(), None, "{}", t.kind);
        store
            .record_finished(&sample_results(
                "r1",
                "custom-html",
                "1.1.0+1.22.1",
                1_795_305_600,
                false,
            ))
            .unwrap();
        assert_eq!(
            store.known_good("custom-html").unwrap(),
            None,
            "a red run is no known-good"
        );
        let green = sample_results("g1", "custom-html", "1.1.0+1.22.1", 1_795_305_700, true);
        store.record_finished(&green).unwrap();
        let mut quick = sample_results("q1", "custom-html", "HEAD", 1_795_305_800, true);
        quick.facts.lane = Lane::Quick;
        store.record_finished(&quick).unwrap();
        let k = store
            .known_good("custom-html")
            .unwrap()
            .expect("known-good");
        assert_eq!(
            k.run_id, "g1",
            "a quick run never stands for it ({})",
            t.kind
        );
        assert_eq!(
            (k.commit, k.version),
            (green.head.commit.clone(), "1.1.0+1.22.1".into())
        );
    }
}

#[test]
fn a_host_s_canonicals_replace_what_the_store_had_for_it_alone() {
    for t in common::both() {
        let store = t.open();
        store
            .set_canonicals("ci-1", &[canonical("custom-html"), canonical("notebook")])
            .unwrap();
        store
            .set_canonicals("ci-2", &[canonical("notebook")])
            .unwrap();
        assert_eq!(store.canonicals().unwrap().len(), 3, "{}", t.kind);
        store
            .set_canonicals("ci-1", &[canonical("notebook")])
            .unwrap();
        let rows: Vec<(String, String)> = store
            .canonicals()
            .unwrap()
            .into_iter()
            .map(|c| (c.recipe, c.host))
            .collect();
        assert_eq!(
            rows,
            [
                ("notebook".into(), "ci-1".into()),
                ("notebook".into(), "ci-2".into())
            ],
            "{}",
            t.kind
        );
        let row = &store.canonicals().unwrap()[0];
        assert_eq!(row.proof, "check marker_is_back");
        assert_eq!(row.proven_by.as_deref(), Some("g1"));
    }
}

#[test]
fn a_sweep_sets_each_recipe_against_the_sweep_before() {
    for t in common::both() {
        let store = t.open();
        for (id, recipe, at, green) in [
            ("a1", "custom-html", 1_795_305_600, true),
            ("b1", "notebook", 1_795_305_700, true),
            ("a2", "custom-html", 1_795_395_600, true),
            ("b2", "notebook", 1_795_395_700, false),
        ] {
            store
                .record_finished(&sample_results(id, recipe, "1.1.0+1", at, green))
                .unwrap();
        }
        let entry = |recipe: &str, run: Option<&str>| SweepEntry {
            recipe: recipe.into(),
            run_id: run.map(str::to_string),
            note: None,
        };
        let sweep = |id: &str, started_at, deps: Option<&str>, entries| SweepRecord {
            sweep_id: id.into(),
            host: "ci-1".into(),
            started_at,
            finished_at: started_at + 300,
            deps: deps.map(str::to_string),
            entries,
        };
        let first = store
            .record_sweep(&sweep(
                "s1",
                1_795_305_500,
                None,
                vec![
                    entry("custom-html", Some("a1")),
                    entry("notebook", Some("b1")),
                ],
            ))
            .unwrap();
        assert!(
            first.lines.iter().all(|l| l.drift == Drift::New),
            "{first:#?}"
        );
        let second = store
            .record_sweep(&sweep(
                "s2",
                1_795_395_500,
                Some("OIDC provider at its newest release"),
                vec![
                    entry("custom-html", Some("a2")),
                    entry("notebook", Some("b2")),
                    entry("mumble", None),
                ],
            ))
            .unwrap();
        let drift: Vec<(&str, Drift, Option<&str>)> = second
            .lines
            .iter()
            .map(|l| (l.recipe.as_str(), l.drift, l.previous_run_id.as_deref()))
            .collect();
        assert_eq!(
            drift,
            [
                ("custom-html", Drift::None, Some("a1")),
                ("mumble", Drift::New, None),
                ("notebook", Drift::Regression, Some("b1")),
            ],
            "{}",
            t.kind
        );
        let notebook = second.drifted().next().unwrap();
        assert_eq!(
            (notebook.previous_level, notebook.level),
            (Some(4), Some(3))
        );
        let sweeps = store.sweeps(10).unwrap();
        let ids: Vec<&str> = sweeps.iter().map(|s| s.sweep_id.as_str()).collect();
        assert_eq!(ids, ["s2", "s1"], "newest first ({})", t.kind);
        assert_eq!(
            sweeps[0].deps.as_deref(),
            Some("OIDC provider at its newest release")
        );
    }
}
