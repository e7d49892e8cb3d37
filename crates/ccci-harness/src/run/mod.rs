//! One run of one recipe: the steps of [`crate::plan`] executed in order against one deployed
//! app, teardown, and results.json. Driven step by step by the libtest runner
//! ([`crate::runner`]) or all at once by [`run_recipe`].
//!
//! The state of a run has three owners, and no field is held twice:
//! - what never changes after the start (settings, meta, hooks, [`RunDir`], budgets) is
//!   [`Shared`], which the tiers read;
//! - the [`Record`] of outcomes, in [`Shared`] too: only appended to, behind a lock taken for
//!   a moment and never across an await;
//! - the [`Deployment`], which the running step takes out and puts back when it ends, so a
//!   step owns it while it awaits and teardown owns it at the end.
//!
//! Around the steps, each in a room of its own: `guards` (the janitor before the first step,
//! and Ctrl-C/SIGTERM), `forensics` (what a failed step keeps), `manifest` (how the run was
//! customised) and `ending` (screenshot, keep or teardown, results).
//!
//! [`Record`]: crate::record::Record

mod canonical;
mod ending;
mod forensics;
mod guards;
mod manifest;
mod rollback;

use crate::budget::Budgets;
use crate::deployment::Deployment;
use crate::error::{HarnessError, RecipeFailure, StepError};
use crate::plan::{plan, Action, Hooks, Step};
use crate::record::{Record, TierOutcome};
use crate::run_dir::RunDir;
use crate::settings::Settings;
use crate::shared::{lock, Shared};
use ccci_core::ladder::TestStatus;
use ccci_core::{Op, OpState, RecipeMeta};
use ccci_swarm::Deadline;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// A finished run: its results and where results.json was written.
#[derive(Debug, Clone)]
pub struct Report {
    /// What the run concluded.
    pub results: ccci_core::Results,
    /// The results.json path.
    pub path: PathBuf,
    /// Whether Ctrl-C or SIGTERM cut the run short (it still tore down and wrote results).
    pub interrupted: bool,
}

/// Runs every step of a recipe's lifecycle in order, tears down and writes results.json:
/// the library form of `cargo test -p recipe-<name>`, for tools that embed ccci.
pub fn run_recipe(
    settings: Settings,
    meta: RecipeMeta,
    hooks: Hooks,
) -> Result<Report, HarnessError> {
    let run = Arc::new(Run::new(settings, meta, hooks)?);
    run.watch_signals();
    run.reap_killed_runs();
    for step in run.steps().to_vec() {
        let _ = run.execute_said(&step);
    }
    Ok(run.finish())
}

/// One run. Steps execute one at a time (the runner forces one test thread: tiers are
/// ordered and share one deployed app).
pub(crate) struct Run {
    /// What every step reads, and the record they write.
    shared: Shared,
    rt: tokio::runtime::Runtime,
    started: SystemTime,
    steps: Vec<Step>,
    interrupt: tokio::sync::watch::Sender<bool>,
    /// The Docker daemon as the step watcher pings it ([`Run::block_on_step`]).
    watched: tokio::sync::Mutex<Option<ccci_swarm::Swarm>>,
    /// What the daemon said when it stopped answering during the current step, if it did.
    daemon_gone: Mutex<Option<String>>,
    deployment: Mutex<Option<Deployment>>,
    /// The run's entry in the run journal, noted again when the run ends.
    journal: Mutex<Option<crate::journal::Journal>>,
}

impl Run {
    pub(crate) fn new(
        settings: Settings,
        meta: RecipeMeta,
        hooks: Hooks,
    ) -> Result<Run, HarnessError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(HarnessError::Runtime)?;
        let started = SystemTime::now();
        let steps = plan(&hooks, &meta.expected_na, settings.lane);
        for (i, step) in steps.iter().enumerate() {
            if steps[..i].iter().any(|s| s.name == step.name) {
                return Err(HarnessError::DuplicateStep {
                    name: step.name.clone(),
                });
            }
        }
        let run_id = crate::names::run_id(started);
        let dir = RunDir::create(&settings.runs_dir, &meta.recipe, &run_id)?;
        let (registry, no_registry) =
            match crate::registry::Registry::open(settings.registry_dir.as_deref()) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e)),
            };
        let mut record = Record {
            lane: settings.lane,
            manifest: manifest::customisation(&settings, &meta, &hooks),
            dependencies: meta
                .deps
                .iter()
                .map(|d| ccci_core::results::DependencyRecord::declared(&d.name))
                .collect(),
            ..Record::default()
        };
        let journal = start_journal(&settings, &meta, &run_id, &dir, &mut record);
        if let Some(e) = no_registry {
            record.warn(&format!(
                "no run registry ({e}): if this run is killed, `cargo ccci janitor` cannot find what it deployed; set {} to a writable directory",
                ccci_core::vars::REGISTRY_DIR
            ));
        }
        Ok(Run {
            shared: Shared {
                registry,
                budgets: Budgets::of(&meta),
                settings,
                meta: Arc::new(meta),
                hooks,
                dir,
                op_state: Arc::new(OpState::default()),
                run_id,
                record: Mutex::new(record),
                picture_taken: Arc::default(),
            },
            steps,
            rt,
            started,
            interrupt: tokio::sync::watch::Sender::new(false),
            watched: tokio::sync::Mutex::new(None),
            daemon_gone: Mutex::new(None),
            deployment: Mutex::new(None),
            journal: Mutex::new(journal),
        })
    }

    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Whether `step` has run (or been recorded as not run) in this process.
    pub(crate) fn has_run(&self, step: &Step) -> bool {
        self.shared.record(|r| r.has(step))
    }

    /// Whether the run was refused for bad input.
    pub(crate) fn refused(&self) -> bool {
        self.shared.record(|r| r.bad_input.is_some())
    }

    fn interrupted(&self) -> bool {
        *self.interrupt.borrow()
    }

    /// Executes one step and records it. `Err` is the failure message for libtest.
    pub(crate) fn execute(&self, step: &Step) -> Result<(), String> {
        self.catch_up(step);
        self.execute_one(step).map_err(|e| e.to_string())
    }

    /// Executes one step as [`Run::execute`] does and says how it went on stderr, one line:
    /// for runs driven without libtest, which would otherwise say it.
    pub(crate) fn execute_said(&self, step: &Step) -> Result<(), String> {
        let started = Instant::now();
        let result = self.execute(step);
        let mark = match &result {
            Ok(()) if step.not_applicable.is_some() => "skipped".to_string(),
            Ok(()) => "ok".to_string(),
            // The summary says it, once.
            Err(_) if self.refused() => "refused: bad input".to_string(),
            Err(e) => format!("FAILED: {e}"),
        };
        eprintln!(
            "ccci: {} ... {mark} ({:.1}s)",
            step.name,
            started.elapsed().as_secs_f64()
        );
        result
    }

    /// Runs the lifecycle steps before `step` that have not run in this process, so a step
    /// selected alone (nextest runs each in a process of its own; `cargo test <filter>`) runs
    /// where it belongs: a restore check after the backup it needs, a functional test on the
    /// upgraded head. In a full run every earlier step has already run and this does nothing.
    fn catch_up(&self, step: &Step) {
        let Some(at) = self.steps.iter().position(|s| s.name == step.name) else {
            return;
        };
        for earlier in &self.steps[..at] {
            if self.shared.record(|r| r.has(earlier))
                || matches!(earlier.action, Action::Functional(_))
            {
                continue;
            }
            let started = Instant::now();
            let mark = match self.execute_one(earlier) {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("FAILED: {e}"),
            };
            eprintln!(
                "ccci: (before {}) {} ... {mark} ({:.1}s)",
                step.name,
                earlier.name,
                started.elapsed().as_secs_f64()
            );
        }
    }

    /// Records a step of a rung the recipe declared not applicable (libtest ignored it).
    pub(crate) fn execute_declared_skip(&self, step: &Step) {
        if !self.shared.record(|r| r.has(step)) {
            let _ = self.execute_one(step);
        }
    }

    fn execute_one(&self, step: &Step) -> Result<(), StepError> {
        let started = Instant::now();
        if let Some(reason) = &step.not_applicable {
            let status = TestStatus::Skipped {
                reason: reason.clone(),
            };
            self.shared
                .record(|r| r.push(step, status, started, None, None));
            return Ok(());
        }
        // After an interrupt every step left is "interrupted", not "its prerequisite failed".
        let unmet = match self.interrupted() {
            true => Some(Err(StepError::Interrupted)),
            false => self
                .unmet_dependency(step)
                .map(|because| Err(StepError::NotRun { because })),
        };
        let result = match unmet {
            Some(not_run) => not_run,
            None => match step.action {
                Action::Tier(op) => self.tier(op),
                Action::Hook(def) => self.recipe_step(step, def.run, def.file, def.line),
                Action::Functional(def) => self.recipe_step(step, def.run, def.file, def.line),
            },
        };
        let (status, forensics, host) = match &result {
            Ok(()) => (TestStatus::Pass, None, None),
            Err(StepError::CannotRun(why)) => (
                TestStatus::CannotRun {
                    reason: why.to_string(),
                },
                None,
                None,
            ),
            Err(StepError::NotRun { because }) => (
                TestStatus::NotRun {
                    reason: because.clone(),
                },
                None,
                None,
            ),
            Err(StepError::Interrupted) => (
                TestStatus::NotRun {
                    reason: "the run was interrupted".into(),
                },
                None,
                None,
            ),
            Err(e) => {
                let message = e.to_string();
                // A dependency that went away is the likeliest cause: say so if it did.
                self.check_dependencies();
                let kept = self.forensics(step, &message);
                let host = e
                    .host_fault()
                    .or_else(|| self.dependency_fault())
                    .or_else(|| {
                        lock(&self.daemon_gone).clone().map(|why| {
                            format!("the Docker daemon stopped answering during the step ({why})")
                        })
                    });
                (TestStatus::Fail { message }, kept, host)
            }
        };
        self.shared
            .record(|r| r.push(step, status, started, forensics, host));
        self.persist_op_state();
        result
    }

    /// Runs a generic tier under a fresh deadline of its step, owning the deployment while
    /// it runs, and records how it ended for the steps that need it.
    fn tier(&self, op: Op) -> Result<(), StepError> {
        let deadline = self.shared.budgets.op_step();
        let mut lent = Lent::take(&self.deployment);
        let slot = &mut lent.0;
        let result = self.block_on_step(async {
            match (op, slot) {
                (Op::Install, slot) => crate::tiers::install(&self.shared, slot, deadline).await,
                (_, None) => Err(StepError::NotRun {
                    because: "the app is not deployed".into(),
                }),
                (Op::Upgrade, Some(d)) => crate::tiers::upgrade(&self.shared, d, deadline).await,
                (Op::Backup, Some(d)) => crate::tiers::backup(&self.shared, d, deadline).await,
                (Op::Restore, Some(d)) => crate::tiers::restore(&self.shared, d, deadline).await,
            }
        });
        let on_swarm = lent.0.as_ref().is_some_and(|d| d.on_swarm);
        drop(lent);
        // Input that is wrong, found before anything was deployed: the run could not run.
        if let Err(StepError::Tier(e)) = &result {
            if e.is_bad_input() && !on_swarm {
                let e = e.to_string();
                self.shared.record(|r| r.bad_input = Some(e));
            }
        }
        let outcome = match &result {
            Ok(()) => TierOutcome::Passed,
            Err(StepError::CannotRun(_)) => TierOutcome::CannotRun,
            Err(_) => TierOutcome::Failed,
        };
        self.shared.record(|r| r.tiers.insert(op, outcome));
        result
    }

    /// Records each provided dependency that no longer answers (see [`crate::deps::check`]).
    pub(super) fn check_dependencies(&self) {
        let lent = Lent::take(&self.deployment);
        if let Some(d) = lent.0.as_ref().filter(|d| !d.deps.realms.is_empty()) {
            self.rt.block_on(crate::deps::check(&self.shared, d));
        }
    }

    /// Runs `fut` to its end, or until Ctrl-C or SIGTERM ends the step.
    fn block_on_step<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, StepError>>,
    ) -> Result<T, StepError> {
        let mut interrupted = self.interrupt.subscribe();
        *lock(&self.daemon_gone) = None;
        self.rt.block_on(async {
            tokio::select! {
                r = fut => r,
                _ = interrupted.wait_for(|set| *set) => {
                    // The step's future is dropped here; a command it started would live on.
                    ccci_process::stop_all();
                    Err(StepError::Interrupted)
                }
                never = self.watch_daemon() => match never {},
            }
        })
    }

    /// What the host lacked when a dependency ccci provides is not there (lost during the run,
    /// or withheld): a step that failed then failed for want of it.
    fn dependency_fault(&self) -> Option<String> {
        self.shared.record(|r| {
            r.dependencies.iter().find_map(|d| {
                let p = d.problem.as_ref()?;
                Some(format!("dependency `{}`, which ccci provides: {p}", d.name))
            })
        })
    }

    /// Pings the Docker daemon while a step runs and notes, once, when it stops answering
    /// (a dockerd restart): a step that fails then is the host's fault, not the recipe's.
    /// Never resolves.
    async fn watch_daemon(&self) -> std::convert::Infallible {
        let mut watched = self.watched.lock().await;
        if watched.is_none() {
            match ccci_swarm::Swarm::connect().await {
                Ok(swarm) => *watched = Some(swarm),
                Err(e) => *lock(&self.daemon_gone) = Some(e.to_string()),
            }
        }
        if let Some(swarm) = watched.as_ref() {
            let why = swarm
                .stops_answering(std::time::Duration::from_secs(2))
                .await;
            lock(&self.daemon_gone).get_or_insert(why);
        }
        drop(watched);
        std::future::pending().await
    }

    /// Runs a lifecycle function or functional test as its own step.
    fn recipe_step(
        &self,
        step: &Step,
        f: crate::recipe_fn::RecipeFn,
        file: &'static str,
        line: u32,
    ) -> Result<(), StepError> {
        let failed = |failure| StepError::Recipe {
            failure,
            file,
            line,
        };
        let fx = match lock(&self.deployment).as_ref() {
            Some(d) => Arc::new(d.fixtures(&self.shared, step.op)),
            None => {
                return Err(failed(RecipeFailure::NoFixtures(
                    "the app is not deployed".into(),
                )))
            }
        };
        let budget = Deadline::after(self.shared.budgets.recipe_fn);
        self.block_on_step(async { crate::recipe_fn::call(f, fx, budget).await.map_err(failed) })
    }

    /// Which tier this step needs ([`Step::needs`], decided by the plan) that did not pass.
    fn unmet_dependency(&self, step: &Step) -> Option<String> {
        let tiers = self.shared.record(|r| r.tiers.clone());
        // Short on purpose: the failure itself is reported once, by the step that failed.
        let need = |op: Op| -> Option<String> {
            match tiers.get(&op) {
                Some(TierOutcome::Passed) => None,
                Some(TierOutcome::Failed) => Some(format!("{op} failed")),
                Some(TierOutcome::CannotRun) => Some(format!("{op} could not run")),
                None => Some(format!("{op} did not run")),
            }
        };
        step.needs.iter().find_map(|op| need(*op))
    }
}

/// The deployment lent to the running step; back in the run when dropped, even when the
/// step panicked, so teardown always finds what to remove.
struct Lent<'r>(Option<Deployment>, &'r Mutex<Option<Deployment>>);

impl<'r> Lent<'r> {
    fn take(home: &'r Mutex<Option<Deployment>>) -> Lent<'r> {
        Lent(lock(home).take(), home)
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        *lock(self.1) = self.0.take();
    }
}

/// The run's note in the run journal, for the run store; a journal that cannot be written is
/// a warning of the run's, never its failure.
fn start_journal(
    settings: &Settings,
    meta: &RecipeMeta,
    run_id: &str,
    dir: &RunDir,
    record: &mut Record,
) -> Option<crate::journal::Journal> {
    let journal = settings.journal_dir.as_deref()?;
    crate::journal::Journal::start(
        journal,
        run_id,
        &meta.recipe,
        settings.reference.as_deref(),
        dir.path(),
        settings.lane,
        crate::build::host_name(settings),
    )
    .map_err(|e| {
        record.warn(&format!(
            "no run journal ({e}): this run will not reach the run store; set {} to a writable directory",
            ccci_core::vars::JOURNAL_DIR
        ))
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::{BoxFuture, TestDef};
    use crate::fixture::Fixtures;

    fn passes(_: &Fixtures) -> BoxFuture<'_, crate::outcome::Result> {
        Box::pin(async { Ok(()) })
    }

    #[test]
    fn two_steps_of_one_name_are_refused_before_anything_starts() {
        static DEF: TestDef = TestDef {
            name: "serves",
            file: "tests/recipe.rs",
            line: 1,
            run: passes,
        };
        let hooks = Hooks {
            functional: vec![&DEF, &DEF],
            ..Hooks::none()
        };
        let runs = std::env::temp_dir().join(crate::names::unique("ccci-dup-runs"));
        let meta = RecipeMeta::new("x", ccci_core::meta::Source::Releases("r".into()));
        let e = Run::new(Settings::new(&runs, &runs), meta, hooks)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            e.contains("two steps are named `functional::serves`"),
            "{e}"
        );
        assert!(
            !runs.exists(),
            "no run directory for a run that never started"
        );
    }
}
