//! The run journal's entries: how a run tells the run store that it started and that it
//! ended, without depending on the store.
//!
//! A run writes its entry (one small JSON file named by its id) into the journal directory
//! when it starts, and again when it ends; its results.json, in its run directory, says how
//! it ended. Whatever keeps the run store (`cargo ccci`, the dashboard, the service) takes
//! entries in: a run with results is recorded as finished and its entry removed; one whose
//! process still lives, as running; one whose process is gone without results, as lost
//! (killed). So a recipe test crate's build carries no database, a run never fails because
//! the store is away, and nothing a run did is forgotten while the store is.

use crate::results::Lane;
use serde::{Deserialize, Serialize};

/// One run, as it noted itself in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The run's id.
    pub run_id: String,
    /// The recipe.
    pub recipe: String,
    /// The ref asked for, when one was (`--ref`); else the repository's HEAD.
    pub reference: Option<String>,
    /// The run directory, where results.json appears when the run ends.
    pub run_dir: String,
    /// The run's process.
    pub pid: u32,
    /// Its start time in clock ticks since boot, so a pid the kernel gave to another process
    /// later is not mistaken for the run.
    pub pid_start: Option<u64>,
    /// The machine it runs on.
    pub host: Option<String>,
    /// When it started, in seconds since the Unix epoch.
    pub started: u64,
    /// When it ended (its results.json was written, or could not be), once it has.
    pub ended: Option<u64>,
    /// Its lane.
    pub lane: Lane,
}

impl Entry {
    /// The file name of this entry in the journal directory.
    pub fn file_name(run_id: &str) -> String {
        format!("{run_id}.json")
    }
}
