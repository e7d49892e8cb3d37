//! What `cargo ccci` and `ccci-service` hand each other, typed once: both sides serialize and
//! read these, so a field renamed on one side is a compile error on the other, not a silent
//! `null`.

use serde::{Deserialize, Serialize};

/// A recipe's latest green cold run of a release: the version a canonical is made at
/// (`ccci-service known-good RECIPE` answers one line of it, or `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownGood {
    /// The run.
    pub run_id: String,
    /// The release's commit.
    pub commit: String,
    /// The release's version.
    pub version: String,
}

/// A sweep as `cargo ccci sweep` hands it to the store (`ccci-service record-sweep FILE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Its id.
    pub sweep_id: String,
    /// The host that ran it.
    pub host: String,
    /// When it started (Unix seconds).
    pub started_at: u64,
    /// When it ended (Unix seconds).
    pub finished_at: u64,
    /// What rolling the shared dependencies did; `None` when they were left alone.
    pub deps: Option<String>,
    /// Every recipe it ran, in order.
    pub entries: Vec<SweepEntry>,
}

/// One enrolled recipe of a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepEntry {
    /// The recipe.
    pub recipe: String,
    /// Its run, when it ran.
    pub run_id: Option<String>,
    /// Why it did not run, or what it did besides.
    pub note: Option<String>,
}

/// The canonicals a host keeps, as `cargo ccci` hands them over: they replace what the store
/// had for that host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonicalsRecord {
    /// The host.
    pub host: String,
    /// Every canonical it keeps.
    pub records: Vec<crate::canonical::Canonical>,
}

/// What `cargo ccci`, started by a caller that keeps the store (`crate::vars::HANDOFF_DIR`),
/// leaves in the hand-off directory for it, a file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// A [`SweepRecord`].
    Sweep,
    /// A [`CanonicalsRecord`].
    Canonicals,
}

impl Handoff {
    /// Its file's name in the directory.
    pub fn file(self) -> &'static str {
        match self {
            Handoff::Sweep => "sweep.json",
            Handoff::Canonicals => "canonicals.json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one side writes, the other reads back whole.
    #[test]
    fn a_sweep_and_a_known_good_version_cross_as_written() {
        let sweep = SweepRecord {
            sweep_id: "sweep-1".into(),
            host: "ci-1".into(),
            started_at: 10,
            finished_at: 20,
            deps: Some("oidc: kept".into()),
            entries: vec![SweepEntry {
                recipe: "custom-html".into(),
                run_id: Some("r-1".into()),
                note: None,
            }],
        };
        let text = serde_json::to_string(&sweep).unwrap();
        assert_eq!(serde_json::from_str::<SweepRecord>(&text).unwrap(), sweep);
        let k = Some(KnownGood {
            run_id: "r".into(),
            commit: "abc".into(),
            version: "1.0.0+1".into(),
        });
        let text = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<Option<KnownGood>>(&text).unwrap(), k);
        assert_eq!(
            serde_json::from_str::<Option<KnownGood>>("null").unwrap(),
            None
        );
    }
}
