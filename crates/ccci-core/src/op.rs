//! The lifecycle operations a run performs on a deployed app, in ladder order.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One lifecycle operation. A run performs them in this order; recipe code can attach to
/// each (seed data before, assert after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The first deploy of the app under test.
    Install,
    /// Previous release → head, redeployed in place.
    Upgrade,
    /// Snapshot the app's data through the backupbot labels.
    Backup,
    /// Put the snapshot back and prove the data returned.
    Restore,
}

impl Op {
    /// All ops in the order a run performs them.
    pub const ALL: [Op; 4] = [Op::Install, Op::Upgrade, Op::Backup, Op::Restore];

    /// The lower-case name used in test names, results.json and `ccci.yml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Install => "install",
            Op::Upgrade => "upgrade",
            Op::Backup => "backup",
            Op::Restore => "restore",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
