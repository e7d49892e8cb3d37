//! The warm fleet in the store: the version a canonical deployment may be made at (a
//! recipe's latest green cold run of a release), the canonicals each host keeps, and the
//! sweeps, each recipe's run compared with its run in the sweep before (the drift report).

use crate::db::{Row, Val};
use crate::{Store, StoreError};
use ccci_core::canonical::Canonical;
use serde::Serialize;

pub use ccci_core::wire::{KnownGood, SweepEntry, SweepRecord};

/// A canonical deployment as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanonicalRow {
    /// The host that keeps it.
    pub host: String,
    /// The recipe.
    pub recipe: String,
    /// Its known-good version.
    pub version: String,
    /// Its stable domain.
    pub domain: String,
    /// Its stack.
    pub stack: String,
    /// Since when it is known-good (Unix seconds).
    pub since: i64,
    /// The green cold run that proved its version.
    pub proven_by: Option<String>,
    /// What proves its data.
    pub proof: String,
}

/// How a recipe's level moved from one sweep to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Drift {
    /// The same level and verdict.
    None,
    /// A lower level, or green gone red.
    Regression,
    /// A higher level, or red gone green.
    Improvement,
    /// No earlier sweep ran it.
    New,
}

impl Drift {
    fn as_str(self) -> &'static str {
        match self {
            Drift::None => "none",
            Drift::Regression => "regression",
            Drift::Improvement => "improvement",
            Drift::New => "new",
        }
    }

    fn parse(s: &str) -> Drift {
        match s {
            "regression" => Drift::Regression,
            "improvement" => Drift::Improvement,
            "new" => Drift::New,
            _ => Drift::None,
        }
    }

    /// From the level and verdict before to after.
    fn between(before: Option<(i64, bool)>, after: Option<(i64, bool)>) -> Drift {
        match (before, after) {
            (None, _) => Drift::New,
            (Some(_), None) => Drift::Regression,
            (Some((l0, g0)), Some((l1, g1))) => match (l1.cmp(&l0), g1 == g0) {
                (std::cmp::Ordering::Less, _) => Drift::Regression,
                (std::cmp::Ordering::Greater, _) => Drift::Improvement,
                (_, true) => Drift::None,
                (_, false) if g1 => Drift::Improvement,
                (_, false) => Drift::Regression,
            },
        }
    }
}

/// One recipe's line of a sweep's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepLine {
    /// The recipe.
    pub recipe: String,
    /// Its run in this sweep.
    pub run_id: Option<String>,
    /// Its level and verdict there.
    pub level: Option<u8>,
    /// Green?
    pub green: Option<bool>,
    /// Its run in the sweep before.
    pub previous_run_id: Option<String>,
    /// Its level and verdict there.
    pub previous_level: Option<u8>,
    /// Green then?
    pub previous_green: Option<bool>,
    /// How it moved.
    pub drift: Drift,
    /// Why it did not run, or what it did besides.
    pub note: Option<String>,
}

/// A sweep and its report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// Its id.
    pub sweep_id: String,
    /// The host that ran it.
    pub host: String,
    /// When it started and ended (Unix seconds).
    pub started_at: i64,
    /// When it ended.
    pub finished_at: i64,
    /// What rolling the shared dependencies did.
    pub deps: Option<String>,
    /// Every enrolled recipe, by name.
    pub lines: Vec<SweepLine>,
}

impl Sweep {
    /// The lines whose level or verdict moved since the sweep before.
    pub fn drifted(&self) -> impl Iterator<Item = &SweepLine> {
        self.lines
            .iter()
            .filter(|l| matches!(l.drift, Drift::Regression | Drift::Improvement))
    }
}

impl Store {
    /// `recipe`'s latest finished, whole, green cold run of a release.
    pub fn known_good(&self, recipe: &str) -> Result<Option<KnownGood>, StoreError> {
        let rows = self.db.query(
            "SELECT run_id, commit_sha, version FROM runs WHERE recipe = ? AND lane = 'cold' AND state = 'finished' AND partial = 0 AND verdict = 'green' AND version IS NOT NULL AND commit_sha IS NOT NULL ORDER BY started_at DESC, run_id DESC LIMIT 1",
            &[recipe.into()],
        )?;
        rows.first()
            .map(|r| {
                Ok(KnownGood {
                    run_id: r.text("run_id")?,
                    commit: r.text("commit_sha")?,
                    version: r.text("version")?,
                })
            })
            .transpose()
    }

    /// Makes the store's canonicals of `host` the ones in `records`, in one transaction.
    pub fn set_canonicals(&self, host: &str, records: &[Canonical]) -> Result<(), StoreError> {
        let mut stmts = vec![("DELETE FROM canonicals WHERE host = ?", vec![host.into()])];
        for c in records {
            stmts.push((
                "INSERT INTO canonicals (host, recipe, version, domain, stack, since, proven_by, proof, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    host.into(),
                    c.recipe.as_str().into(),
                    c.version.as_str().into(),
                    c.domain.as_str().into(),
                    c.stack.as_str().into(),
                    Val::Int(c.since as i64),
                    c.proven_by.clone().into(),
                    c.proof().into(),
                    c.snapshot.clone().into(),
                ],
            ));
        }
        self.db.batch(&stmts)
    }

    /// Every canonical the store knows, by recipe and host.
    pub fn canonicals(&self) -> Result<Vec<CanonicalRow>, StoreError> {
        let rows = self.db.query(
            "SELECT host, recipe, version, domain, stack, since, proven_by, proof FROM canonicals ORDER BY recipe, host",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(CanonicalRow {
                    host: r.text("host")?,
                    recipe: r.text("recipe")?,
                    version: r.text("version")?,
                    domain: r.text("domain")?,
                    stack: r.text("stack")?,
                    since: r.int("since")?,
                    proven_by: r.opt_text("proven_by")?,
                    proof: r.text("proof")?,
                })
            })
            .collect()
    }

    /// Records a sweep, each recipe's run set against its run in the latest earlier sweep
    /// that ran it, and returns the sweep with its report.
    pub fn record_sweep(&self, sweep: &SweepRecord) -> Result<Sweep, StoreError> {
        let at = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX);
        let (sweep_id, started_at) = (sweep.sweep_id.as_str(), at(sweep.started_at));
        let mut stmts = vec![(
            "INSERT INTO sweeps (sweep_id, host, started_at, finished_at, deps) VALUES (?, ?, ?, ?, ?)",
            vec![
                sweep_id.into(),
                sweep.host.as_str().into(),
                Val::Int(started_at),
                Val::Int(at(sweep.finished_at)),
                sweep.deps.clone().into(),
            ],
        )];
        for e in &sweep.entries {
            let previous = self.db.query(
                "SELECT s.run_id FROM sweep_runs s JOIN sweeps w ON w.sweep_id = s.sweep_id WHERE s.recipe = ? AND s.run_id IS NOT NULL AND w.started_at < ? ORDER BY w.started_at DESC, w.sweep_id DESC LIMIT 1",
                &[e.recipe.as_str().into(), Val::Int(started_at)],
            )?;
            let previous = previous.first().map(|r| r.text("run_id")).transpose()?;
            let drift = Drift::between(
                self.outcome_of(previous.as_deref())?,
                self.outcome_of(e.run_id.as_deref())?,
            );
            let drift = match (&previous, &e.run_id) {
                (None, _) => Drift::New,
                _ => drift,
            };
            stmts.push((
                "INSERT INTO sweep_runs (sweep_id, recipe, run_id, note, previous_run_id, drift) VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    sweep_id.into(),
                    e.recipe.as_str().into(),
                    e.run_id.clone().into(),
                    e.note.clone().into(),
                    previous.into(),
                    drift.as_str().into(),
                ],
            ));
        }
        self.db.batch(&stmts)?;
        self.sweep(sweep_id)?
            .ok_or_else(|| StoreError::NoRun(format!("sweep {sweep_id}")))
    }

    /// A finished run's level and verdict.
    fn outcome_of(&self, run_id: Option<&str>) -> Result<Option<(i64, bool)>, StoreError> {
        let Some(id) = run_id else {
            return Ok(None);
        };
        let rows = self.db.query(
            "SELECT level, verdict FROM runs WHERE run_id = ? AND state = 'finished'",
            &[id.into()],
        )?;
        rows.first()
            .map(|r| {
                let level = r.opt_int("level")?.unwrap_or(0);
                Ok((level, r.opt_text("verdict")?.as_deref() == Some("green")))
            })
            .transpose()
    }

    /// The newest sweeps first, at most `limit`.
    pub fn sweeps(&self, limit: u32) -> Result<Vec<Sweep>, StoreError> {
        let ids = self.db.query(
            "SELECT sweep_id FROM sweeps ORDER BY started_at DESC, sweep_id DESC LIMIT ?",
            &[Val::Int(limit.into())],
        )?;
        let mut out = Vec::new();
        for r in &ids {
            out.extend(self.sweep(&r.text("sweep_id")?)?);
        }
        Ok(out)
    }

    /// One sweep with its report.
    pub fn sweep(&self, sweep_id: &str) -> Result<Option<Sweep>, StoreError> {
        let head = self.db.query(
            "SELECT host, started_at, finished_at, deps FROM sweeps WHERE sweep_id = ?",
            &[sweep_id.into()],
        )?;
        let Some(h) = head.first() else {
            return Ok(None);
        };
        let rows = self.db.query(
            "SELECT s.recipe AS recipe, s.run_id AS run_id, s.note AS note, s.previous_run_id AS previous_run_id, s.drift AS drift, a.level AS level, a.verdict AS verdict, b.level AS previous_level, b.verdict AS previous_verdict FROM sweep_runs s LEFT JOIN runs a ON a.run_id = s.run_id LEFT JOIN runs b ON b.run_id = s.previous_run_id WHERE s.sweep_id = ? ORDER BY s.recipe",
            &[sweep_id.into()],
        )?;
        Ok(Some(Sweep {
            sweep_id: sweep_id.into(),
            host: h.text("host")?,
            started_at: h.int("started_at")?,
            finished_at: h.int("finished_at")?,
            deps: h.opt_text("deps")?,
            lines: rows.iter().map(line).collect::<Result<_, _>>()?,
        }))
    }
}

fn line(r: &Row) -> Result<SweepLine, StoreError> {
    let level = |col: &str| Ok::<_, StoreError>(r.opt_int(col)?.map(|l| l.clamp(0, 4) as u8));
    let green = |col: &str| Ok::<_, StoreError>(r.opt_text(col)?.map(|v| v == "green"));
    Ok(SweepLine {
        recipe: r.text("recipe")?,
        run_id: r.opt_text("run_id")?,
        note: r.opt_text("note")?,
        previous_run_id: r.opt_text("previous_run_id")?,
        drift: Drift::parse(&r.text("drift")?),
        level: level("level")?,
        green: green("verdict")?,
        previous_level: level("previous_level")?,
        previous_green: green("previous_verdict")?,
    })
}

#[cfg(test)]
mod tests {
    use super::Drift;

    #[test]
    fn drift_is_the_move_of_the_level_then_of_the_verdict() {
        assert_eq!(Drift::between(None, Some((4, true))), Drift::New);
        assert_eq!(
            Drift::between(Some((4, true)), Some((2, false))),
            Drift::Regression
        );
        assert_eq!(
            Drift::between(Some((2, false)), Some((4, true))),
            Drift::Improvement
        );
        assert_eq!(
            Drift::between(Some((3, false)), Some((3, false))),
            Drift::None
        );
        assert_eq!(
            Drift::between(Some((3, true)), Some((3, false))),
            Drift::Regression
        );
        assert_eq!(Drift::between(Some((3, true)), None), Drift::Regression);
    }
}
