//! What the store answers with: plain values, read from its tables.

use ccci_core::ladder::Rung;
use ccci_core::results::{Lane, Results};
use std::collections::BTreeMap;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Started, and its process still lives.
    Running,
    /// Ended and wrote its results.
    Finished,
    /// Its process is gone without results: killed, or its machine went down.
    Lost,
}

impl State {
    /// `running`, `finished` or `lost`, as the store writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Finished => "finished",
            State::Lost => "lost",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<State> {
        match s {
            "running" => Some(State::Running),
            "finished" => Some(State::Finished),
            "lost" => Some(State::Lost),
            _ => None,
        }
    }
}

/// One run as the store lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Its id.
    pub run_id: String,
    /// The recipe.
    pub recipe: String,
    /// The ref asked for (a tag, branch, commit, or `HEAD`).
    pub reference: Option<String>,
    /// The commit tested, once known.
    pub commit: Option<String>,
    /// The release tested, when the ref is one.
    pub version: Option<String>,
    /// Its lane.
    pub lane: Lane,
    /// Where it stands.
    pub state: State,
    /// The level it reached (finished runs).
    pub level: Option<u8>,
    /// `true` green, `false` red (finished runs).
    pub green: Option<bool>,
    /// The one-line error of a run refused for bad input.
    pub bad_input: Option<String>,
    /// Whether a test filter left steps out (then it does not stand for the recipe's level).
    pub partial: bool,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// When it ended (Unix seconds).
    pub finished_at: Option<i64>,
    /// How long it took.
    pub duration_secs: Option<f64>,
    /// The ccci version that ran it.
    pub ccci_version: Option<String>,
    /// The commit of ccci's source that ran it.
    pub ccci_commit: Option<String>,
    /// The results.json schema it was written in.
    pub results_schema: Option<String>,
    /// The machine it ran on.
    pub host: Option<String>,
    /// Where the app answered.
    pub app_url: Option<String>,
    /// How the app was reached (`traefik`, `host-port`).
    pub routing: Option<String>,
    /// Its run directory on the host that ran it.
    pub run_dir: Option<String>,
    /// Why it is red (the first reason), or why it was lost.
    pub reason: Option<String>,
    /// Whose fault a red run is: `recipe`, `host` or `cancelled` (results.json's `cause`);
    /// `None` for a green run, one not finished, or one written before `/7`.
    pub cause: Option<String>,
    /// Each rung's outcome (`pass`, `fail`, `skip`, `unverified`, `not run`), for finished
    /// runs.
    pub rungs: BTreeMap<Rung, String>,
}

/// A run with everything its results say.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// The run as listed.
    pub row: RunRow,
    /// Its results.json, for a finished run.
    pub results: Option<Results>,
}

/// One recipe in the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeSummary {
    /// The recipe.
    pub recipe: String,
    /// Its latest finished cold run over the whole ladder: what its level is.
    pub latest: Option<RunRow>,
    /// Its last cold runs' levels and verdicts, oldest first (at most [`crate::SPARK`]).
    pub levels: Vec<(u8, bool)>,
    /// How many runs it has in the store, of any lane and state.
    pub runs: i64,
    /// How many of them are running now.
    pub running: i64,
    /// When its newest run of any kind started.
    pub last_started: i64,
}

/// Which runs a history lists.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only this recipe's.
    pub recipe: Option<String>,
    /// Only this lane's.
    pub lane: Option<Lane>,
    /// Only runs of this ref.
    pub reference: Option<String>,
    /// At most this many, newest first (default 100).
    pub limit: Option<u32>,
}

/// What taking the journal in did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TakenIn {
    /// Runs recorded as finished (their entries removed).
    pub finished: Vec<String>,
    /// Runs still running (their entries kept).
    pub running: Vec<String>,
    /// Runs recorded as lost (their entries removed).
    pub lost: Vec<String>,
    /// Entries that could not be read, and why (left in place).
    pub unreadable: Vec<String>,
    /// Runs whose results a newer ccci wrote, with their schema (entries left in place for a
    /// ccci that reads them).
    pub newer: Vec<(String, String)>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Runs recorded, with the schema each was written in.
    pub recorded: Vec<(String, String)>,
    /// Files that are not a ccci results.json ccci can read, and why.
    pub skipped: Vec<String>,
}
