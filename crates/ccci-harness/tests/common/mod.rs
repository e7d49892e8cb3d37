//! What the harness's Swarm tests share.

pub mod oidc;

use ccci::core::{Results, Rung, RungOutcome};
use std::path::{Path, PathBuf};

/// Where a test binary's runs go: `<target tmp>/<name>`.
pub fn runs_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Settings for a fixture recipe of these tests: published on a host port, untrusted. The fixtures are
/// minimal stacks with a web port but no Traefik router, which a Traefik would not route:
/// routing is proven by the recipe crates and `crates/cargo-ccci`'s tests, verdicts here.
// Each test binary compiles this module; not every one runs fixtures.
#[allow(dead_code)]
pub fn settings(crate_dir: &Path, runs: &Path) -> ccci::Settings {
    let mut s = ccci::Settings::new(crate_dir, runs);
    s.routing = Some(ccci::Routing::HostPort);
    // As `cargo ccci serve` runs a pull request: every fixture keeps to its own stack.
    s.untrusted = Some(Vec::new());
    s
}

/// Every run must leave nothing on the Swarm, whatever its verdict.
pub fn assert_clean(res: &Results) {
    assert!(
        res.teardown.clean,
        "teardown left {:?}",
        res.teardown.leftovers
    );
}

/// `rung` passed; otherwise the run's tests are shown.
#[allow(dead_code)]
pub fn assert_passed(res: &Results, rung: Rung) {
    assert_eq!(
        res.rungs[&rung],
        RungOutcome::Pass,
        "{rung}: {:#?}",
        res.tests
    );
}
