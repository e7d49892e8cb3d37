//! What the harness's Swarm tests share.

use ccci::core::Results;
use std::path::{Path, PathBuf};

/// Where a test binary's runs go: `<target tmp>/<name>`.
pub fn runs_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Every run must leave nothing on the Swarm, whatever its verdict.
pub fn assert_clean(res: &Results) {
    assert!(
        res.teardown.clean,
        "teardown left {:?}",
        res.teardown.leftovers
    );
}
