//! What the store is asked: a history of runs, the catalogue of recipes with their levels, one
//! run with its results, and the run of a ref before another.

use crate::db::{Row, Val};
use crate::model::{HistoryQuery, RecipeSummary, RunRow, State, StoredRun};
use crate::{Store, StoreError, SPARK};
use ccci_core::ladder::Rung;
use ccci_core::results::Lane;
use std::collections::BTreeMap;

/// The columns a [`RunRow`] is read from, in [`row`]'s order.
const ROW: &str = "run_id, recipe, reference, commit_sha, version, lane, state, level, verdict, bad_input, partial, started_at, finished_at, duration_secs, ccci_version, ccci_commit, results_schema, host, app_url, routing, run_dir, reason, cause";

impl Store {
    /// Runs newest first, as `q` filters them.
    pub fn history(&self, q: &HistoryQuery) -> Result<Vec<RunRow>, StoreError> {
        let mut sql = format!("SELECT {ROW} FROM runs WHERE 1 = 1");
        let mut args = Vec::new();
        if let Some(recipe) = &q.recipe {
            sql.push_str(" AND recipe = ?");
            args.push(Val::from(recipe.as_str()));
        }
        if let Some(lane) = q.lane {
            sql.push_str(" AND lane = ?");
            args.push(lane.as_str().into());
        }
        if let Some(reference) = &q.reference {
            sql.push_str(" AND reference = ?");
            args.push(reference.as_str().into());
        }
        sql.push_str(" ORDER BY started_at DESC, run_id DESC LIMIT ?");
        args.push(Val::Int(q.limit.unwrap_or(100).into()));
        let rows = self.db.query(&sql, &args)?;
        self.with_rungs(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// Every recipe with a run in the store, by name: its latest finished cold run over the
    /// whole ladder (a run a test filter cut short does not count), the levels of its last
    /// [`SPARK`] such runs, and how many runs it has.
    pub fn catalogue(&self) -> Result<Vec<RecipeSummary>, StoreError> {
        let counts = self.db.query(
            "SELECT recipe, COUNT(*) AS runs, SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running, MAX(started_at) AS last_started FROM runs GROUP BY recipe ORDER BY recipe",
            &[],
        )?;
        // The last SPARK whole cold runs of each recipe, newest first, by the index made for
        // it; the full rows of only the newest of each are read after.
        let cold = self.db.query(
            "SELECT recipe, run_id, level, verdict FROM (SELECT recipe, run_id, level, verdict, ROW_NUMBER() OVER (PARTITION BY recipe ORDER BY started_at DESC, run_id DESC) AS n FROM runs WHERE lane = 'cold' AND state = 'finished' AND partial = 0) AS latest WHERE n <= ?",
            &[Val::Int(SPARK as i64)],
        )?;
        let mut levels: BTreeMap<String, Vec<(u8, bool)>> = BTreeMap::new();
        let mut newest: BTreeMap<String, String> = BTreeMap::new();
        for r in &cold {
            let recipe = r.text("recipe")?;
            if !newest.contains_key(&recipe) {
                newest.insert(recipe.clone(), r.text("run_id")?);
            }
            let level = r.opt_int("level")?.unwrap_or(0).clamp(0, 4) as u8;
            let green = r.opt_text("verdict")?.as_deref() == Some("green");
            levels.entry(recipe).or_default().push((level, green));
        }
        let mut latest: BTreeMap<String, RunRow> = self
            .rows_of(&newest.into_values().collect::<Vec<_>>())?
            .into_iter()
            .map(|r| (r.recipe.clone(), r))
            .collect();
        let mut out = Vec::new();
        for c in &counts {
            let recipe = c.text("recipe")?;
            let mut levels = levels.remove(&recipe).unwrap_or_default();
            levels.reverse();
            out.push(RecipeSummary {
                latest: latest.remove(&recipe),
                levels,
                recipe,
                runs: c.int("runs")?,
                running: c.opt_int("running")?.unwrap_or(0),
                last_started: c.opt_int("last_started")?.unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// One run, with its results when it finished.
    pub fn run(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let found = self.db.query(
            &format!("SELECT {ROW} FROM runs WHERE run_id = ?"),
            &[run_id.into()],
        )?;
        let Some(r) = found.first() else {
            return Ok(None);
        };
        let json = self.db.query(
            "SELECT results FROM results WHERE run_id = ?",
            &[run_id.into()],
        )?;
        let results = match json
            .first()
            .map(|j| j.opt_text("results"))
            .transpose()?
            .flatten()
        {
            Some(text) => Some(
                crate::history::record::read_results(&text)
                    .map_err(|e| StoreError::Schema(e.to_string()))?,
            ),
            None => None,
        };
        let row = self.with_rungs(vec![row(r)?])?.remove(0);
        Ok(Some(StoredRun { row, results }))
    }

    /// The finished run of the same recipe, ref and lane that started last before `run`.
    pub fn previous(&self, run: &RunRow) -> Result<Option<RunRow>, StoreError> {
        let found = self.db.query(
            &format!("SELECT {ROW} FROM runs WHERE recipe = ? AND reference = ? AND lane = ? AND state = 'finished' AND partial = 0 AND run_id <> ? AND (started_at < ? OR (started_at = ? AND run_id < ?)) ORDER BY started_at DESC, run_id DESC LIMIT 1"),
            &[
                run.recipe.as_str().into(),
                run.reference.clone().into(),
                run.lane.as_str().into(),
                run.run_id.as_str().into(),
                Val::Int(run.started_at),
                Val::Int(run.started_at),
                run.run_id.as_str().into(),
            ],
        )?;
        match found.first() {
            Some(r) => Ok(Some(row(r)?)),
            None => Ok(None),
        }
    }

    /// The run whose id is `id`, or the one run whose id begins with it.
    pub fn resolve(&self, id: &str) -> Result<String, StoreError> {
        let exact = self
            .db
            .query("SELECT run_id FROM runs WHERE run_id = ?", &[id.into()])?;
        if let Some(r) = exact.first() {
            return r.text("run_id");
        }
        // A prefix, matched in Rust: LIKE would read `_` in run ids as a wildcard.
        let all = self.db.query("SELECT run_id FROM runs", &[])?;
        let mut matches = Vec::new();
        for r in &all {
            let run_id = r.text("run_id")?;
            if run_id.starts_with(id) || run_id.ends_with(id) {
                matches.push(run_id);
            }
        }
        match matches.len() {
            0 => Err(StoreError::NoRun(id.into())),
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            count => Err(StoreError::Ambiguous {
                prefix: id.into(),
                count,
            }),
        }
    }

    /// The runs of these ids, with their rungs, in no particular order.
    fn rows_of(&self, ids: &[String]) -> Result<Vec<RunRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let args: Vec<Val> = ids.iter().map(|i| i.as_str().into()).collect();
        let rows = self.db.query(
            &format!("SELECT {ROW} FROM runs WHERE run_id IN ({marks})"),
            &args,
        )?;
        self.with_rungs(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// `runs` with each one's rung outcomes.
    fn with_rungs(&self, mut runs: Vec<RunRow>) -> Result<Vec<RunRow>, StoreError> {
        if runs.is_empty() {
            return Ok(runs);
        }
        let marks = vec!["?"; runs.len()].join(", ");
        let ids: Vec<Val> = runs.iter().map(|r| r.run_id.as_str().into()).collect();
        let rungs = self.db.query(
            &format!("SELECT run_id, rung, outcome FROM rungs WHERE run_id IN ({marks})"),
            &ids,
        )?;
        let mut by_run: BTreeMap<String, BTreeMap<Rung, String>> = BTreeMap::new();
        for r in &rungs {
            if let (id, Some(rung), Some(outcome)) = (
                r.text("run_id")?,
                Rung::parse(&r.text("rung")?),
                r.opt_text("outcome")?,
            ) {
                by_run.entry(id).or_default().insert(rung, outcome);
            }
        }
        for run in &mut runs {
            run.rungs = by_run.remove(&run.run_id).unwrap_or_default();
        }
        Ok(runs)
    }
}

/// A [`RunRow`] from the [`ROW`] columns.
fn row(r: &Row) -> Result<RunRow, StoreError> {
    let bad = |what: &str| StoreError::Schema(format!("a run row with {what}"));
    Ok(RunRow {
        run_id: r.text("run_id")?,
        recipe: r.text("recipe")?,
        reference: r.opt_text("reference")?,
        commit: r.opt_text("commit_sha")?,
        version: r.opt_text("version")?,
        lane: r
            .text("lane")?
            .parse::<Lane>()
            .map_err(|_| bad("an unknown lane"))?,
        state: State::parse(&r.text("state")?).ok_or_else(|| bad("an unknown state"))?,
        level: r.opt_int("level")?.map(|l| l.clamp(0, 4) as u8),
        green: r.opt_text("verdict")?.map(|v| v == "green"),
        bad_input: r.opt_text("bad_input")?,
        partial: r.int("partial")? != 0,
        started_at: r.int("started_at")?,
        finished_at: r.opt_int("finished_at")?,
        duration_secs: r.opt_real("duration_secs")?,
        ccci_version: r.opt_text("ccci_version")?,
        ccci_commit: r.opt_text("ccci_commit")?,
        results_schema: r.opt_text("results_schema")?,
        host: r.opt_text("host")?,
        app_url: r.opt_text("app_url")?,
        routing: r.opt_text("routing")?,
        run_dir: r.opt_text("run_dir")?,
        reason: r.opt_text("reason")?,
        cause: r.opt_text("cause")?,
        rungs: BTreeMap::new(),
    })
}
