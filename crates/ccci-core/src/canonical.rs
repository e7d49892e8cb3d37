//! The warm fleet's two records: what a host keeps about a recipe's canonical deployment
//! ([`Canonical`]: the known-good version, where it runs, the data that proves it, the
//! snapshot to return to), and what one run did with it ([`CanonicalOutcome`], in
//! results.json). See docs/fleet.md.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A recipe's canonical deployment, as the host that keeps it recorded it when it was last
/// proven known-good. Replaced only by a record of a canonical proven known-good again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Canonical {
    /// The recipe.
    pub recipe: String,
    /// The known-good release's version.
    pub version: String,
    /// Its tag.
    pub tag: String,
    /// Its commit.
    pub commit: String,
    /// The stable domain it answers on.
    pub domain: String,
    /// Its stack.
    pub stack: String,
    /// The Swarm it runs on (`DOCKER_HOST`).
    pub docker_host: String,
    /// When it was proven known-good (Unix seconds).
    pub since: u64,
    /// The run that proved the version green, when one did (a cold run's id).
    pub proven_by: Option<String>,
    /// ccci's marker files in its backed-up directories.
    #[serde(default)]
    pub markers: Vec<DataMarker>,
    /// What the recipe's own seeding functions (`#[ccci::lifecycle(before = backup)]`)
    /// remembered, for its checks (`after = restore`) to find again.
    #[serde(default)]
    pub seeded: BTreeMap<String, serde_json::Value>,
    /// The recipe's checks that prove the seeded data is there.
    #[serde(default)]
    pub checks: Vec<String>,
    /// The known-good snapshot (ccci's snapshot format), when the recipe backs anything up.
    pub snapshot: Option<String>,
    /// The app's `.env` as deployed at the known-good version.
    pub env: String,
    /// Whether it answers on a web route (through Traefik, on its domain).
    #[serde(default = "yes")]
    pub web: bool,
}

fn yes() -> bool {
    true
}

impl Canonical {
    /// Whether anything proves the canonical's data: a marker or a check of the recipe's.
    pub fn has_data_proof(&self) -> bool {
        !self.markers.is_empty() || !self.checks.is_empty()
    }

    /// One line of what proves the data, for `canonical status` and results.
    pub fn proof(&self) -> String {
        let mut parts: Vec<String> = self.markers.iter().map(|m| m.describe()).collect();
        parts.extend(self.checks.iter().map(|c| format!("check {c}")));
        match parts.is_empty() {
            true => {
                "none: nothing it backs up can hold a marker and the recipe has no seeding function"
                    .into()
            }
            false => parts.join(", "),
        }
    }
}

/// One of ccci's marker files, left in the canonical's data for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataMarker {
    /// The service (short name).
    pub service: String,
    /// The file's absolute path in the container.
    pub path: String,
    /// What it holds.
    pub content: String,
}

impl DataMarker {
    /// `<service>:<path>`.
    pub fn describe(&self) -> String {
        format!("{}:{}", self.service, self.path)
    }
}

/// What a run did with its recipe's canonical deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CanonicalAction {
    /// A quick lane run: the head tested on it, then the canonical returned to known-good.
    Quick,
    /// Made where there was none.
    Made,
    /// Promoted from `from` to the run's release.
    Promoted {
        /// The version it was at.
        from: String,
    },
}

/// What a run did with the canonical and how the canonical ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalOutcome {
    /// What the run did with it.
    #[serde(flatten)]
    pub action: CanonicalAction,
    /// Its domain.
    pub domain: String,
    /// Its stack.
    pub stack: String,
    /// The known-good version it ended at (the one it had when it could not be changed).
    pub version: String,
    /// Why the canonical was not trusted when the run found it, and was rebuilt cold.
    pub untrusted: Option<String>,
    /// Whether its known-good snapshot was restored (a quick run that failed, or whose
    /// return left the data unproven).
    pub restored: bool,
    /// Whether it ended known-good: at `version`, healthy, its data proven.
    pub known_good: bool,
    /// What proved its data at the end.
    pub proof: String,
    /// What went wrong with the canonical itself, when something did.
    pub problem: Option<String>,
}

/// One upgrade path of the upgrade rung: from a release before the head to the head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradePath {
    /// The release it started from.
    pub from: String,
    /// The stack it ran in.
    pub stack: String,
    /// Whether it passed: the base deployed healthy, upgraded to the head and healthy again.
    pub passed: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// Where its task history and log tails are kept, when it failed.
    #[serde(default)]
    pub forensics: Option<String>,
    /// Wall time in seconds.
    pub duration_secs: f64,
}
