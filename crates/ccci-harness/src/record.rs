//! The record of a run: what each step ended as and what the run learned, shared between the
//! steps and the end of the run, and turned into results.json there. Only appended to.

use crate::plan::Step;
use ccci_core::ladder::TestStatus;
use ccci_core::results::{
    DependencyRecord, DeployRecord, Facts, Lane, RefInfo, RestoreProof, Results, Routing,
    SnapshotRecord, Teardown, TestRecord,
};
use ccci_core::{Op, RecipeMeta};
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

/// How a generic tier ended, for the steps that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TierOutcome {
    Passed,
    Failed,
    CannotRun,
}

/// What is known about a run so far.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// Every step that ended, in order.
    pub tests: Vec<TestRecord>,
    /// How each generic tier ended.
    pub tiers: BTreeMap<Op, TierOutcome>,
    /// The ref under test, once resolved.
    pub head: Option<RefInfo>,
    /// The release the upgrade starts from, if any.
    pub base: Option<RefInfo>,
    /// The app's domain and stack, once chosen.
    pub domain: String,
    pub stack: String,
    /// Every deploy, in order.
    pub deploys: Vec<DeployRecord>,
    /// Every backup attempt.
    pub snapshots: Vec<SnapshotRecord>,
    /// Things said once (ignored compose keys, the CI overlay).
    pub warnings: Vec<String>,
    /// What proved the restore brought data back.
    pub restore_proof: Option<RestoreProof>,
    /// How the app was reached.
    pub routing: Option<Routing>,
    /// Where it answered.
    pub app_url: Option<String>,
    /// Every change made to the recipe's stack, once each.
    pub changes: Vec<String>,
    /// How the run was customised (see `Results::manifest`).
    pub manifest: Vec<String>,
    /// The app's front page before teardown.
    pub screenshot: Option<ccci_core::results::Picture>,
    /// The run's input is wrong, and it was refused before deploying (see
    /// `Results::bad_input`).
    pub bad_input: Option<String>,
    /// Every dependency the recipe declares, and what became of it.
    pub dependencies: Vec<DependencyRecord>,
    /// The run's lane.
    pub lane: Lane,
    /// The recipe's latest release, once the checkout knows it.
    pub latest: Option<String>,
    /// What the run did with its recipe's canonical deployment.
    pub canonical: Option<ccci_core::canonical::CanonicalOutcome>,
    /// Every upgrade path, the run's own first.
    pub upgrade_paths: Vec<ccci_core::canonical::UpgradePath>,
    /// How the app rolled back, when the run was asked to.
    pub rollback: Option<ccci_core::results::Rollback>,
}

impl Record {
    /// Whether `step` has ended.
    pub(crate) fn has(&self, step: &Step) -> bool {
        self.tests.iter().any(|r| r.name == step.name)
    }

    /// Records how `step` ended.
    pub(crate) fn push(
        &mut self,
        step: &Step,
        status: TestStatus,
        started: Instant,
        forensics: Option<String>,
        host_fault: Option<String>,
    ) {
        self.tests.push(TestRecord {
            name: step.name.clone(),
            rung: step.rung,
            status,
            duration_ms: started.elapsed().as_millis() as u64,
            forensics,
            host_fault,
        });
    }

    /// Says `warning` once, on the terminal and in results.json.
    pub(crate) fn warn(&mut self, warning: &str) {
        if !self.warnings.iter().any(|w| w == warning) {
            eprintln!("ccci: warning: {warning}");
            self.warnings.push(warning.to_string());
        }
    }

    /// Every step of the plan with its outcome: the ones that never ran were filtered out by
    /// the test filter, or cut off by an interrupt.
    fn every_step(&self, run: &RunFacts<'_>, steps: &[Step]) -> Vec<TestRecord> {
        let mut tests = self.tests.clone();
        for step in steps.iter().filter(|s| !self.has(s)) {
            tests.push(TestRecord {
                name: step.name.clone(),
                rung: step.rung,
                status: match run.interrupted {
                    true => TestStatus::NotRun {
                        reason: "the run was interrupted".into(),
                    },
                    false => TestStatus::Filtered,
                },
                duration_ms: 0,
                forensics: None,
                host_fault: None,
            });
        }
        tests
    }

    /// The results of the run, concluded in one pass from what it recorded: every step of
    /// `steps` that never ended is recorded as not run (interrupted) or not selected by the
    /// test filter, and `teardown` is how it ended.
    pub(crate) fn results(
        &self,
        run: &RunFacts<'_>,
        steps: &[Step],
        teardown: Teardown,
    ) -> Results {
        let tests = self.every_step(run, steps);
        let manifest = manifest(&self.manifest, &tests);
        let finished = SystemTime::now();
        let secs = ccci_core::time::unix_secs;
        let facts = Facts {
            run_id: run.run_id.into(),
            recipe: run.meta.recipe.clone(),
            // A run refused before it resolved its ref knows only that it asked for HEAD.
            head: self.head.clone().unwrap_or(RefInfo {
                reference: "HEAD".into(),
                commit: String::new(),
                version: None,
            }),
            upgrade_base: self.base.clone(),
            domain: self.domain.clone(),
            stack: self.stack.clone(),
            deployer: "builtin".into(),
            started_at: ccci_core::time::rfc3339(secs(run.started)),
            finished_at: ccci_core::time::rfc3339(secs(finished)),
            duration_secs: finished
                .duration_since(run.started)
                .map_or(0.0, |d| d.as_secs_f64()),
            tests,
            snapshots: self.snapshots.clone(),
            teardown,
            run_dir: run.run_dir.into(),
            deploys: self.deploys.clone(),
            dependencies: self.dependencies.clone(),
            restore_proof: self.restore_proof.clone(),
            warnings: self.warnings.clone(),
            routing: self.routing,
            app_url: self.app_url.clone(),
            changes: self.changes.clone(),
            manifest,
            screenshot: self.screenshot.clone(),
            bad_input: self.bad_input.clone(),
            ccci: Some(crate::build::this()),
            host: run.host.clone(),
            lane: self.lane,
            canonical: self.canonical.clone(),
            upgrade_paths: self.upgrade_paths.clone(),
            cancelled: run
                .interrupted
                .then(|| "interrupted (Ctrl-C or SIGTERM); it tore down".to_string()),
            rollback: self.rollback.clone(),
        };
        let mut declared = run.meta.expected_na.clone();
        if let Some(why) = self.lane.skips_backup() {
            declared.insert(ccci_core::Rung::BackupRestore, why.into());
        }
        Results::conclude(facts, &declared)
    }
}

/// The manifest with the test filter, if one left steps out.
fn manifest(recorded: &[String], tests: &[TestRecord]) -> Vec<String> {
    let filtered = tests
        .iter()
        .filter(|t| t.status == TestStatus::Filtered)
        .count();
    let mut m = recorded.to_vec();
    if filtered > 0 {
        m.push(format!("test filter: {filtered} steps not selected"));
    }
    m
}

/// What results.json needs to know about the run besides its record.
pub(crate) struct RunFacts<'a> {
    pub meta: &'a RecipeMeta,
    pub run_id: &'a str,
    pub run_dir: &'a str,
    pub started: SystemTime,
    pub interrupted: bool,
    /// This host's name, as the run records it ([`crate::build::host_name`]).
    pub host: Option<String>,
}
