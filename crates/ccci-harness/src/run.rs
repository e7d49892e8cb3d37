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
//! [`Record`]: crate::record::Record

use crate::budget::Budgets;
use crate::deployment::Deployment;
use crate::error::{HarnessError, RecipeFailure, StepError};
use crate::plan::{plan, Action, Hooks, Step};
use crate::record::{Record, RunFacts, TierOutcome};
use crate::run_dir::RunDir;
use crate::settings::Settings;
use crate::shared::{lock, Shared};
use ccci_abra::Deployer;
use ccci_core::ladder::TestStatus;
use ccci_core::results::Teardown;
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
    deployment: Mutex<Option<Deployment>>,
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
        let steps = plan(&hooks, &meta.expected_na);
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
            manifest: customisation(&settings, &meta, &hooks),
            ..Record::default()
        };
        if let Some(e) = no_registry {
            record.warn(&format!(
                "no run registry ({e}): if this run is killed, `cargo ccci janitor` cannot find what it deployed; set CCCI_REGISTRY_DIR to a writable directory"
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
            },
            steps,
            rt,
            started,
            interrupt: tokio::sync::watch::Sender::new(false),
            deployment: Mutex::new(None),
        })
    }

    /// The janitor before the first step: what runs killed on this daemon left behind is
    /// removed (never a live run's). Best effort: a failure is said and the run goes on.
    pub(crate) fn reap_killed_runs(&self) {
        let Some(registry) = &self.shared.registry else {
            return;
        };
        let reaped = self.rt.block_on(async {
            let swarm = ccci_swarm::Swarm::connect().await.ok()?;
            Some(
                crate::registry::reap(registry, &swarm, Default::default(), crate::budget::JANITOR)
                    .await,
            )
        });
        for r in reaped.unwrap_or_default() {
            match r.left.is_empty() {
                true => eprintln!(
                    "ccci: janitor: removed stack {} of run {} (process {} is gone)",
                    r.run.stack, r.run.run_id, r.run.pid
                ),
                false => eprintln!(
                    "ccci: janitor: stack {} of run {} is gone only in part; left: {}",
                    r.run.stack,
                    r.run.run_id,
                    r.left.join(", ")
                ),
            }
        }
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
            self.shared.record(|r| r.push(step, status, started, None));
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
                Action::Install => self.tier(Op::Install),
                Action::Upgrade => self.tier(Op::Upgrade),
                Action::Backup => self.tier(Op::Backup),
                Action::Restore => self.tier(Op::Restore),
                Action::Hook(def) => self.recipe_step(step, def.run, def.file, def.line),
                Action::Functional(def) => self.recipe_step(step, def.run, def.file, def.line),
            },
        };
        let (status, forensics) = match &result {
            Ok(()) => (TestStatus::Pass, None),
            Err(StepError::CannotRun(why)) => (
                TestStatus::CannotRun {
                    reason: why.to_string(),
                },
                None,
            ),
            Err(StepError::NotRun { because }) => (
                TestStatus::NotRun {
                    reason: because.clone(),
                },
                None,
            ),
            Err(StepError::Interrupted) => (
                TestStatus::NotRun {
                    reason: "the run was interrupted".into(),
                },
                None,
            ),
            Err(e) => {
                let message = e.to_string();
                let kept = self.forensics(step, &message);
                (TestStatus::Fail { message }, kept)
            }
        };
        self.shared
            .record(|r| r.push(step, status, started, forensics));
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

    /// Runs `fut` to its end, or until Ctrl-C or SIGTERM ends the step.
    fn block_on_step<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, StepError>>,
    ) -> Result<T, StepError> {
        let mut interrupted = self.interrupt.subscribe();
        self.rt.block_on(async {
            tokio::select! {
                r = fut => r,
                _ = interrupted.wait_for(|set| *set) => {
                    // The step's future is dropped here; a command it started would live on.
                    ccci_abra::process::stop_all();
                    Err(StepError::Interrupted)
                }
            }
        })
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

    /// Which earlier step this one needs that did not succeed. Restore needs a backup;
    /// assertions after an op need the op; everything needs the install.
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
        if !matches!(step.action, Action::Install) {
            if let Some(m) = need(Op::Install) {
                return Some(m);
            }
        }
        match step.action {
            Action::Restore => need(Op::Backup),
            Action::Hook(d) => match (d.op, d.before) {
                (Op::Upgrade, false) => need(Op::Upgrade),
                (Op::Backup, false) | (Op::Restore, true) => need(Op::Backup),
                (Op::Restore, false) => need(Op::Restore),
                _ => None,
            },
            _ => None,
        }
    }

    /// Keeps the stack's task history and log tails for a failed step (in the run directory,
    /// referenced from results.json); `None` when nothing is deployed or it cannot be written.
    fn forensics(&self, step: &Step, error: &str) -> Option<String> {
        let (swarm, stack) = {
            let d = lock(&self.deployment);
            let d = d.as_ref().filter(|d| d.on_swarm)?;
            (d.swarm.clone(), d.app.stack.clone())
        };
        let services = match self
            .rt
            .block_on(ccci_swarm::forensics::collect(&swarm, &stack, 50))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("ccci: could not collect forensics for {}: {e}", step.name);
                return None;
            }
        };
        let n = self.shared.record(|r| r.tests.len()) + 1;
        let name: String = step
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = self.shared.dir.forensics();
        let path = dir.join(format!("{n:02}-{name}.txt"));
        let text = format!(
            "step {}\nfailed: {error}\n\n{}",
            step.name,
            ccci_swarm::forensics::render(&services)
        );
        let written = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(&path, text))
            .and_then(|_| {
                std::fs::write(
                    path.with_extension("json"),
                    serde_json::to_string_pretty(&services).unwrap_or_default(),
                )
            });
        match written {
            Ok(()) => {
                eprintln!(
                    "ccci: {} failed; task history and logs kept in {}",
                    step.name,
                    path.display()
                );
                Some(path.display().to_string())
            }
            Err(e) => {
                eprintln!("ccci: could not write {}: {e}", path.display());
                None
            }
        }
    }

    fn persist_op_state(&self) {
        if let Ok(json) = serde_json::to_string_pretty(&self.shared.op_state.snapshot()) {
            let path = self.shared.dir.op_state();
            if let Err(e) = std::fs::write(&path, json) {
                eprintln!("ccci: cannot write {}: {e}", path.display());
            }
        }
    }

    /// Tears down, concludes the ladder and writes results.json and summary.txt. Steps that
    /// never ran were not selected by the test filter, or cut off by an interrupt.
    pub(crate) fn finish(&self) -> Report {
        self.take_screenshot();
        self.persist_op_state();
        let run_dir = self.shared.dir.path().display().to_string();
        let facts = RunFacts {
            meta: &self.shared.meta,
            run_id: &self.shared.run_id,
            run_dir: &run_dir,
            started: self.started,
            interrupted: self.interrupted(),
        };
        let red_so_far = || {
            let clean = Teardown {
                clean: true,
                ..Teardown::default()
            };
            let results = self
                .shared
                .record(|r| r.results(&facts, &self.steps, clean));
            results.verdict == ccci_core::Verdict::Red
        };
        let kept = match self.shared.settings.keep {
            Some(keep) if !self.interrupted() && red_so_far() => self.keep_stack(keep),
            _ => None,
        };
        let teardown = kept.unwrap_or_else(|| self.teardown());
        // A run that left something stays registered, for the janitor to retry (or, kept,
        // to remove when its time is up).
        if let (true, Some(registry)) = (teardown.clean, &self.shared.registry) {
            registry.forget(&self.shared.run_id);
        }
        let results = self
            .shared
            .record(|r| r.results(&facts, &self.steps, teardown));
        let path = self.shared.dir.results();
        match serde_json::to_string_pretty(&results) {
            Ok(json) => {
                for target in
                    std::iter::once(&path).chain(self.shared.settings.results_copy.as_ref())
                {
                    if let Err(e) = std::fs::write(target, &json) {
                        eprintln!("ccci: cannot write {}: {e}", target.display());
                    }
                }
            }
            Err(e) => eprintln!("ccci: cannot serialise the results: {e}"),
        }
        let summary = crate::report::summary(&results, &path);
        if let Err(e) = std::fs::write(self.shared.dir.summary(), format!("{summary}\n")) {
            eprintln!(
                "ccci: cannot write {}: {e}",
                self.shared.dir.summary().display()
            );
        }
        Report {
            results,
            path,
            interrupted: self.interrupted(),
        }
    }

    /// The app's front page, while it is still deployed and the run was not interrupted,
    /// when the settings ask for it (`cargo ccci run` does).
    /// Best effort: a failure is recorded, never a failure of the run.
    fn take_screenshot(&self) {
        if self.shared.settings.screenshot != Some(true) || self.interrupted() {
            return;
        }
        let target = {
            let d = lock(&self.deployment);
            d.as_ref().and_then(|d| {
                let base = d.base_url.clone()?;
                let resolve = d
                    .via
                    .resolve
                    .as_ref()
                    .map(|(host, addr)| (host.clone(), addr.ip().to_string()));
                Some((base, resolve))
            })
        };
        let Some((base, resolve)) = target else {
            return;
        };
        let url = format!("{base}/");
        let out = self.shared.dir.screenshot();
        let resolve = resolve.as_ref().map(|(h, ip)| (h.as_str(), ip.as_str()));
        let picture = match crate::screenshot::capture(&url, &out, (1280, 800), resolve) {
            Ok(()) => ccci_core::results::Picture::Taken {
                path: out.display().to_string(),
            },
            Err(reason) => {
                eprintln!("ccci: no screenshot of {url}: {reason}");
                ccci_core::results::Picture::Failed { reason }
            }
        };
        self.shared.record(|r| r.screenshot = Some(picture));
    }

    /// Leaves a red run's stack up for `keep` instead of tearing it down, registered so the
    /// janitor removes it after, and says how to reach and remove it. `None` (tear down as
    /// usual) when nothing is deployed or the registry cannot record the keep: a stack no
    /// janitor would ever remove is not left behind.
    fn keep_stack(&self, keep: std::time::Duration) -> Option<Teardown> {
        let (swarm, stack, url, resolve) = {
            let d = lock(&self.deployment);
            let d = d.as_ref().filter(|d| d.on_swarm)?;
            (
                d.swarm.clone(),
                d.app.stack.clone(),
                d.base_url.clone(),
                d.via.resolve.clone(),
            )
        };
        let until = crate::registry::unix_now() + keep.as_secs();
        let registry = self.shared.registry.as_ref()?;
        if let Err(e) = registry.keep(&self.shared.run_id, until) {
            eprintln!("ccci: cannot keep stack {stack} ({e}); tearing it down");
            return None;
        }
        let kept = ccci_core::results::Kept {
            stack: stack.clone(),
            until: ccci_core::time::rfc3339(until),
            url,
            remove: "cargo ccci janitor --kept".into(),
        };
        // The test domain resolves nowhere but here: say how to reach it anyway.
        let reach = match (&kept.url, &resolve) {
            (Some(url), Some((host, addr))) => {
                format!(
                    "{url} (curl -k --resolve {host}:{}:{} {url}/)",
                    addr.port(),
                    addr.ip()
                )
            }
            (Some(url), None) => url.clone(),
            (None, _) => "(it never answered)".into(),
        };
        eprintln!(
            "ccci: the run is red; stack {stack} is kept for debugging until {} (--keep)\n  the app:      {reach}\n  look:         docker stack ps {stack} --no-trunc; docker service logs {stack}_<service>\n  remove it:    {} (any ccci run or janitor after {} removes it)",
            kept.until,
            kept.remove,
            kept.until,
        );
        let leftovers = self
            .rt
            .block_on(swarm.leftovers(&stack))
            .unwrap_or_default();
        Some(Teardown {
            clean: false,
            leftovers,
            error: None,
            kept: Some(kept),
        })
    }

    /// Removes the app and everything it created, under teardown's own deadline: whatever
    /// happened before, this runs to its end.
    fn teardown(&self) -> Teardown {
        let Some(d) = lock(&self.deployment).take().filter(|d| d.on_swarm) else {
            return Teardown {
                clean: true,
                ..Teardown::default()
            };
        };
        let started = Instant::now();
        let deadline = Budgets::teardown(d.stop_grace);
        // A daemon that is restarting comes back within the budget: wait for it rather than
        // leave the stack for the janitor.
        if let Err(e) = self.rt.block_on(d.swarm.wait_reachable(deadline)) {
            eprintln!("ccci: teardown: {e}");
        }
        let result = self.rt.block_on(d.engine.remove(&d.app, deadline));
        eprintln!(
            "ccci: removed stack {} in {:.1}s",
            d.app.stack,
            started.elapsed().as_secs_f64()
        );
        match result {
            Ok(left) => Teardown {
                clean: left.is_empty(),
                leftovers: left,
                ..Teardown::default()
            },
            Err(e) => Teardown {
                clean: false,
                // Report what is still there even when removal failed part-way.
                leftovers: self
                    .rt
                    .block_on(d.swarm.leftovers(&d.app.stack))
                    .unwrap_or_default(),
                error: Some(e.to_string()),
                kept: None,
            },
        }
    }

    /// When the settings ask for it: the first Ctrl-C or SIGTERM ends the running step (the
    /// rest are recorded as not run) so the run tears down and writes its results before the
    /// process exits 130; a second one exits at once.
    pub(crate) fn watch_signals(self: &Arc<Self>) {
        if !self.shared.settings.watch_signals {
            return;
        }
        let interrupt = self.interrupt.clone();
        std::thread::spawn(move || {
            let watched = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .and_then(|rt| {
                    rt.block_on(async {
                        use tokio::signal::unix::{signal, SignalKind};
                        let mut term = signal(SignalKind::terminate())?;
                        let mut int = signal(SignalKind::interrupt())?;
                        for n in 0.. {
                            tokio::select! {
                                _ = int.recv() => {},
                                _ = term.recv() => {},
                            }
                            if n > 0 {
                                eprintln!("\nccci: interrupted again; exiting without teardown: the stack may be left behind");
                                std::process::exit(130);
                            }
                            eprintln!("\nccci: interrupted; ending the running step and tearing down (interrupt again to exit at once)");
                            interrupt.send_replace(true);
                        }
                        Ok::<(), std::io::Error>(())
                    })
                });
            if let Err(e) = watched {
                eprintln!("ccci: cannot watch for Ctrl-C/SIGTERM ({e}); an interrupted run may leave its stack behind");
            }
        });
    }
}

/// How a run is customised, one line each, for the manifest in results.json: settings that
/// differ from the defaults (values of secret-looking names redacted), the command line's
/// overrides, and the recipe's own functions.
fn customisation(settings: &Settings, meta: &RecipeMeta, hooks: &Hooks) -> Vec<String> {
    use ccci_core::results::looks_secret;
    let shown = |name: &str, v: &serde_json::Value| match looks_secret(name) {
        true => "<redacted>".to_string(),
        false => v.to_string(),
    };
    let mut m = Vec::new();
    let defaults = RecipeMeta::new(meta.recipe.clone(), meta.source.clone());
    if let (Ok(serde_json::Value::Object(set)), Ok(serde_json::Value::Object(default))) =
        (serde_json::to_value(meta), serde_json::to_value(&defaults))
    {
        for (key, value) in set.iter().filter(|(k, _)| *k != "recipe" && *k != "source") {
            if default.get(key) == Some(value) {
                continue;
            }
            match value.as_object() {
                Some(map) if key.ends_with("_env") => {
                    for (name, v) in map {
                        m.push(format!("setting {key}.{name} = {}", shown(name, v)));
                    }
                }
                _ => m.push(format!("setting {key} = {}", shown(key, value))),
            }
        }
    }
    let overrides = [
        (
            "recipe repository (CCCI_RECIPE_GIT)",
            settings.recipe_git.clone(),
        ),
        ("ref (CCCI_REF)", settings.reference.clone()),
        ("domain (CCCI_DOMAIN)", settings.domain.clone()),
        (
            "routing forced (CCCI_ROUTING)",
            settings.routing.map(|r| r.as_str().to_string()),
        ),
        (
            "pull (CCCI_PULL)",
            settings.pull.map(|p| p.as_str().to_string()),
        ),
    ];
    for (what, v) in overrides {
        if let Some(v) = v {
            m.push(format!("{what} = {v}"));
        }
    }
    if let Some(ipvs) = settings.ipvs {
        m.push(format!(
            "IPVS said to be {} (CCCI_IPVS)",
            if ipvs { "present" } else { "absent" }
        ));
    }
    let (l, f, v) = (
        hooks.lifecycle.len(),
        hooks.functional.len(),
        hooks.verify.len(),
    );
    if l + f + v > 0 {
        m.push(format!(
            "recipe functions: {l} lifecycle, {f} functional, {v} backup_verify"
        ));
    }
    m
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::{BoxFuture, TestDef};
    use crate::fixture::Fixtures;
    use std::path::Path;

    fn passes(_: &Fixtures) -> BoxFuture<'_, crate::Result> {
        Box::pin(async { Ok(()) })
    }

    #[test]
    fn the_manifest_names_what_differs_and_redacts_secret_looking_values() {
        let mut meta = RecipeMeta::new("x", ccci_core::meta::Source::Releases("r".into()));
        meta.health_path = "/api/health".into();
        meta.extra_env
            .insert("DB_PASSWORD".into(), "hunter2".into());
        meta.extra_env
            .insert("KEYCLOAK_URL".into(), "https://kc".into());
        let mut settings = Settings::new(Path::new("."), Path::new("."));
        settings.routing = Some(ccci_core::results::Routing::HostPort);
        let m = customisation(&settings, &meta, &Hooks::none()).join("\n");
        assert!(m.contains(r#"setting health_path = "/api/health""#), "{m}");
        assert!(
            m.contains("setting extra_env.DB_PASSWORD = <redacted>"),
            "{m}"
        );
        assert!(!m.contains("hunter2"), "{m}");
        assert!(
            m.contains(r#"setting extra_env.KEYCLOAK_URL = "https://kc""#),
            "{m}"
        );
        assert!(
            m.contains("routing forced (CCCI_ROUTING) = host-port"),
            "{m}"
        );
        assert!(!m.contains("health_ok"), "defaults are not listed: {m}");
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
        let runs = std::env::temp_dir().join(crate::unique("ccci-dup-runs"));
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
