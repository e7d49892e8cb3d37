//! The level ladder: four essential rungs climbed in order; the level is how many
//! rungs pass from the bottom before the first that does not. Skips cap the level and never
//! inflate it; a skip the recipe declared (`expected_na`) is *intentional* and keeps the verdict
//! green, any other skip is *unintentional* and makes it red: a skipped test is not a pass
//! [R2, R3].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One essential rung. The order of variants is the climbing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rung {
    /// The recipe deploys and becomes healthy (L1).
    Install,
    /// The previous release upgrades in place to the head (L2).
    Upgrade,
    /// A backup restores the seeded data (L3).
    BackupRestore,
    /// The recipe's own functional tests pass (L4).
    Functional,
}

impl Rung {
    /// All rungs, bottom first.
    pub const ALL: [Rung; 4] = [
        Rung::Install,
        Rung::Upgrade,
        Rung::BackupRestore,
        Rung::Functional,
    ];

    /// The snake_case name used in results.json and `ccci.yml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rung::Install => "install",
            Rung::Upgrade => "upgrade",
            Rung::BackupRestore => "backup_restore",
            Rung::Functional => "functional",
        }
    }

    /// The rung named `s`, if any.
    pub fn parse(s: &str) -> Option<Rung> {
        Rung::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Rung {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened on one rung.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RungOutcome {
    /// Every check of the rung ran and passed.
    Pass,
    /// A check failed.
    Fail {
        /// The first failure, in one line.
        reason: String,
    },
    /// The rung did not run.
    Skipped {
        /// Why it did not run.
        reason: String,
        /// True when the recipe declared it (`expected_na`).
        intentional: bool,
    },
    /// It ran only in part, so no verdict can be given.
    Unverified {
        /// What is missing.
        reason: String,
    },
    /// None of its steps ran, because an earlier step they need did not succeed (the
    /// install failed, say). The earlier failure is the reason given for the verdict.
    NotRun {
        /// What it waited on, e.g. `install failed`.
        because: String,
    },
}

impl RungOutcome {
    /// A one-word label: `pass`, `fail`, `skip`, `unverified`.
    pub fn label(&self) -> &'static str {
        match self {
            RungOutcome::Pass => "pass",
            RungOutcome::Fail { .. } => "fail",
            RungOutcome::Skipped { .. } => "skip",
            RungOutcome::Unverified { .. } => "unverified",
            RungOutcome::NotRun { .. } => "not run",
        }
    }

    /// Why it is not a pass (the failure, the skip's reason, what was not verified, what it
    /// needed); `None` for a pass.
    pub fn reason(&self) -> Option<&str> {
        match self {
            RungOutcome::Pass => None,
            RungOutcome::Fail { reason }
            | RungOutcome::Skipped { reason, .. }
            | RungOutcome::Unverified { reason } => Some(reason),
            RungOutcome::NotRun { because } => Some(because),
        }
    }
}

/// The overall verdict of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing failed and nothing was skipped that the recipe did not declare.
    Green,
    /// Something failed, is unverified, or was skipped without being declared.
    Red,
}

/// A level, L0 (nothing passed) to L4 (every rung passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Level(pub u8);

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}", self.0)
    }
}

/// The outcome of every rung of one run.
///
/// ```
/// use ccci_core::ladder::{Ladder, Level, Rung, RungOutcome, Verdict};
/// let mut l = Ladder::default();
/// l.set(Rung::Install, RungOutcome::Pass);
/// l.set(Rung::Upgrade, RungOutcome::Pass);
/// l.set(Rung::BackupRestore, RungOutcome::Skipped { reason: "stateless".into(), intentional: true });
/// l.set(Rung::Functional, RungOutcome::Pass);
/// assert_eq!(l.level(), Level(2));
/// assert_eq!(l.level_cap_rung(), Some(Rung::BackupRestore));
/// assert_eq!(l.verdict(), Verdict::Green);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    rungs: BTreeMap<Rung, RungOutcome>,
}

impl Default for Ladder {
    /// Every rung starts as unverified: nothing is claimed until a tier reports.
    fn default() -> Self {
        let rungs = Rung::ALL
            .into_iter()
            .map(|r| {
                (
                    r,
                    RungOutcome::Unverified {
                        reason: "did not run".into(),
                    },
                )
            })
            .collect();
        Ladder { rungs }
    }
}

impl Ladder {
    /// Records the outcome of `rung`.
    pub fn set(&mut self, rung: Rung, outcome: RungOutcome) {
        self.rungs.insert(rung, outcome);
    }

    /// The outcome of `rung`.
    pub fn get(&self, rung: Rung) -> &RungOutcome {
        &self.rungs[&rung]
    }

    /// All rungs with their outcomes, bottom first.
    pub fn rungs(&self) -> &BTreeMap<Rung, RungOutcome> {
        &self.rungs
    }

    /// Number of rungs that pass from the bottom before the first that does not.
    pub fn level(&self) -> Level {
        Level(
            self.rungs
                .values()
                .take_while(|o| **o == RungOutcome::Pass)
                .count() as u8,
        )
    }

    /// The first rung that is not a pass: what capped the level. `None` at L4.
    pub fn level_cap_rung(&self) -> Option<Rung> {
        self.rungs
            .iter()
            .find(|(_, o)| **o != RungOutcome::Pass)
            .map(|(r, _)| *r)
    }

    /// Green when no rung failed, none is unverified and every skip was declared.
    pub fn verdict(&self) -> Verdict {
        if self.red_reasons().is_empty() {
            Verdict::Green
        } else {
            Verdict::Red
        }
    }

    /// Why the verdict is red, one line per cause; empty when green. Rungs that did not run
    /// because of the same earlier failure share one line, so a failed install is reported
    /// once, not once per rung above it.
    pub fn red_reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        let mut not_run: Vec<(&str, Vec<Rung>)> = Vec::new();
        for (r, o) in &self.rungs {
            match o {
                RungOutcome::Pass
                | RungOutcome::Skipped {
                    intentional: true, ..
                } => {}
                RungOutcome::Fail { reason } => reasons.push(format!("{r} failed: {reason}")),
                RungOutcome::Skipped { reason, .. } => reasons.push(format!(
                    "{r} was skipped without being declared in expected_na: {reason}"
                )),
                RungOutcome::Unverified { reason } => {
                    reasons.push(format!("{r} is unverified: {reason}"))
                }
                RungOutcome::NotRun { because } => {
                    match not_run.iter_mut().find(|(b, _)| b == because) {
                        Some((_, rungs)) => rungs.push(*r),
                        None => not_run.push((because, vec![*r])),
                    }
                }
            }
        }
        for (because, rungs) in not_run {
            let names: Vec<&str> = rungs.iter().map(|r| r.as_str()).collect();
            reasons.push(format!("{} not run ({because})", names.join(", ")));
        }
        reasons
    }

    /// Skipped rungs split into (intentional, unintentional), each rung → reason.
    pub fn skips(&self) -> Skips {
        let mut s = Skips::default();
        for (r, o) in &self.rungs {
            if let RungOutcome::Skipped {
                reason,
                intentional,
            } = o
            {
                let side = if *intentional {
                    &mut s.intentional
                } else {
                    &mut s.unintentional
                };
                side.insert(*r, reason.clone());
            }
        }
        s
    }
}

/// Skipped rungs by kind, as results.json records them, so a reader sees which skips were
/// declared [R2].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skips {
    /// Rungs the recipe declared not applicable, with its reason.
    pub intentional: BTreeMap<Rung, String>,
    /// Rungs skipped for any other reason.
    pub unintentional: BTreeMap<Rung, String>,
}

/// What happened to one test (a generic tier check or a recipe test).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TestStatus {
    /// Ran and passed.
    Pass,
    /// Ran and failed.
    Fail {
        /// The error, as reported.
        message: String,
    },
    /// Selected, but could not run because an earlier step it needs did not succeed.
    NotRun {
        /// What it needed, e.g. `install failed`.
        reason: String,
    },
    /// Selected, but the step found that it does not apply to this recipe (no release to
    /// upgrade from, no backupbot labels) and nothing declared that in `expected_na`.
    CannotRun {
        /// Why it cannot apply, and how to declare or fix it.
        reason: String,
    },
    /// Not selected by the test filter of this invocation.
    Filtered,
    /// Not run because the recipe declared its rung not applicable (`expected_na`).
    Skipped {
        /// The recipe's reason.
        reason: String,
    },
}

/// Derives a rung's outcome from the tests that make it up.
///
/// - any failure → fail (the first one's message);
/// - no tests at all → skipped, intentional if `declared_na` gives a reason;
/// - a step that found it cannot apply → skipped, unintentional (`expected_na` turns it into
///   a declared skip before it runs);
/// - all passed → pass;
/// - none ran because an earlier step failed → not run, with that cause;
/// - otherwise (some not run or filtered out) → unverified: a part of the rung was not checked.
///
/// A rung the recipe declared not applicable but that has passing tests is simply a pass.
pub fn rung_from_tests(
    rung: Rung,
    tests: &[(&str, &TestStatus)],
    declared_na: Option<&str>,
) -> RungOutcome {
    if let Some((name, TestStatus::Fail { message })) = tests
        .iter()
        .find(|(_, s)| matches!(s, TestStatus::Fail { .. }))
    {
        return RungOutcome::Fail {
            reason: format!("{name}: {message}"),
        };
    }
    let all_skipped = !tests.is_empty()
        && tests
            .iter()
            .all(|(_, s)| matches!(s, TestStatus::Skipped { .. }));
    if tests.is_empty() || all_skipped {
        return match declared_na {
            Some(reason) => RungOutcome::Skipped {
                reason: reason.into(),
                intentional: true,
            },
            None => RungOutcome::Skipped {
                reason: format!("no {rung} tests exist for this recipe"),
                intentional: false,
            },
        };
    }
    if let Some((_, TestStatus::CannotRun { reason })) = tests
        .iter()
        .find(|(_, s)| matches!(s, TestStatus::CannotRun { .. }))
    {
        return RungOutcome::Skipped {
            reason: reason.clone(),
            intentional: false,
        };
    }
    if tests.iter().all(|(_, s)| **s == TestStatus::Pass) {
        return RungOutcome::Pass;
    }
    if let Some((_, TestStatus::NotRun { reason })) = tests.first() {
        if tests
            .iter()
            .all(|(_, s)| matches!(s, TestStatus::NotRun { .. }))
        {
            return RungOutcome::NotRun {
                because: reason.clone(),
            };
        }
    }
    if tests.iter().all(|(_, s)| **s == TestStatus::Filtered) {
        return RungOutcome::Skipped {
            reason: "not selected by the test filter".into(),
            intentional: false,
        };
    }
    let missing: Vec<String> = tests
        .iter()
        .filter_map(|(n, s)| match s {
            TestStatus::NotRun { reason } => Some(format!("{n} not run ({reason})")),
            TestStatus::Filtered => Some(format!("{n} filtered out")),
            TestStatus::Skipped { reason } => Some(format!("{n} skipped ({reason})")),
            TestStatus::CannotRun { reason } => Some(format!("{n} cannot run ({reason})")),
            _ => None,
        })
        .collect();
    RungOutcome::Unverified {
        reason: missing.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(outcomes: [RungOutcome; 4]) -> Ladder {
        let mut l = Ladder::default();
        for (r, o) in Rung::ALL.into_iter().zip(outcomes) {
            l.set(r, o);
        }
        l
    }
    fn skip(intentional: bool) -> RungOutcome {
        RungOutcome::Skipped {
            reason: "r".into(),
            intentional,
        }
    }
    fn fail() -> RungOutcome {
        RungOutcome::Fail {
            reason: "boom".into(),
        }
    }
    use RungOutcome::Pass;

    #[test]
    fn all_pass_is_l4_green() {
        let l = ladder([Pass, Pass, Pass, Pass]);
        assert_eq!(
            (l.level(), l.level_cap_rung(), l.verdict()),
            (Level(4), None, Verdict::Green)
        );
    }

    #[test]
    fn an_intentional_skip_caps_but_stays_green() {
        let l = ladder([Pass, Pass, skip(true), Pass]);
        assert_eq!(
            (l.level(), l.level_cap_rung(), l.verdict()),
            (Level(2), Some(Rung::BackupRestore), Verdict::Green)
        );
        assert_eq!(l.skips().intentional.len(), 1);
    }

    #[test]
    fn an_unintentional_skip_caps_and_is_red() {
        let l = ladder([Pass, skip(false), Pass, Pass]);
        assert_eq!((l.level(), l.verdict()), (Level(1), Verdict::Red));
        assert!(l.red_reasons()[0].contains("without being declared"));
    }

    #[test]
    fn a_failure_above_a_cap_still_makes_the_run_red() {
        let l = ladder([Pass, skip(true), Pass, fail()]);
        assert_eq!((l.level(), l.verdict()), (Level(1), Verdict::Red));
        assert_eq!(l.red_reasons(), ["functional failed: boom"]);
    }

    #[test]
    fn rungs_not_run_for_one_cause_share_one_reason() {
        let not_run = || RungOutcome::NotRun {
            because: "install failed".into(),
        };
        let l = ladder([
            RungOutcome::Fail {
                reason: "health path / answered 404".into(),
            },
            not_run(),
            not_run(),
            not_run(),
        ]);
        assert_eq!(
            l.red_reasons(),
            [
                "install failed: health path / answered 404",
                "upgrade, backup_restore, functional not run (install failed)"
            ]
        );
        assert_eq!(l.level(), Level(0));
    }

    #[test]
    fn a_step_that_cannot_apply_is_an_undeclared_skip() {
        let cannot = TestStatus::CannotRun {
            reason: "no release before the head".into(),
        };
        let out = rung_from_tests(Rung::Upgrade, &[("upgrade::x", &cannot)], None);
        assert_eq!(
            out,
            RungOutcome::Skipped {
                reason: "no release before the head".into(),
                intentional: false
            }
        );
        let restore_waiting = TestStatus::NotRun {
            reason: "backup did not run".into(),
        };
        let out = rung_from_tests(
            Rung::BackupRestore,
            &[("backup", &cannot), ("restore", &restore_waiting)],
            None,
        );
        assert!(
            matches!(
                out,
                RungOutcome::Skipped {
                    intentional: false,
                    ..
                }
            ),
            "{out:?}"
        );
    }

    #[test]
    fn nothing_reported_is_l0_unverified() {
        let l = Ladder::default();
        assert_eq!(
            (l.level(), l.level_cap_rung(), l.verdict()),
            (Level(0), Some(Rung::Install), Verdict::Red)
        );
    }

    #[test]
    fn rung_derivation_from_tests() {
        let p = TestStatus::Pass;
        let f = TestStatus::Fail {
            message: "404".into(),
        };
        let n = TestStatus::NotRun {
            reason: "install failed".into(),
        };
        let x = TestStatus::Filtered;
        let r = Rung::Functional;
        assert_eq!(rung_from_tests(r, &[("a", &p), ("b", &p)], None), Pass);
        assert_eq!(
            rung_from_tests(r, &[("a", &p), ("b", &f)], None),
            RungOutcome::Fail {
                reason: "b: 404".into()
            }
        );
        assert_eq!(
            rung_from_tests(r, &[], Some("none")),
            RungOutcome::Skipped {
                reason: "none".into(),
                intentional: true
            }
        );
        assert!(matches!(
            rung_from_tests(r, &[], None),
            RungOutcome::Skipped {
                intentional: false,
                ..
            }
        ));
        assert_eq!(
            rung_from_tests(r, &[("a", &n), ("b", &n)], None),
            RungOutcome::NotRun {
                because: "install failed".into()
            }
        );
        assert_eq!(
            rung_from_tests(r, &[("a", &p), ("b", &n), ("c", &x)], None),
            RungOutcome::Unverified {
                reason: "b not run (install failed); c filtered out".into()
            }
        );
        assert!(matches!(
            rung_from_tests(r, &[("a", &x)], None),
            RungOutcome::Skipped {
                intentional: false,
                ..
            }
        ));
        assert_eq!(
            rung_from_tests(r, &[("a", &p)], Some("declared but ran")),
            Pass
        );
    }
}
