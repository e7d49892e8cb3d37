//! One run of one recipe: the steps of [`crate::plan`] executed in order against one deployed
//! app, teardown, and results.json. Driven step by step by the libtest runner
//! ([`crate::runner`]) or all at once by [`run_recipe`].

use crate::fixture::{Fixtures, Http, Stack};
use crate::plan::{plan, Action, Hooks, Step};
use ccci_abra::{AbraError, App, BuiltinEngine, Deployer, Recipe, Release, Snapshot};
use ccci_core::ladder::{rung_from_tests, Ladder, Rung, TestStatus};
use ccci_core::results::{
    DependencyRecord, DeployRecord, RefInfo, RestoreProof, Results, SnapshotRecord, Teardown,
    TestRecord, SCHEMA,
};
use ccci_core::{HookCtx, MetaError, OpState, RecipeMeta};
use ccci_swarm::{Swarm, SwarmError};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long teardown may take: `docker stack rm` needs ~16 s, a PID 1 ignoring SIGTERM 10 s more.
const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(120);

/// Where a run finds its recipe and puts its files. Built from the test crate and environment
/// overrides, so the same binary serves a maintainer, CI and other tools.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The recipe test crate (holds `ccci.yml`; `releases:` sources are relative to it).
    pub crate_dir: PathBuf,
    /// Where run directories go (`CCCI_RUNS_DIR`, default `target/ccci/runs`).
    pub runs_dir: PathBuf,
    /// A recipe repository to test instead of `ccci.yml`'s source (`CCCI_RECIPE_GIT`).
    pub recipe_git: Option<String>,
    /// The ref to test (`CCCI_REF`); default the repository's HEAD.
    pub reference: Option<String>,
    /// The app domain (`CCCI_DOMAIN`); default `<4 letters of the recipe>-<6 hex>.ccci.test`.
    pub domain: Option<String>,
    /// Also write results.json here (`CCCI_RESULTS_FILE`).
    pub results_copy: Option<PathBuf>,
}

impl Settings {
    /// Settings for a recipe test crate, from its manifest dir and Cargo's target tmp dir,
    /// with the `CCCI_*` environment overrides applied.
    pub fn for_test_crate(manifest_dir: &str, target_tmpdir: &str) -> Settings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let default_runs = Path::new(target_tmpdir)
            .parent()
            .unwrap_or(Path::new(target_tmpdir))
            .join("ccci")
            .join("runs");
        Settings {
            crate_dir: manifest_dir.into(),
            runs_dir: var("CCCI_RUNS_DIR")
                .map(PathBuf::from)
                .unwrap_or(default_runs),
            recipe_git: var("CCCI_RECIPE_GIT"),
            reference: var("CCCI_REF"),
            domain: var("CCCI_DOMAIN"),
            results_copy: var("CCCI_RESULTS_FILE").map(PathBuf::from),
        }
    }

    /// Settings with no environment overrides: runs under `runs_dir`, sources relative to
    /// `crate_dir`. For tools and tests that set everything themselves.
    pub fn new(crate_dir: &Path, runs_dir: &Path) -> Settings {
        Settings {
            crate_dir: crate_dir.into(),
            runs_dir: runs_dir.into(),
            recipe_git: None,
            reference: None,
            domain: None,
            results_copy: None,
        }
    }
}

/// Why a run could not set up or deploy. One line, naming the file, key or service and the fix.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// `ccci.yml` is missing or wrong.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The recipe or its deploy.
    #[error(transparent)]
    Abra(#[from] AbraError),
    /// The Swarm.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

/// Why a generic tier did not pass: the step found it does not apply to this recipe (and
/// nothing declared that), or it ran and failed.
#[derive(Debug)]
pub(crate) enum TierError {
    /// Not applicable here, with how to declare or fix it; an undeclared skip of the rung.
    CannotRun(String),
    /// Ran and failed.
    Failed(HarnessError),
}

impl<E: Into<HarnessError>> From<E> for TierError {
    fn from(e: E) -> Self {
        TierError::Failed(e.into())
    }
}

/// How a generic tier ended, kept for the steps that depend on it.
#[derive(Debug, Clone)]
pub(crate) enum TierOutcome {
    Passed,
    Failed,
    CannotRun,
}

/// How a step ended when it did not pass.
enum StepError {
    CannotRun(String),
    Failed(String),
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let path = path.into();
    move |source| HarnessError::Io { path, source }
}

/// Reads a recipe test crate's `ccci.yml`, with `--set` overrides from `CCCI_SET` (one
/// `key=value` per line) on top.
pub fn load_meta(crate_dir: &Path) -> Result<RecipeMeta, HarnessError> {
    Ok(RecipeMeta::from_layers(&crate_layers(crate_dir)?)?)
}

/// The settings layers of a test crate: its `ccci.yml`, then `CCCI_SET`.
pub(crate) fn crate_layers(crate_dir: &Path) -> Result<Vec<ccci_core::Layer>, HarnessError> {
    let path = crate_dir.join("ccci.yml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        HarnessError::Other(format!(
            "{}: {e}: every recipe test crate has a ccci.yml naming its recipe and source",
            path.display()
        ))
    })?;
    let mut layers = vec![ccci_core::Layer::parse(&path.display().to_string(), &text)?];
    let sets: Vec<String> = std::env::var("CCCI_SET")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    layers.extend(crate::repo::sets(&sets)?);
    Ok(layers)
}

/// A finished run: its results and where results.json was written.
#[derive(Debug, Clone)]
pub struct Report {
    /// What the run concluded.
    pub results: Results,
    /// The results.json path.
    pub path: PathBuf,
}

/// Runs every step of a recipe's lifecycle in order, tears down and writes results.json:
/// the library form of `cargo test -p recipe-<name>`, for tools that embed ccci.
pub fn run_recipe(
    settings: Settings,
    meta: RecipeMeta,
    hooks: Hooks,
) -> Result<Report, HarnessError> {
    let run = Run::new(settings, meta, hooks)?;
    for step in run.steps().to_vec() {
        let started = Instant::now();
        let outcome = run.execute(&step);
        let mark = match &outcome {
            Ok(()) if step.not_applicable.is_some() => "skipped".to_string(),
            Ok(()) => "ok".to_string(),
            Err(e) => format!("FAILED: {e}"),
        };
        eprintln!(
            "ccci: {} ... {mark} ({:.1}s)",
            step.name,
            started.elapsed().as_secs_f64()
        );
    }
    run.finish().ok_or_else(|| {
        HarnessError::Other(
            "the run wrote no results: its setup failed before the run directory existed".into(),
        )
    })
}

/// The deployed app and what setup found out about the recipe.
pub(crate) struct Live {
    pub meta: Arc<RecipeMeta>,
    pub run_dir: PathBuf,
    pub swarm: Swarm,
    pub recipe: Recipe,
    pub app: App,
    pub engine: BuiltinEngine,
    pub head: RefInfo,
    pub head_release: Option<Release>,
    pub base: Option<Release>,
    pub base_url: Option<String>,
    pub http: Option<Http>,
    /// The CI overlay's content, written into the checkout before every deploy.
    pub overlay: Option<String>,
}

pub(crate) struct State {
    pub live: Option<Live>,
    pub deployed: bool,
    pub run_dir: Option<PathBuf>,
    pub domain: String,
    pub stack: String,
    pub head: Option<RefInfo>,
    pub base: Option<RefInfo>,
    /// Outcome of each generic tier by op name.
    pub tiers: BTreeMap<&'static str, TierOutcome>,
    pub snapshot: Option<Snapshot>,
    pub snapshots: Vec<SnapshotRecord>,
    pub records: Vec<TestRecord>,
    pub deploys: Vec<DeployRecord>,
    pub warnings: Vec<String>,
    /// ccci's markers in the live app, from the backup until the restore checked them.
    pub markers: Vec<ccci_abra::markers::Marker>,
    /// Backed-up paths that could not hold a marker, with why.
    pub marker_skips: Vec<String>,
    pub restore_proof: Option<RestoreProof>,
    /// The longest stop_grace_period deployed: teardown waits at least this long.
    pub stop_grace: Duration,
}

/// One run. Steps execute one at a time (the runner forces one test thread: tiers are
/// ordered and share one deployed app).
pub(crate) struct Run {
    pub settings: Settings,
    pub meta: Arc<RecipeMeta>,
    pub hooks: Hooks,
    pub rt: tokio::runtime::Runtime,
    pub op_state: Arc<OpState>,
    started: SystemTime,
    pub run_id: String,
    /// Set when Ctrl-C or SIGTERM cut the run short.
    pub interrupted: std::sync::atomic::AtomicBool,
    steps: Vec<Step>,
    state: Mutex<State>,
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
            .map_err(|e| HarnessError::Other(format!("cannot start the async runtime: {e}")))?;
        let started = SystemTime::now();
        let secs = started
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let stamp: String = ccci_core::time::rfc3339(secs)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let steps = plan(&hooks, &meta.expected_na);
        // The docker CLI runs in the recipe checkout: every path handed to it must be absolute.
        let mut settings = settings;
        std::fs::create_dir_all(&settings.runs_dir).map_err(io(&settings.runs_dir))?;
        settings.runs_dir = settings
            .runs_dir
            .canonicalize()
            .map_err(io(&settings.runs_dir))?;
        let run_id = format!("{stamp}-{}", random_hex(6));
        // Made now, so that a run refused before it deploys still writes its results.
        let run_dir = settings.runs_dir.join(format!("{}-{run_id}", meta.recipe));
        std::fs::create_dir_all(&run_dir).map_err(io(&run_dir))?;
        Ok(Run {
            settings,
            meta: Arc::new(meta),
            hooks,
            rt,
            op_state: Arc::new(OpState::default()),
            started,
            run_id,
            interrupted: std::sync::atomic::AtomicBool::new(false),
            steps,
            state: Mutex::new(State {
                live: None,
                deployed: false,
                run_dir: Some(run_dir),
                domain: String::new(),
                stack: String::new(),
                head: None,
                base: None,
                tiers: BTreeMap::new(),
                snapshot: None,
                snapshots: Vec::new(),
                records: Vec::new(),
                deploys: Vec::new(),
                warnings: Vec::new(),
                markers: Vec::new(),
                marker_skips: Vec::new(),
                restore_proof: None,
                stop_grace: Duration::from_secs(10),
            }),
        })
    }

    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Executes one step and records it. `Err` is the failure message for libtest.
    pub(crate) fn execute(&self, step: &Step) -> Result<(), String> {
        self.catch_up(step);
        self.execute_one(step)
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
            let done = self.lock().records.iter().any(|r| r.name == earlier.name);
            if done || matches!(earlier.action, Action::Functional(_)) {
                continue;
            }
            let started = Instant::now();
            let outcome = self.execute_one(earlier);
            let mark = match &outcome {
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
    pub(crate) fn execute_declared_skip(&self, step: &Step) -> Result<(), String> {
        match self.lock().records.iter().any(|r| r.name == step.name) {
            true => Ok(()),
            false => self.execute_one(step),
        }
    }

    fn execute_one(&self, step: &Step) -> Result<(), String> {
        let started = Instant::now();
        if let Some(reason) = &step.not_applicable {
            self.record(
                step,
                TestStatus::Skipped {
                    reason: reason.clone(),
                },
                started,
            );
            return Ok(());
        }
        if let Some(missing) = self.unmet_dependency(step) {
            self.record(
                step,
                TestStatus::NotRun {
                    reason: missing.clone(),
                },
                started,
            );
            return Err(format!("not run: {missing}"));
        }
        let result = match step.action {
            Action::Install => self.tier("install", |r| r.install()),
            Action::Upgrade => self.tier("upgrade", |r| r.upgrade()),
            Action::Backup => self.tier("backup", |r| r.backup()),
            Action::Restore => self.tier("restore", |r| r.restore()),
            Action::Hook(def) => self
                .call(step, def.run)
                .map_err(|e| StepError::Failed(format!("{e} ({}:{})", def.file, def.line))),
            Action::Functional(def) => self
                .call(step, def.run)
                .map_err(|e| StepError::Failed(format!("{e} ({}:{})", def.file, def.line))),
        };
        let (status, forensics) = match &result {
            Ok(()) => (TestStatus::Pass, None),
            Err(StepError::CannotRun(m)) => (TestStatus::CannotRun { reason: m.clone() }, None),
            Err(StepError::Failed(m)) => (
                TestStatus::Fail { message: m.clone() },
                self.forensics(step, m),
            ),
        };
        self.record_with(step, status, started, forensics);
        self.persist_op_state();
        result.map_err(|e| match e {
            StepError::CannotRun(m) => format!("cannot run: {m}"),
            StepError::Failed(m) => m,
        })
    }

    /// Keeps the stack's task history and log tails for a failed step (in the run directory,
    /// referenced from results.json); `None` when nothing is deployed or it cannot be written.
    fn forensics(&self, step: &Step, error: &str) -> Option<String> {
        let (swarm, stack, dir, n) = {
            let st = self.lock();
            let live = st.live.as_ref()?;
            (
                live.swarm.clone(),
                live.app.stack.clone(),
                live.run_dir.join("forensics"),
                st.records.len() + 1,
            )
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

    fn tier(
        &self,
        op: &'static str,
        f: impl FnOnce(&Run) -> Result<(), TierError>,
    ) -> Result<(), StepError> {
        let (outcome, result) = match f(self) {
            Ok(()) => (TierOutcome::Passed, Ok(())),
            Err(TierError::CannotRun(m)) => (TierOutcome::CannotRun, Err(StepError::CannotRun(m))),
            Err(TierError::Failed(e)) => {
                (TierOutcome::Failed, Err(StepError::Failed(e.to_string())))
            }
        };
        self.lock().tiers.insert(op, outcome);
        result
    }

    /// Which earlier step this one needs that did not succeed. Restore needs a backup;
    /// assertions after an op need the op; everything needs the install.
    fn unmet_dependency(&self, step: &Step) -> Option<String> {
        let st = self.lock();
        // Short on purpose: the failure itself is reported once, by the step that failed.
        let need = |op: &str| -> Option<String> {
            match st.tiers.get(op) {
                Some(TierOutcome::Passed) => None,
                Some(TierOutcome::Failed) => Some(format!("{op} failed")),
                Some(TierOutcome::CannotRun) => Some(format!("{op} could not run")),
                None => Some(format!("{op} did not run")),
            }
        };
        if !matches!(step.action, Action::Install) {
            if let Some(m) = need("install") {
                return Some(m);
            }
        }
        match step.action {
            Action::Restore => need("backup"),
            Action::Hook(d) => match (d.op, d.before) {
                (ccci_core::Op::Upgrade, false) => need("upgrade"),
                (ccci_core::Op::Backup, false) | (ccci_core::Op::Restore, true) => need("backup"),
                (ccci_core::Op::Restore, false) => need("restore"),
                _ => None,
            },
            _ => None,
        }
    }

    /// The fixtures for `step`: its op in the context, the latest snapshot.
    pub(crate) fn fixtures(&self, op: Option<ccci_core::Op>) -> Result<Fixtures, String> {
        let st = self.lock();
        let live = st.live.as_ref().ok_or("the app is not deployed")?;
        let ctx = HookCtx {
            domain: live.app.domain.clone(),
            base_url: live.base_url.clone().unwrap_or_default(),
            meta: live.meta.clone(),
            deps: Default::default(),
            op,
        };
        Ok(Fixtures {
            ctx,
            op_state: self.op_state.clone(),
            stack: Stack {
                swarm: live.swarm.clone(),
                name: live.app.stack.clone(),
            },
            http: live.http.clone(),
            snapshot: st.snapshot.clone(),
        })
    }

    /// Runs a recipe function under the `test_timeout` deadline. A panic fails this function
    /// only; a function still running at the deadline is dropped and fails, and the run goes
    /// on (a function that blocks its thread without awaiting cannot be cut short).
    fn call(
        &self,
        step: &Step,
        f: for<'a> fn(&'a Fixtures) -> crate::__private::BoxFuture<'a, crate::Result>,
    ) -> Result<(), String> {
        use futures_util::FutureExt as _;
        let fx = self.fixtures(step.op)?;
        let budget = self.meta.test_timeout;
        let run = std::panic::AssertUnwindSafe(f(&fx)).catch_unwind();
        // The timer must be made inside the runtime: block on a future that creates it.
        match self
            .rt
            .block_on(async { tokio::time::timeout(budget, run).await })
        {
            Ok(Ok(r)) => r.map_err(|e| e.to_string()),
            Ok(Err(panic)) => Err(format!("panicked: {}", panic_message(&*panic))),
            Err(_) => Err(format!(
                "did not finish within test_timeout ({}s); raise `test_timeout` in ccci.yml if it needs longer",
                budget.as_secs()
            )),
        }
    }

    fn record(&self, step: &Step, status: TestStatus, started: Instant) {
        self.record_with(step, status, started, None);
    }

    fn record_with(
        &self,
        step: &Step,
        status: TestStatus,
        started: Instant,
        forensics: Option<String>,
    ) {
        let rec = TestRecord {
            name: step.name.clone(),
            rung: step.rung,
            status,
            duration_ms: started.elapsed().as_millis() as u64,
            forensics,
        };
        self.lock().records.push(rec);
    }

    fn persist_op_state(&self) {
        let Some(dir) = self.lock().run_dir.clone() else {
            return;
        };
        if let Ok(json) = serde_json::to_string_pretty(&self.op_state.snapshot()) {
            let _ = std::fs::write(dir.join("op_state.json"), json);
        }
    }

    /// Tears down, concludes the ladder and writes results.json. Steps that never ran were
    /// not selected by the test filter, or cut off by an interrupt.
    pub(crate) fn finish(&self) -> Option<Report> {
        let teardown = self.teardown();
        self.persist_op_state();
        let mut st = self.lock();
        let run_dir = st.run_dir.clone()?;
        for step in &self.steps {
            if !st.records.iter().any(|r| r.name == step.name) {
                st.records.push(TestRecord {
                    name: step.name.clone(),
                    rung: step.rung,
                    status: match self.interrupted.load(std::sync::atomic::Ordering::Relaxed) {
                        true => TestStatus::NotRun {
                            reason: "the run was interrupted".into(),
                        },
                        false => TestStatus::Filtered,
                    },
                    duration_ms: 0,
                    forensics: None,
                });
            }
        }
        let mut ladder = Ladder::default();
        for rung in Rung::ALL {
            let tests: Vec<(&str, &TestStatus)> = st
                .records
                .iter()
                .filter(|r| r.rung == rung)
                .map(|r| (r.name.as_str(), &r.status))
                .collect();
            ladder.set(
                rung,
                rung_from_tests(
                    rung,
                    &tests,
                    self.meta.expected_na.get(&rung).map(String::as_str),
                ),
            );
        }
        let finished = SystemTime::now();
        let secs = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let results = Results {
            schema: SCHEMA.into(),
            run_id: self.run_id.clone(),
            recipe: self.meta.recipe.clone(),
            head: st.head.clone().unwrap_or(RefInfo {
                reference: "HEAD".into(),
                commit: String::new(),
                version: None,
            }),
            upgrade_base: st.base.clone(),
            domain: st.domain.clone(),
            stack: st.stack.clone(),
            deployer: "builtin".into(),
            started_at: ccci_core::time::rfc3339(secs(self.started)),
            finished_at: ccci_core::time::rfc3339(secs(finished)),
            duration_secs: finished
                .duration_since(self.started)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            level: ccci_core::ladder::Level(0),
            level_cap_rung: None,
            verdict: ccci_core::Verdict::Red,
            verdict_reasons: vec![],
            rungs: Default::default(),
            skips: Default::default(),
            tests: st.records.clone(),
            snapshots: st.snapshots.clone(),
            teardown,
            run_dir: run_dir.display().to_string(),
            deploys: st.deploys.clone(),
            dependencies: self
                .meta
                .deps
                .iter()
                .map(|d| DependencyRecord {
                    name: d.clone(),
                    provided: false,
                })
                .collect(),
            restore_proof: st.restore_proof.clone(),
            warnings: st.warnings.clone(),
        }
        .conclude(&ladder);
        let path = run_dir.join("results.json");
        let json = serde_json::to_string_pretty(&results).ok()?;
        for target in std::iter::once(&path).chain(self.settings.results_copy.as_ref()) {
            if let Err(e) = std::fs::write(target, &json) {
                eprintln!("ccci: cannot write {}: {e}", target.display());
            }
        }
        Some(Report { results, path })
    }

    fn teardown(&self) -> Teardown {
        let mut st = self.lock();
        if !st.deployed {
            return Teardown {
                clean: true,
                leftovers: vec![],
                error: None,
            };
        }
        st.deployed = false;
        // Swarm gives every task its stop_grace_period to exit before it kills it; nothing
        // is a leftover until the longest one has passed.
        let budget = TEARDOWN_TIMEOUT + st.stop_grace;
        let Some(live) = st.live.take() else {
            return Teardown {
                clean: false,
                leftovers: vec![],
                error: Some("lost track of the deployment".into()),
            };
        };
        drop(st);
        let started = Instant::now();
        let result = self.rt.block_on(live.engine.remove(&live.app, budget));
        eprintln!(
            "ccci: removed stack {} in {:.1}s",
            live.app.stack,
            started.elapsed().as_secs_f64()
        );
        match result {
            Ok(left) => Teardown {
                clean: left.is_empty(),
                leftovers: left,
                error: None,
            },
            Err(e) => {
                // Report what is still there even when removal failed part-way.
                let left = self
                    .rt
                    .block_on(live.swarm.leftovers(&live.app.stack))
                    .unwrap_or_default();
                Teardown {
                    clean: false,
                    leftovers: left,
                    error: Some(e.to_string()),
                }
            }
        }
    }
}

/// The message of a panic payload (`panic!("…")` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// `<up to 4 letters of the recipe>-<6 hex>.ccci.test`: short, so that
/// `<stack>_<secret>_<version>` stays well under Swarm's 64 characters (R23).
pub(crate) fn default_domain(recipe: &str) -> String {
    let prefix: String = recipe
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_lowercase();
    format!(
        "{}-{}.ccci.test",
        if prefix.is_empty() {
            "app".into()
        } else {
            prefix
        },
        random_hex(6)
    )
}

fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n.div_ceil(2)];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        // Not security-relevant: only keeps concurrent runs apart.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            ^ std::process::id();
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (t >> (i % 4 * 8)) as u8);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect::<String>()[..n].to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_domains_are_short_and_valid() {
        let d = super::default_domain("custom-html");
        assert!(
            d.starts_with("cust-") && d.ends_with(".ccci.test") && d.len() == 21,
            "{d}"
        );
        ccci_abra::stack_name(&d).unwrap();
        assert!(super::default_domain("--").starts_with("app-"));
    }
}
