//! How a run is written into the store: when it starts, when it finishes (its results.json,
//! rungs and steps in one transaction), and when it is found lost.

use crate::db::{Stmt, Val};
use crate::{Store, StoreError};
use ccci_core::journal::Entry;
use ccci_core::ladder::{RungOutcome, TestStatus};
use ccci_core::results::{Results, SCHEMA, SCHEMAS};

/// Every column of `runs`, in the order the statements below bind them.
#[cfg(test)]
const COLUMNS: &str = "run_id, recipe, reference, commit_sha, version, lane, state, level, verdict, bad_input, partial, started_at, finished_at, duration_secs, ccci_version, ccci_commit, results_schema, host, domain, app_url, routing, run_dir, reason, cause";

impl Store {
    /// Records that a run started; a run the store already knows is left as it is.
    pub fn record_started(&self, e: &Entry) -> Result<(), StoreError> {
        self.db.exec(
            INSERT_STARTED,
            &[
                e.run_id.as_str().into(),
                e.recipe.as_str().into(),
                e.reference.clone().into(),
                e.lane.as_str().into(),
                Val::Int(e.started as i64),
                e.host.clone().into(),
                e.run_dir.as_str().into(),
            ],
        )?;
        Ok(())
    }

    /// Records a run that is gone without results (`why`); a finished run stays finished.
    pub fn record_lost(&self, e: &Entry, at: u64, why: &str) -> Result<(), StoreError> {
        self.db.exec(
            INSERT_LOST,
            &[
                e.run_id.as_str().into(),
                e.recipe.as_str().into(),
                e.reference.clone().into(),
                e.lane.as_str().into(),
                Val::Int(e.started as i64),
                Val::Int(at as i64),
                e.host.clone().into(),
                e.run_dir.as_str().into(),
                why.into(),
            ],
        )?;
        Ok(())
    }

    /// Records a finished run from its results: the run, each rung and each step, in one
    /// transaction. Recording it again replaces it.
    pub fn record_finished(&self, r: &Results) -> Result<(), StoreError> {
        let json = serde_json::to_string(r).map_err(|e| StoreError::Schema(e.to_string()))?;
        self.record(r, json)
    }

    /// Records a finished run from its results.json as written (any schema ccci has
    /// written, kept as it is, so the evidence is what the run said), and returns it read.
    ///
    /// # Errors
    /// The text is not a results.json ccci reads (named in the error), or the store failed.
    pub fn record_results_json(&self, text: &str) -> Result<Results, String> {
        let r = read_results(text).map_err(|e| e.to_string())?;
        self.record(&r, text.to_string())
            .map_err(|e| e.to_string())?;
        Ok(r)
    }

    /// Records `r`, read from `text` as written.
    pub(crate) fn record_finished_text(&self, r: &Results, text: String) -> Result<(), StoreError> {
        self.record(r, text)
    }

    fn record(&self, r: &Results, json: String) -> Result<(), StoreError> {
        let id = || Val::from(r.run_id.as_str());
        let mut stmts: Vec<Stmt> = vec![
            (UPSERT_FINISHED, finished_values(r)),
            ("DELETE FROM results WHERE run_id = ?", vec![id()]),
            (
                "INSERT INTO results (run_id, results) VALUES (?, ?)",
                vec![id(), json.into()],
            ),
            ("DELETE FROM rungs WHERE run_id = ?", vec![id()]),
            ("DELETE FROM steps WHERE run_id = ?", vec![id()]),
        ];
        for (rung, outcome) in &r.rungs {
            let intentional = matches!(
                outcome,
                RungOutcome::Skipped {
                    intentional: true,
                    ..
                }
            );
            let reason = outcome.reason().map(String::from);
            stmts.push((
                "INSERT INTO rungs (run_id, rung, outcome, intentional, reason) VALUES (?, ?, ?, ?, ?)",
                vec![
                    r.run_id.as_str().into(),
                    rung.as_str().into(),
                    outcome.label().into(),
                    Val::Int(intentional.into()),
                    reason.into(),
                ],
            ));
        }
        for (position, t) in r.tests.iter().enumerate() {
            let (status, message) = status_of(&t.status);
            stmts.push((
                "INSERT INTO steps (run_id, position, name, rung, status, message, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    r.run_id.as_str().into(),
                    Val::Int(position as i64),
                    t.name.as_str().into(),
                    t.rung.as_str().into(),
                    status.into(),
                    message.into(),
                    Val::Int(t.duration_ms.min(i64::MAX as u64) as i64),
                ],
            ));
        }
        self.db.batch(&stmts)
    }
}

/// `text` read as results.json of a schema ccci has written; the error says why not.
pub(crate) fn read_results(text: &str) -> Result<Results, Unread> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Unread::Bad(format!("not JSON: {e}")))?;
    let schema = value["schema"].as_str().unwrap_or_default().to_string();
    if !SCHEMAS.contains(&schema.as_str()) {
        return Err(match schema.strip_prefix("ccci.results/") {
            Some(_) => Unread::Newer(schema),
            None => Unread::Bad("not a ccci results.json (no `schema: ccci.results/N`)".into()),
        });
    }
    serde_json::from_value(value)
        .map_err(|e| Unread::Bad(format!("a {schema} results.json that does not read: {e}")))
}

/// Why a results.json was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unread {
    /// It names a schema this ccci does not know (`ccci.results/N`): a newer ccci wrote it.
    Newer(String),
    /// It is not a results.json ccci ever wrote, or does not read as its schema says.
    Bad(String),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Newer(schema) => write!(
                f,
                "results schema {schema} is not one this ccci reads (up to {SCHEMA}): upgrade ccci"
            ),
            Unread::Bad(why) => f.write_str(why),
        }
    }
}

/// A step's status as the store writes it, and its message or reason.
fn status_of(s: &TestStatus) -> (&'static str, Option<String>) {
    match s {
        TestStatus::Pass => ("pass", None),
        TestStatus::Fail { message } => ("fail", Some(message.clone())),
        TestStatus::NotRun { reason } => ("not_run", Some(reason.clone())),
        TestStatus::CannotRun { reason } => ("cannot_run", Some(reason.clone())),
        TestStatus::Filtered => ("filtered", None),
        TestStatus::Skipped { reason } => ("skipped", Some(reason.clone())),
    }
}

/// The `runs` row of a finished run, in [`COLUMNS`] order.
fn finished_values(r: &Results) -> Vec<Val> {
    let time = |s: &str| ccci_core::time::parse_rfc3339(s).map(|t| t as i64);
    let partial = r.tests.iter().any(|t| t.status == TestStatus::Filtered);
    let verdict = match r.verdict {
        ccci_core::Verdict::Green => "green",
        ccci_core::Verdict::Red => "red",
    };
    vec![
        r.run_id.as_str().into(),
        r.recipe.as_str().into(),
        r.head.reference.as_str().into(),
        Some(r.head.commit.as_str())
            .filter(|c| !c.is_empty())
            .into(),
        r.head.version.clone().into(),
        r.lane.as_str().into(),
        "finished".into(),
        Val::Int(r.level.0.into()),
        verdict.into(),
        r.bad_input.clone().into(),
        Val::Int(partial.into()),
        Val::Int(time(&r.started_at).unwrap_or(0)),
        time(&r.finished_at).into(),
        Val::Real(r.duration_secs),
        r.ccci.as_ref().map(|b| b.version.clone()).into(),
        r.ccci.as_ref().and_then(|b| b.commit.clone()).into(),
        r.schema.as_str().into(),
        r.host.clone().into(),
        r.domain.as_str().into(),
        r.app_url.clone().into(),
        r.routing.map(|x| x.as_str()).into(),
        r.run_dir.as_str().into(),
        r.verdict_reasons.first().cloned().into(),
        r.cause.as_ref().map(|c| c.as_str()).into(),
    ]
}

/// A run that started: known from then on, never overwriting what the store has of it.
const INSERT_STARTED: &str = "INSERT INTO runs (run_id, recipe, reference, lane, state, started_at, host, run_dir) VALUES (?, ?, ?, ?, 'running', ?, ?, ?) ON CONFLICT (run_id) DO NOTHING";

/// A run found lost: recorded, or changed from running; a finished run stays finished.
const INSERT_LOST: &str = "INSERT INTO runs (run_id, recipe, reference, lane, state, started_at, finished_at, host, run_dir, reason) VALUES (?, ?, ?, ?, 'lost', ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET state = 'lost', finished_at = excluded.finished_at, reason = excluded.reason WHERE runs.state = 'running'";

/// A finished run: every column from its results.
const UPSERT_FINISHED: &str = concat!(
    "INSERT INTO runs (",
    "run_id, recipe, reference, commit_sha, version, lane, state, level, verdict, bad_input, partial, started_at, finished_at, duration_secs, ccci_version, ccci_commit, results_schema, host, domain, app_url, routing, run_dir, reason, cause",
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET ",
    "recipe = excluded.recipe, reference = excluded.reference, commit_sha = excluded.commit_sha, version = excluded.version, lane = excluded.lane, state = excluded.state, level = excluded.level, verdict = excluded.verdict, bad_input = excluded.bad_input, partial = excluded.partial, started_at = excluded.started_at, finished_at = excluded.finished_at, duration_secs = excluded.duration_secs, ccci_version = excluded.ccci_version, ccci_commit = excluded.ccci_commit, results_schema = excluded.results_schema, host = excluded.host, domain = excluded.domain, app_url = excluded.app_url, routing = excluded.routing, run_dir = excluded.run_dir, reason = excluded.reason, cause = excluded.cause"
);

#[cfg(test)]
mod tests {
    #[test]
    fn the_upsert_binds_every_column_once() {
        let columns = super::COLUMNS.split(", ").count();
        let binds = super::UPSERT_FINISHED.matches('?').count();
        assert_eq!(columns, binds);
        assert!(super::UPSERT_FINISHED.contains(super::COLUMNS));
    }
}
