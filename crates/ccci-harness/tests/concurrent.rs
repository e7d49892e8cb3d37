//! Runs that cannot collide: four runs of the same recipe at once, each under its own
//! domain and stack, all green through Traefik (L3: the generic tiers, with the functional
//! rung declared elsewhere), and none leaves anything behind. A
//! binary of its own, so nothing else shares the Swarm's attention with them.

mod common;

use ccci::core::{Level, Verdict};
use ccci::{run_recipe, Hooks, Settings};
use std::path::Path;

#[test]
fn four_runs_of_one_recipe_at_once_are_all_green_and_leave_nothing() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/custom-html");
    let runs = common::runs_dir("concurrent-runs");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (crate_dir, runs) = (crate_dir.clone(), runs.clone());
            std::thread::spawn(move || {
                let meta = ccci::load_meta(&crate_dir).unwrap();
                // Generic tiers only: the recipe's own functions are linked into its own
                // test binary, not this one.
                let mut meta = meta;
                meta.expected_na.insert(
                    ccci::core::Rung::Functional,
                    "the functional tests run in recipes/custom-html".into(),
                );
                run_recipe(Settings::new(&crate_dir, &runs), meta, Hooks::none()).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut stacks: Vec<&str> = reports.iter().map(|r| r.results.stack.as_str()).collect();
    stacks.sort();
    stacks.dedup();
    assert_eq!(
        stacks.len(),
        4,
        "each run has a stack of its own: {stacks:?}"
    );
    for r in &reports {
        let res = &r.results;
        assert_eq!(
            (res.level, res.verdict),
            (Level(3), Verdict::Green),
            "{}: {:?}\n{:#?}",
            res.stack,
            res.verdict_reasons,
            res.tests
        );
        common::assert_clean(res);
    }
}
